use std::cell::RefCell;

use dragnet_events::eventbridge::Published;
use dragnet_store::{DirStore, ObjectStore};
use serde_json::{json, Value};

use super::*;
use crate::test_env as env;

struct Fixture {
    _dir: tempfile::TempDir,
    store: DirStore,
    settings: ScanSettings,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    for bucket in ["data-bucket", "out-bucket"] {
        std::fs::create_dir_all(dir.path().join(bucket)).unwrap();
    }
    let store = DirStore::new(dir.path());
    let objects = [
        (
            "hr/staff.csv",
            "name,ssn,card\nAnn Lee,536-22-1234,4532015112830366\n",
        ),
        ("hr/notes.txt", "nothing to see here\n"),
        ("ops/keys.txt", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY and AKIAZ5GMHYJKLOP6QRST\n"),
        ("ops/emails.txt", "write to jane.doe@example.org\n"),
    ];
    for (key, text) in objects {
        store
            .put(
                "data-bucket",
                key,
                &mut text.as_bytes(),
                &Default::default(),
            )
            .unwrap();
    }
    let settings = ScanSettings::from_env(env(&[
        (OUTPUT_LOCATION_VAR, "s3://out-bucket/dragnet"),
        (ACCOUNT_ID_VAR, "111122223333"),
        ("AWS_REGION", "eu-west-1"),
    ]))
    .unwrap();
    Fixture {
        _dir: dir,
        store,
        settings,
    }
}

fn spec() -> Value {
    json!({
        "jobType": "ONE_TIME",
        "name": "lake",
        "clientToken": "deploy-test",
        "managedDataIdentifierSelector": "ALL",
        "s3JobDefinition": {"bucketDefinitions": [{"accountId": "111122223333", "buckets": ["data-bucket"]}]}
    })
}

/// The Distributed Map batches of the bucket, `size` items each, as the S3 ItemReader lists.
fn batches(store: &DirStore, size: usize) -> Vec<Value> {
    let mut items = Vec::new();
    store
        .list("data-bucket", "", &mut |m| {
            items.push(json!({"Key": m.key, "Size": m.size, "Etag": format!("\"{}\"", m.etag.unwrap_or_default()), "LastModified": m.last_modified.to_string(), "StorageClass": "STANDARD"}))
        })
        .unwrap();
    items
        .chunks(size)
        .map(|chunk| {
            json!({"Items": chunk, "BatchInput": {"Bucket": "data-bucket", "JobSpec": spec(), "RunId": "run-1", "StartedAt": "2026-11-23T10:00:00Z"}})
        })
        .collect()
}

/// The merge request of `run`, as the state machine sends it.
fn merge(
    f: &Fixture,
    publish: &dyn Fn(&[Value]) -> Vec<Published>,
    run: &str,
) -> Result<Value, ScanError> {
    handle_scan(
        &f.store,
        &f.settings,
        publish,
        json!({"Merge": {"RunId": run}}),
    )
}

/// A publisher that keeps what it was given and accepts everything.
#[derive(Default)]
struct Recorder {
    seen: RefCell<Vec<Value>>,
}

impl Recorder {
    fn publish(&self, events: &[Value]) -> Vec<Published> {
        self.seen.borrow_mut().extend(events.iter().cloned());
        events
            .iter()
            .map(|_| Published::Accepted {
                event_id: "e".into(),
                attempts: 1,
            })
            .collect()
    }
}

fn finding_keys(events: &[Value]) -> Vec<String> {
    let mut keys: Vec<String> = events
        .iter()
        .map(|e| {
            assert_eq!(e["detail-type"], "Macie Finding");
            e["detail"]["resourcesAffected"]["s3Object"]["key"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    keys.sort();
    keys
}

#[test]
fn batches_then_merge_publish_one_event_per_affected_object() {
    let f = fixture();
    let recorder = Recorder::default();
    let publish = |events: &[Value]| recorder.publish(events);
    let seen = &recorder.seen;
    let mut scanned = 0;
    for batch in batches(&f.store, 3) {
        let out = handle_scan(&f.store, &f.settings, &publish, batch).unwrap();
        scanned += out["Objects"].as_u64().unwrap();
        assert!(out["Output"]
            .as_str()
            .unwrap()
            .starts_with("s3://out-bucket/dragnet/runs/run-1/batches/"));
    }
    assert_eq!(scanned, 4);
    assert!(seen.borrow().is_empty(), "batches publish nothing");
    let merged = merge(&f, &publish, "run-1").unwrap();
    assert_eq!(merged["Batches"], 2);
    assert_eq!(merged["Statistics"]["objectsScanned"], 4, "{merged}");
    assert_eq!(
        finding_keys(&seen.borrow()),
        ["hr/staff.csv", "ops/emails.txt", "ops/keys.txt"]
    );
    assert_eq!(merged["Published"], 3);
    // The merged run and the discovery results are in the output bucket.
    let mut keys = Vec::new();
    f.store
        .list("out-bucket", "dragnet/", &mut |m| keys.push(m.key))
        .unwrap();
    assert!(keys.contains(&"dragnet/runs/run-1/findings.jsonl".to_string()));
    assert!(keys.contains(&"dragnet/runs/run-1/job.json".to_string()));
    let results: Vec<&String> = keys.iter().filter(|k| !k.contains("/runs/")).collect();
    assert!(!results.is_empty(), "discovery results exported: {keys:?}");
    for event in seen.borrow().iter() {
        let location = event["detail"]["classificationDetails"]["detailedResultsLocation"]
            .as_str()
            .unwrap();
        assert!(
            location.starts_with("s3://out-bucket/dragnet/"),
            "{location}"
        );
        assert_eq!(event["detail"]["region"], "eu-west-1");
        assert_eq!(event["detail"]["accountId"], "111122223333");
    }
}

#[test]
fn a_retried_batch_overwrites_its_own_output_and_the_merge_is_unchanged() {
    let f = fixture();
    let recorder = Recorder::default();
    let publish = |events: &[Value]| recorder.publish(events);
    let seen = &recorder.seen;
    let all = batches(&f.store, 10);
    let first = handle_scan(&f.store, &f.settings, &publish, all[0].clone()).unwrap();
    let again = handle_scan(&f.store, &f.settings, &publish, all[0].clone()).unwrap();
    assert_eq!(first["Batch"], again["Batch"]);
    let merged = merge(&f, &publish, "run-1").unwrap();
    assert_eq!(merged["Batches"], 1);
    assert_eq!(merged["Findings"], 3);
    assert_eq!(seen.borrow().len(), 3, "each finding published once");
}

#[test]
fn a_batch_with_nothing_to_scan_still_leaves_its_output() {
    let f = fixture();
    let recorder = Recorder::default();
    let publish = |events: &[Value]| recorder.publish(events);
    let mut batch = batches(&f.store, 10).remove(0);
    batch["Items"] = json!([]);
    let out = handle_scan(&f.store, &f.settings, &publish, batch).unwrap();
    assert_eq!(out["Objects"], 0);
    let merged = merge(&f, &publish, "run-1").unwrap();
    assert_eq!(merged["Batches"], 1);
    assert_eq!(merged["Findings"], 0);
}

#[test]
fn a_run_without_batches_merges_to_nothing() {
    let f = fixture();
    let recorder = Recorder::default();
    let publish = |events: &[Value]| recorder.publish(events);
    let seen = &recorder.seen;
    let merged = merge(&f, &publish, "empty-run").unwrap();
    assert_eq!(merged["Findings"], 0);
    assert!(seen.borrow().is_empty());
}

#[test]
fn rejected_events_fail_the_merge_with_a_retryable_error() {
    let f = fixture();
    let recorder = Recorder::default();
    let accept = |events: &[Value]| recorder.publish(events);
    for batch in batches(&f.store, 10) {
        handle_scan(&f.store, &f.settings, &accept, batch).unwrap();
    }
    let reject = |events: &[Value]| {
        events
            .iter()
            .map(|_| Published::Rejected {
                attempts: 3,
                error: "ThrottlingException".into(),
            })
            .collect()
    };
    let e = merge(&f, &reject, "run-1").unwrap_err();
    assert_eq!(e.error_type(), "PUBLISH_FAILED");
    assert!(e.to_string().contains("3 of 3"), "{e}");
}

#[test]
fn bad_requests_name_the_field() {
    let f = fixture();
    let none = |_: &[Value]| Vec::new();
    let batch = batches(&f.store, 10).remove(0);
    let with = |path: &str, value: Value| {
        let mut b = batch.clone();
        b["BatchInput"][path] = value;
        b
    };
    let cases = [
        (json!({"Hello": 1}), "$"),
        (json!({"Merge": {"RunId": "../x"}}), "$.Merge.RunId"),
        (json!({"Merge": {}}), "$.Merge.RunId"),
        (with("RunId", json!("a/b")), "$.BatchInput.RunId"),
        (with("JobSpec", Value::Null), "$.BatchInput.JobSpec"),
        (
            with("JobSpec", json!({"jobType": "SOMETIMES"})),
            "$.BatchInput.JobSpec",
        ),
        (with("Bucket", json!("other-bucket")), "$.BatchInput.Bucket"),
        (with("StartedAt", json!("noon")), "$.BatchInput.StartedAt"),
        (
            {
                let mut b = with(
                    "CustomDataIdentifiers",
                    json!([{"id": "x", "name": "x", "regex": "("}]),
                );
                b["BatchInput"]["JobSpec"]["customDataIdentifierIds"] = json!(["x"]);
                b
            },
            "$.BatchInput",
        ),
        (
            with(
                "AllowLists",
                json!([{"id": "a", "name": "a", "criteria": {"wordsFile": "w.txt"}}]),
            ),
            "$.BatchInput.AllowLists",
        ),
    ];
    for (event, path) in cases {
        let Err(e) = handle_scan(&f.store, &f.settings, &none, event.clone()) else {
            panic!("{event}: accepted")
        };
        assert_eq!(e.error_type(), "INVALID_INPUT", "{event}: {e}");
        match e {
            ScanError::Input { path: p, .. } => assert_eq!(p, path, "{event}"),
            other => panic!("{event}: {other}"),
        }
    }
}

#[test]
fn custom_identifiers_and_allow_lists_come_with_the_batch() {
    let f = fixture();
    f.store
        .put(
            "data-bucket",
            "hr/ids.txt",
            &mut "employee EMP-123456 and EMP-999999\n".as_bytes(),
            &Default::default(),
        )
        .unwrap();
    let mut spec = spec();
    spec["managedDataIdentifierSelector"] = json!("NONE");
    spec["customDataIdentifierIds"] = json!(["emp"]);
    spec["allowListIds"] = json!(["test-ids"]);
    let batch = json!({
        "Items": [{"Key": "hr/ids.txt", "Size": 35}],
        "BatchInput": {
            "Bucket": "data-bucket", "JobSpec": spec, "RunId": "run-2",
            "CustomDataIdentifiers": [{"id": "emp", "name": "employee id", "regex": "EMP-\\d{6}"}],
            "AllowLists": [{"id": "test-ids", "name": "test ids", "criteria": {"regex": "EMP-9+"}}]
        }
    });
    let recorder = Recorder::default();
    let publish = |events: &[Value]| recorder.publish(events);
    let seen = &recorder.seen;
    handle_scan(&f.store, &f.settings, &publish, batch).unwrap();
    merge(&f, &publish, "run-2").unwrap();
    let events = seen.borrow();
    assert_eq!(events.len(), 1);
    let custom = &events[0]["detail"]["classificationDetails"]["result"]["customDataIdentifiers"];
    assert_eq!(
        custom["totalCount"], 1,
        "the allow-listed id is not counted: {custom}"
    );
}

#[test]
fn settings_need_an_output_location() {
    let e = ScanSettings::from_env(env(&[])).unwrap_err();
    assert_eq!(e.error_type(), "CONFIGURATION");
    assert!(e.to_string().contains(OUTPUT_LOCATION_VAR), "{e}");
    let e = ScanSettings::from_env(env(&[
        (OUTPUT_LOCATION_VAR, "s3://out-bucket"),
        (SAMPLING_SEED_VAR, "many"),
    ]))
    .unwrap_err();
    assert!(e.to_string().contains(SAMPLING_SEED_VAR), "{e}");
    let s = ScanSettings::from_env(env(&[(OUTPUT_LOCATION_VAR, "s3://out-bucket")])).unwrap();
    assert_eq!(s.event_bus, "default");
    assert_eq!(s.event_source, "dragnet");
    assert_eq!(s.location(), "s3://out-bucket/");
}
