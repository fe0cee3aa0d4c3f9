//! The react path as a user runs it: `dragnet demo`, `scan --config` with rules, and
//! `dragnet quarantine`.

mod common;

use std::fs;
use std::path::Path;

use common::*;

const SOURCE: &str = "buckets/synthea-data-111222333444-us-east-1";
const ISOLATION: &str = "buckets/macie-isolation-111222333444-us-east-1";

fn high_keys(findings: &[serde_json::Value]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f["severity"]["description"] == "High")
        .map(|f| {
            f["resourcesAffected"]["s3Object"]["key"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn assert_demo_outcome(work: &Path, stdout: &str) {
    let sample = repo().join("sample-data").join(SOURCE);
    let findings = jsonl(&work.join("out/findings.jsonl"));
    assert_eq!(
        findings.len(),
        15,
        "one finding per file but the header-only supplies.csv"
    );
    let high = high_keys(&findings);
    assert_eq!(
        high,
        vec!["organizations.csv", "patients.csv", "providers.csv"]
    );
    // Every High object is in the isolation bucket, byte for byte, and gone from the source;
    // its record names the finding.
    for key in &high {
        assert!(
            !work.join(SOURCE).join(key).exists(),
            "{key} still in the source bucket"
        );
        assert_eq!(
            fs::read(work.join(ISOLATION).join(key)).unwrap(),
            fs::read(sample.join(key)).unwrap(),
            "{key}"
        );
        assert!(stdout.contains(&format!("s3://synthea-data-111222333444-us-east-1/{key} -> s3://macie-isolation-111222333444-us-east-1/{key}")), "{stdout}");
    }
    for f in findings
        .iter()
        .filter(|f| f["severity"]["description"] == "High")
    {
        let record: serde_json::Value = serde_json::from_slice(
            &fs::read(work.join(ISOLATION).join(format!(
                "dragnet-quarantine-records/{}.json",
                f["id"].as_str().unwrap()
            )))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            record["checksums"]["md5"],
            f["resourcesAffected"]["s3Object"]["eTag"]
        );
    }
    // Medium objects stay, tagged.
    for f in findings
        .iter()
        .filter(|f| f["severity"]["description"] == "Medium")
    {
        let key = f["resourcesAffected"]["s3Object"]["key"].as_str().unwrap();
        assert!(work.join(SOURCE).join(key).is_file(), "{key}");
        let attrs: serde_json::Value = serde_json::from_slice(
            &fs::read(
                work.join(SOURCE)
                    .join(".dragnet/meta")
                    .join(format!("{key}.json")),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(attrs["tags"]["dragnet-sensitivity"], "medium", "{key}");
    }
    // The second job reads JSON Lines, a log, Step Functions events and an archive under
    // landing/: every one is High and moved.
    let landing = jsonl(&work.join("out-landing/findings.jsonl"));
    let landing_high = high_keys(&landing);
    assert_eq!(
        landing_high,
        vec![
            "landing/app.log",
            "landing/exports/patients-2020.tar.gz",
            "landing/patients.jsonl",
            "landing/sfn-executions.jsonl"
        ]
    );
    let mimes: Vec<&str> = landing
        .iter()
        .map(|f| {
            f["classificationDetails"]["result"]["mimeType"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        mimes,
        vec![
            "text/plain",
            "application/gzip",
            "application/x-ndjson",
            "application/x-ndjson"
        ]
    );
    for key in &landing_high {
        assert!(
            !work.join(SOURCE).join(key).exists(),
            "{key} still in the source bucket"
        );
        assert_eq!(
            fs::read(work.join(ISOLATION).join(key)).unwrap(),
            fs::read(sample.join(key)).unwrap(),
            "{key}"
        );
    }
    // Alerts: one SMS per High finding (the walkthrough's text), one email per other finding.
    let alerts = jsonl(&work.join("alerts.jsonl"));
    assert_eq!(alerts.len(), 19);
    let sms: Vec<&serde_json::Value> = alerts.iter().filter(|a| a["protocol"] == "sms").collect();
    assert_eq!(sms.len(), 7);
    let job_id = findings[0]["classificationDetails"]["jobId"]
        .as_str()
        .unwrap();
    assert_eq!(sms[1]["message"], format!("Sensitive data finding: job {job_id}, account 111222333444. Severity High for file 'patients.csv'."));
    assert!(sms
        .iter()
        .all(|a| a["message"].as_str().unwrap().chars().count() <= 140));
    assert_eq!(
        alerts.iter().filter(|a| a["protocol"] == "email").count(),
        12
    );
    assert!(!work.join("dead-letter.jsonl").exists(), "nothing failed");
    assert!(
        stdout.contains("Quarantined (High findings, copied, verified, then deleted): 7"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Tagged in place (Medium findings): 12"),
        "{stdout}"
    );
    assert!(stdout.contains("Alerts sent: 19"), "{stdout}");
}

#[test]
fn demo_finds_quarantines_and_alerts_and_runs_twice() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("demo");
    let o = dragnet(dir.path(), &["demo", "--workdir", "demo"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_demo_outcome(&work, &String::from_utf8_lossy(&o.stdout));
    // The repository's sample is untouched.
    assert!(repo()
        .join("sample-data")
        .join(SOURCE)
        .join("patients.csv")
        .is_file());
    let o = dragnet(dir.path(), &["demo", "--workdir", "demo"]);
    assert!(o.status.success(), "second run: {}", stderr(&o));
    assert_demo_outcome(&work, &String::from_utf8_lossy(&o.stdout));
    // A folder the demo did not make is never reset.
    fs::create_dir_all(dir.path().join("mine")).unwrap();
    fs::write(dir.path().join("mine/notes.txt"), "keep me").unwrap();
    let o = dragnet(dir.path(), &["demo", "--workdir", "mine"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        fs::read_to_string(dir.path().join("mine/notes.txt")).unwrap(),
        "keep me"
    );
}

fn scan_setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let src = work.join("buckets/data-bucket");
    fs::create_dir_all(&src).unwrap();
    let mut many = String::from("ssn,email\n");
    for i in 0..120 {
        many.push_str(&format!("536-22-{:04},u{i}@example.com\n", 1000 + i));
    }
    fs::write(src.join("high.csv"), &many).unwrap();
    fs::write(src.join("low.txt"), "contact jane.doe@example.com\n").unwrap();
    fs::write(work.join("job.json"), r#"{"jobType":"ONE_TIME","managedDataIdentifierSelector":"ALL","s3JobDefinition":{"bucketDefinitions":[{"accountId":"111222333444","buckets":["data-bucket"]}]}}"#).unwrap();
    fs::write(
        work.join("rules.json"),
        r#"[{"Name":"high","EventPattern":{"source":["dragnet"],"detail":{"severity":{"description":["High"]}}},"Targets":[{"Id":"q","Arn":"dragnet:quarantine:isolation-bucket:q/"}]},
            {"Name":"low","EventPattern":{"detail":{"severity":{"description":["Low"]}}},"Targets":[{"Id":"mail","Arn":"arn:aws:sns:us-east-1:111222333444:low-findings"}]}]"#,
    )
    .unwrap();
    fs::write(
        work.join("dragnet.toml"),
        "[store]\nroot = \"buckets\"\n[events]\nrules = \"rules.json\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn scan_with_rules_quarantines_and_alerts() {
    let dir = scan_setup();
    let work = dir.path();
    fs::create_dir_all(work.join("buckets/isolation-bucket")).unwrap();
    let o = dragnet(work, &["scan", "--job", "job.json", "--out", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let events = &stdout_json(&o)["events"];
    assert_eq!(
        events["quarantined"][0]["to"],
        "s3://isolation-bucket/q/high.csv"
    );
    assert_eq!(events["alerts"], 1);
    assert!(!work.join("buckets/data-bucket/high.csv").exists());
    assert!(work.join("buckets/isolation-bucket/q/high.csv").is_file());
    let alert = &jsonl(&work.join("alerts.jsonl"))[0];
    assert_eq!(
        alert["topic"], "low-findings",
        "an SNS topic ARN maps to a local topic"
    );
    assert!(
        alert["message"]
            .as_str()
            .unwrap()
            .contains("\"detail-type\":\"Macie Finding\""),
        "no transformer: the whole event"
    );
    // --no-events scans without routing.
    let o = dragnet(
        work,
        &["scan", "--job", "job.json", "--out", "out2", "--no-events"],
    );
    assert!(o.status.success());
    assert!(stdout_json(&o).get("events").is_none());
}

#[test]
fn a_missing_isolation_bucket_keeps_originals_and_dead_letters() {
    let dir = scan_setup();
    let work = dir.path();
    let before = fs::read(work.join("buckets/data-bucket/high.csv")).unwrap();
    let o = dragnet(work, &["scan", "--job", "job.json", "--out", "out"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 target deliveries failed after retries"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        fs::read(work.join("buckets/data-bucket/high.csv")).unwrap(),
        before,
        "original intact"
    );
    let dead = jsonl(&work.join("dead-letter.jsonl"));
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["rule"], "high");
    assert_eq!(dead[0]["attempts"], 3);
    assert!(
        dead[0]["error"]
            .as_str()
            .unwrap()
            .contains("isolation-bucket"),
        "{}",
        dead[0]["error"]
    );
    assert_eq!(
        dead[0]["event"]["detail"]["resourcesAffected"]["s3Object"]["key"],
        "high.csv"
    );
}

#[test]
fn bad_rules_files_are_refused_before_scanning() {
    let dir = scan_setup();
    let work = dir.path();
    fs::write(work.join("rules.json"), r#"[{"Name":"high","EventPattern":{"detail":{"severity":{"description":"High"}}},"Targets":[]}]"#).unwrap();
    let o = dragnet(work, &["scan", "--job", "job.json", "--out", "out"]);
    expect_failure(
        &o,
        2,
        r#"rule "high" ([0]): EventPattern: detail.severity.description: leaf values must be arrays"#,
    );
    assert!(!work.join("out").exists(), "nothing was scanned");
}

#[test]
fn quarantine_command_moves_is_idempotent_and_restores() {
    let dir = scan_setup();
    let work = dir.path();
    fs::create_dir_all(work.join("buckets/isolation-bucket")).unwrap();
    fs::write(
        work.join("dragnet.toml"),
        "[store]\nroot = \"buckets\"\n[quarantine]\nbucket = \"isolation-bucket\"\n",
    )
    .unwrap();
    let o = dragnet(work, &["scan", "--job", "job.json", "--out", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let findings = jsonl(&work.join("out/findings.jsonl"));
    let low = findings
        .iter()
        .find(|f| f["resourcesAffected"]["s3Object"]["key"] == "low.txt")
        .unwrap();
    fs::write(work.join("finding.json"), serde_json::to_vec(low).unwrap()).unwrap();
    let before = fs::read(work.join("buckets/data-bucket/low.txt")).unwrap();

    let o = dragnet(work, &["quarantine", "--event", "finding.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["status"], "MOVED");
    assert!(!work.join("buckets/data-bucket/low.txt").exists());
    let o = dragnet(work, &["quarantine", "--event", "finding.json"]);
    assert_eq!(stdout_json(&o)["status"], "ALREADY_QUARANTINED");

    let id = low["id"].as_str().unwrap();
    let o = dragnet(work, &["quarantine", "--restore", id]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["status"], "RESTORED");
    assert_eq!(
        fs::read(work.join("buckets/data-bucket/low.txt")).unwrap(),
        before
    );

    // Changed since the scan: nothing moves.
    fs::write(work.join("buckets/data-bucket/low.txt"), "changed").unwrap();
    let o = dragnet(work, &["quarantine", "--event", "finding.json"]);
    expect_failure(&o, 1, "OBJECT_VERSION_MISMATCH");
    assert_eq!(
        fs::read_to_string(work.join("buckets/data-bucket/low.txt")).unwrap(),
        "changed"
    );
}
