//! The API's [`Backend`] over dragnet's own parts: the job store (`[state]`), the object store
//! (`[store]`), the isolation bucket (`[quarantine]`), the scan engine for reveals, and the
//! audit log (`[server] audit_log`).
//!
//! The job store is opened per call (with `[state] shared`, that pulls the latest shared copy;
//! changes take the lease, so they wait while a run holds it).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use dragnet_api::{Backend, BackendError, RevealError};
use dragnet_detect::IdentifierKind;
use dragnet_findings::Investigation;
use dragnet_job::{StateError, StoredFinding, TokenRecord};
use dragnet_model::Timestamp;
use dragnet_quarantine::{Isolation, QuarantineError};
use dragnet_store::{ObjectStore, StoreError};
use serde_json::{json, Value};

use crate::config::Config;
use crate::job_store::{Access, Jobs};
use crate::{load, Exit};

/// What `dragnet serve` shares with the API: its health counters and the queue of runs the
/// API asked for.
#[derive(Default)]
pub struct ServiceState {
    /// Runs completed since start.
    pub runs_completed: u64,
    /// Runs that failed since start.
    pub runs_failed: u64,
    /// The job running now.
    pub running: Option<String>,
    /// The last run error.
    pub last_error: Option<String>,
    /// Jobs the API asked to run, in order.
    pub run_requests: Vec<String>,
    /// Jobs in the store at the scheduler's last look (health reads this, not the store).
    pub jobs: usize,
}

/// The backend of `dragnet serve`'s API.
pub struct ServeBackend {
    config: Config,
    service: Arc<Mutex<ServiceState>>,
    started: std::time::Instant,
    audit_file: Mutex<()>,
    /// With `[state] shared`, opening the store replaces the local copy (and its WAL files),
    /// which must not happen under a connection still using it: the API keeps its own local
    /// copy (not the scheduler's) and opens it one call at a time.
    store_lock: Option<Mutex<()>>,
}

fn unavailable(e: impl std::fmt::Display) -> BackendError {
    BackendError::Unavailable(e.to_string())
}

fn exit_error(e: Exit) -> BackendError {
    BackendError::Unavailable(format!("{:#}", e.error))
}

fn state_error(e: StateError) -> BackendError {
    match e {
        StateError::NoSuchJob(_) => BackendError::NotFound(e.to_string()),
        StateError::Conflict { .. } => BackendError::Conflict(e.to_string()),
        other => unavailable(other),
    }
}

