//! The react path in local mode: finding events through the rules file to the targets
//! (quarantine, tag, alert, log).

use std::collections::BTreeMap;
use std::sync::Mutex;

use anyhow::{Context, Result};
use dragnet_events::eventbridge::{EventBridgeOptions, EventBridgePublisher, Published};
use dragnet_events::{
    append_dead_letter, parse_rules, Delivery, LocalBus, Outbox, Outcome, RetryPolicy, Rule,
    RuleTarget, Target, TargetHandler, TargetInput,
};
use dragnet_model::{Finding, FindingEvent, Timestamp};
use dragnet_quarantine::{quarantine, tag, Isolation, MoveOutcome, QuarantineRequest};
use dragnet_store::ObjectStore;
use serde_json::Value;

use crate::config::Config;

/// What the targets did, for the summary.
#[derive(Debug, Default)]
pub struct Actions {
    /// `(s3://source, s3://copy)` of each object moved or found already moved.
    pub quarantined: Vec<(String, String)>,
    /// `(s3://object, tag)` of each object tagged.
    pub tagged: Vec<(String, String)>,
    /// Alerts written.
    pub alerts: usize,
}

/// Carries out local targets against a store.
pub struct LocalTargets<'a> {
    store: &'a dyn ObjectStore,
    outbox: Outbox,
    actions: Mutex<Actions>,
}

impl<'a> LocalTargets<'a> {
    /// Targets over `store`, with alerts going to the config's outbox.
    pub fn new(store: &'a dyn ObjectStore, config: &Config) -> Self {
        LocalTargets {
            store,
            outbox: Outbox::new(config.alerts.outbox.clone(), config.alerts.topics.clone()),
            actions: Mutex::new(Actions::default()),
        }
    }

    /// What was done.
    pub fn into_actions(self) -> Actions {
        self.actions.into_inner().unwrap_or_else(|p| p.into_inner())
    }

    fn request(input: &TargetInput) -> Result<QuarantineRequest, String> {
        match input {
            TargetInput::Json(v) => QuarantineRequest::from_json(v).map_err(|e| format!("{e} (a quarantine or tag target needs the finding event or the finding as its input)")),
            TargetInput::Text(_) => Err("a quarantine or tag target needs the finding event as its input, not text".into()),
        }
    }
}

impl TargetHandler for LocalTargets<'_> {
    fn deliver(
        &self,
        rule: &Rule,
        target: &RuleTarget,
        input: &TargetInput,
        event: &Value,
    ) -> Result<String, String> {
        let mut actions = self.actions.lock().unwrap_or_else(|p| p.into_inner());
        match &target.target {
            Target::Quarantine { bucket, prefix } => {
                let request = Self::request(input)?;
                let iso = Isolation {
                    bucket: bucket.clone(),
                    prefix: prefix.clone(),
                };
                let outcome = quarantine(self.store, &request, &iso, &rule.name)
                    .map_err(|e| e.to_string())?;
                let record = outcome.record();
                let from = format!("s3://{}/{}", record.source.bucket, record.source.key);
                let to = format!("s3://{}/{}", record.isolation.bucket, record.isolation.key);
                actions.quarantined.push((from.clone(), to.clone()));
                Ok(match outcome {
                    MoveOutcome::Moved(_) => format!("moved {from} to {to}"),
                    MoveOutcome::AlreadyQuarantined(_) => {
                        format!("{from} was already quarantined at {to}")
                    }
                })
            }
            Target::Tag { key, value } => {
                let request = Self::request(input)?;
                tag(self.store, &request, key, value).map_err(|e| e.to_string())?;
                let object = format!("s3://{}/{}", request.bucket, request.key);
                actions
                    .tagged
                    .push((object.clone(), format!("{key}={value}")));
                Ok(format!("tagged {object} with {key}={value}"))
            }
            Target::Alert { topic } => {
                let detail = &event["detail"];
                let subject = format!(
                    "dragnet: {} sensitive data finding in {}",
                    detail["severity"]["description"].as_str().unwrap_or("new"),
                    detail["resourcesAffected"]["s3Object"]["path"]
                        .as_str()
                        .unwrap_or("an object")
                );
                self.outbox
                    .send(topic, &subject, &input.to_text(), &rule.name)?;
                actions.alerts += 1;
                Ok(format!("alert sent to {topic}"))
            }
            Target::Log => {
                eprintln!("event [{}]: {}", rule.name, input.to_text());
                Ok("logged".into())
            }
        }
    }
}

