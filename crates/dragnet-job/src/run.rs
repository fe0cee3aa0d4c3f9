//! Running a job: plan, scan on worker threads, write findings, results and the job record.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use dragnet_detect::Engine;
use dragnet_model::ids::stable_uuid;
use dragnet_model::jobspec::{JobSpec, JobType};
use dragnet_model::{Finding, Timestamp};
use dragnet_store::{ObjectDetails, ObjectStore};
use flate2::write::GzEncoder;
use serde::Serialize;

use crate::plan::{plan, Action, PlanOptions, PlannedObject};
use crate::report::{report, ObjectRef, RunIdentity};
use crate::scan::{scan_reader_with, ObjectOutcome, ScanLimits};

/// Everything a run needs besides the store.
#[derive(Debug, Clone)]
pub struct JobRun {
    /// The job spec (with `ssm:` values already resolved).
    pub spec: JobSpec,
    /// Job id.
    pub job_id: String,
    /// Region for ARNs.
    pub region: String,
    /// When the job was created.
    pub created_at: Timestamp,
    /// Planning inputs not in the spec.
    pub plan: PlanOptions,
    /// Worker threads.
    pub threads: usize,
    /// Where the discovery results will be kept (`s3://bucket/prefix`), which findings'
    /// `detailedResultsLocation` names; `None` names the local files under the output folder.
    pub results_location: Option<String>,
}

/// Hooks for progress display.
pub trait Progress: Sync {
    /// The plan is ready: this many objects and bytes will be read.
    fn planned(&self, _objects: u64, _bytes: u64) {}
    /// One object is done.
    fn object_done(&self, _bytes: u64) {}
}

/// Progress that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// One analysed object, as a run hands it to its observer.
#[derive(Debug)]
pub struct ObjectDone<'a> {
    /// Bucket.
    pub bucket: &'a str,
    /// Owning account.
    pub account: &'a str,
    /// Listing metadata.
    pub meta: &'a dragnet_store::ObjectMeta,
    /// The ETag recorded in the result.
    pub etag: &'a str,
    /// The discovery result, as one JSON line.
    pub result: &'a str,
    /// The finding, as JSON, when one was made.
    pub finding: Option<&'a str>,
}

/// Hooks for runs that keep state (scheduled jobs, resumable runs).
pub trait RunObserver: Sync {
    /// Why this in-scope object is left out of this run, if it is (counted in the statistics).
    fn skip(&self, _bucket: &str, _meta: &dragnet_store::ObjectMeta) -> Option<&'static str> {
        None
    }
    /// An object was analysed. An error stops the run; the run can be resumed.
    fn object_done(&self, _done: &ObjectDone<'_>) -> Result<(), String> {
        Ok(())
    }
    /// Whether to stop taking objects (a shutdown was asked for): objects being analysed are
    /// finished and recorded, the run ends with [`RunError::Stopped`] and can be resumed.
    fn should_stop(&self) -> bool {
        false
    }
}

/// An observer that keeps nothing.
pub struct NoObserver;
impl RunObserver for NoObserver {}

/// Findings counts in the run statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingCounts {
    /// All findings.
    pub total: u64,
    /// By `severity.description`.
    pub by_severity: BTreeMap<String, u64>,
    /// By finding type.
    pub by_type: BTreeMap<String, u64>,
}

impl FindingCounts {
    /// Counts one finding.
    pub fn add(&mut self, f: &Finding) {
        self.total += 1;
        *self
            .by_severity
            .entry(f.severity.0.description().into())
            .or_default() += 1;
        *self
            .by_type
            .entry(f.finding_type.as_str().into())
            .or_default() += 1;
    }
}

/// `runStatistics` of `job.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStatistics {
    /// Objects listed in the job's buckets.
    pub objects_listed: u64,
    /// Objects read and classified (complete or partial).
    pub objects_scanned: u64,
    /// Objects not scanned, by reason.
    pub objects_skipped: BTreeMap<String, u64>,
    /// Objects scanned only in part, by reason.
    pub objects_partial: BTreeMap<String, u64>,
    /// Bytes read and classified.
    pub bytes_scanned: u64,
    /// Findings made.
    pub findings: FindingCounts,
    /// Wall-clock seconds of the run.
    pub wall_seconds: f64,
}

