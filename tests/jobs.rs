//! `dragnet jobs` as a user runs it: create, list, describe, run incrementally, pause, resume,
//! cancel, history and the status log.

mod common;

use std::fs;

use common::*;

fn setup() -> tempfile::TempDir {
    let work = workdir();
    let bucket = work.path().join("buckets/data-bucket");
    fs::create_dir_all(&bucket).unwrap();
    fs::write(bucket.join("a.csv"), "SSN\n536-22-1234\n").unwrap();
    fs::write(bucket.join("b.csv"), "EMAIL\njane@example.com\n").unwrap();
    fs::write(
        work.path().join("dragnet.toml"),
        "account_id = \"111222333444\"\n[store]\nroot = \"buckets\"\n[state]\npath = \"state/jobs.db\"\nschedule_time = \"02:00\"\n[parameters]\n\"/demo/bucket\" = \"data-bucket\"\n",
    )
    .unwrap();
    fs::write(
        work.path().join("daily.json"),
        r#"{"name":"nightly","jobType":"SCHEDULED","scheduleFrequency":{"dailySchedule":{}},"initialRun":true,"managedDataIdentifierSelector":"ALL","s3JobDefinition":{"bucketDefinitions":[{"accountId":"111222333444","buckets":["ssm:/demo/bucket"]}]}}"#,
    )
    .unwrap();
    work
}

#[test]
fn a_scheduled_job_through_its_lifecycle() {
    let work = setup();
    let dir = work.path();
    let o = dragnet(dir, &["jobs", "create", "daily.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let created = stdout_json(&o);
    let id = created["jobId"].as_str().unwrap().to_string();
    assert_eq!(
        created["jobArn"],
        format!("arn:aws:macie2:us-east-1:111222333444:classification-job/{id}")
    );
    assert!(dir.join("state/jobs.db").is_file());

    let o = dragnet(dir, &["jobs", "list", "--format", "json"]);
    assert_eq!(stdout_json(&o)["items"][0]["jobStatus"], "IDLE");

    let o = dragnet(dir, &["jobs", "run", &id, "--out", "run1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = stdout_json(&o);
    assert_eq!(r["runStatistics"]["objectsScanned"], 2);
    assert_eq!(r["findings"], 2);
    assert!(
        r["nextRunAt"].as_str().unwrap().ends_with("T02:00:00.000Z"),
        "{}",
        r["nextRunAt"]
    );

    let o = dragnet(dir, &["jobs", "run", &id, "--out", "run2"]);
    let r = stdout_json(&o);
    assert_eq!(
        r["runStatistics"]["objectsScanned"], 0,
        "nothing changed since the first run"
    );
    assert_eq!(
        r["runStatistics"]["objectsSkipped"]["NOT_CHANGED_SINCE_LAST_ANALYZED"],
        2
    );

    fs::write(dir.join("buckets/data-bucket/c.csv"), "SSN\n536-22-9999\n").unwrap();
    let o = dragnet(dir, &["jobs", "run", &id, "--out", "run3"]);
    assert_eq!(
        stdout_json(&o)["runStatistics"]["objectsScanned"],
        1,
        "only the new object"
    );

    let o = dragnet(dir, &["jobs", "describe", &id]);
    let d = stdout_json(&o);
    assert_eq!(d["jobStatus"], "IDLE");
    assert_eq!(d["statistics"]["numberOfRuns"], 3.0);
    assert_eq!(d["name"], "nightly");
    assert_eq!(
        d["s3JobDefinition"]["bucketDefinitions"][0]["buckets"][0], "data-bucket",
        "ssm: resolved at creation"
    );

    let o = dragnet(dir, &["jobs", "pause", &id]);
    assert_eq!(stdout_json(&o)["jobStatus"], "USER_PAUSED");
    let o = dragnet(dir, &["jobs", "run", &id, "--out", "run4"]);
    expect_failure(&o, 1, "resume it first");
    let o = dragnet(dir, &["jobs", "resume", &id]);
    assert_eq!(stdout_json(&o)["jobStatus"], "IDLE");
    let o = dragnet(dir, &["jobs", "cancel", &id]);
    assert_eq!(stdout_json(&o)["jobStatus"], "CANCELLED");
    let o = dragnet(dir, &["jobs", "resume", &id]);
    expect_failure(&o, 1, "ConflictException");
    let o = dragnet(dir, &["jobs", "run", &id]);
    expect_failure(&o, 1, "a cancelled job never runs again");

    let o = dragnet(dir, &["jobs", "history", &id]);
    let runs = stdout_json(&o)["runs"].as_array().unwrap().len();
    assert_eq!(runs, 3);
    let o = dragnet(dir, &["jobs", "events", &id]);
    let events: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["eventType"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(events.first().map(String::as_str), Some("JOB_CREATED"));
    for e in [
        "RUN_STARTED",
        "RUN_COMPLETED",
        "JOB_PAUSED_BY_USER",
        "JOB_RESUMED_BY_USER",
        "JOB_CANCELLED_BY_USER",
    ] {
        assert!(events.iter().any(|x| x == e), "{e} missing from {events:?}");
    }
    let o = dragnet(dir, &["jobs", "describe", "0000"]);
    expect_failure(&o, 2, "job 0000 does not exist");
}

#[test]
fn creating_a_job_checks_its_identifiers_now() {
    let work = setup();
    let spec = r#"{"jobType":"ONE_TIME","managedDataIdentifierSelector":"NONE","customDataIdentifierIds":["nope"],"s3JobDefinition":{"bucketDefinitions":[{"accountId":"111222333444","buckets":["data-bucket"]}]}}"#;
    fs::write(work.path().join("bad.json"), spec).unwrap();
    let o = dragnet(work.path(), &["jobs", "create", "bad.json"]);
    expect_failure(&o, 2, "unknown custom data identifier id(s): nope");
}
