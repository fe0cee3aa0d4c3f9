//! The scan Lambda of the Step Functions deployment: one function, two requests.
//!
//! - **A batch** (`{"Items": [...], "BatchInput": {...}}`), as a Distributed Map's S3
//!   `ItemReader` and `ItemBatcher` hand it over: the job spec and the run id come in
//!   `BatchInput` (`JobSpec`, `RunId`, optional `StartedAt`, `CustomDataIdentifiers`,
//!   `AllowLists`). The function runs the same engine as `dragnet scan` over exactly those
//!   objects, exports the discovery results to the output location (Macie's repository
//!   layout, SSE-KMS when a key is set), and leaves `job.json` and `findings.jsonl` under
//!   `<prefix>/runs/<RunId>/batches/<batch id>/` for the merge. The batch id is a hash of the
//!   keys, so a retried batch overwrites its own output.
//! - **A merge** (`{"Merge": {"RunId": "..."}}`), the state after the map: every batch output
//!   of the run is merged as `dragnet jobs merge` does (findings by id, statistics summed),
//!   written to `<prefix>/runs/<RunId>/`, and one `Macie Finding` event per finding is
//!   published to EventBridge, where the deployment's rules route it (quarantine, alerts).
//!
//! The handlers are synchronous and runtime-free, so tests call them against the emulator.

use std::path::Path;

use dragnet_detect::AllowSource;
use dragnet_events::eventbridge::Published;
use dragnet_job::{
    adhoc_job_id, job_covers_bucket, job_engine, merge_outputs, parse_batch, run::NoProgress,
    run_job, JobRun, Listing, PlanOptions,
};
use dragnet_model::event::{FindingEvent, DEFAULT_SOURCE};
use dragnet_model::identifiers::{parse_allow_lists, parse_custom_identifiers};
use dragnet_model::ids::stable_hex_id;
use dragnet_model::{JobSpec, Timestamp};
use dragnet_store::s3::S3Options;
use dragnet_store::{download_prefix, join_key, parse_s3_location, upload_tree, ObjectStore};
use serde_json::{json, Value};

use crate::env_flag;

/// Environment variable with `s3://bucket/prefix`, where discovery results, batch outputs
/// and merged runs are written (required).
pub const OUTPUT_LOCATION_VAR: &str = "DRAGNET_OUTPUT_LOCATION";
/// Environment variable with the KMS key that encrypts the discovery results (optional).
pub const RESULTS_KMS_KEY_VAR: &str = "DRAGNET_RESULTS_KMS_KEY";
/// Environment variable with the account id findings name for buckets the spec lists
/// without one (the deployment sets the function's account).
pub const ACCOUNT_ID_VAR: &str = "DRAGNET_ACCOUNT_ID";
/// Environment variable naming the EventBridge bus findings go to (default `default`).
pub const EVENT_BUS_VAR: &str = "DRAGNET_EVENT_BUS";
/// Environment variable with the events' `source` (default `dragnet`).
pub const EVENT_SOURCE_VAR: &str = "DRAGNET_EVENT_SOURCE";
/// Environment variable with the seed of `samplingPercentage` (default 42, as the CLI's).
pub const SAMPLING_SEED_VAR: &str = "DRAGNET_SAMPLING_SEED";

/// What the scan function needs, read from its environment.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    /// Output bucket.
    pub output_bucket: String,
    /// Key prefix in the output bucket (no surrounding slashes; may be empty).
    pub output_prefix: String,
    /// KMS key for the discovery results.
    pub results_kms_key_id: Option<String>,
    /// Region findings name (`AWS_REGION` in Lambda).
    pub region: String,
    /// Account for buckets without one in the spec.
    pub account_id: String,
    /// EventBridge bus.
    pub event_bus: String,
    /// Event `source`.
    pub event_source: String,
    /// Sampling seed.
    pub sampling_seed: u64,
    /// How to reach S3.
    pub s3: S3Options,
}

/// Why a scan or merge request failed; [`ScanError::error_type`] is what Step Functions sees
/// as the error name, so a state's `Retry` and `Catch` can tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The function is misconfigured: the message names the variable.
    #[error("configuration: {0}")]
    Config(String),
    /// The request is not a batch or a merge, or a field is wrong: the message names it.
    #[error("input {path}: {message}")]
    Input {
        /// JSON path of the field, e.g. `$.BatchInput.JobSpec`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing the store failed (retryable).
    #[error("store: {0}")]
    Store(String),
    /// The run could not complete.
    #[error("run: {0}")]
    Run(String),
    /// EventBridge did not accept every finding event (retryable: ids are stable).
    #[error("{failed} of {total} finding events were not accepted by EventBridge: {first}")]
    Publish {
        /// Events not accepted.
        failed: usize,
        /// Events sent.
        total: usize,
        /// The first error.
        first: String,
    },
}