/// What a run produced.
#[derive(Debug)]
pub struct RunReport {
    /// Findings, in bucket then key order.
    pub findings: Vec<Finding>,
    /// Statistics.
    pub statistics: RunStatistics,
    /// Buckets that could not be read, with the error.
    pub bucket_errors: Vec<(String, String)>,
    /// Where `findings.jsonl` is.
    pub findings_path: PathBuf,
    /// Where `job.json` is.
    pub job_path: PathBuf,
    /// Discovery result files written.
    pub result_files: Vec<PathBuf>,
}

/// A failure that stops the whole run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A shutdown stopped the run between objects; it can be resumed.
    #[error("the run was stopped before it finished; the next run of the job resumes it")]
    Stopped,
    /// The run's observer (the job store) failed; the run can be resumed.
    #[error("recording the run: {0}")]
    Observer(String),
    /// The output folder could not be written.
    #[error("writing {path}: {source}")]
    Output {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

fn out_err(path: &Path) -> impl FnOnce(io::Error) -> RunError + '_ {
    move |source| RunError::Output {
        path: path.to_path_buf(),
        source,
    }
}

/// An open results file and its path.
type OpenResults = (PathBuf, GzEncoder<BufWriter<File>>);

/// Discovery results of one run, one gzip JSON Lines file per account
/// (`results/AWSLogs/<account>/Macie/<region>/<jobId>/<account>/<uuid>.jsonl.gz`).
struct ResultsWriter {
    root: PathBuf,
    /// `s3://bucket/prefix` the files are exported to, if any.
    location: Option<String>,
    job_id: String,
    region: String,
    shard_tag: String,
    files: Mutex<BTreeMap<String, OpenResults>>,
}

/// Where a run's discovery results for `account` go under `root` (macie.md §7 layout:
/// `AWSLogs/<account>/Macie/<region>/<jobId>/<account>/<uuid>.jsonl.gz`).
pub fn results_path(
    root: &Path,
    job_id: &str,
    region: &str,
    account: &str,
    shard_tag: &str,
) -> PathBuf {
    let uuid = stable_uuid(&["results", job_id, account, shard_tag]);
    root.join("AWSLogs")
        .join(account)
        .join("Macie")
        .join(region)
        .join(job_id)
        .join(account)
        .join(format!("{uuid}.jsonl.gz"))
}

impl ResultsWriter {
    fn path_for(&self, account: &str) -> PathBuf {
        results_path(
            &self.root,
            &self.job_id,
            &self.region,
            account,
            &self.shard_tag,
        )
    }

    fn location(&self, account: &str) -> String {
        let p = self.path_for(account);
        match (&self.location, p.strip_prefix(&self.root)) {
            (Some(base), Ok(relative)) => format!(
                "{}/{}",
                base.trim_end_matches('/'),
                relative.to_string_lossy()
            ),
            _ => {
                let abs = std::path::absolute(&p).unwrap_or(p);
                format!("file://{}", abs.display())
            }
        }
    }

    fn write(&self, account: &str, line: &[u8]) -> Result<(), RunError> {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        if !files.contains_key(account) {
            let path = self.path_for(account);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(out_err(parent))?;
            }
            let f = File::create(&path).map_err(out_err(&path))?;
            let gz = GzEncoder::new(BufWriter::new(f), flate2::Compression::fast());
            files.insert(account.to_string(), (path, gz));
        }
        let (path, gz) = files.get_mut(account).expect("inserted above");
        gz.write_all(line)
            .and_then(|_| gz.write_all(b"\n"))
            .map_err(out_err(path))
    }

    fn finish(self) -> Result<Vec<PathBuf>, RunError> {
        let files = self.files.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut paths = Vec::new();
        for (_, (path, gz)) in files {
            let mut inner = gz.finish().map_err(out_err(&path))?;
            inner.flush().map_err(out_err(&path))?;
            paths.push(path);
        }
        Ok(paths)
    }
}

