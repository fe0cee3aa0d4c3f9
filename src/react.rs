//! The react path in local mode: finding events through the rules file to the targets
//! (quarantine, tag, alert, log).

use std::collections::BTreeMap;
use std::sync::Mutex;

use anyhow::{Context, Result};
use dragnet_events::aws::AwsOptions;
use dragnet_events::eventbridge::{EventBridgePublisher, Published};
use dragnet_events::sns::SnsPublisher;
use dragnet_events::{
    append_dead_letter, parse_rules, Delivery, LocalBus, Outbox, Outcome, RetryPolicy, Rule,
    RuleTarget, Target, TargetHandler, TargetInput,
};
use dragnet_job::RunStatistics;
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

/// Where alert targets send.
enum AlertSink {
    /// The local outbox file.
    Outbox(Outbox),
    /// SNS topics; `dragnet:alert:<name>` targets go to the topic of that name in the
    /// configured region and account.
    Sns {
        publisher: SnsPublisher,
        region: String,
        account: String,
    },
}

/// Carries out rule targets against a store: quarantine, tag, alert, log.
pub struct LocalTargets<'a> {
    store: &'a dyn ObjectStore,
    /// `[quarantine] purge_noncurrent_versions`, for every quarantine target.
    purge_noncurrent_versions: bool,
    alerts: AlertSink,
    actions: Mutex<Actions>,
}

