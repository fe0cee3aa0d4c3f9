//! `dragnet mask` as users run it, and dragnet's promise never to print a raw value.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::*;

const CW_POLICY: &str = r#"{"Name": "sfn", "Version": "2021-06-01", "Statement": [
  {"Sid": "audit", "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/Name", "arn:aws:dataprotection::aws:data-identifier/Address", "arn:aws:dataprotection::aws:data-identifier/EmailAddress"], "Operation": {"Audit": {"FindingsDestination": {}}}},
  {"Sid": "redact", "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/Name", "arn:aws:dataprotection::aws:data-identifier/Address", "arn:aws:dataprotection::aws:data-identifier/EmailAddress"], "Operation": {"Deidentify": {"MaskConfig": {}}}}]}"#;

#[test]
fn step_functions_logs_masked_with_a_cloudwatch_policy() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.json"), CW_POLICY).unwrap();
    let source = repo().join(
        "sample-data/buckets/synthea-data-111222333444-us-east-1/landing/sfn-executions.jsonl",
    );
    let o = dragnet(
        dir.path(),
        &[
            "mask",
            source.to_str().unwrap(),
            "--policy",
            "policy.json",
            "--out",
            "masked.jsonl",
            "--audit",
            "audit.jsonl",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let original = std::fs::read_to_string(&source).unwrap();
    let masked = std::fs::read_to_string(dir.path().join("masked.jsonl")).unwrap();
    assert_eq!(original.lines().count(), masked.lines().count());
    for (before, after) in original.lines().zip(masked.lines()) {
        let (b, a): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(before).unwrap(),
            serde_json::from_str(after).unwrap(),
        );
        let (bi, ai): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(b["details"]["input"].as_str().unwrap()).unwrap(),
            serde_json::from_str(a["details"]["input"].as_str().unwrap()).unwrap(),
        );
        assert_eq!(ai["order-id"], bi["order-id"], "order ids stay");
        for field in ["email", "address"] {
            let v = ai[field].as_str().unwrap();
            assert_eq!(
                v.chars().count(),
                bi[field].as_str().unwrap().chars().count(),
                "length (in characters) kept"
            );
            assert!(v.chars().all(|c| c == '*'), "{field}: {v}");
        }
        assert_eq!(a["execution_arn"], b["execution_arn"]);
    }
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("\"EmailAddress\"") && audit.contains("$.details.input.email"));
    let first: serde_json::Value = serde_json::from_str(original.lines().next().unwrap()).unwrap();
    let inner: serde_json::Value =
        serde_json::from_str(first["details"]["input"].as_str().unwrap()).unwrap();
    assert!(
        !audit.contains(inner["email"].as_str().unwrap()),
        "audit findings never hold values"
    );
}

#[test]
fn follow_masks_each_line_as_it_arrives() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dragnet"))
        .args(["mask", "-", "--follow"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for (line, expected) in [
        (
            "user jane.doe@example.com logged in\n",
            "user ********@example.com logged in\n",
        ),
        ("from 10.1.2.3\n", "from 10.1.xxx.xxx\n"),
    ] {
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let mut got = String::new();
        stdout.read_line(&mut got).unwrap();
        assert_eq!(got, expected, "answered before the input ended");
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn bad_policies_and_missing_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "jane@example.com\n").unwrap();
    std::fs::write(
        dir.path().join("bad.json"),
        r#"{"Statement": [{"DataIdentifier": ["x"]}]}"#,
    )
    .unwrap();
    let o = dragnet(dir.path(), &["mask", "in.txt", "--policy", "bad.json"]);
    expect_failure(
        &o,
        2,
        "masking policy bad.json: Statement: 1 statements given",
    );
    std::fs::write(dir.path().join("hash.json"), r#"{"default": "hash"}"#).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_dragnet"))
        .args(["mask", "in.txt", "--policy", "hash.json"])
        .current_dir(dir.path())
        .env_remove("DRAGNET_MASK_KEY")
        .output()
        .unwrap();
    expect_failure(&o, 2, "set DRAGNET_MASK_KEY");
}

#[test]
fn no_output_or_log_ever_holds_a_raw_identity_value() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_dragnet"))
        .args(["-vv", "demo", "--workdir", "demo"])
        .current_dir(dir.path())
        .env("DRAGNET_LOG", "debug")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // Every SSN, driver's licence and passport value of the sample.
    let patients = std::fs::read_to_string(
        repo().join("sample-data/buckets/synthea-data-111222333444-us-east-1/patients.csv"),
    )
    .unwrap();
    let mut values = Vec::new();
    for line in patients.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        values.extend(
            [f[3], f[4], f[5]]
                .iter()
                .filter(|v| !v.is_empty())
                .map(|v| v.to_string()),
        );
    }
    assert!(values.len() > 200);
    // Everything dragnet wrote: stdout, stderr, and every output file outside the buckets.
    let mut texts = vec![
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    ];
    let work = dir.path().join("demo");
    texts.extend(
        files_under(&work)
            .iter()
            .filter(|p| !p.starts_with(work.join("buckets")) && !p.starts_with(work.join("jobs")))
            .map(|p| text_of(p)),
    );
    assert!(texts.len() > 8, "outputs were found: {}", texts.len());
    for v in &values {
        for t in &texts {
            assert!(!t.contains(v.as_str()), "{v} appears in dragnet's output");
        }
    }
}