/// Runs the job once over `store`, writing `findings.jsonl`, `results/` and `job.json` under
/// `out`. Per-object problems are recorded in the statistics and results; only an output
/// failure stops the run.
pub fn run_job(
    job: &JobRun,
    engine: &Engine,
    store: &dyn ObjectStore,
    out: &Path,
    progress: &dyn Progress,
) -> Result<RunReport, RunError> {
    run_job_observed(job, engine, store, out, progress, &NoObserver)
}

/// [`run_job`] with an observer that can leave objects out and record each analysed one.
pub fn run_job_observed(
    job: &JobRun,
    engine: &Engine,
    store: &dyn ObjectStore,
    out: &Path,
    progress: &dyn Progress,
    observer: &dyn RunObserver,
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let started_at = Timestamp::now();
    fs::create_dir_all(out).map_err(out_err(out))?;
    let plan = plan(&job.spec, store, &job.plan, observer);
    let to_read: Vec<&PlannedObject> = plan
        .objects
        .iter()
        .filter(|o| o.action == Action::Scan)
        .collect();
    progress.planned(
        to_read.len() as u64,
        to_read.iter().map(|o| o.meta.size).sum(),
    );
    let identity = RunIdentity {
        job_id: job.job_id.clone(),
        region: job.region.clone(),
    };
    let shard_tag = job
        .plan
        .shard
        .map(|s| format!("{}/{}", s.index, s.count))
        .unwrap_or_default();
    let results = ResultsWriter {
        root: out.join("results"),
        location: job.results_location.clone(),
        job_id: job.job_id.clone(),
        region: job.region.clone(),
        shard_tag,
        files: Mutex::new(BTreeMap::new()),
    };
    let order = largest_first(&plan.objects);
    let next = AtomicUsize::new(0);
    let findings = Mutex::new(Vec::new());
    let stats = Mutex::new(RunStatistics {
        objects_listed: plan.listed,
        objects_skipped: plan.skipped.clone(),
        ..Default::default()
    });
    let failure: Mutex<Option<RunError>> = Mutex::new(None);
    let threads = job.threads.max(1).min(plan.objects.len().max(1));
    let ctx = RunContext {
        engine,
        store,
        identity: &identity,
        results: &results,
        findings: &findings,
        stats: &stats,
        observer,
        unit_threads: unit_threads(job.threads.max(1), to_read.len()),
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                    return;
                }
                if observer.should_stop() {
                    *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(RunError::Stopped);
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(object) = order.get(i).map(|&k| &plan.objects[k]) else {
                    return;
                };
                if let Err(e) = process(object, &ctx) {
                    *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    return;
                }
                if object.action == Action::Scan {
                    progress.object_done(object.meta.size);
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let result_files = results.finish()?;
    let mut findings = findings.into_inner().unwrap_or_else(|p| p.into_inner());
    findings.sort_by(|a: &Finding, b: &Finding| {
        let (oa, ob) = (
            &a.resources_affected.s3_object,
            &b.resources_affected.s3_object,
        );
        (&oa.bucket_arn, &oa.key).cmp(&(&ob.bucket_arn, &ob.key))
    });
    let mut statistics = stats.into_inner().unwrap_or_else(|p| p.into_inner());
    for f in &findings {
        statistics.findings.add(f);
    }
    statistics.wall_seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    let findings_path = out.join("findings.jsonl");
    write_jsonl(&findings_path, &findings)?;
    let job_path = out.join("job.json");
    let status = if job.spec.job_type == JobType::OneTime {
        "COMPLETE"
    } else {
        "IDLE"
    };
    write_job_json(
        &job_path,
        job,
        started_at,
        &statistics,
        !plan.bucket_errors.is_empty(),
        status,
        1,
    )?;
    Ok(RunReport {
        findings,
        statistics,
        bucket_errors: plan.bucket_errors,
        findings_path,
        job_path,
        result_files,
    })
}

/// What every worker of a run shares.
struct RunContext<'a> {
    engine: &'a Engine,
    store: &'a dyn ObjectStore,
    identity: &'a RunIdentity,
    results: &'a ResultsWriter,
    findings: &'a Mutex<Vec<Finding>>,
    stats: &'a Mutex<RunStatistics>,
    observer: &'a dyn RunObserver,
    /// Threads for one object's cells or lines ([`ScanLimits::unit_threads`]).
    unit_threads: usize,
}

/// Threads each object's cells or lines get: with fewer objects to scan than threads, the spare
/// threads help scan within the objects (a job over one large CSV uses every core); otherwise
/// one, since the workers already keep every core busy.
fn unit_threads(threads: usize, to_scan: usize) -> usize {
    if to_scan == 0 || to_scan >= threads {
        1
    } else {
        threads / to_scan
    }
}

/// The order workers take objects in: objects to scan, largest first, then the rest (which
/// only record why they were not scanned). One worker cannot split an object, so a large
/// object taken last leaves the other workers idle while it is read; taken first, it overlaps
/// with all the small ones (the longest-processing-time-first rule). Findings are sorted by
/// object afterwards, so the order does not show in the output.
fn largest_first(objects: &[PlannedObject]) -> Vec<usize> {
    scan_order(
        &objects
            .iter()
            .map(|o| (o.action == Action::Scan, o.meta.size))
            .collect::<Vec<_>>(),
    )
}

/// [`largest_first`] over (to be scanned, size) pairs; ties keep the plan's order.
fn scan_order(objects: &[(bool, u64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..objects.len()).collect();
    order.sort_by_key(|&i| (!objects[i].0, std::cmp::Reverse(objects[i].1)));
    order
}

#[cfg(test)]
#[test]
fn workers_take_the_largest_objects_first() {
    let objects = [
        (true, 10),
        (false, 500),
        (true, 300),
        (true, 10),
        (true, 40),
    ];
    assert_eq!(scan_order(&objects), [2, 4, 0, 3, 1]);
}

#[cfg(test)]
#[test]
fn spare_threads_go_into_the_objects() {
    assert_eq!(unit_threads(2, 1), 2);
    assert_eq!(unit_threads(8, 3), 2);
    assert_eq!(unit_threads(2, 2), 1);
    assert_eq!(unit_threads(2, 500), 1);
    assert_eq!(unit_threads(4, 0), 1);
}

fn process(object: &PlannedObject, ctx: &RunContext<'_>) -> Result<(), RunError> {
    let RunContext {
        engine,
        store,
        identity,
        results,
        findings,
        stats,
        observer,
        unit_threads,
    } = *ctx;
    let bucket = &object.bucket.info.name;
    let key = &object.meta.key;
    let outcome = match object.action {
        Action::Skip(reason) => ObjectOutcome::skipped(reason),
        Action::Scan => match store.get(bucket, key) {
            Ok(body) => {
                let limits = ScanLimits {
                    unit_threads,
                    // The listing's ETag, when the store gives one, is what findings report.
                    checksum: object.meta.etag.is_none(),
                    ..ScanLimits::default()
                };
                scan_reader_with(engine, key, body, None, limits)
            }
            Err(e) => {
                tracing::warn!(bucket = %bucket, key = ?key, error = %e, "object could not be read");
                ObjectOutcome::skipped(e.macie_reason())
            }
        },
    };
    // Tags, encryption and version for the report; a skipped object is not read at all, and
    // details that cannot be read leave the report's defaults (the scan itself succeeded).
    let mut details = if outcome.status != "SKIPPED" {
        store.details(bucket, key).unwrap_or_default()
    } else {
        ObjectDetails::default()
    };
    if let Some(tags) = &object.tags {
        details.attributes.tags = tags.clone();
    }
    let account = &object.bucket.account_id;
    let object_ref = ObjectRef {
        account_id: account,
        bucket: &object.bucket.info,
        meta: &object.meta,
        details: &details,
    };
    let (finding, result) = report(
        engine,
        identity,
        object_ref,
        &outcome,
        &results.location(account),
        Timestamp::now(),
    );
    let line = serde_json::to_vec(&result).expect("serializable");
    results.write(account, &line)?;
    let finding_json = finding
        .as_ref()
        .map(|f| serde_json::to_string(f).expect("serializable"));
    observer
        .object_done(&ObjectDone {
            bucket,
            account,
            meta: &object.meta,
            etag: &result.resources_affected.s3_object.e_tag,
            result: std::str::from_utf8(&line).expect("JSON is UTF-8"),
            finding: finding_json.as_deref(),
        })
        .map_err(RunError::Observer)?;
    {
        let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
        match outcome.status {
            "SKIPPED" if object.action == Action::Scan => {
                *s.objects_skipped
                    .entry(outcome.reason.clone().unwrap_or_default())
                    .or_default() += 1;
            }
            "SKIPPED" => {}
            status => {
                s.objects_scanned += 1;
                s.bytes_scanned += outcome.size_classified;
                if status == "PARTIAL" {
                    *s.objects_partial
                        .entry(outcome.reason.clone().unwrap_or_default())
                        .or_default() += 1;
                }
            }
        }
    }
    if let Some(f) = finding {
        findings.lock().unwrap_or_else(|p| p.into_inner()).push(f);
    }
    Ok(())
}

fn write_jsonl<T: Serialize>(path: &Path, items: &[T]) -> Result<(), RunError> {
    let tmp = path.with_extension("jsonl.tmp");
    let f = File::create(&tmp).map_err(out_err(&tmp))?;
    let mut w = BufWriter::new(f);
    for item in items {
        serde_json::to_writer(&mut w, item).map_err(|e| RunError::Output {
            path: tmp.clone(),
            source: e.into(),
        })?;
        w.write_all(b"\n").map_err(out_err(&tmp))?;
    }
    w.flush().map_err(out_err(&tmp))?;
    fs::rename(&tmp, path).map_err(out_err(path))
}

/// The job in `DescribeClassificationJob` shape plus `runStatistics`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobDescription<'a> {
    #[serde(flatten)]
    spec: JobSpec,
    created_at: Timestamp,
    job_arn: String,
    job_id: &'a str,
    job_status: &'static str,
    last_run_error_status: serde_json::Value,
    last_run_time: Timestamp,
    statistics: serde_json::Value,
    run_statistics: &'a RunStatistics,
    /// `I/N` of a sharded run (not in Macie's shape): lets `jobs merge` check that every
    /// shard is there exactly once.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<String>,
}

/// Writes `job.json`: the job in `DescribeClassificationJob` shape plus `runStatistics`.
pub(crate) fn write_job_json(
    path: &Path,
    job: &JobRun,
    run_started: Timestamp,
    statistics: &RunStatistics,
    errors: bool,
    status: &'static str,
    runs: u64,
) -> Result<(), RunError> {
    let mut description = describe(job, run_started, statistics, errors);
    description.job_status = status;
    description.statistics = serde_json::json!({"approximateNumberOfObjectsToProcess": 0.0, "numberOfRuns": runs as f64});
    let text = serde_json::to_vec_pretty(&description).expect("serializable");
    fs::write(path, text).map_err(out_err(path))
}

fn describe<'a>(
    job: &'a JobRun,
    run_started: Timestamp,
    statistics: &'a RunStatistics,
    errors: bool,
) -> JobDescription<'a> {
    let mut spec = job.spec.clone();
    spec.initial_run =
        Some(spec.initial_run.unwrap_or(false) && spec.job_type == JobType::Scheduled);
    let account = spec
        .account_id()
        .unwrap_or(&job.plan.default_account)
        .to_string();
    JobDescription {
        job_arn: format!(
            "arn:aws:macie2:{}:{account}:classification-job/{}",
            job.region, job.job_id
        ),
        spec,
        created_at: job.created_at,
        job_id: &job.job_id,
        job_status: if job.spec.job_type == JobType::OneTime {
            "COMPLETE"
        } else {
            "IDLE"
        },
        last_run_error_status: serde_json::json!({"code": if errors { "ERROR" } else { "NONE" }}),
        last_run_time: run_started,
        statistics: serde_json::json!({
            "approximateNumberOfObjectsToProcess": 0.0,
            "numberOfRuns": 1.0,
        }),
        run_statistics: statistics,
        shard: job.plan.shard.map(|s| format!("{}/{}", s.index, s.count)),
    }
}
