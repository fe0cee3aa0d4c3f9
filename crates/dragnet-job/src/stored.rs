//! Running jobs kept in the job store: incremental scheduled runs and resumable runs.
//!
//! Semantics (macie.md §2.1, and where dragnet goes further):
//! - the first run of a `SCHEDULED` job analyses every eligible object when `initialRun` is
//!   true, otherwise only objects created or changed after the job was created;
//! - each later run analyses only objects that are new or changed (size, Last-Modified or ETag)
//!   since they were last analysed, or that were analysed with other identifiers or allow
//!   lists (the ruleset fingerprint changed; Macie cannot do this);
//! - a run stopped part-way is resumed by the next run of the job: objects it already analysed
//!   are not analysed again, and its findings and results are exported once, complete.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use dragnet_detect::Engine;
use dragnet_model::ids::stable_hex_id;
use dragnet_model::jobspec::JobType;
use dragnet_model::{Finding, Timestamp};
use dragnet_store::{ObjectMeta, ObjectStore};
use flate2::write::GzEncoder;

use crate::run::{
    results_path, run_job_observed, write_job_json, JobRun, ObjectDone, Progress, RunError,
    RunObserver, RunReport,
};
use crate::schedule::{next_run_after, TimeOfDay};
use crate::state::{JobRecord, JobStore, ObjectState, StateError};
use crate::PlanOptions;

/// Why a stored job did not run to completion.
#[derive(Debug, thiserror::Error)]
pub enum StoredRunError {
    /// The job store failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The run failed; it stays unfinished and the next run resumes it.
    #[error("{0} (the run is kept and the next run of the job resumes it)")]
    Run(#[from] RunError),
    /// The job's status does not allow a run.
    #[error("job {job} is {status}: {why}")]
    NotRunnable {
        /// Job id.
        job: String,
        /// Its status.
        status: String,
        /// What to do.
        why: &'static str,
    },
    /// Writing the exported outputs failed.
    #[error("writing {path}: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Settings of a stored run that do not live in the job.
#[derive(Debug, Clone)]
pub struct StoredRunOptions {
    /// Region for ARNs.
    pub region: String,
    /// Planning inputs (account for bucket criteria, sampling seed, shard).
    pub plan: PlanOptions,
    /// Worker threads.
    pub threads: usize,
    /// Fingerprint of the identifiers and allow lists in use.
    pub fingerprint: String,
    /// Time of day (UTC) of scheduled runs.
    pub time_of_day: TimeOfDay,
    /// "Now" for this run (injected, so tests control the clock).
    pub now: Timestamp,
    /// Set to stop the run between objects (graceful shutdown); the run stays resumable.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Where the discovery results will be kept (see [`JobRun::results_location`]).
    pub results_location: Option<String>,
}

struct Observer<'a> {
    stop: Option<&'a std::sync::atomic::AtomicBool>,
    store: &'a JobStore,
    job: &'a JobRecord,
    run_id: String,
    fingerprint: String,
    first_run: bool,
}

impl RunObserver for Observer<'_> {
    fn should_stop(&self) -> bool {
        self.stop
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst))
    }

    fn skip(&self, bucket: &str, meta: &ObjectMeta) -> Option<&'static str> {
        // Errors reading the store leave the object in: analysing twice is safe, skipping is not.
        if self
            .store
            .done_in_run(&self.run_id, bucket, &meta.key)
            .unwrap_or(false)
        {
            return Some("ANALYZED_EARLIER_IN_THIS_RUN");
        }
        if self.job.spec.job_type != JobType::Scheduled {
            return None;
        }
        match self
            .store
            .object_state(&self.job.job_id, bucket, &meta.key)
            .ok()
            .flatten()
        {
            Some(state) => {
                let unchanged = state.size == meta.size
                    && state.last_modified == meta.last_modified.millis()
                    && meta.etag.as_deref().is_none_or(|e| e == state.etag);
                (unchanged && state.fingerprint == self.fingerprint)
                    .then_some("NOT_CHANGED_SINCE_LAST_ANALYZED")
            }
            None if self.first_run
                && !self.job.spec.initial_run.unwrap_or(false)
                && meta.last_modified <= self.job.created_at =>
            {
                Some("EXISTED_BEFORE_JOB_CREATION")
            }
            None => None,
        }
    }

    fn object_done(&self, done: &ObjectDone<'_>) -> Result<(), String> {
        let state = ObjectState {
            size: done.meta.size,
            last_modified: done.meta.last_modified.millis(),
            etag: done.etag.to_string(),
            fingerprint: self.fingerprint.clone(),
            run_id: self.run_id.clone(),
        };
        self.store
            .record_object(
                &self.job.job_id,
                &self.run_id,
                done.bucket,
                &done.meta.key,
                done.account,
                &state,
                done.result,
                done.finding,
            )
            .map_err(|e| e.to_string())
    }
}

/// What a stored run produced.
#[derive(Debug)]
pub struct StoredRunReport {
    /// The run id.
    pub run_id: String,
    /// The report of this attempt, with statistics and findings of the whole run.
    pub report: RunReport,
    /// The job after the run.
    pub job: JobRecord,
}