/// An ETag without its quotes, for comparing a finding's with the store's.
fn bare_etag(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

impl ServeBackend {
    /// A backend over `config`, sharing `service` with the scheduler.
    pub fn new(mut config: Config, service: Arc<Mutex<ServiceState>>) -> Self {
        let shared = config.state.shared.is_some();
        if shared {
            config.state.path = config.state.path.with_extension("api.db");
        }
        ServeBackend {
            config,
            service,
            started: std::time::Instant::now(),
            audit_file: Mutex::new(()),
            store_lock: shared.then(|| Mutex::new(())),
        }
    }

    /// Opens the store for `access` (one call at a time with a shared store) and runs `use_it`
    /// on it, saving it afterwards when it was opened for writing.
    fn with_store<T>(
        &self,
        access: Access,
        use_it: impl FnOnce(&Jobs) -> Result<T, BackendError>,
    ) -> Result<T, BackendError> {
        let _one_at_a_time = self
            .store_lock
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|p| p.into_inner()));
        let store = Jobs::open(&self.config, access).map_err(exit_error)?;
        let out = use_it(&store)?;
        if access == Access::Write {
            store.save().map_err(exit_error)?;
        }
        Ok(out)
    }

    /// Opens the store for reading and runs `read` on it.
    fn read<T>(
        &self,
        read: impl FnOnce(&Jobs) -> Result<T, BackendError>,
    ) -> Result<T, BackendError> {
        self.with_store(Access::Read, read)
    }

    /// Opens the store for a change, makes it, and saves it.
    fn write<T>(
        &self,
        change: impl FnOnce(&Jobs) -> Result<T, BackendError>,
    ) -> Result<T, BackendError> {
        self.with_store(Access::Write, change)
    }

    fn objects(&self) -> Result<Arc<dyn ObjectStore>, BackendError> {
        crate::store::open(&self.config).map_err(|e| unavailable(format!("{e:#}")))
    }

    fn isolation(&self) -> Isolation {
        Isolation {
            bucket: self.config.quarantine.bucket.clone(),
            prefix: self.config.quarantine.prefix.clone(),
            purge_noncurrent_versions: self.config.quarantine.purge_noncurrent_versions,
        }
    }

    /// Where the finding's object is to be read, and how to tell it is still what was
    /// scanned: the original, whose ETag must still be the finding's; or, when the caller may
    /// read the isolation bucket, the quarantined copy, whose content must match the checksums
    /// the mover verified (a copy's ETag need not equal the original's).
    fn reveal_location(
        &self,
        objects: &dyn ObjectStore,
        finding: &StoredFinding,
        reads_isolation: bool,
    ) -> Result<RevealSource, RevealError> {
        let record =
            dragnet_quarantine::find_record(objects, &self.isolation(), &finding_id(finding))
                .map_err(|e| RevealError::Backend(unavailable(e)))?;
        match record {
            Some(r) if reads_isolation => Ok(RevealSource {
                bucket: r.isolation.bucket,
                key: r.isolation.key,
                expect: Expect::Md5(r.checksums.md5),
            }),
            Some(r) => Err(RevealError::Quarantined(format!(
                "the object was quarantined to s3://{}/{} and this token may not read the isolation bucket",
                r.isolation.bucket, r.isolation.key
            ))),
            None => Ok(RevealSource {
                bucket: finding.bucket.clone(),
                key: finding.key.clone(),
                expect: Expect::ETag(
                    bare_etag(
                        finding.finding["resourcesAffected"]["s3Object"]["eTag"]
                            .as_str()
                            .unwrap_or(""),
                    )
                    .to_string(),
                ),
            }),
        }
    }
}

/// The object a reveal reads.
struct RevealSource {
    bucket: String,
    key: String,
    expect: Expect,
}

/// How a reveal knows the object is the one that was scanned.
enum Expect {
    /// Its ETag, before and after the read (an ETag is not always the content's MD5: SSE-KMS
    /// and multipart objects).
    ETag(String),
    /// The MD5 of the bytes read (a quarantined copy, against its record).
    Md5(String),
}

/// Quarantine deliveries that failed: the records of the dead-letter file
/// (`[events] dead_letter`) whose target is the mover, as [`Backend::quarantine_failures`]
/// describes them. A missing file means no failures; a line that is not JSON is skipped with a
/// warning naming the file and line.
pub fn quarantine_failures(config: &Config) -> Result<Vec<Value>, BackendError> {
    let path = &config.events.dead_letter;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(unavailable(format!("{}: {e}", path.display()))),
    };
    let mut failures = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let Ok(record) = serde_json::from_str::<Value>(line) else {
            tracing::warn!(file = %path.display(), line = n + 1, "dead-letter line is not JSON; skipped");
            continue;
        };
        if !record["arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("dragnet:quarantine"))
        {
            continue;
        }
        let event = &record["event"];
        let finding = if event["detail"].is_object() {
            &event["detail"]
        } else {
            event
        };
        failures.push(json!({
            "id": finding["id"],
            "time": record["time"],
            "rule": record["rule"],
            "targetId": record["targetId"],
            "attempts": record["attempts"],
            "error": record["error"],
            "bucket": finding["resourcesAffected"]["s3Bucket"]["name"],
            "key": finding["resourcesAffected"]["s3Object"]["key"],
            "severity": finding["severity"]["description"],
        }));
    }
    Ok(failures)
}