impl<'a> LocalTargets<'a> {
    /// Targets over `store`, with alerts going where `[alerts] kind` says.
    pub fn new(store: &'a dyn ObjectStore, config: &Config) -> Result<Self> {
        let alerts = if config.alerts.kind == "sns" {
            AlertSink::Sns {
                publisher: SnsPublisher::new(&AwsOptions {
                    region: Some(config.region.clone()),
                    endpoint_url: config.alerts.endpoint_url.clone(),
                })?,
                region: config.region.clone(),
                account: config.account_id.clone(),
            }
        } else {
            AlertSink::Outbox(Outbox::new(
                config.alerts.outbox.clone(),
                config.alerts.topics.clone(),
            ))
        };
        Ok(LocalTargets {
            store,
            purge_noncurrent_versions: config.quarantine.purge_noncurrent_versions,
            alerts,
            actions: Mutex::new(Actions::default()),
        })
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
                    purge_noncurrent_versions: self.purge_noncurrent_versions,
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
                let text = input.to_text();
                let sent = match &self.alerts {
                    AlertSink::Outbox(outbox) => {
                        outbox.send(topic, &subject, &text, &rule.name)?;
                        format!("alert sent to {topic}")
                    }
                    AlertSink::Sns {
                        publisher,
                        region,
                        account,
                    } => {
                        let arn = if target.arn.starts_with("arn:") {
                            target.arn.clone()
                        } else {
                            format!("arn:aws:sns:{region}:{account}:{topic}")
                        };
                        let attributes = [
                            (
                                "severity",
                                detail["severity"]["description"].as_str().unwrap_or(""),
                            ),
                            ("findingType", detail["type"].as_str().unwrap_or("")),
                        ];
                        let id = publisher.publish(&arn, &subject, &text, &attributes)?;
                        format!("alert published to {arn} (message {id})")
                    }
                };
                actions.alerts += 1;
                Ok(sent)
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
        let aws = AwsOptions {
            region: Some(config.region.clone()),
            endpoint_url: config.events.endpoint_url.clone(),
        };
        let publisher =
            EventBridgePublisher::new(&config.events.bus, &aws, RetryPolicy::default())?;
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
            let targets = LocalTargets::new(store, config)?;
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

/// The job-completion alert: a subject and a text whose first sentence (what an SMS keeps)
/// gives the totals by severity; the rest lists what was skipped and quarantined.
pub fn job_summary(
    job: &str,
    stats: &RunStatistics,
    quarantined: &[(String, String)],
) -> (String, String) {
    let by_severity: Vec<String> = ["High", "Medium", "Low"]
        .iter()
        .filter_map(|s| {
            stats
                .findings
                .by_severity
                .get(*s)
                .map(|n| format!("{n} {}", s.to_lowercase()))
        })
        .collect();
    let counts = if by_severity.is_empty() {
        String::new()
    } else {
        format!(" ({})", by_severity.join(", "))
    };
    let subject = format!(
        "dragnet: job {job} finished with {} findings{counts}",
        stats.findings.total
    );
    let skipped: u64 = stats.objects_skipped.values().sum();
    let mut text = format!(
        "dragnet job {job} finished: {} findings{counts}, {} objects quarantined. {} objects listed, {} scanned, {skipped} skipped.",
        stats.findings.total,
        quarantined.len(),
        stats.objects_listed,
        stats.objects_scanned,
    );
    for (from, to) in quarantined {
        text.push_str(&format!("\nQuarantined {from} to {to}."));
    }
    (subject, text)
}

/// Publishes the job-completion alert to `[alerts] topic_arn` in SNS mode (nothing happens
/// otherwise), recorded as one more delivery in `routed`: a failure is dead-lettered and so
/// makes the command exit 1, but never undoes the run's results.
pub fn send_job_summary(
    config: &Config,
    job: &str,
    stats: &RunStatistics,
    routed: &mut Option<RouteReport>,
) -> Result<()> {
    let (Some(topic), "sns") = (&config.alerts.topic_arn, config.alerts.kind.as_str()) else {
        return Ok(());
    };
    let quarantined = routed
        .as_ref()
        .map(|r| r.actions.quarantined.clone())
        .unwrap_or_default();
    let (subject, text) = job_summary(job, stats, &quarantined);
    let publisher = SnsPublisher::new(&AwsOptions {
        region: Some(config.region.clone()),
        endpoint_url: config.alerts.endpoint_url.clone(),
    })?;
    let outcome = match publisher.publish(topic, &subject, &text, &[("job", job)]) {
        Ok(id) => Outcome::Delivered {
            attempts: 1,
            detail: format!("job summary published to {topic} (message {id})"),
        },
        Err(error) => {
            let record = serde_json::json!({
                "time": Timestamp::now().to_string(),
                "rule": "job-summary",
                "targetId": topic,
                "arn": topic,
                "attempts": 1,
                "error": error,
                "event": {"subject": subject, "message": text},
            });
            append_dead_letter(&config.events.dead_letter, &record)?;
            Outcome::Failed { attempts: 1, error }
        }
    };
    routed
        .get_or_insert_with(RouteReport::default)
        .deliveries
        .push(Delivery {
            rule: "job-summary".into(),
            target_id: topic.clone(),
            arn: topic.clone(),
            outcome,
        });
    Ok(())
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

    #[test]
    fn the_job_summary_leads_with_totals_and_lists_moves() {
        let mut stats = RunStatistics {
            objects_listed: 5,
            objects_scanned: 4,
            ..RunStatistics::default()
        };
        stats.objects_skipped.insert("EMPTY".into(), 1);
        stats.findings.total = 3;
        stats.findings.by_severity.insert("High".into(), 1);
        stats.findings.by_severity.insert("Medium".into(), 2);
        let moved = vec![("s3://b/p.csv".to_string(), "s3://iso/p.csv".to_string())];
        let (subject, text) = job_summary("nightly", &stats, &moved);
        assert_eq!(
            subject,
            "dragnet: job nightly finished with 3 findings (1 high, 2 medium)"
        );
        assert_eq!(
            text,
            "dragnet job nightly finished: 3 findings (1 high, 2 medium), 1 objects quarantined. 5 objects listed, 4 scanned, 1 skipped.\nQuarantined s3://b/p.csv to s3://iso/p.csv."
        );
        let (subject, _) = job_summary("quiet", &RunStatistics::default(), &[]);
        assert_eq!(subject, "dragnet: job quiet finished with 0 findings");
    }

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
        let targets = LocalTargets::new(&store, &config).unwrap();
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
        let targets = LocalTargets::new(&store, &config).unwrap();
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
