//! The findings API of `dragnet serve` end to end, over the real job store, object store and
//! scan engine: tokens from the CLI, findings of a real run, filters and paging, reveal (and
//! its refusals and audit), quarantine records and restore, job control, investigations.

mod common;

use std::time::Duration;

use common::serve::*;
use common::*;
use serde_json::{json, Value};

#[test]
fn findings_api_end_to_end() {
    let work = workdir();
    let dir = work.path();
    let port = free_port();
    let job = setup(dir, port);
    let viewer = token(dir, "vera", "viewer", &[]);
    let investigator = token(dir, "ivan", "investigator", &[]);
    let isolation_reader = token(dir, "iris", "investigator", &["--reads-isolation"]);
    let operator = token(dir, "otto", "operator", &[]);
    let listed = dragnet(dir, &["tokens", "list"]);
    assert!(
        !String::from_utf8_lossy(&listed.stdout).contains(&viewer),
        "listings never show secrets"
    );
    let serve = Serve::start(dir, port);

    // Without a token: 401.
    let (code, answer) = serve.call("dgn_nope", "POST", "/findings", "{}");
    assert_eq!(
        (code, answer),
        (401, json!({"message": "authentication required"}))
    );

    // Findings of the real run, filtered and paged.
    let (code, all) = serve.call(&viewer, "POST", "/findings", "{}");
    assert_eq!(code, 200);
    assert_eq!(all["findingIds"].as_array().unwrap().len(), 2);
    let (_, page1) = serve.call(
        &viewer,
        "POST",
        "/findings",
        r#"{"maxResults": 1, "sortCriteria": {"attributeName": "resourcesAffected.s3Object.key"}}"#,
    );
    let next = page1["nextToken"].as_str().unwrap();
    let (_, page2) = serve.call(&viewer, "POST", "/findings", &format!(r#"{{"maxResults": 1, "sortCriteria": {{"attributeName": "resourcesAffected.s3Object.key"}}, "nextToken": "{next}"}}"#));
    assert_eq!(page2["nextToken"], Value::Null);
    let (_, described) = serve.call(
        &viewer,
        "POST",
        "/findings/describe",
        &json!({"findingIds": [page1["findingIds"][0], page2["findingIds"][0]]}).to_string(),
    );
    let keys: Vec<&str> = described["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resourcesAffected"]["s3Object"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["more/staff.csv", "people.csv"]);
    let staff_id = page1["findingIds"][0].as_str().unwrap().to_string();
    let people_id = page2["findingIds"][0].as_str().unwrap().to_string();
    let (_, filtered) = serve.call(&viewer, "POST", "/findings", r#"{"findingCriteria": {"criterion": {"sensitiveData.detections.type": {"eq": ["USA_SOCIAL_SECURITY_NUMBER"]}, "resourcesAffected.s3Object.key": {"prefix": ["more/"]}}}}"#);
    assert_eq!(filtered["findingIds"], json!([staff_id]));
    let (_, stats) = serve.call(
        &viewer,
        "POST",
        "/findings/statistics",
        r#"{"groupBy": "resourcesAffected.s3Bucket.name"}"#,
    );
    assert_eq!(
        stats["countsByGroup"],
        json!([{"groupKey": "data-bucket", "count": 2}])
    );
    let (_, jobs) = serve.call(&viewer, "POST", "/jobs/list", "{}");
    assert_eq!(jobs["items"][0]["jobId"], job.as_str());

    // Reveal: viewers may not; investigators get the values of the object as scanned.
    let reveal = format!("/findings/{people_id}/reveal");
    assert_eq!(serve.call(&viewer, "GET", &reveal, "").0, 403);
    let (code, revealed) = serve.call(&investigator, "GET", &reveal, "");
    assert_eq!(code, 200, "{revealed}");
    let values = revealed["sensitiveDataOccurrences"]["USA_SOCIAL_SECURITY_NUMBER"]
        .as_array()
        .unwrap();
    assert_eq!(values.len(), 10, "at most 10 values per type");
    assert_eq!(values[0], json!({"value": SSN}));

    // The audit log names who revealed what, without the values.
    let audit = std::fs::read_to_string(dir.join("audit/audit.jsonl")).unwrap();
    assert!(!audit.contains("536-22-"), "{audit}");
    let records: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(
        (
            records[0]["tokenName"].as_str(),
            records[0]["outcome"].as_str()
        ),
        (Some("vera"), Some("DENIED"))
    );
    assert_eq!(
        (
            records[1]["tokenName"].as_str(),
            records[1]["outcome"].as_str()
        ),
        (Some("ivan"), Some("SUCCESS"))
    );
    assert_eq!(records[1]["findingId"], people_id.as_str());
    assert_eq!(
        records[1]["valuesReturned"]["USA_SOCIAL_SECURITY_NUMBER"],
        10
    );

    // A changed object is not revealed.
    std::fs::write(
        dir.join("buckets/data-bucket/people.csv"),
        "name,ssn\nz,536-22-4321\n",
    )
    .unwrap();
    let (code, refused) = serve.call(&investigator, "GET", &reveal, "");
    assert_eq!(code, 422);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("OBJECT_UNAVAILABLE"),
        "{refused}"
    );

    // A quarantined object: only a token that may read the isolation bucket sees it.
    let staff = described["findings"][0].to_string();
    std::fs::write(dir.join("staff-finding.json"), &staff).unwrap();
    let q = dragnet(dir, &["quarantine", "--event", "staff-finding.json"]);
    assert!(q.status.success(), "{}", stderr(&q));
    let (_, records) = serve.call(&viewer, "GET", "/quarantine", "");
    assert_eq!(records["records"][0]["source"]["key"], "more/staff.csv");
    let staff_reveal = format!("/findings/{staff_id}/reveal");
    let (code, refused) = serve.call(&investigator, "GET", &staff_reveal, "");
    assert_eq!(code, 422);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("isolation bucket"),
        "{refused}"
    );
    let (code, revealed) = serve.call(&isolation_reader, "GET", &staff_reveal, "");
    assert_eq!(code, 200, "{revealed}");
    assert_eq!(
        revealed["sensitiveDataOccurrences"]["USA_SOCIAL_SECURITY_NUMBER"],
        json!([{"value": "536-22-9999"}])
    );
    // Restoring is an operator's call.
    let restore = format!("/quarantine/{staff_id}/restore");
    assert_eq!(serve.call(&investigator, "POST", &restore, "").0, 403);
    let (code, restored) = serve.call(&operator, "POST", &restore, "");
    assert_eq!(code, 200, "{restored}");
    assert!(dir.join("buckets/data-bucket/more/staff.csv").is_file());
    assert_eq!(
        serve.call(&viewer, "GET", "/quarantine", "").1["records"],
        json!([])
    );

    // Job control: a finished one-time job does not run again; a scheduled one runs on request.
    assert_eq!(
        serve
            .call(&viewer, "POST", &format!("/jobs/{job}/run"), "")
            .0,
        403
    );
    assert_eq!(
        serve
            .call(&operator, "POST", &format!("/jobs/{job}/run"), "")
            .0,
        409
    );
    std::fs::write(
        dir.join("weekly.json"),
        r#"{"jobType":"SCHEDULED","name":"weekly","initialRun":false,"scheduleFrequency":{"weeklySchedule":{"dayOfWeek":"SUNDAY"}},"managedDataIdentifierSelector":"ALL","s3JobDefinition":{"bucketDefinitions":[{"accountId":"111222333444","buckets":["data-bucket"]}]}}"#,
    )
    .unwrap();
    let weekly = stdout_json(&dragnet(dir, &["jobs", "create", "weekly.json"]))["jobId"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, queued) = serve.call(&operator, "POST", &format!("/jobs/{weekly}/run"), "");
    assert_eq!((code, queued["status"].as_str()), (202, Some("QUEUED")));
    wait_for("the requested run", Duration::from_secs(60), || {
        let h = stdout_json(&dragnet(dir, &["jobs", "history", &weekly]));
        h["runs"]
            .as_array()?
            .iter()
            .any(|r| r["status"] == "COMPLETE")
            .then_some(())
    });
    let (code, paused) = serve.call(
        &operator,
        "PATCH",
        &format!("/jobs/{weekly}"),
        r#"{"jobStatus": "USER_PAUSED"}"#,
    );
    assert_eq!(
        (code, paused["jobStatus"].as_str()),
        (200, Some("USER_PAUSED"))
    );

    // Investigations: built-in and configured, from the API and the CLI.
    let (_, mine) = serve.call(&viewer, "POST", "/investigations/staff/run", "{}");
    assert!(mine["findingIds"]
        .as_array()
        .unwrap()
        .iter()
        .any(|id| id == staff_id.as_str()));
    let (_, by_bucket) = serve.call(
        &viewer,
        "POST",
        "/investigations/findings-in-bucket/run",
        r#"{"parameters": {"bucket": "data-bucket"}}"#,
    );
    assert!(by_bucket["total"].as_u64().unwrap() >= 2);
    let cli = dragnet(
        dir,
        &[
            "findings",
            "query",
            "findings-in-bucket",
            "--param",
            "bucket=data-bucket",
            "--format",
            "json",
        ],
    );
    assert!(cli.status.success(), "{}", stderr(&cli));
    assert_eq!(
        String::from_utf8_lossy(&cli.stdout).lines().count() as u64,
        by_bucket["total"].as_u64().unwrap()
    );
    expect_failure(
        &dragnet(dir, &["findings", "query", "findings-in-bucket"]),
        2,
        "needs a value for bucket",
    );

    // A quarantine that fails (its isolation bucket is missing) is listed, from the API and
    // the built-in investigation.
    std::fs::write(
        dir.join("again.json"),
        std::fs::read_to_string(dir.join("once.json"))
            .unwrap()
            .replace("\"once\"", "\"again\""),
    )
    .unwrap();
    let again = stdout_json(&dragnet(dir, &["jobs", "create", "again.json"]))["jobId"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(dir.join("buckets/data-bucket/people.csv"), people_csv()).unwrap();
    let routed = dragnet(dir, &["jobs", "run", &again, "--out", "out-again"]);
    assert!(
        stderr(&routed).contains("missing-isolation"),
        "{}",
        stderr(&routed)
    );
    let (code, failures) = serve.call(&viewer, "GET", "/quarantine/failures", "");
    assert_eq!(code, 200);
    assert_eq!(
        failures["failures"].as_array().unwrap().len(),
        1,
        "{failures}"
    );
    assert_eq!(failures["failures"][0]["key"], "people.csv");
    assert_eq!(failures["failures"][0]["rule"], "quarantine-high");
    let cli = dragnet(dir, &["findings", "query", "quarantine-failed"]);
    assert!(
        String::from_utf8_lossy(&cli.stdout)
            .contains("s3://data-bucket/people.csv  rule quarantine-high"),
        "{}",
        String::from_utf8_lossy(&cli.stdout)
    );

    // A revoked token stops working at once.
    let (_, me) = serve.call(&viewer, "GET", "/whoami", "");
    let revoked = dragnet(dir, &["tokens", "revoke", me["tokenId"].as_str().unwrap()]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert_eq!(serve.call(&viewer, "POST", "/findings", "{}").0, 401);

    let log = serve.stop();
    assert!(
        !log.contains("536-22-"),
        "the server log holds no value: {log}"
    );
    assert!(log.contains("dragnet serve: stopped"), "{log}");
}