/// Where finding events go: the local bus with its rules file, or Amazon EventBridge, whose
/// own rules (deployed with `PutRule`/`PutTargets`) route them.
pub enum Router {
    /// In process, rules from the rules file.
    Local(LocalBus),
    /// `PutEvents` to a bus.
    EventBridge(EventBridgePublisher),
}

/// The configured router; `None` when events go nowhere (local mode without a rules file).
/// Rules are read and checked here, before any scan, so a bad rules file costs nothing.
pub fn configured_bus(config: &Config) -> Result<Option<Router>> {
    if config.events.kind == "eventbridge" {
        let options = EventBridgeOptions {
            bus: config.events.bus.clone(),
            region: Some(config.region.clone()),
            endpoint_url: config.events.endpoint_url.clone(),
        };
        let publisher = EventBridgePublisher::new(&options, RetryPolicy::default())?;
        return Ok(Some(Router::EventBridge(publisher)));
    }
    let Some(path) = &config.events.rules else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading rules file {}", path.display()))?;
    let rules =
        parse_rules(&text).map_err(|e| anyhow::anyhow!("rules file {}: {e}", path.display()))?;
    Ok(Some(Router::Local(LocalBus::new(
        rules,
        config.events.dead_letter.clone(),
        RetryPolicy::default(),
    ))))
}

/// What routing a run's findings did.
#[derive(Debug, Default)]
pub struct RouteReport {
    /// Every target delivery.
    pub deliveries: Vec<Delivery>,
    /// What the targets did.
    pub actions: Actions,
}

impl RouteReport {
    /// Deliveries that failed (and were dead-lettered).
    pub fn failed(&self) -> Vec<&Delivery> {
        self.deliveries
            .iter()
            .filter(|d| matches!(d.outcome, Outcome::Failed { .. }))
            .collect()
    }
}

/// Publishes one event per finding, in finding order: through the local bus's rules to
/// local targets, or to EventBridge. Events that cannot be delivered are dead-lettered.
pub fn route(
    router: &Router,
    config: &Config,
    store: &dyn ObjectStore,
    findings: &[Finding],
) -> Result<RouteReport> {
    let mut events = Vec::with_capacity(findings.len());
    for finding in findings {
        let event = FindingEvent::new(finding.clone(), &config.events.source, Timestamp::now());
        events.push(serde_json::to_value(&event).context("serializing a finding event")?);
    }
    match router {
        Router::Local(bus) => {
            let targets = LocalTargets::new(store, config);
            let mut deliveries = Vec::new();
            for event in &events {
                deliveries.extend(bus.publish(event, &targets)?);
            }
            Ok(RouteReport {
                deliveries,
                actions: targets.into_actions(),
            })
        }
        Router::EventBridge(publisher) => {
            publish_to_eventbridge(publisher, &config.events.dead_letter, &events)
        }
    }
}

/// `PutEvents` for every event; each becomes one delivery to the bus, failures are
/// dead-lettered with EventBridge's error.
fn publish_to_eventbridge(
    publisher: &EventBridgePublisher,
    dead_letter: &std::path::Path,
    events: &[Value],
) -> Result<RouteReport> {
    let bus = publisher.bus();
    let mut deliveries = Vec::with_capacity(events.len());
    for (event, published) in events.iter().zip(publisher.publish(events)) {
        let outcome = match published {
            Published::Accepted { event_id, attempts } => Outcome::Delivered {
                attempts,
                detail: format!("EventBridge event {event_id}"),
            },
            Published::Rejected { attempts, error } => {
                let record = serde_json::json!({
                    "time": Timestamp::now().to_string(),
                    "rule": "PutEvents",
                    "targetId": bus,
                    "arn": bus,
                    "attempts": attempts,
                    "error": error,
                    "event": event,
                });
                append_dead_letter(dead_letter, &record)?;
                Outcome::Failed { attempts, error }
            }
        };
        deliveries.push(Delivery {
            rule: "PutEvents".into(),
            target_id: bus.to_string(),
            arn: bus.to_string(),
            outcome,
        });
    }
    Ok(RouteReport {
        deliveries,
        actions: Actions::default(),
    })
}

