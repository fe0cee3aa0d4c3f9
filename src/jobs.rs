//! `dragnet jobs`: stored jobs in the embedded job store (a SQLite file, `[state] path`).

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use dragnet_job::{run_stored, JobRecord, JobStore, PlanOptions, StoredRunOptions, TimeOfDay};
use dragnet_model::ids::stable_hex_id;
use dragnet_model::jobspec::JobType;
use dragnet_model::Timestamp;

use crate::cli::{JobsCommand, JobsRunArgs};
use crate::commands::{bucket_errors, config, delivery_failures};
use crate::config::Config;
use crate::job_store::{Access, Jobs};
use crate::progress::{summary_table, StderrProgress};
use crate::react::{configured_bus, print_route_report, route, send_job_summary};
use crate::{load, Exit};

/// The config and its job store, opened for `access`.
pub fn open(config_path: Option<&Path>, access: Access) -> Result<(Config, Jobs), Exit> {
    let (config, _) = config(config_path)?;
    let store = Jobs::open(&config, access)?;
    Ok((config, store))
}

fn print_json(value: &serde_json::Value) -> Result<ExitCode, Exit> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(anyhow::Error::from)?;
    writeln!(out).map_err(anyhow::Error::from)?;
    Ok(ExitCode::SUCCESS)
}

fn job_arn(config: &Config, job: &JobRecord) -> String {
    let account = job.spec.account_id().unwrap_or(&config.account_id);
    format!(
        "arn:aws:macie2:{}:{account}:classification-job/{}",
        config.region, job.job_id
    )
}

/// The job in `DescribeClassificationJob` shape, with `lastRunStatistics` and `nextRunAt`.
pub(crate) fn describe(
    config: &Config,
    store: &JobStore,
    job: &JobRecord,
) -> Result<serde_json::Value, Exit> {
    let runs = store.runs(&job.job_id).map_err(anyhow::Error::from)?;
    let last = runs.iter().rev().find(|r| r.status == "COMPLETE");
    let mut v = serde_json::to_value(&job.spec).map_err(anyhow::Error::from)?;
    let completed = runs.iter().filter(|r| r.status == "COMPLETE").count();
    let extra = serde_json::json!({
        "createdAt": job.created_at,
        "initialRun": job.spec.initial_run.unwrap_or(false) && job.spec.job_type == JobType::Scheduled,
        "jobArn": job_arn(config, job),
        "jobId": job.job_id,
        "jobStatus": job.status,
        "lastRunErrorStatus": {"code": last.map_or("NONE", |r| r.error_status.as_str())},
        "lastRunTime": runs.last().map_or(job.created_at, |r| r.started_at),
        "statistics": {"approximateNumberOfObjectsToProcess": 0.0, "numberOfRuns": completed as f64},
        "userPausedDetails": job.paused_at.map(|t| serde_json::json!({"jobPausedAt": t, "jobExpiresAt": Timestamp::from_millis(t.millis() + 30 * 86_400_000), "jobImminentExpirationHealthEventArn": null})),
        "lastRunStatistics": last.and_then(|r| r.statistics.clone()),
        "nextRunAt": job.next_run_at,
    });
    if let (Some(obj), serde_json::Value::Object(e)) = (v.as_object_mut(), extra) {
        obj.extend(e);
    }
    Ok(v)
}

