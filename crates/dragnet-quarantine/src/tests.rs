//! The mover's guarantees under injected faults.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::Ordering::SeqCst;

use dragnet_store::DirStore;

use super::*;

const SRC: &str = "data-bucket";
const ISO: &str = "isolation-bucket";
const BODY: &[u8] = b"SSN\n536-22-1234\n";

type FaultyStore = dragnet_store::faulty::FaultyStore<DirStore>;

fn attrs() -> ObjectAttributes {
    ObjectAttributes {
        content_type: Some("text/csv".into()),
        metadata: BTreeMap::from([("owner".into(), "data-team".into())]),
        tags: BTreeMap::from([("Project".into(), "Synthea".into())]),
    }
}

fn setup() -> (tempfile::TempDir, FaultyStore, QuarantineRequest) {
    let dir = tempfile::tempdir().unwrap();
    let inner = DirStore::new(dir.path());
    inner.create_bucket(SRC).unwrap();
    inner.create_bucket(ISO).unwrap();
    let meta = inner
        .put(SRC, "dir/patients.csv", &mut &BODY[..], &attrs())
        .unwrap();
    let request = QuarantineRequest {
        finding_id: "f".repeat(32),
        bucket: SRC.into(),
        key: "dir/patients.csv".into(),
        etag: meta.etag.unwrap(),
        version_id: String::new(),
        severity: "High".into(),
    };
    (dir, FaultyStore::new(inner), request)
}

fn iso() -> Isolation {
    Isolation {
        bucket: ISO.into(),
        prefix: "quarantine/".into(),
        purge_noncurrent_versions: false,
    }
}

fn original_intact(s: &FaultyStore) {
    let mut body = Vec::new();
    s.get(SRC, "dir/patients.csv")
        .unwrap()
        .read_to_end(&mut body)
        .unwrap();
    assert_eq!(body, BODY);
}

#[test]
fn moves_verifies_records_and_is_idempotent() {
    let (_d, s, req) = setup();
    let out = quarantine(&s, &req, &iso(), "high-rule").unwrap();
    let MoveOutcome::Moved(record) = &out else {
        panic!("{out:?}")
    };
    assert_eq!(record.isolation.key, "quarantine/dir/patients.csv");
    assert_eq!(record.checksums.md5, req.etag);
    assert!(matches!(
        s.get(SRC, "dir/patients.csv"),
        Err(StoreError::NoSuchKey { .. })
    ));
    let copy = s.attributes(ISO, "quarantine/dir/patients.csv").unwrap();
    let mut expected = attrs();
    expected.tags.insert(
        FINDING_TAG.into(),
        "ffffffffffffffffffffffffffffffff".into(),
    );
    expected.tags.insert(SEVERITY_TAG.into(), "High".into());
    assert_eq!(
        copy, expected,
        "content type, metadata and tags preserved, quarantine tags added"
    );
    assert_eq!(
        record.attributes,
        attrs(),
        "the record keeps the original's"
    );
    assert!(s
        .get(
            ISO,
            "quarantine/dragnet-quarantine-records/ffffffffffffffffffffffffffffffff.json"
        )
        .is_ok());
    // A duplicate event is a no-op success.
    let again = quarantine(&s, &req, &iso(), "high-rule").unwrap();
    assert!(matches!(again, MoveOutcome::AlreadyQuarantined(_)));
}

#[test]
fn copy_failure_leaves_the_original() {
    let (_d, s, req) = setup();
    s.faults.copy_fails.store(true, SeqCst);
    let e = quarantine(&s, &req, &iso(), "r").unwrap_err();
    assert!(
        e.to_string().starts_with("copying to the isolation bucket"),
        "{e}"
    );
    original_intact(&s);
}

#[test]
fn a_copy_that_does_not_verify_never_deletes_the_original() {
    let (_d, s, req) = setup();
    s.faults.copy_corrupts.store(true, SeqCst);
    let e = quarantine(&s, &req, &iso(), "r").unwrap_err();
    assert!(matches!(e, QuarantineError::VerifyFailed { .. }), "{e}");
    original_intact(&s);
}

#[test]
fn missing_isolation_bucket_leaves_the_original() {
    let (_d, s, req) = setup();
    let e = quarantine(
        &s,
        &req,
        &Isolation {
            bucket: "no-such-isolation".into(),
            prefix: String::new(),
            purge_noncurrent_versions: false,
        },
        "r",
    )
    .unwrap_err();
    assert!(e.to_string().contains("no-such-isolation"), "{e}");
    original_intact(&s);
}

#[test]
fn changed_object_is_not_moved() {
    let (_d, s, req) = setup();
    s.inner
        .put(SRC, "dir/patients.csv", &mut &b"new content"[..], &attrs())
        .unwrap();
    let e = quarantine(&s, &req, &iso(), "r").unwrap_err();
    assert_eq!(e.reason(), "OBJECT_VERSION_MISMATCH");
    assert!(!exists(&s, ISO, "quarantine/dir/patients.csv").unwrap());
}

