//! `dragnet serve` under a test: starts, runs due jobs, answers its health endpoint, stops
//! cleanly on SIGTERM.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

fn get(port: u16, path: &str) -> Option<(String, String)> {
    let (status, body) = http(port, "GET", path, &[], "")?;
    Some((status, body))
}

#[test]
fn serve_runs_due_jobs_answers_health_and_stops_on_sigterm() {
    let work = workdir();
    let dir = work.path();
    std::fs::create_dir_all(dir.join("buckets/data-bucket")).unwrap();
    std::fs::write(dir.join("buckets/data-bucket/a.csv"), "SSN\n536-22-1234\n").unwrap();
    let port = common::serve::free_port();
    std::fs::write(
        dir.join("dragnet.toml"),
        format!("account_id = \"111222333444\"\n[store]\nroot = \"buckets\"\n[state]\npath = \"state/jobs.db\"\n[server]\nlisten = \"127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let spec = |kind: &str| {
        format!(
            r#"{{"jobType":"{kind}",{}"managedDataIdentifierSelector":"ALL","s3JobDefinition":{{"bucketDefinitions":[{{"accountId":"111222333444","buckets":["data-bucket"]}}]}}}}"#,
            if kind == "SCHEDULED" {
                r#""scheduleFrequency":{"dailySchedule":{}},"initialRun":true,"#
            } else {
                ""
            }
        )
    };
    std::fs::write(dir.join("daily.json"), spec("SCHEDULED")).unwrap();
    std::fs::write(dir.join("once.json"), spec("ONE_TIME")).unwrap();
    let daily = stdout_json(&dragnet(dir, &["jobs", "create", "daily.json"]))["jobId"]
        .as_str()
        .unwrap()
        .to_string();
    let once = stdout_json(&dragnet(dir, &["jobs", "create", "once.json"]))["jobId"]
        .as_str()
        .unwrap()
        .to_string();

    let mut child = Command::new(env!("CARGO_BIN_EXE_dragnet"))
        .args(["serve", "--tick", "1"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, body) = wait_for("the health endpoint", Duration::from_secs(30), || {
        get(port, "/health")
    });
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["status"],
        "ok"
    );
    assert!(get(port, "/nope").unwrap().0.starts_with("HTTP/1.1 404"));

    for id in [&daily, &once] {
        wait_for("a completed run", Duration::from_secs(60), || {
            let h = stdout_json(&dragnet(dir, &["jobs", "history", id]));
            h["runs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["status"] == "COMPLETE")
                .then_some(())
        });
    }
    let health: serde_json::Value = wait_for("both runs counted", Duration::from_secs(10), || {
        let v: serde_json::Value = serde_json::from_str(&get(port, "/health")?.1).ok()?;
        (v["runsCompleted"].as_u64()? >= 2).then_some(v)
    });
    assert_eq!(health["runsFailed"], 0);
    let d = stdout_json(&dragnet(dir, &["jobs", "describe", &daily]));
    assert_eq!(d["jobStatus"], "IDLE");
    assert!(d["nextRunAt"].as_str().unwrap() > d["createdAt"].as_str().unwrap());
    assert_eq!(
        stdout_json(&dragnet(dir, &["jobs", "describe", &once]))["jobStatus"],
        "COMPLETE"
    );
    assert!(
        dir.join("state/runs").join(&once).is_dir(),
        "run outputs are kept beside the job store"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = wait_for("the process to exit", Duration::from_secs(20), || {
        child.try_wait().unwrap()
    });
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(exit.success(), "exit {exit:?}: {err}");
    assert!(err.contains("dragnet serve: stopped"), "{err}");
    // Each job ran once: the scheduled one is not due again until tomorrow.
    let h = stdout_json(&dragnet(dir, &["jobs", "history", &daily]));
    assert_eq!(h["runs"].as_array().unwrap().len(), 1);
}