fn finding_id(finding: &StoredFinding) -> String {
    finding.finding["id"].as_str().unwrap_or("").to_string()
}

impl Backend for ServeBackend {
    fn token(&self, hash: &str) -> Result<Option<TokenRecord>, BackendError> {
        self.read(|s| s.token_by_hash(hash).map_err(state_error))
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, BackendError> {
        self.read(|s| s.tokens().map_err(state_error))
    }

    fn create_token(&self, token: &TokenRecord) -> Result<(), BackendError> {
        self.write(|s| s.create_token(token).map_err(state_error))
    }

    fn revoke_token(&self, token_id: &str) -> Result<bool, BackendError> {
        self.write(|s| {
            s.revoke_token(token_id, Timestamp::now())
                .map_err(state_error)
        })
    }

    fn findings(&self) -> Result<Vec<StoredFinding>, BackendError> {
        self.read(|s| s.findings().map_err(state_error))
    }

    fn finding(&self, finding_id: &str) -> Result<Option<StoredFinding>, BackendError> {
        self.read(|s| s.finding(finding_id).map_err(state_error))
    }

    fn jobs(&self) -> Result<Vec<Value>, BackendError> {
        self.read(|store| {
            let jobs = store.jobs().map_err(state_error)?;
            jobs.iter()
                .map(|j| crate::jobs::describe(&self.config, store, j).map_err(exit_error))
                .collect()
        })
    }

    fn job(&self, job_id: &str) -> Result<Value, BackendError> {
        self.read(|store| {
            let job = store.job(job_id).map_err(state_error)?;
            crate::jobs::describe(&self.config, store, &job).map_err(exit_error)
        })
    }

    fn update_job(&self, job_id: &str, status: &str) -> Result<Value, BackendError> {
        self.write(|store| {
            let job = store
                .update_status(job_id, status, Timestamp::now())
                .map_err(state_error)?;
            crate::jobs::describe(&self.config, store, &job).map_err(exit_error)
        })
    }

    fn request_run(&self, job_id: &str) -> Result<Value, BackendError> {
        let job = self.read(|s| s.job(job_id).map_err(state_error))?;
        match job.status.as_str() {
            "CANCELLED" | "COMPLETE" => {
                return Err(BackendError::Conflict(format!(
                    "job {job_id} is {}; it does not run again",
                    job.status
                )))
            }
            "USER_PAUSED" => {
                return Err(BackendError::Conflict(format!(
                    "job {job_id} is USER_PAUSED; resume it before running it"
                )))
            }
            _ => {}
        }
        let mut service = self.service.lock().unwrap_or_else(|p| p.into_inner());
        if !service.run_requests.iter().any(|j| j == job_id) {
            service.run_requests.push(job_id.to_string());
        }
        Ok(json!({"jobId": job_id, "status": "QUEUED", "queued": service.run_requests}))
    }

    fn quarantine_records(&self) -> Result<Vec<Value>, BackendError> {
        let objects = self.objects()?;
        let records = dragnet_quarantine::list_records(objects.as_ref(), &self.isolation())
            .map_err(|e| match e {
                QuarantineError::Store { .. } => unavailable(e),
                other => BackendError::Conflict(other.to_string()),
            })?;
        records
            .iter()
            .map(|r| serde_json::to_value(r).map_err(unavailable))
            .collect()
    }

    fn quarantine_failures(&self) -> Result<Vec<Value>, BackendError> {
        quarantine_failures(&self.config)
    }

    fn restore(&self, finding_id: &str) -> Result<Value, BackendError> {
        let objects = self.objects()?;
        let record = dragnet_quarantine::restore(objects.as_ref(), &self.isolation(), finding_id)
            .map_err(|e| match e {
            QuarantineError::NoRecord { .. } => BackendError::NotFound(e.to_string()),
            QuarantineError::RestoreConflict { .. } => BackendError::Conflict(e.to_string()),
            other => unavailable(other),
        })?;
        Ok(json!({"restored": record}))
    }

    fn reveal(
        &self,
        finding: &StoredFinding,
        reads_isolation: bool,
        per_type: usize,
    ) -> Result<BTreeMap<String, Vec<String>>, RevealError> {
        let objects = self.objects()?;
        let source = self.reveal_location(objects.as_ref(), finding, reads_isolation)?;
        let (bucket, key) = (&source.bucket, &source.key);
        let changed = |why: &str| {
            RevealError::ObjectChanged(format!(
                "s3://{bucket}/{key} {why} since the scan; run the job again for a current finding"
            ))
        };
        let etag_now = || match objects.head(bucket, key) {
            Ok(m) => Ok(bare_etag(m.etag.as_deref().unwrap_or("")).to_string()),
            Err(StoreError::NoSuchKey { .. }) => Err(changed("was deleted")),
            Err(e) => Err(RevealError::Backend(unavailable(e))),
        };
        if let Expect::ETag(scanned) = &source.expect {
            if etag_now()? != *scanned {
                return Err(changed("changed (its ETag differs)"));
            }
        }
        // The job's own engine: the same identifiers and allow lists as the scan.
        let job = self.read(|s| s.job(&finding.job_id).map_err(state_error))?;
        let custom = load::custom_identifiers(&self.config.identifiers)
            .map_err(|e| unavailable(format!("{e:#}")))?;
        let allow = load::allow_lists(&self.config.allow_lists, objects.as_ref())
            .map_err(|e| unavailable(format!("{e:#}")))?;
        let engine = dragnet_job::job_engine(&job.spec, &custom, &allow)
            .map_err(|e| unavailable(format!("job {}: {e}", job.job_id)))?;
        let body = objects
            .get(bucket, key)
            .map_err(|e| RevealError::Backend(unavailable(e)))?;
        let (outcome, values) = dragnet_job::reveal_values(&engine, key, body, None, per_type);
        // The bytes read must be the scanned ones too, not a version written in between.
        let unchanged = match &source.expect {
            Expect::ETag(scanned) => etag_now()? == *scanned,
            Expect::Md5(md5) => match outcome.md5.as_deref() {
                Some(read) => read == md5,
                None => {
                    return Err(RevealError::Backend(unavailable(format!(
                        "s3://{bucket}/{key} could not be read in full ({})",
                        outcome.reason.as_deref().unwrap_or("unknown reason")
                    ))))
                }
            },
        };
        if !unchanged {
            return Err(changed("changed while it was read"));
        }
        let mut by_type: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (i, found) in values.into_iter().enumerate() {
            if found.is_empty() {
                continue;
            }
            let info = engine.info(i);
            let name = match info.kind {
                IdentifierKind::Managed { .. } => info.id.clone(),
                IdentifierKind::Custom { .. } => info.name.clone(),
            };
            by_type.entry(name).or_default().extend(found);
        }
        Ok(by_type)
    }

    fn investigations(&self) -> Vec<Investigation> {
        dragnet_findings::investigations::merged(&self.config.investigations)
    }

    fn audit(&self, record: &Value) -> Result<(), BackendError> {
        let _one_writer = self.audit_file.lock().unwrap_or_else(|p| p.into_inner());
        let path = &self.config.server.audit_log;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| unavailable(format!("{}: {e}", dir.display())))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| unavailable(format!("audit log {}: {e}", path.display())))?;
        let mut line = record.to_string();
        line.push('\n');
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| unavailable(format!("audit log {}: {e}", path.display())))
    }

    fn health(&self) -> Value {
        let s = self.service.lock().unwrap_or_else(|p| p.into_inner());
        json!({
            "status": "ok",
            "uptimeSeconds": self.started.elapsed().as_secs(),
            "jobs": s.jobs,
            "runsCompleted": s.runs_completed,
            "runsFailed": s.runs_failed,
            "running": s.running,
            "lastError": s.last_error,
            "queuedRuns": s.run_requests,
        })
    }
}
