//! The job store of the embedded default: a SQLite file holding jobs, their runs, per-object
//! state for incremental runs, and each run's results and findings.
//!
//! Results and findings are stored per run and object (primary keys), and exported when the run
//! completes, so a run interrupted part-way and resumed reports every object exactly once.

use std::path::Path;
use std::sync::Mutex;

use dragnet_model::jobspec::{JobSpec, JobType};
use dragnet_model::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

/// Why the job store failed or refused.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The SQLite file could not be used.
    #[error("job store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// No such job.
    #[error("job {0} does not exist (dragnet jobs list shows the jobs)")]
    NoSuchJob(String),
    /// The status change is not allowed (Macie answers ConflictException).
    #[error("ConflictException: job {job} is {from}; it cannot become {to} (allowed: {allowed})")]
    Conflict {
        /// Job id.
        job: String,
        /// Current status.
        from: String,
        /// Requested status.
        to: String,
        /// What the current status allows.
        allowed: &'static str,
    },
    /// A stored document is not valid.
    #[error("job store holds an invalid {what}: {message}")]
    Corrupt {
        /// What.
        what: &'static str,
        /// Why.
        message: String,
    },
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// Job id.
    pub job_id: String,
    /// The spec as created (with name and clientToken filled in).
    pub spec: JobSpec,
    /// `RUNNING`, `IDLE`, `COMPLETE`, `USER_PAUSED`, `CANCELLED` or `PAUSED`.
    pub status: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// When a scheduled job runs next.
    pub next_run_at: Option<Timestamp>,
    /// When the user paused it.
    pub paused_at: Option<Timestamp>,
}

/// A run of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// Run id.
    pub run_id: String,
    /// Job id.
    pub job_id: String,
    /// When the run started (its first attempt).
    pub started_at: Timestamp,
    /// When it completed.
    pub ended_at: Option<Timestamp>,
    /// `RUNNING` (unfinished: the next run of the job resumes it) or `COMPLETE`.
    pub status: String,
    /// Attempts (1 plus resumptions).
    pub attempts: u64,
    /// Run statistics (JSON), when complete.
    pub statistics: Option<serde_json::Value>,
    /// `NONE` or `ERROR`.
    pub error_status: String,
}

/// What a scheduled job remembers about an object between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectState {
    /// Size when analysed.
    pub size: u64,
    /// Last-Modified when analysed (ms).
    pub last_modified: i64,
    /// ETag when analysed.
    pub etag: String,
    /// Fingerprint of the identifiers and allow lists it was analysed with.
    pub fingerprint: String,
    /// The run that analysed it.
    pub run_id: String,
}

/// The job store.
pub struct JobStore {
    conn: Mutex<Connection>,
    /// Folder of the job status log: one JSON Lines stream per job, as Macie's CloudWatch log
    /// group `/aws/macie/classificationjobs` has one log stream per job.
    log_dir: std::path::PathBuf,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY, spec TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,
    next_run_at INTEGER, paused_at INTEGER, client_token TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, job_id TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER,
    status TEXT NOT NULL, attempts INTEGER NOT NULL, statistics TEXT, error_status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    job_id TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL,
    last_modified INTEGER NOT NULL, etag TEXT NOT NULL, fingerprint TEXT NOT NULL, run_id TEXT NOT NULL,
    PRIMARY KEY (job_id, bucket, key));
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL, account TEXT NOT NULL, result TEXT NOT NULL,
    finding TEXT, PRIMARY KEY (run_id, bucket, key));
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL, revoked_at INTEGER, reads_isolation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, time INTEGER NOT NULL, event_type TEXT NOT NULL,
    details TEXT NOT NULL);
";

/// A `jobs` row: id, spec, status, created, next run, paused.
type JobRow = (String, String, String, i64, Option<i64>, Option<i64>);

fn ts(ms: Option<i64>) -> Option<Timestamp> {
    ms.map(Timestamp::from_millis)
}

