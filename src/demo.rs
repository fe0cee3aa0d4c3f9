//! `dragnet demo`: the whole story on the bundled sample, in a work folder. Copy
//! `sample-data/`, run the published walkthrough's one-time job (the CSV files) and a second
//! job over `landing/` (JSON Lines, logs, Step Functions events, an archive), route findings
//! through `rules.json` (quarantine High findings, tag Medium ones, send alerts), and say what
//! happened and where everything is.

/// The demo's jobs: name, spec (relative to the work folder), output folder.
const JOBS: &[(&str, &str, &str)] = &[
    ("synthea-one-time", "jobs/one-time.json", "out"),
    (
        "landing-all-formats",
        "jobs/landing-all-formats.json",
        "out-landing",
    ),
];

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::cli::ScanArgs;
use crate::commands::{bucket_errors, delivery_failures, execute_scan, prepare_scan};
use crate::config::Config;
use crate::progress::summary_table;
use crate::react::{configured_bus, route};
use crate::Exit;

/// Marks a folder as created by `dragnet demo`, so a second run may reset it.
const MARKER: &str = ".dragnet-demo";
/// What the demo creates in its folder (and removes before running again).
const CREATED: &[&str] = &[
    "buckets",
    "out",
    "jobs",
    "alerts.jsonl",
    "dead-letter.jsonl",
    "dragnet.toml",
    "rules.json",
    "custom-identifiers.json",
];

fn sample_data() -> Result<PathBuf> {
    let candidates = [
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-data"),
        PathBuf::from("sample-data"),
    ];
    candidates
        .into_iter()
        .find(|p| p.join("dragnet.toml").is_file())
        .context("the sample-data folder (with dragnet.toml) was not found: run the demo from the dragnet repository")
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn prepare(workdir: &Path) -> Result<()> {
    if workdir.exists() {
        let empty = fs::read_dir(workdir)?.next().is_none();
        if !empty && !workdir.join(MARKER).is_file() {
            bail!(
                "{} exists and was not made by `dragnet demo`; choose another --workdir (the demo only resets folders it created)",
                workdir.display()
            );
        }
        for name in CREATED {
            let p = workdir.join(name);
            if p.is_dir() {
                fs::remove_dir_all(&p).with_context(|| format!("resetting {}", p.display()))?;
            } else if p.is_file() {
                fs::remove_file(&p).with_context(|| format!("resetting {}", p.display()))?;
            }
        }
    }
    copy_tree(&sample_data()?, workdir)?;
    fs::write(workdir.join(MARKER), "made by dragnet demo\n")?;
    Ok(())
}

/// Runs the demo in `workdir`.
pub fn run(workdir: &Path) -> Result<ExitCode, Exit> {
    prepare(workdir)?;
    let config = Config::load(&workdir.join("dragnet.toml"))?;
    let bus = configured_bus(&config)?.context("the sample config names no rules file")?;
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| writeln!(out, "{line}").map_err(anyhow::Error::from);
    let mut routed_all = Vec::new();
    let mut reports = Vec::new();
    for (name, spec, out_dir) in JOBS {
        let args = ScanArgs {
            job: workdir.join(spec),
            identifiers: Vec::new(),
            allow_lists: Vec::new(),
            config: None,
            out: workdir.join(out_dir),
            shard: None,
            shard_balance: "hash".into(),
            batch: None,
            inventory: None,
            name: Some(name.to_string()),
            threads: None,
            no_events: false,
        };
        let setup = prepare_scan(&args, &config)?;
        let report = execute_scan(&setup, &args.out)?;
        let routed =
            route(&bus, &config, setup.store.as_ref(), &report.findings).map_err(Exit::failed)?;
        say(format!("Job {name} ({spec}):"))?;
        for line in summary_table(&report).lines() {
            say(format!("  {line}"))?;
        }
        say(format!("  findings: {}", report.findings_path.display()))?;
        say(format!(
            "  discovery results: {}",
            args.out.join("results").display()
        ))?;
        say(format!("  job record: {}", report.job_path.display()))?;
        say(String::new())?;
        routed_all.push(routed);
        reports.push(report);
    }
    let quarantined: Vec<&(String, String)> = routed_all
        .iter()
        .flat_map(|r| &r.actions.quarantined)
        .collect();
    let tagged: Vec<&(String, String)> =
        routed_all.iter().flat_map(|r| &r.actions.tagged).collect();
    let alerts: usize = routed_all.iter().map(|r| r.actions.alerts).sum();
    say(format!(
        "Quarantined (High findings, copied, verified, then deleted): {}",
        quarantined.len()
    ))?;
    for (from, to) in &quarantined {
        say(format!("  {from} -> {to}"))?;
    }
    say(format!(
        "Tagged in place (Medium findings): {}",
        tagged.len()
    ))?;
    for (object, tag) in &tagged {
        say(format!("  {object} ({tag})"))?;
    }
    say(format!(
        "Alerts sent: {alerts} (email and SMS texts in {})",
        config.alerts.outbox.display()
    ))?;
    let failed: usize = routed_all.iter().map(|r| r.failed().len()).sum();
    if failed > 0 {
        say(format!(
            "Failed deliveries: {failed} (events in {})",
            config.events.dead_letter.display()
        ))?;
    }
    say(format!(
        "Isolation bucket: {}",
        config.store.root.join(&config.quarantine.bucket).display()
    ))?;
    say(format!("Rules: {}", workdir.join("rules.json").display()))?;
    for report in &reports {
        bucket_errors(report)?;
    }
    for routed in &routed_all {
        delivery_failures(Some(routed), &config)?;
    }
    Ok(ExitCode::SUCCESS)
}