/// Runs a `jobs` command.
pub fn run(cmd: JobsCommand) -> Result<ExitCode, Exit> {
    match cmd {
        JobsCommand::Create { spec, name, common } => {
            let (config, store) = open(common.config.as_deref(), Access::Write)?;
            let mut spec_doc = load::job_spec(&spec, name.as_deref(), &config)?;
            // The identifiers and allow lists it names must exist now, not at its first run.
            let dir = crate::store::open(&config)?;
            let custom = load::custom_identifiers(&config.identifiers)?;
            let allow = load::allow_lists(&config.allow_lists, dir.as_ref())?;
            dragnet_job::job_engine(&spec_doc, &custom, &allow)
                .with_context(|| format!("job spec {}", spec.display()))?;
            let now = Timestamp::now();
            let token = spec_doc.client_token.clone().unwrap_or_else(|| {
                stable_hex_id(&["token", &now.to_string(), &std::process::id().to_string()])
            });
            spec_doc.client_token = Some(token.clone());
            let scheduled = spec_doc.job_type == JobType::Scheduled;
            // Recurring jobs with initialRun start right away, as in Macie; the others at their
            // next scheduled time.
            let next = match (
                &spec_doc.schedule_frequency,
                spec_doc.initial_run.unwrap_or(false),
            ) {
                (Some(_), true) => Some(now),
                (Some(f), false) => dragnet_job::next_run_after(
                    f,
                    now,
                    TimeOfDay::parse(&config.state.schedule_time).unwrap_or_default(),
                ),
                (None, _) => None,
            };
            let record = JobRecord {
                job_id: stable_hex_id(&["job", "clientToken", &token]),
                spec: spec_doc,
                status: if scheduled { "IDLE" } else { "RUNNING" }.into(),
                created_at: now,
                next_run_at: next,
                paused_at: None,
            };
            let job = store.create_job(&record).map_err(anyhow::Error::from)?;
            store.save()?;
            print_json(&serde_json::json!({"jobArn": job_arn(&config, &job), "jobId": job.job_id}))
        }
        JobsCommand::List {
            format,
            status,
            job_type,
            name,
            common,
        } => {
            let (config, store) = open(common.config.as_deref(), Access::Read)?;
            let jobs: Vec<JobRecord> = store
                .jobs()
                .map_err(anyhow::Error::from)?
                .into_iter()
                .filter(|j| status.as_deref().is_none_or(|s| j.status == s))
                .filter(|j| {
                    job_type.as_deref().is_none_or(|t| {
                        (t == "SCHEDULED") == (j.spec.job_type == JobType::Scheduled)
                    })
                })
                .filter(|j| {
                    name.as_deref()
                        .is_none_or(|n| j.spec.name.as_deref().unwrap_or("").contains(n))
                })
                .collect();
            if format == "json" {
                let items: Vec<serde_json::Value> = jobs
                    .iter()
                    .map(|j| {
                        serde_json::json!({
                            "bucketDefinitions": j.spec.s3_job_definition.bucket_definitions,
                            "createdAt": j.created_at,
                            "jobId": j.job_id,
                            "jobStatus": j.status,
                            "jobType": j.spec.job_type,
                            "name": j.spec.name,
                            "jobArn": job_arn(&config, j),
                        })
                    })
                    .collect();
                return print_json(&serde_json::json!({"items": items, "nextToken": null}));
            }
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "{:<34} {:<10} {:<12} {:<26} NAME",
                "JOB ID", "TYPE", "STATUS", "NEXT RUN"
            )
            .map_err(anyhow::Error::from)?;
            for j in &jobs {
                let kind = if j.spec.job_type == JobType::Scheduled {
                    "SCHEDULED"
                } else {
                    "ONE_TIME"
                };
                let next = j.next_run_at.map_or("-".to_string(), |t| t.to_string());
                writeln!(
                    out,
                    "{:<34} {:<10} {:<12} {:<26} {}",
                    j.job_id,
                    kind,
                    j.status,
                    next,
                    j.spec.name.as_deref().unwrap_or("")
                )
                .map_err(anyhow::Error::from)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Describe { id, common } => {
            let (config, store) = open(common.config.as_deref(), Access::Read)?;
            let job = store.job(&id).map_err(anyhow::Error::from)?;
            print_json(&describe(&config, &store, &job)?)
        }
        JobsCommand::Pause { id, common } => update(common.config.as_deref(), &id, "USER_PAUSED"),
        JobsCommand::Resume { id, common } => update(common.config.as_deref(), &id, "RUNNING"),
        JobsCommand::Cancel { id, common } => update(common.config.as_deref(), &id, "CANCELLED"),
        JobsCommand::History { id, common } => {
            let (_, store) = open(common.config.as_deref(), Access::Read)?;
            let runs = store.runs(&id).map_err(anyhow::Error::from)?;
            if runs.is_empty() {
                store.job(&id).map_err(anyhow::Error::from)?;
            }
            let items: Vec<serde_json::Value> = runs
                .iter()
                .map(|r| serde_json::json!({"runId": r.run_id, "startedAt": r.started_at, "endedAt": r.ended_at, "status": r.status, "attempts": r.attempts, "errorStatus": r.error_status, "statistics": r.statistics}))
                .collect();
            print_json(&serde_json::json!({"jobId": id, "runs": items}))
        }
        JobsCommand::Events { id, common } => {
            let (_, store) = open(common.config.as_deref(), Access::Read)?;
            store.job(&id).map_err(anyhow::Error::from)?;
            let mut out = io::stdout().lock();
            for e in store.events(&id).map_err(anyhow::Error::from)? {
                writeln!(out, "{e}").map_err(anyhow::Error::from)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Run(args) => run_now(args),
        JobsCommand::Merge { dirs, out } => {
            let merged = dragnet_job::merge_outputs(&dirs, &out).map_err(|e| match e {
                dragnet_job::MergeError::Output { .. } => Exit::failed(e),
                bad_input => Exit::from(bad_input),
            })?;
            print_json(&serde_json::json!({
                "jobId": merged.job_id,
                "findings": merged.findings.len(),
                "findingsFile": out.join("findings.jsonl"),
                "jobFile": out.join("job.json"),
                "runStatistics": merged.statistics,
            }))
        }
    }
}

fn update(config_path: Option<&Path>, id: &str, to: &str) -> Result<ExitCode, Exit> {
    let (config, store) = open(config_path, Access::Write)?;
    let job = store
        .update_status(id, to, Timestamp::now())
        .map_err(|e| match e {
            dragnet_job::StateError::Conflict { .. } => Exit::failed(e),
            other => Exit::from(anyhow::Error::from(other)),
        })?;
    store.save()?;
    print_json(&describe(&config, &store, &job)?)
}

fn run_now(args: JobsRunArgs) -> Result<ExitCode, Exit> {
    let (config, store) = open(args.common.config.as_deref(), Access::Write)?;
    let done = execute(
        &config,
        &store,
        &args.id,
        &args.out,
        &args.identifiers,
        &args.allow_lists,
        args.no_events,
        None,
    );
    // A failed run's checkpoint is shared too, so the next run resumes it anywhere.
    store.save()?;
    let done = done?;
    print_json(&serde_json::json!({
        "jobId": args.id,
        "runId": done.run.run_id,
        "jobStatus": done.run.job.status,
        "nextRunAt": done.run.job.next_run_at,
        "findings": done.run.report.findings.len(),
        "findingsFile": done.run.report.findings_path,
        "resultsFiles": done.run.report.result_files,
        "jobFile": done.run.report.job_path,
        "runStatistics": done.run.report.statistics,
    }))?;
    bucket_errors(&done.run.report)?;
    delivery_failures(done.routed.as_ref(), &config)
}

/// A stored run and what routing its findings did.
pub struct Executed {
    /// The run.
    pub run: dragnet_job::StoredRunReport,
    /// Routing, when rules are configured.
    pub routed: Option<crate::react::RouteReport>,
}

/// Runs (or resumes) stored job `id` now, routes its findings, prints the summary on stderr.
#[allow(clippy::too_many_arguments)]
pub fn execute(
    config: &Config,
    store: &JobStore,
    id: &str,
    out: &Path,
    identifiers: &[std::path::PathBuf],
    allow_lists: &[std::path::PathBuf],
    no_events: bool,
    stop: Option<Arc<std::sync::atomic::AtomicBool>>,
) -> Result<Executed, Exit> {
    let job = store.job(id).map_err(anyhow::Error::from)?;
    let objects = crate::store::open(config)?;
    let mut id_files = config.identifiers.clone();
    id_files.extend(identifiers.iter().cloned());
    let custom = load::custom_identifiers(&id_files)?;
    let mut allow_files = config.allow_lists.clone();
    allow_files.extend(allow_lists.iter().cloned());
    let allow = load::allow_lists(&allow_files, objects.as_ref())?;
    let engine = dragnet_job::job_engine(&job.spec, &custom, &allow)
        .with_context(|| format!("job {}", job.job_id))?;
    let fingerprint = dragnet_job::ruleset_fingerprint(&job.spec, &custom, &allow)?;
    let bus = if no_events {
        None
    } else {
        configured_bus(config)?
    };
    let options = StoredRunOptions {
        region: config.region.clone(),
        plan: PlanOptions {
            default_account: config.account_id.clone(),
            sampling_seed: config.sampling.seed,
            listing: None,
            shard: None,
        },
        threads: config.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }),
        fingerprint,
        time_of_day: TimeOfDay::parse(&config.state.schedule_time).unwrap_or_default(),
        now: Timestamp::now(),
        stop,
        results_location: config.results.location.clone(),
    };
    let progress = StderrProgress::new();
    let run = run_stored(
        store,
        &job.job_id,
        &engine,
        objects.as_ref(),
        out,
        &progress,
        &options,
    )
    .map_err(Exit::failed)?;
    progress.finish();
    // Before any event announces a finding, its detailedResultsLocation must exist.
    crate::results::export(config, objects.as_ref(), out).map_err(Exit::failed)?;
    eprint!("{}", summary_table(&run.report));
    let mut routed = match &bus {
        Some(bus) => {
            Some(route(bus, config, objects.as_ref(), &run.report.findings).map_err(Exit::failed)?)
        }
        None => None,
    };
    if !no_events {
        let name = job.spec.name.as_deref().unwrap_or(&job.job_id);
        send_job_summary(config, name, &run.report.statistics, &mut routed)
            .map_err(Exit::failed)?;
    }
    if let Some(r) = &routed {
        print_route_report(r);
    }
    Ok(Executed { run, routed })
}
