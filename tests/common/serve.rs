//! `dragnet serve` under a test: a work folder with findings, tokens, and the running server.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::*;

/// The first SSN of `people.csv`.
pub const SSN: &str = "536-22-1234";

/// A `dragnet serve` child process, killed when dropped.
pub struct Serve {
    /// Its API port.
    pub port: u16,
    child: Child,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Starts `dragnet serve` in `dir` and waits for its API.
    pub fn start(dir: &Path, port: u16) -> Serve {
        Self::start_with(dir, port, &[])
    }

    /// [`Serve::start`] with environment variables (the emulator's, for AWS mode).
    pub fn start_with(dir: &Path, port: u16, env: &[(&str, &str)]) -> Serve {
        let child = Command::new(env!("CARGO_BIN_EXE_dragnet"))
            .args(["serve", "--tick", "1"])
            .current_dir(dir)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let serve = Serve { child, port };
        wait_for("the API", Duration::from_secs(30), || {
            http(port, "GET", "/health", &[], "")
        });
        serve
    }

    /// A call with `token`: the status code and the JSON body.
    pub fn call(&self, token: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
        let auth = format!("Bearer {token}");
        let (status, text) = http(
            self.port,
            method,
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body,
        )
        .expect("an answer");
        let code = status.split(' ').nth(1).unwrap().parse().unwrap();
        (code, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Stops it with SIGTERM; its stderr.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = wait_for("serve to stop", Duration::from_secs(20), || {
            self.child.try_wait().unwrap()
        });
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        err
    }
}

/// Creates a token with the CLI; its secret.
pub fn token(dir: &Path, name: &str, role: &str, extra: &[&str]) -> String {
    let mut args = vec!["tokens", "create", "--name", name, "--role", role];
    args.extend_from_slice(extra);
    let o = dragnet(dir, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout_json(&o)["token"].as_str().unwrap().to_string()
}

/// A free local port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `people.csv`: 120 rows of names and SSNs, the first [`SSN`].
pub fn people_csv() -> String {
    let mut people = String::from("name,ssn\n");
    for i in 0..120 {
        people.push_str(&format!("p{i},536-22-{:04}\n", 1234 + i));
    }
    people
}

/// A work folder with `people.csv` (120 SSNs: a High finding) and `more/staff.csv` (one:
/// Low) in `data-bucket`, a config listening on `port`, and a one-time job run once; its id.
pub fn setup(dir: &Path, port: u16) -> String {
    let data = dir.join("buckets/data-bucket");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(dir.join("buckets/dragnet-isolation")).unwrap();
    std::fs::write(data.join("people.csv"), people_csv()).unwrap();
    std::fs::create_dir_all(data.join("more")).unwrap();
    std::fs::write(data.join("more/staff.csv"), "name,ssn\nq,536-22-9999\n").unwrap();
    std::fs::write(
        dir.join("dragnet.toml"),
        format!(
            "account_id = \"111222333444\"\n[store]\nroot = \"buckets\"\n[state]\npath = \"state/jobs.db\"\n\
             [events]\nrules = \"rules.json\"\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\naudit_log = \"audit/audit.jsonl\"\nreveals_per_minute = 50\n\
             [[investigations]]\nname = \"staff\"\ndescription = \"Findings under more/\"\n\
             criteria = {{ \"resourcesAffected.s3Object.key\" = {{ prefix = [\"more/\"] }} }}\n"
        ),
    )
    .unwrap();
    // High findings go to an isolation bucket that does not exist: those quarantines fail.
    std::fs::write(
        dir.join("rules.json"),
        r#"[{"Name": "quarantine-high", "EventPattern": {"detail": {"severity": {"description": ["High"]}}}, "Targets": [{"Id": "q", "Arn": "dragnet:quarantine:missing-isolation"}]}]"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("once.json"),
        r#"{"jobType":"ONE_TIME","name":"once","managedDataIdentifierSelector":"ALL","s3JobDefinition":{"bucketDefinitions":[{"accountId":"111222333444","buckets":["data-bucket"]}]}}"#,
    )
    .unwrap();
    let job = stdout_json(&dragnet(dir, &["jobs", "create", "once.json"]))["jobId"]
        .as_str()
        .unwrap()
        .to_string();
    let run = dragnet(dir, &["jobs", "run", &job, "--out", "out", "--no-events"]);
    assert!(run.status.success(), "{}", stderr(&run));
    job
}