/// Runs (or resumes) a stored job now, writing the run's outputs under `out`.
pub fn run_stored(
    store: &JobStore,
    job_id: &str,
    engine: &Engine,
    objects: &dyn ObjectStore,
    out: &Path,
    progress: &dyn Progress,
    options: &StoredRunOptions,
) -> Result<StoredRunReport, StoredRunError> {
    let now = options.now;
    let job = store.job(job_id)?;
    let refuse = |why| {
        Err(StoredRunError::NotRunnable {
            job: job_id.into(),
            status: job.status.clone(),
            why,
        })
    };
    match job.status.as_str() {
        "CANCELLED" => return refuse("a cancelled job never runs again"),
        "USER_PAUSED" => return refuse("resume it first (dragnet jobs resume)"),
        "COMPLETE" => return refuse("a one-time job runs once; create a new job to scan again"),
        _ => {}
    }
    let runs = store.runs(job_id)?;
    let first_run = !runs.iter().any(|r| r.status == "COMPLETE");
    let run_id = match runs.iter().find(|r| r.status == "RUNNING") {
        Some(r) => r.run_id.clone(),
        None => stable_hex_id(&["run", job_id, &now.to_string()]),
    };
    let run = store.begin_run(job_id, &run_id, now)?;
    let observer = Observer {
        stop: options.stop.as_deref(),
        store,
        job: &job,
        run_id: run_id.clone(),
        fingerprint: options.fingerprint.clone(),
        first_run,
    };
    let job_run = JobRun {
        spec: job.spec.clone(),
        job_id: job_id.to_string(),
        region: options.region.clone(),
        created_at: job.created_at,
        plan: options.plan.clone(),
        threads: options.threads,
        results_location: options.results_location.clone(),
    };
    let mut report = run_job_observed(&job_run, engine, objects, out, progress, &observer)?;
    // The whole run, across attempts, from the store.
    let stored = store.run_results(&run_id)?;
    let mut findings: Vec<Finding> = Vec::new();
    let mut stats = report.statistics.clone();
    let resumed = stats
        .objects_skipped
        .remove("ANALYZED_EARLIER_IN_THIS_RUN")
        .unwrap_or(0);
    stats.objects_scanned = 0;
    stats.bytes_scanned = 0;
    stats.findings = Default::default();
    for (_, result, finding) in &stored {
        let r: serde_json::Value =
            serde_json::from_str(result).map_err(|e| StateError::Corrupt {
                what: "result",
                message: e.to_string(),
            })?;
        if r["classificationDetails"]["result"]["status"]["code"] != "SKIPPED" {
            stats.objects_scanned += 1;
            stats.bytes_scanned += r["classificationDetails"]["result"]["sizeClassified"]
                .as_u64()
                .unwrap_or(0);
        }
        if let Some(f) = finding {
            let f: Finding = serde_json::from_str(f).map_err(|e| StateError::Corrupt {
                what: "finding",
                message: e.to_string(),
            })?;
            stats.findings.add(&f);
            findings.push(f);
        }
    }
    let _ = resumed;
    export(out, &job_run, &stored, &findings)?;
    let errors = !report.bucket_errors.is_empty();
    for (bucket, message) in &report.bucket_errors {
        let event = if message.contains("does not exist") {
            "BUCKET_DOES_NOT_EXIST"
        } else {
            "BUCKET_ACCESS_DENIED"
        };
        store.event(job_id, now, event, serde_json::json!({"affectedResource": {"type": "S3_BUCKET_NAME", "value": bucket}, "description": message}))?;
    }
    let statistics = serde_json::to_value(&stats).expect("serializable");
    store.complete_run(job_id, &run_id, Timestamp::now(), &statistics, errors)?;
    let (status, next) = match (&job.spec.job_type, &job.spec.schedule_frequency) {
        (JobType::Scheduled, Some(freq)) => {
            ("IDLE", next_run_after(freq, now, options.time_of_day))
        }
        _ => ("COMPLETE", None),
    };
    store.set_after_run(job_id, status, next)?;
    let number_of_runs = store
        .runs(job_id)?
        .iter()
        .filter(|r| r.status == "COMPLETE")
        .count() as u64;
    write_job_json(
        &report.job_path,
        &job_run,
        run.started_at,
        &stats,
        errors,
        status,
        number_of_runs,
    )?;
    report.statistics = stats;
    report.findings = findings;
    Ok(StoredRunReport {
        run_id,
        report,
        job: store.job(job_id)?,
    })
}

/// Rewrites the run's findings and discovery results from the store, so they hold every
/// object of the run exactly once, whichever attempt analysed it.
fn export(
    out: &Path,
    job: &JobRun,
    stored: &[(String, String, Option<String>)],
    findings: &[Finding],
) -> Result<(), StoredRunError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StoredRunError::Output { path, source }
    };
    let findings_path = out.join("findings.jsonl");
    let mut text = String::new();
    for f in findings {
        text.push_str(&serde_json::to_string(f).expect("serializable"));
        text.push('\n');
    }
    fs::write(&findings_path, text).map_err(io(&findings_path))?;
    let shard_tag = job
        .plan
        .shard
        .map(|s| format!("{}/{}", s.index, s.count))
        .unwrap_or_default();
    let mut accounts: Vec<&str> = stored.iter().map(|(a, _, _)| a.as_str()).collect();
    accounts.sort();
    accounts.dedup();
    for account in accounts {
        let path = results_path(
            &out.join("results"),
            &job.job_id,
            &job.region,
            account,
            &shard_tag,
        );
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let mut gz = GzEncoder::new(
            fs::File::create(&path).map_err(io(&path))?,
            flate2::Compression::fast(),
        );
        for (_, result, _) in stored.iter().filter(|(a, _, _)| a == account) {
            gz.write_all(result.as_bytes())
                .and_then(|_| gz.write_all(b"\n"))
                .map_err(io(&path))?;
        }
        gz.finish().map_err(io(&path))?;
    }
    Ok(())
}
