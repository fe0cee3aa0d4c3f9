//! `dragnet scan`, `classify`, `identifiers` and `sample-data` as a user runs them, bad input
//! included.

mod common;

use std::fs;

use common::*;

const SPEC: &str = r#"{"jobType":"ONE_TIME","managedDataIdentifierSelector":"ALL","s3JobDefinition":{"bucketDefinitions":[{"accountId":"111222333444","buckets":["data-bucket"]}]}}"#;

/// The managed detection types of a finding's first sensitive-data category.
fn detection_types(finding: &serde_json::Value) -> Vec<&str> {
    finding["classificationDetails"]["result"]["sensitiveData"][0]["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["type"].as_str().unwrap())
        .collect()
}

fn setup(files: &[(&str, &str)]) -> tempfile::TempDir {
    let work = workdir();
    let bucket = work.path().join("buckets/data-bucket");
    fs::create_dir_all(&bucket).unwrap();
    for (k, v) in files {
        let p = bucket.join(k);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, v).unwrap();
    }
    fs::write(work.path().join("job.json"), SPEC).unwrap();
    work
}

#[test]
fn scan_writes_findings_results_and_job() {
    let work = setup(&[(
        "customers.csv",
        "name,email,ssn\nJohn Smith,john@example.com,536-22-1234\n",
    )]);
    let o = dragnet(work.path(), &["scan", "--job", "job.json", "--out", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = stdout_json(&o);
    assert_eq!(summary["findings"], 1);
    let f = &jsonl(&work.path().join("out/findings.jsonl"))[0];
    assert_eq!(f["type"], "SensitiveData:S3Object/Personal");
    assert_eq!(
        detection_types(f),
        vec!["EMAIL_ADDRESS", "NAME", "USA_SOCIAL_SECURITY_NUMBER"]
    );
    assert!(work.path().join("out/job.json").is_file());
    assert!(summary["resultsFiles"][0]
        .as_str()
        .unwrap()
        .ends_with(".jsonl.gz"));
    // The summary table is on stderr, and no raw value is printed anywhere.
    let err = stderr(&o);
    assert!(err.contains("findings"), "{err}");
    for raw in ["536-22-1234", "john@example.com", "John Smith"] {
        assert!(
            !err.contains(raw) && !String::from_utf8_lossy(&o.stdout).contains(raw),
            "{raw} leaked"
        );
    }
}

#[test]
fn discovery_results_are_exported_where_findings_say_they_are() {
    let work = setup(&[("p.csv", "SSN\n536-22-1234\n")]);
    let config = work.path().join("dragnet.toml");
    let mut text = fs::read_to_string(&config).unwrap();
    text.push_str("[results]\nlocation = \"s3://macie-results/discovery/\"\n");
    fs::write(&config, text).unwrap();
    // The results bucket must exist: the scan fails (exit 1) naming it, findings kept.
    let o = dragnet(work.path(), &["scan", "--job", "job.json", "--out", "out"]);
    expect_failure(
        &o,
        1,
        "exporting discovery results to s3://macie-results/discovery ([results] location): bucket \"macie-results\" does not exist",
    );
    fs::create_dir_all(work.path().join("buckets/macie-results")).unwrap();
    let o = dragnet(work.path(), &["scan", "--job", "job.json", "--out", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let finding = &jsonl(&work.path().join("out/findings.jsonl"))[0];
    let location = finding["classificationDetails"]["detailedResultsLocation"]
        .as_str()
        .unwrap();
    let key = location
        .strip_prefix("s3://macie-results/")
        .unwrap_or_else(|| panic!("{location}"));
    assert!(key.starts_with("discovery/AWSLogs/111222333444/Macie/us-east-1/"));
    let exported = work.path().join("buckets/macie-results").join(key);
    let local = work
        .path()
        .join("out/results")
        .join(key.strip_prefix("discovery/").unwrap());
    assert_eq!(text_of(&exported), text_of(&local));
    assert!(text_of(&exported).contains("\"findingId\""));
}

#[test]
fn malformed_spec_exits_2_naming_path_and_allowed_values() {
    let work = setup(&[]);
    let bad = SPEC.replace(
        r#""buckets":["data-bucket"]}]"#,
        r#""buckets":["data-bucket"]}],"scoping":{"includes":{"and":[{"simpleScopeTerm":{"comparator":"GT","key":"OBJECT_EXTENSION","values":["csv"]}}]}}"#,
    );
    fs::write(work.path().join("bad.json"), bad).unwrap();
    let o = dragnet(work.path(), &["scan", "--job", "bad.json", "--out", "out"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("job spec bad.json"), "{err}");
    assert!(
        err.contains(r#"s3JobDefinition.scoping.includes.and[0].simpleScopeTerm.comparator: "GT" is not allowed for OBJECT_EXTENSION (allowed: EQ, NE)"#),
        "{err}"
    );
    fs::write(work.path().join("broken.json"), "{\"jobType\": ").unwrap();
    let o = dragnet(work.path(), &["scan", "--job", "broken.json"]);
    expect_failure(&o, 2, "not valid JSON at line 1");
    let o = dragnet(work.path(), &["scan", "--job", "missing.json"]);
    expect_failure(&o, 2, "reading job spec missing.json");
}

#[test]
fn bad_custom_regex_names_the_file_and_identifier() {
    let work = setup(&[]);
    fs::write(
        work.path().join("ids.json"),
        r#"[{"id":"emp","name":"Employee","regex":"(EMP)-\\d+"}]"#,
    )
    .unwrap();
    let spec = SPEC.replace(
        r#""managedDataIdentifierSelector":"ALL""#,
        r#""managedDataIdentifierSelector":"NONE","customDataIdentifierIds":["emp"]"#,
    );
    fs::write(work.path().join("job.json"), spec).unwrap();
    let o = dragnet(
        work.path(),
        &["scan", "--job", "job.json", "--identifiers", "ids.json"],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("custom data identifier \"emp\" (Employee)")
            && err.contains("capturing groups are not supported"),
        "{err}"
    );
    // Unknown ids are named.
    let o = dragnet(work.path(), &["scan", "--job", "job.json"]);
    expect_failure(&o, 2, "unknown custom data identifier id(s): emp");
    // Limits of the identifier file name the JSON path.
    fs::write(
        work.path().join("ids.json"),
        r#"[{"id":"emp","name":"Employee","regex":"EMP","keywords":["ab"]}]"#,
    )
    .unwrap();
    let o = dragnet(
        work.path(),
        &["scan", "--job", "job.json", "--identifiers", "ids.json"],
    );
    assert!(
        stderr(&o).contains("custom identifier file ids.json: [0].keywords[0]: length 2"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_bucket_fails_the_job_with_exit_1() {
    let work = setup(&[]);
    fs::remove_dir_all(work.path().join("buckets/data-bucket")).unwrap();
    let o = dragnet(work.path(), &["scan", "--job", "job.json", "--out", "out"]);
    expect_failure(&o, 1, "data-bucket: bucket \"data-bucket\" does not exist");
    let job: serde_json::Value =
        serde_json::from_slice(&fs::read(work.path().join("out/job.json")).unwrap()).unwrap();
    assert_eq!(job["lastRunErrorStatus"]["code"], "ERROR");
}

#[test]
fn hostile_objects_do_not_stop_the_job() {
    let work = setup(&[
        ("binary.csv", "\u{0}\u{1}\u{2}PK"),
        ("ragged.csv", "a,b\n1\n\"unterminated,2\n"),
        ("ok.csv", "ssn\n536-22-1234\n"),
    ]);
    fs::write(
        work.path().join("buckets/data-bucket/bad-utf8.txt"),
        b"ssn \xff\xfe 536-22-1234\n",
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        "/etc/passwd",
        work.path().join("buckets/data-bucket/passwd.txt"),
    )
    .unwrap();
    let o = dragnet(work.path(), &["scan", "--job", "job.json", "--out", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = &stdout_json(&o)["runStatistics"];
    assert_eq!(s["objectsListed"], 4, "the symlink is not listed: {s}");
    assert_eq!(s["objectsSkipped"]["UNSUPPORTED_FILE_TYPE_EXCEPTION"], 1);
    assert_eq!(s["objectsPartial"]["MALFORMED_FILE"], 1);
    let keys: Vec<String> = jsonl(&work.path().join("out/findings.jsonl"))
        .iter()
        .map(|f| {
            f["resourcesAffected"]["s3Object"]["key"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(keys, vec!["bad-utf8.txt", "ok.csv"]);
}

#[test]
fn scoping_sampling_and_shards_from_the_cli() {
    let mut files = Vec::new();
    for i in 0..20 {
        files.push((format!("d/{i:02}.csv"), "ssn\n536-22-1234\n".to_string()));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let work = setup(&refs);
    let spec = SPEC.replace(
        r#""jobType":"ONE_TIME","#,
        r#""jobType":"ONE_TIME","samplingPercentage":50,"#,
    );
    fs::write(work.path().join("half.json"), spec).unwrap();
    let o = dragnet(work.path(), &["scan", "--job", "half.json", "--out", "out"]);
    let s = &stdout_json(&o)["runStatistics"];
    assert_eq!(
        (
            s["objectsScanned"].as_u64(),
            s["objectsSkipped"]["NOT_SAMPLED"].as_u64()
        ),
        (Some(10), Some(10))
    );
    let mut total = 0;
    for i in 0..3 {
        let o = dragnet(
            work.path(),
            &[
                "scan",
                "--job",
                "job.json",
                "--out",
                &format!("s{i}"),
                "--shard",
                &format!("{i}/3"),
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        total += stdout_json(&o)["findings"].as_u64().unwrap();
    }
    assert_eq!(total, 20, "three shards cover every object once");
    let o = dragnet(
        work.path(),
        &["scan", "--job", "job.json", "--shard", "3/3"],
    );
    expect_failure(&o, 2, "--shard \"3/3\"");
}

#[test]
fn classify_prints_a_discovery_result() {
    let work = tempfile::tempdir().unwrap();
    fs::write(
        work.path().join("patients.csv"),
        "PATIENT,BIRTHDATE\n1d604da9-9a81-4ba9-80c2-de3375d59b40,1989-05-25\n",
    )
    .unwrap();
    let ids = repo().join("sample-data/custom-identifiers.json");
    let o = dragnet(
        work.path(),
        &[
            "classify",
            "patients.csv",
            "--identifiers",
            ids.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = stdout_json(&o);
    assert_eq!(r["type"], "SensitiveData:S3Object/Multiple");
    assert_eq!(r["classificationDetails"]["result"]["mimeType"], "text/csv");
    assert_eq!(
        r["classificationDetails"]["result"]["customDataIdentifiers"]["detections"][0]["name"],
        "Patient ID"
    );
    let o = dragnet(work.path(), &["classify", "nope.csv"]);
    expect_failure(&o, 2, "opening nope.csv");
}

#[test]
fn identifiers_list_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let o = dragnet(dir.path(), &["identifiers", "list", "--format", "json"]);
    let list = stdout_json(&o);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    for id in [
        "USA_SOCIAL_SECURITY_NUMBER",
        "CREDIT_CARD_NUMBER",
        "USA_PASSPORT_NUMBER",
        "DRIVERS_LICENSE",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "ADDRESS",
        "NAME",
        "DATE_OF_BIRTH",
        "AWS_CREDENTIALS",
        "IP_ADDRESS",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    // The second licence ends more than 50 characters (the default distance) after the keyword.
    let text = format!("DRIVERS S99984236 {} S12345678", "x".repeat(40));
    let o = dragnet(
        dir.path(),
        &[
            "identifiers",
            "test",
            "--regex",
            r"[S]{1}\d{8}",
            "--keyword",
            "DRIVERS",
            "--text",
            &text,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = stdout_json(&o);
    assert_eq!(r["matchCount"], 1);
    assert_eq!(
        r["matches"][0]["value"], "*********",
        "masked unless --reveal"
    );
    let o = dragnet(
        dir.path(),
        &[
            "identifiers",
            "test",
            "--regex",
            r"[S]{1}\d{8}",
            "--text",
            "S99984236",
            "--reveal",
        ],
    );
    assert_eq!(stdout_json(&o)["matches"][0]["value"], "S99984236");
    let o = dragnet(
        dir.path(),
        &[
            "identifiers",
            "test",
            "--regex",
            r"(?<=x)\d",
            "--text",
            "x1",
        ],
    );
    expect_failure(&o, 2, "look-ahead and look-behind");
}

#[test]
fn config_errors_name_the_key() {
    let work = setup(&[]);
    fs::write(
        work.path().join("dragnet.toml"),
        "[store]\nrot = \"buckets\"\n",
    )
    .unwrap();
    let o = dragnet(work.path(), &["scan", "--job", "job.json"]);
    expect_failure(&o, 2, "dragnet.toml: unknown field `rot`");
}

#[test]
fn ssm_bucket_names_resolve_from_parameters() {
    let work = setup(&[("a.csv", "ssn\n536-22-1234\n")]);
    fs::write(
        work.path().join("dragnet.toml"),
        "[store]\nroot = \"buckets\"\n[parameters]\n\"/demo/bucket\" = \"data-bucket\"\n",
    )
    .unwrap();
    fs::write(
        work.path().join("job.json"),
        SPEC.replace(r#"["data-bucket"]"#, r#"["ssm:/demo/bucket"]"#),
    )
    .unwrap();
    let o = dragnet(work.path(), &["scan", "--job", "job.json", "--out", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["findings"], 1);
    fs::write(
        work.path().join("job.json"),
        SPEC.replace(r#"["data-bucket"]"#, r#"["ssm:/missing"]"#),
    )
    .unwrap();
    let o = dragnet(work.path(), &["scan", "--job", "job.json"]);
    expect_failure(&o, 2, "SSM parameter \"/missing\" is not defined");
}

#[test]
fn classify_reads_every_landing_format() {
    let landing = repo().join("sample-data/buckets/synthea-data-111222333444-us-east-1/landing");
    for (file, mime, detection, location) in [
        (
            "patients.jsonl",
            "application/x-ndjson",
            "EMAIL_ADDRESS",
            "records",
        ),
        (
            "sfn-executions.jsonl",
            "application/x-ndjson",
            "NAME",
            "records",
        ),
        ("app.log", "text/plain", "IP_ADDRESS", "lineRanges"),
        (
            "exports/patients-2020.tar.gz",
            "application/gzip",
            "DATE_OF_BIRTH",
            "cells",
        ),
    ] {
        let o = dragnet(&landing, &["classify", file]);
        assert!(o.status.success(), "{file}: {}", stderr(&o));
        let r = stdout_json(&o);
        let result = &r["classificationDetails"]["result"];
        assert_eq!(result["mimeType"], mime, "{file}");
        let detections: Vec<&serde_json::Value> = result["sensitiveData"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["detections"].as_array().unwrap())
            .collect();
        let d = detections
            .iter()
            .find(|d| d["type"] == detection)
            .unwrap_or_else(|| panic!("{file}: no {detection}"));
        assert!(
            d["occurrences"][location]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            "{file}: {}",
            d["occurrences"]
        );
    }
}

#[test]
fn leaked_keys_and_tokens_in_logs_are_high_credentials_findings() {
    let work = setup(&[
        (
            "app.log",
            "2026-11-23 boot ok\nconfig dump: -----BEGIN RSA PRIVATE KEY-----\nrequest Authorization: Basic YWRtaW46czNjcjN0 accepted\n",
        ),
        (
            "payouts.csv",
            "name,iban\nJ. Doe,DE56787789328792174218\nA. Roe,GB98HSUX99143301467300\n",
        ),
    ]);
    let o = dragnet(work.path(), &["scan", "--job", "job.json", "--out", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let findings = jsonl(&work.path().join("out/findings.jsonl"));
    let of = |key: &str| {
        findings
            .iter()
            .find(|f| f["resourcesAffected"]["s3Object"]["key"] == key)
            .unwrap_or_else(|| panic!("no finding for {key}"))
    };
    let log = of("app.log");
    assert_eq!(log["type"], "SensitiveData:S3Object/Credentials");
    assert_eq!(log["severity"]["description"], "High");
    let csv = of("payouts.csv");
    assert_eq!(csv["type"], "SensitiveData:S3Object/Financial");
    assert_eq!(
        detection_types(csv),
        vec!["GERMANY_BANK_ACCOUNT_NUMBER", "UK_BANK_ACCOUNT_NUMBER"]
    );
    // Nothing raw on the terminal.
    let printed = format!("{}{}", stderr(&o), String::from_utf8_lossy(&o.stdout));
    assert!(!printed.contains("YWRtaW46czNjcjN0") && !printed.contains("DE56787789328792174218"));
}

#[test]
fn identifiers_check_runs_every_example() {
    let work = tempfile::tempdir().unwrap();
    let o = dragnet(work.path(), &["identifiers", "check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines
        .iter()
        .any(|l| l.starts_with("PKCS ") && l.contains(" ok ")));
    let last = lines.last().unwrap();
    assert!(
        last.ends_with("examples, all as expected") && !text.contains("FAILED"),
        "{text}"
    );
}

#[test]
fn accuracy_on_the_project_corpus_meets_the_targets() {
    let corpus = repo().join("sample-data/accuracy/corpus.jsonl");
    let work = tempfile::tempdir().unwrap();
    let o = dragnet(
        work.path(),
        &[
            "identifiers",
            "accuracy",
            "--corpus",
            corpus.to_str().unwrap(),
            "--check",
            "--format",
            "markdown",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for id in [
        "NAME",
        "ADDRESS",
        "USA_SOCIAL_SECURITY_NUMBER",
        "INDIA_AADHAAR_NUMBER",
    ] {
        assert!(text.contains(&format!("| `{id}` |")), "{id} scored: {text}");
    }
    // A corpus whose labels the engine cannot meet fails --check, naming the identifier.
    let bad = work.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"text\": \"SSN: 000-12-3456\", \"labels\": [\"USA_SOCIAL_SECURITY_NUMBER\"]}\n",
    )
    .unwrap();
    let o = dragnet(
        work.path(),
        &[
            "identifiers",
            "accuracy",
            "--corpus",
            bad.to_str().unwrap(),
            "--check",
        ],
    );
    expect_failure(&o, 1, "under target: USA_SOCIAL_SECURITY_NUMBER");
    // --errors names the corpus line and the identifiers, never the case's text.
    let o = dragnet(
        work.path(),
        &[
            "identifiers",
            "accuracy",
            "--corpus",
            bad.to_str().unwrap(),
            "--errors",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("line 1: missed [USA_SOCIAL_SECURITY_NUMBER] unexpected []"),
        "{text}"
    );
    assert!(!text.contains("000-12-3456"), "{text}");
    std::fs::write(&bad, "{\"text\": \"x\", \"labels\": [\"NOPE\"]}\n").unwrap();
    let o = dragnet(
        work.path(),
        &["identifiers", "accuracy", "--corpus", bad.to_str().unwrap()],
    );
    expect_failure(
        &o,
        2,
        "bad.jsonl line 1: \"NOPE\" is not a managed identifier id",
    );
}