impl ScanError {
    /// The error name Step Functions reports (`States.TaskFailed` carries it as `Error`).
    pub fn error_type(&self) -> &'static str {
        match self {
            ScanError::Config(_) => "CONFIGURATION",
            ScanError::Input { .. } => "INVALID_INPUT",
            ScanError::Store(_) => "STORE_ERROR",
            ScanError::Run(_) => "RUN_FAILED",
            ScanError::Publish { .. } => "PUBLISH_FAILED",
        }
    }
}

impl From<ScanError> for lambda_runtime::Diagnostic {
    fn from(error: ScanError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.error_type().to_string(),
            error_message: error.to_string(),
        }
    }
}

fn input(path: impl Into<String>, message: impl std::fmt::Display) -> ScanError {
    ScanError::Input {
        path: path.into(),
        message: message.to_string(),
    }
}

fn store_error(e: impl std::fmt::Display) -> ScanError {
    ScanError::Store(e.to_string())
}

impl ScanSettings {
    /// Reads the settings through `var` (the process environment in the function).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, ScanError> {
        let location = var(OUTPUT_LOCATION_VAR).unwrap_or_default();
        let (output_bucket, output_prefix) = parse_s3_location(location.trim()).ok_or_else(|| {
            ScanError::Config(format!(
                "{OUTPUT_LOCATION_VAR} is {location:?}; set it to s3://<bucket>/<prefix>, where results and batch outputs go"
            ))
        })?;
        let non_empty = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let sampling_seed = match non_empty(SAMPLING_SEED_VAR) {
            None => 42,
            Some(v) => v.trim().parse().map_err(|_| {
                ScanError::Config(format!("{SAMPLING_SEED_VAR} is {v:?}; use a whole number"))
            })?,
        };
        Ok(ScanSettings {
            output_bucket,
            output_prefix,
            results_kms_key_id: non_empty(RESULTS_KMS_KEY_VAR),
            region: non_empty("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            account_id: non_empty(ACCOUNT_ID_VAR).unwrap_or_default(),
            event_bus: non_empty(EVENT_BUS_VAR).unwrap_or_else(|| "default".into()),
            event_source: non_empty(EVENT_SOURCE_VAR).unwrap_or_else(|| DEFAULT_SOURCE.into()),
            sampling_seed,
            s3: S3Options {
                force_path_style: env_flag(&var, crate::FORCE_PATH_STYLE_VAR)
                    .map_err(ScanError::Config)?,
                ..S3Options::default()
            },
        })
    }

    /// `s3://bucket/prefix` of the output location, as findings' `detailedResultsLocation`
    /// starts.
    fn location(&self) -> String {
        format!(
            "s3://{}/{}",
            self.output_bucket,
            join_key(&self.output_prefix, "")
        )
    }

    /// The key prefix of one run's outputs.
    fn run_prefix(&self, run_id: &str) -> String {
        join_key(&self.output_prefix, &format!("runs/{run_id}"))
    }
}

/// A request the scan function takes.
#[derive(Debug)]
pub enum Request {
    /// Scan one Distributed Map batch.
    Batch(Value),
    /// Merge a run's batch outputs and publish its findings.
    Merge {
        /// The run (the state machine's execution name).
        run_id: String,
    },
}

/// A run id becomes a key segment: letters, digits, `-` and `_` only (execution names are).
fn run_id_at(value: &Value, path: &str) -> Result<String, ScanError> {
    let id = value
        .as_str()
        .ok_or_else(|| input(path, "missing: pass the execution name ($$.Execution.Name)"))?;
    let valid = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(input(
            path,
            "expected 1 to 128 letters, digits, `-` or `_` (an execution name)",
        ));
    }
    Ok(id.to_string())
}

impl Request {
    /// Tells a batch from a merge.
    pub fn parse(event: Value) -> Result<Self, ScanError> {
        if event.get("Items").is_some() {
            return Ok(Request::Batch(event));
        }
        if let Some(merge) = event.get("Merge") {
            return Ok(Request::Merge {
                run_id: run_id_at(&merge["RunId"], "$.Merge.RunId")?,
            });
        }
        Err(input(
            "$",
            "expected a Distributed Map batch ({\"Items\": [...], \"BatchInput\": {...}}) or {\"Merge\": {\"RunId\": ...}}",
        ))
    }
}