impl JobStore {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StateError::Corrupt {
                what: "folder",
                message: format!("{}: {e}", parent.display()),
            })?;
        }
        let conn = Connection::open(path)?;
        conn.execute_batch(SCHEMA)?;
        let log_dir = path
            .parent()
            .unwrap_or(Path::new("."))
            .join("logs")
            .join("classificationjobs");
        Ok(JobStore {
            conn: Mutex::new(conn),
            log_dir,
        })
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a new job; with a `clientToken` already used, returns the existing job instead
    /// (CreateClassificationJob's idempotency).
    pub fn create_job(&self, job: &JobRecord) -> Result<JobRecord, StateError> {
        if let Some(token) = &job.spec.client_token {
            let existing: Option<String> = self
                .conn()
                .query_row(
                    "SELECT job_id FROM jobs WHERE client_token = ?1",
                    params![token],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = existing {
                return self.job(&id);
            }
        }
        let spec = serde_json::to_string(&job.spec).expect("serializable");
        self.conn().execute(
            "INSERT INTO jobs (job_id, spec, status, created_at, next_run_at, paused_at, client_token) VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6)",
            params![job.job_id, spec, job.status, job.created_at.millis(), job.next_run_at.map(|t| t.millis()), job.spec.client_token],
        )?;
        self.event(
            &job.job_id,
            job.created_at,
            "JOB_CREATED",
            serde_json::json!({"jobType": job.spec.job_type}),
        )?;
        self.job(&job.job_id)
    }

    fn row_to_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    }

    fn to_job(row: JobRow) -> Result<JobRecord, StateError> {
        let spec: JobSpec = serde_json::from_str(&row.1).map_err(|e| StateError::Corrupt {
            what: "job spec",
            message: e.to_string(),
        })?;
        Ok(JobRecord {
            job_id: row.0,
            spec,
            status: row.2,
            created_at: Timestamp::from_millis(row.3),
            next_run_at: ts(row.4),
            paused_at: ts(row.5),
        })
    }

    /// One job.
    pub fn job(&self, job_id: &str) -> Result<JobRecord, StateError> {
        let row = self
            .conn()
            .query_row("SELECT job_id, spec, status, created_at, next_run_at, paused_at FROM jobs WHERE job_id = ?1", params![job_id], Self::row_to_job)
            .optional()?
            .ok_or_else(|| StateError::NoSuchJob(job_id.to_string()))?;
        Self::to_job(row)
    }

    /// Every job, oldest first.
    pub fn jobs(&self) -> Result<Vec<JobRecord>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT job_id, spec, status, created_at, next_run_at, paused_at FROM jobs ORDER BY created_at, job_id")?;
        let rows = stmt
            .query_map([], Self::row_to_job)?
            .collect::<Result<Vec<_>, _>>()?;
        drop(stmt);
        drop(conn);
        rows.into_iter().map(Self::to_job).collect()
    }

    /// Changes a job's status as `UpdateClassificationJob` allows (macie.md §1.3):
    /// `CANCELLED` from IDLE, PAUSED, RUNNING or USER_PAUSED (for good); `RUNNING` only from
    /// USER_PAUSED; `USER_PAUSED` from IDLE, PAUSED or RUNNING.
    pub fn update_status(
        &self,
        job_id: &str,
        to: &str,
        now: Timestamp,
    ) -> Result<JobRecord, StateError> {
        let job = self.job(job_id)?;
        let from = job.status.as_str();
        let (ok, allowed) = match to {
            "CANCELLED" => (
                matches!(from, "IDLE" | "PAUSED" | "RUNNING" | "USER_PAUSED"),
                "from IDLE, PAUSED, RUNNING or USER_PAUSED",
            ),
            "RUNNING" => (from == "USER_PAUSED", "from USER_PAUSED"),
            "USER_PAUSED" => (
                matches!(from, "IDLE" | "PAUSED" | "RUNNING"),
                "from IDLE, PAUSED or RUNNING",
            ),
            _ => (false, "CANCELLED, RUNNING or USER_PAUSED"),
        };
        if !ok {
            return Err(StateError::Conflict {
                job: job_id.into(),
                from: from.into(),
                to: to.into(),
                allowed,
            });
        }
        // Resuming a recurring job that is not mid-run makes it IDLE until its next run.
        let resumed_status = if to == "RUNNING"
            && job.spec.job_type == JobType::Scheduled
            && self.unfinished_run(job_id)?.is_none()
        {
            "IDLE"
        } else {
            to
        };
        let paused_at = (to == "USER_PAUSED").then(|| now.millis());
        self.conn().execute(
            "UPDATE jobs SET status = ?2, paused_at = ?3 WHERE job_id = ?1",
            params![job_id, resumed_status, paused_at],
        )?;
        let event = match to {
            "CANCELLED" => "JOB_CANCELLED_BY_USER",
            "USER_PAUSED" => "JOB_PAUSED_BY_USER",
            _ => "JOB_RESUMED_BY_USER",
        };
        self.event(job_id, now, event, serde_json::json!({"from": from}))?;
        self.job(job_id)
    }

    /// Sets status and next run time after a run.
    pub fn set_after_run(
        &self,
        job_id: &str,
        status: &str,
        next_run_at: Option<Timestamp>,
    ) -> Result<(), StateError> {
        self.conn().execute(
            "UPDATE jobs SET status = ?2, next_run_at = ?3 WHERE job_id = ?1",
            params![job_id, status, next_run_at.map(|t| t.millis())],
        )?;
        Ok(())
    }

    /// The run of this job that started but did not complete, if any.
    pub fn unfinished_run(&self, job_id: &str) -> Result<Option<RunRecord>, StateError> {
        Ok(self
            .runs(job_id)?
            .into_iter()
            .find(|r| r.status == "RUNNING"))
    }

    /// Starts a run, or a new attempt of an unfinished one.
    pub fn begin_run(
        &self,
        job_id: &str,
        run_id: &str,
        now: Timestamp,
    ) -> Result<RunRecord, StateError> {
        let conn = self.conn();
        let n = conn.execute(
            "UPDATE runs SET attempts = attempts + 1 WHERE run_id = ?1 AND status = 'RUNNING'",
            params![run_id],
        )?;
        if n == 0 {
            conn.execute(
                "INSERT INTO runs (run_id, job_id, started_at, ended_at, status, attempts, statistics, error_status) VALUES (?1, ?2, ?3, NULL, 'RUNNING', 1, NULL, 'NONE')",
                params![run_id, job_id, now.millis()],
            )?;
        }
        conn.execute(
            "UPDATE jobs SET status = 'RUNNING' WHERE job_id = ?1",
            params![job_id],
        )?;
        drop(conn);
        let event = if n == 0 { "RUN_STARTED" } else { "RUN_RESUMED" };
        self.event(job_id, now, event, serde_json::json!({"runId": run_id}))?;
        self.runs(job_id)?
            .into_iter()
            .find(|r| r.run_id == run_id)
            .ok_or_else(|| StateError::NoSuchJob(job_id.into()))
    }

    /// Marks a run complete with its statistics.
    pub fn complete_run(
        &self,
        job_id: &str,
        run_id: &str,
        now: Timestamp,
        statistics: &serde_json::Value,
        error: bool,
    ) -> Result<(), StateError> {
        self.conn().execute(
            "UPDATE runs SET status = 'COMPLETE', ended_at = ?2, statistics = ?3, error_status = ?4 WHERE run_id = ?1",
            params![run_id, now.millis(), statistics.to_string(), if error { "ERROR" } else { "NONE" }],
        )?;
        self.event(job_id, now, "RUN_COMPLETED", serde_json::json!({"runId": run_id, "errorStatus": if error { "ERROR" } else { "NONE" }}))
    }

    /// Every run of a job, oldest first.
    pub fn runs(&self, job_id: &str) -> Result<Vec<RunRecord>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT run_id, job_id, started_at, ended_at, status, attempts, statistics, error_status FROM runs WHERE job_id = ?1 ORDER BY started_at, run_id")?;
        let rows = stmt.query_map(params![job_id], |r| {
            Ok(RunRecord {
                run_id: r.get(0)?,
                job_id: r.get(1)?,
                started_at: Timestamp::from_millis(r.get(2)?),
                ended_at: ts(r.get(3)?),
                status: r.get(4)?,
                attempts: r.get::<_, i64>(5)? as u64,
                statistics: r
                    .get::<_, Option<String>>(6)?
                    .and_then(|s| serde_json::from_str(&s).ok()),
                error_status: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// What the job remembers about an object.
    pub fn object_state(
        &self,
        job_id: &str,
        bucket: &str,
        key: &str,
    ) -> Result<Option<ObjectState>, StateError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT size, last_modified, etag, fingerprint, run_id FROM objects WHERE job_id = ?1 AND bucket = ?2 AND key = ?3",
                params![job_id, bucket, key],
                |r| Ok(ObjectState { size: r.get::<_, i64>(0)? as u64, last_modified: r.get(1)?, etag: r.get(2)?, fingerprint: r.get(3)?, run_id: r.get(4)? }),
            )
            .optional()?)
    }

    /// Records an analysed object: its state for later runs, and its result and finding for
    /// this run, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn record_object(
        &self,
        job_id: &str,
        run_id: &str,
        bucket: &str,
        key: &str,
        account: &str,
        state: &ObjectState,
        result: &str,
        finding: Option<&str>,
    ) -> Result<(), StateError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO objects (job_id, bucket, key, size, last_modified, etag, fingerprint, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![job_id, bucket, key, state.size as i64, state.last_modified, state.etag, state.fingerprint, run_id],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO results (run_id, bucket, key, account, result, finding) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![run_id, bucket, key, account, result, finding],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The results (account, result JSON, finding JSON) of a run, in bucket and key order.
    pub fn run_results(
        &self,
        run_id: &str,
    ) -> Result<Vec<(String, String, Option<String>)>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT account, result, finding FROM results WHERE run_id = ?1 ORDER BY bucket, key",
        )?;
        let rows = stmt.query_map(params![run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Whether this run already analysed the object (resumption).
    pub fn done_in_run(&self, run_id: &str, bucket: &str, key: &str) -> Result<bool, StateError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM results WHERE run_id = ?1 AND bucket = ?2 AND key = ?3",
                params![run_id, bucket, key],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Writes a consistent copy of the whole store to `path` (SQLite's `VACUUM INTO`), for
    /// saving it elsewhere while this process keeps using it.
    pub fn snapshot(&self, path: &Path) -> Result<(), StateError> {
        let _ = std::fs::remove_file(path);
        self.conn()
            .execute("VACUUM INTO ?1", params![path.to_string_lossy()])?;
        Ok(())
    }

    /// Where the job's status log stream is.
    pub fn log_path(&self, job_id: &str) -> std::path::PathBuf {
        self.log_dir.join(format!("{job_id}.jsonl"))
    }

    /// Appends a job event (the job status log) to the store and to the job's log stream.
    pub fn event(
        &self,
        job_id: &str,
        time: Timestamp,
        event_type: &str,
        details: serde_json::Value,
    ) -> Result<(), StateError> {
        self.conn().execute(
            "INSERT INTO events (job_id, time, event_type, details) VALUES (?1, ?2, ?3, ?4)",
            params![job_id, time.millis(), event_type, details.to_string()],
        )?;
        let line = serde_json::json!({"jobId": job_id, "eventType": event_type, "occurredAt": time, "details": details});
        let written = std::fs::create_dir_all(&self.log_dir).and_then(|_| {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.log_path(job_id))?;
            writeln!(f, "{line}")
        });
        if let Err(e) = written {
            // The event is in the store; the file is a convenience copy.
            tracing::warn!(job = job_id, error = %e, "could not append to the job status log file");
        }
        Ok(())
    }

    /// The job's events as JSON lines (`jobId`, `eventType`, `occurredAt`, details).
    pub fn events(&self, job_id: &str) -> Result<Vec<serde_json::Value>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT time, event_type, details FROM events WHERE job_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![job_id], |r| {
            let details: String = r.get(2)?;
            Ok(serde_json::json!({
                "jobId": job_id,
                "eventType": r.get::<_, String>(1)?,
                "occurredAt": Timestamp::from_millis(r.get(0)?),
                "details": serde_json::from_str::<serde_json::Value>(&details).unwrap_or_default(),
            }))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}
