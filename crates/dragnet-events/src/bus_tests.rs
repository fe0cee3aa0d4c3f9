//! The local bus with the published walkthrough's rules over finding events.

use std::cell::RefCell;
use std::time::Duration;

use serde_json::{json, Value};

use crate::*;

fn finding_event(severity: &str, custom_names: &[&str]) -> Value {
    let detections: Vec<Value> = custom_names
        .iter()
        .map(|n| json!({"arn": "id", "name": n, "count": 3, "occurrences": {}}))
        .collect();
    json!({
        "version": "0", "id": "e1", "detail-type": "Macie Finding", "source": "dragnet",
        "account": "111222333444", "time": "2026-11-23T12:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:s3:::synthea/patients.csv"],
        "detail": {
            "id": "f1", "type": "SensitiveData:S3Object/Multiple",
            "severity": {"description": severity, "score": 3},
            "resourcesAffected": {"s3Object": {"key": "patients.csv"}},
            "classificationDetails": {"jobId": "job1", "result": {"customDataIdentifiers": {"detections": detections, "totalCount": 3}}}
        }
    })
}

/// The walkthrough's three rule patterns, with `source` changed to dragnet's (decisions.md §1).
const WALKTHROUGH_RULES: &str = r#"[
  {"Name": "high", "EventPattern": {"source": ["dragnet"], "detail-type": ["Macie Finding"], "detail": {"severity": {"description": ["High"]}}},
   "Targets": [{"Id": "sms", "Arn": "dragnet:alert:high-sms", "InputTransformer": {
      "InputPathsMap": {"id": "$.detail.classificationDetails.jobId", "account": "$.account", "severity": "$.detail.severity.description", "file": "$.detail.resourcesAffected.s3Object.key"},
      "InputTemplate": "\"Sensitive data finding: job <id>, account <account>. Severity <severity> for file '<file>'.\""}}]},
  {"Name": "low-medium", "EventPattern": {"source": ["dragnet"], "detail-type": ["Macie Finding"], "detail": {"severity": {"description": ["Low", "Medium"]}}},
   "Targets": [{"Id": "mail", "Arn": "dragnet:alert:findings-email"}]},
  {"Name": "identity-docs", "EventPattern": {"detail": {"classificationDetails": {"result": {"customDataIdentifiers": {"detections": {"name": ["US Passport", "US Driver License"]}}}}}},
   "Targets": [{"Id": "log", "Arn": "dragnet:log"}]},
  {"Name": "off", "State": "DISABLED", "EventPattern": {"source": ["dragnet"]}, "Targets": [{"Id": "log", "Arn": "dragnet:log"}]}
]"#;

/// Records deliveries; fails the first `failures` tries of every target.
struct Recorder {
    failures: u32,
    tries: RefCell<u32>,
    seen: RefCell<Vec<(String, String, String)>>,
}

impl TargetHandler for Recorder {
    fn deliver(
        &self,
        rule: &Rule,
        target: &RuleTarget,
        input: &TargetInput,
        _event: &Value,
    ) -> Result<String, String> {
        *self.tries.borrow_mut() += 1;
        if *self.tries.borrow() <= self.failures {
            return Err(format!("injected failure {}", self.tries.borrow()));
        }
        self.seen
            .borrow_mut()
            .push((rule.name.clone(), target.id.clone(), input.to_text()));
        Ok("done".into())
    }
}

fn recorder(failures: u32) -> Recorder {
    Recorder {
        failures,
        tries: RefCell::new(0),
        seen: RefCell::new(Vec::new()),
    }
}

fn bus(dir: &std::path::Path, attempts: u32) -> LocalBus {
    LocalBus::new(
        parse_rules(WALKTHROUGH_RULES).unwrap(),
        dir.join("dead.jsonl"),
        RetryPolicy {
            attempts,
            base_delay: Duration::from_millis(1),
        },
    )
}

#[test]
fn walkthrough_rules_route_the_right_findings() {
    let dir = tempfile::tempdir().unwrap();
    let b = bus(dir.path(), 1);
    let r = recorder(0);
    b.publish(&finding_event("High", &["US Passport"]), &r)
        .unwrap();
    let seen = r.seen.borrow().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0], ("high".into(), "sms".into(), "Sensitive data finding: job job1, account 111222333444. Severity High for file 'patients.csv'.".into()));
    assert_eq!(seen[1].0, "identity-docs");

    let r = recorder(0);
    b.publish(&finding_event("Medium", &["Patient ID"]), &r)
        .unwrap();
    let rules: Vec<String> = r.seen.borrow().iter().map(|s| s.0.clone()).collect();
    assert_eq!(
        rules,
        vec!["low-medium"],
        "not High, no identity document, disabled rule skipped"
    );

    let r = recorder(0);
    let mut macie = finding_event("High", &[]);
    macie["source"] = json!("aws.macie");
    b.publish(&macie, &r).unwrap();
    assert!(r.seen.borrow().is_empty(), "the source line decides");
}

#[test]
fn failing_targets_are_retried_then_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let b = bus(dir.path(), 3);
    let r = recorder(2);
    let deliveries = b.publish(&finding_event("Low", &[]), &r).unwrap();
    assert_eq!(
        deliveries[0].outcome,
        Outcome::Delivered {
            attempts: 3,
            detail: "done".into()
        }
    );
    assert!(!dir.path().join("dead.jsonl").exists());

    let r = recorder(100);
    let deliveries = b.publish(&finding_event("Low", &[]), &r).unwrap();
    assert!(
        matches!(&deliveries[0].outcome, Outcome::Failed { attempts: 3, error } if error == "injected failure 3")
    );
    let dead: Value = serde_json::from_str(
        std::fs::read_to_string(dir.path().join("dead.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(dead["rule"], "low-medium");
    assert_eq!(dead["targetId"], "mail");
    assert_eq!(dead["attempts"], 3);
    assert_eq!(dead["event"]["detail"]["id"], "f1");
}

#[test]
fn a_template_that_cannot_render_is_dead_lettered_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let rules = parse_rules(r#"[{"Name": "r", "EventPattern": {"source": ["dragnet"]}, "Targets": [{"Id": "t", "Arn": "dragnet:log", "InputTransformer": {"InputPathsMap": {"a": "$.account"}, "InputTemplate": "{\"a\": <a>"}}]}]"#).unwrap();
    let b = LocalBus::new(rules, dir.path().join("dead.jsonl"), RetryPolicy::default());
    let deliveries = b.publish(&finding_event("Low", &[]), &recorder(0)).unwrap();
    assert!(
        matches!(&deliveries[0].outcome, Outcome::Failed { attempts: 0, error } if error.contains("valid JSON"))
    );
    assert!(dir.path().join("dead.jsonl").is_file());
}

#[test]
fn an_unwritable_dead_letter_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "").unwrap();
    let b = LocalBus::new(
        parse_rules(WALKTHROUGH_RULES).unwrap(),
        dir.path().join("file/dead.jsonl"),
        RetryPolicy {
            attempts: 1,
            base_delay: Duration::ZERO,
        },
    );
    assert!(b
        .publish(&finding_event("Low", &[]), &recorder(100))
        .is_err());
}