/// Handles one request; `publish` sends finding events (EventBridge's `PutEvents` in the
/// function) and returns one outcome per event.
pub fn handle_scan(
    store: &dyn ObjectStore,
    settings: &ScanSettings,
    publish: &dyn Fn(&[Value]) -> Vec<Published>,
    event: Value,
) -> Result<Value, ScanError> {
    match Request::parse(event)? {
        Request::Batch(batch) => scan_batch(store, settings, &batch),
        Request::Merge { run_id } => merge_run(store, settings, publish, &run_id),
    }
}

/// The custom identifiers and allow lists a batch brings with it.
type Definitions = (
    Vec<dragnet_model::CustomDataIdentifier>,
    Vec<(dragnet_model::AllowList, AllowSource)>,
);

/// Custom identifiers and allow lists of the batch input (JSON arrays, as the CLI's files).
fn definitions(store: &dyn ObjectStore, batch_input: &Value) -> Result<Definitions, ScanError> {
    let custom = match batch_input.get("CustomDataIdentifiers") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => parse_custom_identifiers(&v.to_string())
            .map_err(|e| input("$.BatchInput.CustomDataIdentifiers", e))?,
    };
    let mut allow = Vec::new();
    if let Some(v) = batch_input.get("AllowLists").filter(|v| !v.is_null()) {
        let lists =
            parse_allow_lists(&v.to_string()).map_err(|e| input("$.BatchInput.AllowLists", e))?;
        for list in lists {
            let source = dragnet_job::engine::allow_source(&list, store, |file| {
                Err(format!(
                    "wordsFile {file:?} is a local file, which the function cannot read; use s3WordsList"
                ))
            })
            .map_err(|e| input("$.BatchInput.AllowLists", e))?;
            allow.push((list, source));
        }
    }
    Ok((custom, allow))
}

/// Scans one batch and writes its outputs; returns a small summary (Step Functions keeps
/// every batch's result in the Map state's output, so it holds counts, not findings).
pub fn scan_batch(
    store: &dyn ObjectStore,
    settings: &ScanSettings,
    event: &Value,
) -> Result<Value, ScanError> {
    let batch = parse_batch(&event.to_string()).map_err(|e| input(e.path, e.message))?;
    let batch_input = &event["BatchInput"];
    let run_id = run_id_at(&batch_input["RunId"], "$.BatchInput.RunId")?;
    let spec_value = batch_input
        .get("JobSpec")
        .filter(|v| v.is_object())
        .ok_or_else(|| {
            input(
                "$.BatchInput.JobSpec",
                "missing: pass the CreateClassificationJob document",
            )
        })?;
    let spec = JobSpec::from_json(&spec_value.to_string())
        .map_err(|e| input("$.BatchInput.JobSpec", e))?;
    if !job_covers_bucket(&spec, &batch.bucket) {
        return Err(input(
            "$.BatchInput.Bucket",
            format!("{:?} is not one of the job spec's buckets", batch.bucket),
        ));
    }
    let created_at = match batch_input.get("StartedAt").and_then(Value::as_str) {
        Some(t) => Timestamp::parse(t).map_err(|e| input("$.BatchInput.StartedAt", e))?,
        None => Timestamp::now(),
    };
    let (custom, allow) = definitions(store, batch_input)?;
    let engine = job_engine(&spec, &custom, &allow).map_err(|e| input("$.BatchInput", e))?;
    let keys: Vec<&str> = batch.objects.iter().map(|o| o.key.as_str()).collect();
    let batch_id = stable_hex_id(&[&["batch", batch.bucket.as_str()], keys.as_slice()].concat());
    let objects = batch.objects.len();
    let job = JobRun {
        job_id: adhoc_job_id(&spec),
        created_at,
        region: settings.region.clone(),
        plan: PlanOptions {
            default_account: settings.account_id.clone(),
            sampling_seed: settings.sampling_seed,
            listing: Some(Listing::from([(batch.bucket.clone(), batch.objects)])),
            shard: None,
        },
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        spec,
        results_location: Some(settings.location()),
    };
    let work = tempfile::tempdir().map_err(|e| ScanError::Run(format!("a work folder: {e}")))?;
    let out = work.path().join("out");
    let report = run_job(&job, &engine, store, &out, &NoProgress)
        .map_err(|e| ScanError::Run(e.to_string()))?;
    if let Some((bucket, error)) = report.bucket_errors.first() {
        return Err(ScanError::Store(format!("bucket {bucket}: {error}")));
    }
    upload_tree(
        store,
        &out.join("results"),
        &settings.output_bucket,
        &settings.output_prefix,
        settings.results_kms_key_id.as_deref(),
    )
    .map_err(store_error)?;
    // A batch whose objects the scope left out writes no results folder.
    match std::fs::remove_dir_all(out.join("results")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(store_error(e)),
        _ => {}
    }
    let prefix = join_key(
        &settings.run_prefix(&run_id),
        &format!("batches/{batch_id}"),
    );
    upload_tree(store, &out, &settings.output_bucket, &prefix, None).map_err(store_error)?;
    tracing::info!(
        run = %run_id,
        batch = %batch_id,
        objects,
        findings = report.findings.len(),
        "batch scanned"
    );
    Ok(json!({
        "RunId": run_id,
        "Batch": batch_id,
        "Objects": objects,
        "ObjectsScanned": report.statistics.objects_scanned,
        "Findings": report.findings.len(),
        "Output": format!("s3://{}/{prefix}/", settings.output_bucket),
    }))
}