#[test]
fn a_crash_between_copy_and_delete_is_completed_by_the_next_run() {
    let (_d, s, req) = setup();
    s.faults.delete_failures.store(1, SeqCst);
    let e = quarantine(&s, &req, &iso(), "r").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("deleting the original (the verified copy is kept)"),
        "{e}"
    );
    original_intact(&s);
    assert!(
        exists(&s, ISO, "quarantine/dir/patients.csv").unwrap(),
        "both exist after the crash"
    );
    let out = quarantine(&s, &req, &iso(), "r").unwrap();
    assert!(matches!(out, MoveOutcome::Moved(_)));
    assert!(matches!(
        s.get(SRC, "dir/patients.csv"),
        Err(StoreError::NoSuchKey { .. })
    ));
}

#[test]
fn restore_round_trips_bytes_and_attributes() {
    let (_d, s, req) = setup();
    quarantine(&s, &req, &iso(), "r").unwrap();
    let record = restore(&s, &iso(), &req.finding_id).unwrap();
    assert_eq!(record.source.key, "dir/patients.csv");
    original_intact(&s);
    assert_eq!(s.attributes(SRC, "dir/patients.csv").unwrap(), attrs());
    assert!(!exists(&s, ISO, "quarantine/dir/patients.csv").unwrap());
    assert!(matches!(
        restore(&s, &iso(), &req.finding_id),
        Err(QuarantineError::NoRecord { .. })
    ));
}

#[test]
fn restore_never_overwrites_a_new_object() {
    let (_d, s, req) = setup();
    quarantine(&s, &req, &iso(), "r").unwrap();
    s.inner
        .put(
            SRC,
            "dir/patients.csv",
            &mut &b"someone wrote a new file"[..],
            &ObjectAttributes::default(),
        )
        .unwrap();
    let e = restore(&s, &iso(), &req.finding_id).unwrap_err();
    assert!(matches!(e, QuarantineError::RestoreConflict { .. }), "{e}");
    assert!(
        exists(&s, ISO, "quarantine/dir/patients.csv").unwrap(),
        "the quarantined copy is kept"
    );
}

#[test]
fn tagging_checks_the_version_and_keeps_existing_tags() {
    let (_d, s, req) = setup();
    let tags = tag(&s, &req, "dragnet-sensitivity", "medium").unwrap();
    assert_eq!(tags.len(), 2);
    assert_eq!(
        s.attributes(SRC, "dir/patients.csv").unwrap().tags["Project"],
        "Synthea"
    );
    let stale = QuarantineRequest {
        etag: "0".repeat(32),
        ..req
    };
    assert_eq!(
        tag(&s, &stale, "k", "v").unwrap_err().reason(),
        "OBJECT_VERSION_MISMATCH"
    );
}

#[test]
fn requests_come_from_events_or_findings() {
    let finding = serde_json::json!({
        "id": "abc", "severity": {"description": "High", "score": 3},
        "resourcesAffected": {"s3Object": {"bucketArn": "arn:aws:s3:::b", "key": "k/x.csv", "path": "b/k/x.csv", "eTag": "\"e\"", "versionId": ""}}
    });
    let r = QuarantineRequest::from_json(&finding).unwrap();
    assert_eq!(
        (r.bucket.as_str(), r.key.as_str(), r.etag.as_str()),
        ("b", "k/x.csv", "e")
    );
    let event = serde_json::json!({"detail": finding});
    assert_eq!(QuarantineRequest::from_json(&event).unwrap(), r);
    assert!(QuarantineRequest::from_json(&serde_json::json!({"hello": 1})).is_err());
}

#[test]
fn quarantine_tags_fit_within_the_ten_tag_limit() {
    let (_d, _s, req) = setup();
    let mut original = attrs();
    for i in 0..9 {
        original.tags.insert(format!("t{i}"), "v".into());
    }
    assert_eq!(original.tags.len(), 10);
    assert_eq!(
        with_quarantine_tags(&original, &req),
        original,
        "full: none added"
    );
    original.tags.remove("t0");
    let copy = with_quarantine_tags(&original, &req);
    assert_eq!(copy.tags.len(), 10);
    assert_eq!(
        copy.tags[FINDING_TAG], req.finding_id,
        "the finding id first"
    );
}

#[test]
fn records_are_listed_and_found_until_restored() {
    let (_d, s, req) = setup();
    assert!(list_records(&s, &iso()).unwrap().is_empty());
    quarantine(&s, &req, &iso(), "high-rule").unwrap();
    let listed = list_records(&s, &iso()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].source.key, "dir/patients.csv");
    assert_eq!(
        find_record(&s, &iso(), &req.finding_id).unwrap().as_ref(),
        Some(&listed[0])
    );
    assert_eq!(
        find_record(&s, &iso(), "0".repeat(32).as_str()).unwrap(),
        None
    );
    restore(&s, &iso(), &req.finding_id).unwrap();
    assert!(list_records(&s, &iso()).unwrap().is_empty());
    assert_eq!(find_record(&s, &iso(), &req.finding_id).unwrap(), None);
    // No isolation bucket: nothing was quarantined there.
    let elsewhere = Isolation {
        bucket: "no-such-isolation".into(),
        ..iso()
    };
    assert!(list_records(&s, &elsewhere).unwrap().is_empty());
    assert_eq!(find_record(&s, &elsewhere, &req.finding_id).unwrap(), None);
}
