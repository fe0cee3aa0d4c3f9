//! The console in a real browser: headless Chromium driven by playwright-core
//! (`tests/console/console.mjs`) against a running `dragnet serve`. A viewer and an
//! investigator sign in, filter findings and open one; only the investigator can reveal.
//! Screenshots are kept under `target/console-screenshots/`.
//!
//! Needs Node.js and Chromium (`/usr/bin/chromium`, Debian's `chromium`; another with
//! `DRAGNET_CHROMIUM`). playwright-core is installed from npm under `target/browser-tools` on
//! first use. Without Chromium the test says so and passes, except under CI (`CI` set), where
//! `.ci/run` installs it and a missing browser fails the test.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::serve::*;
use common::*;

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("DRAGNET_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.is_file().then_some(path)
}

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// playwright-core under target/browser-tools, installed with npm when missing.
fn playwright() -> PathBuf {
    let tools = repo().join("target/browser-tools");
    let module = tools.join("node_modules/playwright-core");
    if !module.join("package.json").is_file() {
        let status = Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&tools)
            .arg("playwright-core@^1.50")
            .status()
            .expect("npm runs");
        assert!(status.success(), "npm install playwright-core failed");
    }
    tools
}

#[test]
fn viewer_and_investigator_use_the_console_in_chromium() {
    let (Some(chromium), true) = (chromium(), node_available()) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs Chromium and Node.js for the console test (apt-get install chromium nodejs)"
        );
        eprintln!("skipped: no Chromium (/usr/bin/chromium or DRAGNET_CHROMIUM) or no node");
        return;
    };
    let tools = playwright();
    let work = workdir();
    let dir = work.path();
    let port = free_port();
    setup(dir, port);
    let viewer = token(dir, "vera", "viewer", &[]);
    let investigator = token(dir, "ivan", "investigator", &[]);
    let serve = Serve::start(dir, port);
    let shots = repo().join("target/console-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let run = Command::new("node")
        .arg(repo().join("tests/console/console.mjs"))
        .env("PLAYWRIGHT_DIR", &tools)
        .env("CHROMIUM", &chromium)
        .env("BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("VIEWER_TOKEN", &viewer)
        .env("INVESTIGATOR_TOKEN", &investigator)
        .env("BUCKET", "data-bucket")
        .env("FINDING_KEY", "people.csv")
        .env("SECRET_VALUE", SSN)
        .env("SCREENSHOT_DIR", &shots)
        .output()
        .expect("node runs");
    let log = serve.stop();
    assert!(
        run.status.success(),
        "console flows failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    for shot in [
        "viewer-dashboard.png",
        "viewer-findings.png",
        "viewer-finding.png",
        "investigator-revealed.png",
    ] {
        let png = std::fs::read(shots.join(shot)).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{shot} is a PNG screenshot");
    }
    assert!(!log.contains(SSN), "the server log holds no value: {log}");
    // The reveal is in the audit log, without the value.
    let audit = std::fs::read_to_string(dir.join("audit/audit.jsonl")).unwrap();
    assert!(audit.contains("\"tokenName\":\"ivan\"") && !audit.contains("536-22-"));
}
