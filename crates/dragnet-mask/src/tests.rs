//! Masking as users run it: Step Functions execution logs, CloudTrail records, CSV, logs.

use serde_json::{json, Value};

use crate::*;

/// Masks `input` with an audit writer, and checks that without one (no audit records are
/// built then) the output and counts are the same.
fn mask(policy: MaskPolicy, format: MaskFormat, input: &str) -> (String, Vec<Value>) {
    let mut masker = Masker::new(policy, &[], b"test-key".to_vec()).unwrap();
    let mut run = |audit: Option<&mut dyn std::io::Write>| {
        let mut out = Vec::new();
        let summary = masker
            .mask_stream(format, "test", input.as_bytes(), &mut out, audit, false)
            .unwrap();
        (out, summary.masked)
    };
    let mut audit = Vec::new();
    let (out, masked) = run(Some(&mut audit));
    let (unaudited, unaudited_masked) = run(None);
    assert_eq!(out, unaudited);
    assert_eq!(masked, unaudited_masked);
    let audit = String::from_utf8(audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (String::from_utf8(out).unwrap(), audit)
}

fn sfn_event(input: &Value) -> String {
    json!({
        "id": "1", "type": "ExecutionStarted",
        "details": {"input": input.to_string(), "inputDetails": {"truncated": false}},
        "execution_arn": "arn:aws:states:us-east-1:111222333444:express:checkout:abc"
    })
    .to_string()
}

const CW_POLICY: &str = r#"{
  "Name": "sfn-logs", "Version": "2021-06-01",
  "Statement": [
    {"Sid": "audit", "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/Name", "arn:aws:dataprotection::aws:data-identifier/Address", "arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
     "Operation": {"Audit": {"FindingsDestination": {}}}},
    {"Sid": "redact", "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/Name", "arn:aws:dataprotection::aws:data-identifier/Address", "arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
     "Operation": {"Deidentify": {"MaskConfig": {}}}}
  ]}"#;

const DRAGNET_POLICY: &str =
    r#"{"identifiers": ["NAME", "ADDRESS", "EMAIL_ADDRESS"], "default": "mask"}"#;

#[test]
fn step_functions_execution_logs_keep_order_ids() {
    let input = json!({"name": "Jane Smith", "address": "427 Balistreri Way Unit 19, Chicopee, MA 01013", "email": "jane.smith@example.com", "order-id": "ORD-12345678"});
    let line = sfn_event(&input);
    for policy in [
        MaskPolicy::parse(DRAGNET_POLICY).unwrap(),
        MaskPolicy::parse(CW_POLICY).unwrap(),
    ] {
        let name = policy.name.clone();
        let (out, audit) = mask(policy, MaskFormat::JsonLines, &format!("{line}\n"));
        let event: Value = serde_json::from_str(out.trim()).unwrap();
        let inner: Value =
            serde_json::from_str(event["details"]["input"].as_str().unwrap()).unwrap();
        assert_eq!(inner["name"], "*".repeat(10), "{name}");
        assert_eq!(inner["address"].as_str().unwrap(), "*".repeat(46), "{name}");
        assert_eq!(inner["email"], "*".repeat(22), "{name}");
        assert_eq!(
            inner["order-id"], "ORD-12345678",
            "{name}: order ids are not personal data"
        );
        assert_eq!(
            event["execution_arn"],
            "arn:aws:states:us-east-1:111222333444:express:checkout:abc"
        );
        // Structure and key order are kept.
        let keys: Vec<&String> = event.as_object().unwrap().keys().collect();
        assert!(
            out.find("\"id\"").unwrap() < out.find("\"type\"").unwrap(),
            "{keys:?}"
        );
        let text = serde_json::to_string(&audit).unwrap();
        for raw in ["Jane Smith", "jane.smith@example.com", "Balistreri"] {
            assert!(
                !out.contains(raw) && !text.contains(raw),
                "{name}: {raw} leaked"
            );
        }
        assert!(text.contains("$.details.input.email"), "{text}");
    }
}