/// Prints what routing did on stderr.
pub fn print_route_report(report: &RouteReport) {
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &report.deliveries {
        *by_rule.entry(&d.rule).or_default() += 1;
    }
    for (rule, n) in by_rule {
        eprintln!("rule {rule}: {n} deliveries");
    }
    for (from, to) in &report.actions.quarantined {
        eprintln!("quarantined {from} -> {to}");
    }
    for (object, tag) in &report.actions.tagged {
        eprintln!("tagged {object} {tag}");
    }
    for d in report.failed() {
        if let Outcome::Failed { attempts, error } = &d.outcome {
            eprintln!(
                "FAILED rule {} target {} after {attempts} tries: {error}",
                d.rule, d.target_id
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::SeqCst;
    use std::time::Duration;

    use dragnet_store::faulty::FaultyStore;
    use dragnet_store::{DirStore, ObjectAttributes};

    use super::*;

    fn event(store: &DirStore) -> Value {
        let etag = store.head("data-bucket", "high.csv").unwrap().etag.unwrap();
        serde_json::json!({
            "version": "0", "id": "e", "detail-type": "Macie Finding", "source": "dragnet", "account": "111222333444",
            "time": "2026-11-23T12:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"id": "f1", "severity": {"description": "High", "score": 3},
                       "resourcesAffected": {"s3Object": {"key": "high.csv", "path": "data-bucket/high.csv", "eTag": etag, "versionId": ""}}}
        })
    }

    fn setup() -> (tempfile::TempDir, FaultyStore<DirStore>, LocalBus, Config) {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path().join("buckets"));
        store.create_bucket("data-bucket").unwrap();
        store.create_bucket("isolation").unwrap();
        store
            .put(
                "data-bucket",
                "high.csv",
                &mut &b"ssn\n536-22-1234\n"[..],
                &ObjectAttributes::default(),
            )
            .unwrap();
        let rules = parse_rules(r#"[{"Name": "high", "EventPattern": {"detail": {"severity": {"description": ["High"]}}}, "Targets": [{"Id": "q", "Arn": "dragnet:quarantine:isolation"}]}]"#).unwrap();
        let bus = LocalBus::new(
            rules,
            dir.path().join("dead.jsonl"),
            RetryPolicy {
                attempts: 3,
                base_delay: Duration::from_millis(1),
            },
        );
        let config = Config::default_in(dir.path());
        (dir, FaultyStore::new(store), bus, config)
    }

    #[test]
    fn a_failed_delete_is_retried_and_completes_the_move() {
        let (dir, store, bus, config) = setup();
        store.faults.delete_failures.store(1, SeqCst);
        let targets = LocalTargets::new(&store, &config);
        let deliveries = bus.publish(&event(&store.inner), &targets).unwrap();
        assert!(
            matches!(
                &deliveries[0].outcome,
                Outcome::Delivered { attempts: 2, .. }
            ),
            "{deliveries:?}"
        );
        assert!(!dir.path().join("buckets/data-bucket/high.csv").exists());
        assert!(dir.path().join("buckets/isolation/high.csv").is_file());
        assert!(!dir.path().join("dead.jsonl").exists());
    }

    #[test]
    fn a_failed_copy_keeps_the_original_and_dead_letters() {
        let (dir, store, bus, config) = setup();
        store.faults.copy_fails.store(true, SeqCst);
        let targets = LocalTargets::new(&store, &config);
        let deliveries = bus.publish(&event(&store.inner), &targets).unwrap();
        assert!(
            matches!(&deliveries[0].outcome, Outcome::Failed { attempts: 3, error } if error.starts_with("copying to the isolation bucket")),
            "{deliveries:?}"
        );
        assert!(dir.path().join("buckets/data-bucket/high.csv").is_file());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("dead.jsonl"))
                .unwrap()
                .lines()
                .count(),
            1
        );
        assert!(targets.into_actions().quarantined.is_empty());
    }
}