/// Merges a run's batch outputs, writes the merged run, and publishes its findings.
pub fn merge_run(
    store: &dyn ObjectStore,
    settings: &ScanSettings,
    publish: &dyn Fn(&[Value]) -> Vec<Published>,
    run_id: &str,
) -> Result<Value, ScanError> {
    let run_prefix = settings.run_prefix(run_id);
    let work = tempfile::tempdir().map_err(|e| ScanError::Run(format!("a work folder: {e}")))?;
    let batches = work.path().join("batches");
    let copied = download_prefix(
        store,
        &settings.output_bucket,
        &join_key(&run_prefix, "batches"),
        &batches,
    )
    .map_err(store_error)?;
    let output = format!("s3://{}/{run_prefix}/", settings.output_bucket);
    if copied == 0 {
        // An empty bucket or a scope that kept nothing: the map ran no batch.
        tracing::info!(run = %run_id, "no batch outputs; nothing to merge");
        return Ok(
            json!({"RunId": run_id, "Batches": 0, "Findings": 0, "Published": 0, "Output": output}),
        );
    }
    let mut dirs: Vec<_> = std::fs::read_dir(&batches)
        .map_err(store_error)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let merged_dir = work.path().join("merged");
    let merged = merge_outputs(&dirs, &merged_dir).map_err(|e| ScanError::Run(e.to_string()))?;
    for name in ["job.json", "findings.jsonl"] {
        upload_file(store, settings, &merged_dir.join(name), &run_prefix, name)?;
    }
    let now = Timestamp::now();
    let events: Vec<Value> = merged
        .findings
        .iter()
        .map(|f| {
            serde_json::to_value(FindingEvent::new(f.clone(), &settings.event_source, now))
                .expect("finding events serialize")
        })
        .collect();
    let outcomes = publish(&events);
    let rejected: Vec<&str> = outcomes
        .iter()
        .filter_map(|p| match p {
            Published::Rejected { error, .. } => Some(error.as_str()),
            Published::Accepted { .. } => None,
        })
        .collect();
    if let Some(first) = rejected.first() {
        return Err(ScanError::Publish {
            failed: rejected.len(),
            total: events.len(),
            first: first.to_string(),
        });
    }
    tracing::info!(run = %run_id, batches = dirs.len(), findings = merged.findings.len(), "run merged and published");
    Ok(json!({
        "RunId": run_id,
        "JobId": merged.job_id,
        "Batches": dirs.len(),
        "Findings": merged.findings.len(),
        "Published": events.len(),
        "Statistics": merged.statistics,
        "Output": output,
    }))
}

fn upload_file(
    store: &dyn ObjectStore,
    settings: &ScanSettings,
    file: &Path,
    prefix: &str,
    name: &str,
) -> Result<(), ScanError> {
    let key = join_key(prefix, name);
    let mut body = std::fs::File::open(file).map_err(store_error)?;
    store
        .put(
            &settings.output_bucket,
            &key,
            &mut body,
            &Default::default(),
        )
        .map_err(store_error)?;
    Ok(())
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
