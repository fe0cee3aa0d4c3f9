use dragnet_store::{DirStore, ObjectAttributes, ObjectStore};
use serde_json::json;

use super::*;
use crate::test_env as env;

#[test]
fn settings_need_the_isolation_bucket_and_read_the_options() {
    let error = Settings::from_env(env(&[])).unwrap_err();
    assert_eq!(error.error_type(), "CONFIGURATION");
    assert!(error.to_string().contains(ISOLATION_BUCKET_VAR), "{error}");
    let settings = Settings::from_env(env(&[
        (ISOLATION_BUCKET_VAR, "isolation"),
        (ISOLATION_PREFIX_VAR, "q/"),
        (FORCE_PATH_STYLE_VAR, "true"),
    ]))
    .unwrap();
    assert_eq!(settings.isolation.bucket, "isolation");
    assert_eq!(settings.isolation.prefix, "q/");
    assert!(settings.s3.force_path_style);
    assert!(!settings.isolation.purge_noncurrent_versions);
    let error = Settings::from_env(env(&[
        (ISOLATION_BUCKET_VAR, "isolation"),
        (FORCE_PATH_STYLE_VAR, "yes"),
    ]))
    .unwrap_err();
    assert!(error.to_string().contains("use true or false"), "{error}");
}

/// A store with the source and isolation buckets, one object, and the EventBridge event of
/// its finding.
fn scene(etag_of_finding: Option<&str>) -> (tempfile::TempDir, DirStore, Value) {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::new(dir.path());
    store.create_bucket("source").unwrap();
    store.create_bucket("isolation").unwrap();
    let meta = store
        .put(
            "source",
            "patients.csv",
            &mut &b"SSN\n536-22-1234\n"[..],
            &ObjectAttributes::default(),
        )
        .unwrap();
    let etag = etag_of_finding.map_or(meta.etag.unwrap(), str::to_string);
    let event = json!({
        "version": "0", "detail-type": "Macie Finding", "source": "dragnet",
        "detail": {
            "id": "0123456789abcdef0123456789abcdef",
            "severity": {"description": "High", "score": 3},
            "resourcesAffected": {"s3Object": {
                "path": "source/patients.csv", "key": "patients.csv", "eTag": etag,
            }},
        },
    });
    (dir, store, event)
}

fn isolation() -> Isolation {
    Isolation {
        bucket: "isolation".into(),
        prefix: String::new(),
        purge_noncurrent_versions: false,
    }
}

#[test]
fn the_event_moves_its_object_once() {
    let (_dir, store, event) = scene(None);
    let first = handle(&store, &isolation(), &event).unwrap();
    assert_eq!(first["status"], "MOVED");
    assert_eq!(
        first["record"]["findingId"],
        "0123456789abcdef0123456789abcdef"
    );
    assert!(store.head("source", "patients.csv").is_err());
    assert!(store.head("isolation", "patients.csv").is_ok());
    let again = handle(&store, &isolation(), &event).unwrap();
    assert_eq!(again["status"], "ALREADY_QUARANTINED");
}

#[test]
fn failures_report_the_reason_and_keep_the_original() {
    let (_dir, store, event) = scene(Some("00000000000000000000000000000000"));
    let error = handle(&store, &isolation(), &event).unwrap_err();
    let diagnostic = lambda_runtime::Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "OBJECT_VERSION_MISMATCH");
    assert!(diagnostic.error_message.contains("patients.csv"));
    assert!(store.head("source", "patients.csv").is_ok());

    let error = handle(&store, &isolation(), &json!({"detail": {}})).unwrap_err();
    assert_eq!(error.error_type(), "INVALID_INPUT");
}