#[test]
fn cloudtrail_records_keep_domains_and_truncate_ips() {
    let policy = MaskPolicy::parse(
        r#"{"rules": [{"identifiers": ["EMAIL_ADDRESS"], "operator": "emailDomain"}, {"identifiers": ["IP_ADDRESS"], "operator": "truncateIp"}, {"categories": ["CREDENTIALS"], "operator": "redact"}], "default": "mask"}"#,
    )
    .unwrap();
    let record = json!({"Records": [{
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "userName": "Jane Doe", "accessKeyId": "AKIA2OGYBAH6TT2HRQ7V", "arn": "arn:aws:iam::111222333444:user/jane"},
        "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
        "sourceIPAddress": "203.0.113.42",
        "requestParameters": {"bucketName": "synthea", "key": "patients.csv", "notify": "jane.doe@example.com"}
    }]});
    let (out, audit) = mask(
        policy,
        MaskFormat::Json,
        &serde_json::to_string_pretty(&record).unwrap(),
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let r = &v["Records"][0];
    assert_eq!(r["userIdentity"]["accessKeyId"], "[AWS_ACCESS_KEY_ID]");
    assert_eq!(r["userIdentity"]["userName"], "********");
    assert_eq!(r["sourceIPAddress"], "203.0.xxx.xxx");
    assert_eq!(r["requestParameters"]["notify"], "********@example.com");
    assert_eq!(r["eventName"], "GetObject");
    assert!(
        out.starts_with("{\n  \"Records\""),
        "pretty printing is kept"
    );
    assert_eq!(audit.len(), 4);
}

#[test]
fn csv_cells_are_masked_in_place() {
    let input = "name,ssn,note\r\n\"Smith, Jane\",536-22-1234,\"said \"\"hi\"\"\"\nJohn Doe,536-22-9999,plain\n";
    let (out, audit) = mask(MaskPolicy::defaults(), MaskFormat::Csv, input);
    assert_eq!(out, "name,ssn,note\r\n\"Smith, Jane\",***-**-1234,\"said \"\"hi\"\"\"\n********,***-**-9999,plain\n");
    assert_eq!(
        audit[0]["location"],
        json!({"row": 2, "column": 2, "columnName": "ssn"})
    );
}

#[test]
fn log_lines_and_hashing() {
    let (out, _) = mask(
        MaskPolicy::defaults(),
        MaskFormat::Text,
        "login user=jane.doe@example.com from 192.168.1.20\nno data here\n",
    );
    assert_eq!(
        out,
        "login user=********@example.com from 192.168.xxx.xxx\nno data here\n"
    );
    let hashed =
        MaskPolicy::parse(r#"{"identifiers": ["EMAIL_ADDRESS"], "default": "hash"}"#).unwrap();
    let (a, _) = mask(
        hashed.clone(),
        MaskFormat::Text,
        "to a@example.com and a@example.com\n",
    );
    let tokens: Vec<&str> = a
        .split_whitespace()
        .filter(|w| w.starts_with("tok_"))
        .collect();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0], tokens[1], "equal values, equal tokens");
}

#[test]
fn malformed_json_lines_are_masked_as_text() {
    let (out, _) = mask(
        MaskPolicy::defaults(),
        MaskFormat::JsonLines,
        "{\"ok\": \"jane@example.com\"}\nnot json jane@example.com\n",
    );
    assert_eq!(
        out,
        "{\"ok\": \"****@example.com\"}\nnot json ****@example.com\n"
    );
}

#[test]
fn json_strings_with_and_without_escapes_keep_their_text() {
    // Unmasked strings come out byte for byte (escapes kept as written); an escaped value is
    // decoded before it is scanned; keys with escapes still qualify their values.
    let input = concat!(
        r#"{"plain": "hello", "esc": "tab\there \u00e9", "m\u0061il": "jane\u002edoe@example.com", "n": 42}"#,
        "\n",
        "{\"raw\": \"a\u{1}b jane@example.com\"}\n",
    );
    let (out, audit) = mask(MaskPolicy::defaults(), MaskFormat::JsonLines, input);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            r#"{"plain": "hello", "esc": "tab\there \u00e9", "m\u0061il": "********@example.com", "n": 42}"#
        )
    );
    // A raw control character is invalid JSON: the line is masked as text, as before.
    assert_eq!(
        lines.next(),
        Some("{\"raw\": \"a\u{1}b ****@example.com\"}")
    );
    assert_eq!(audit.len(), 2, "{audit:?}");
}
