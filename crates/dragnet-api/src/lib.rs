//! The HTTP API (and console) of `dragnet serve`: jobs, findings, statistics, quarantine
//! records, saved investigations and tokens, behind bearer tokens with four roles; reveal of
//! the values behind a finding for investigators, audited.
//!
//! Paths and bodies follow Macie's REST API where Macie has the operation (`POST /findings`
//! is ListFindings, `POST /findings/describe` GetFindings, `POST /findings/statistics`
//! GetFindingStatistics, `GET /findings/{id}/reveal` GetSensitiveDataOccurrences,
//! `POST /jobs/list`, `GET`/`PATCH /jobs/{id}`); the rest is dragnet's and documented in
//! `docs/openapi.json`.
//!
//! Everything that touches storage goes through [`Backend`], which the binary implements over
//! the job store, the object store and the config; handlers call it on blocking threads.
#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;

use dragnet_findings::Investigation;
use dragnet_job::{StoredFinding, TokenRecord};
use dragnet_model::Timestamp;
use serde_json::Value;

mod auth;
mod console;
mod error;
mod limit;
mod routes;
pub mod tls;

pub use auth::{hash_token, new_token, NewToken};
pub use error::ApiError;
pub use routes::{router, token_summary};

/// Why a backend call failed; the message is shown to the caller, so it names what is wrong
/// and never holds a detected value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// No such job, finding or record (404).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The request is not valid (400).
    #[error("{0}")]
    Invalid(String),
    /// A store or service the request needs failed (503).
    #[error("{0}")]
    Unavailable(String),
}

/// Why a reveal was refused (Macie answers these with 422 and a code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevealError {
    /// The object changed (or is gone) since the scan: the values would not be the ones the
    /// finding reports.
    #[error("OBJECT_UNAVAILABLE: {0}")]
    ObjectChanged(String),
    /// The object was quarantined and the caller's token may not read the isolation bucket.
    #[error("OBJECT_UNAVAILABLE: {0}")]
    Quarantined(String),
    /// The finding has no detection types that can be revealed.
    #[error("UNSUPPORTED_FINDING_TYPE: {0}")]
    Unsupported(String),
    /// The object or the job could not be read.
    #[error("{0}")]
    Backend(#[from] BackendError),
}

/// What the API needs from the rest of dragnet. Calls block (SQLite, object stores); the
/// router runs them on blocking threads.
pub trait Backend: Send + Sync + 'static {
    /// The token whose secret hashes to `hash`, revoked or not.
    fn token(&self, hash: &str) -> Result<Option<TokenRecord>, BackendError>;
    /// Every token.
    fn tokens(&self) -> Result<Vec<TokenRecord>, BackendError>;
    /// Stores a new token.
    fn create_token(&self, token: &TokenRecord) -> Result<(), BackendError>;
    /// Revokes a token; false when there is none with that id.
    fn revoke_token(&self, token_id: &str) -> Result<bool, BackendError>;
    /// Every stored finding.
    fn findings(&self) -> Result<Vec<StoredFinding>, BackendError>;
    /// One stored finding.
    fn finding(&self, finding_id: &str) -> Result<Option<StoredFinding>, BackendError>;
    /// Every job, in DescribeClassificationJob shape.
    fn jobs(&self) -> Result<Vec<Value>, BackendError>;
    /// One job, in DescribeClassificationJob shape.
    fn job(&self, job_id: &str) -> Result<Value, BackendError>;
    /// Sets a job's status (`RUNNING` to resume, `USER_PAUSED`, `CANCELLED`); the job after.
    fn update_job(&self, job_id: &str, status: &str) -> Result<Value, BackendError>;
    /// Asks the scheduler to run the job now; what was queued.
    fn request_run(&self, job_id: &str) -> Result<Value, BackendError>;
    /// Quarantine records (the mover's, with where each object went).
    fn quarantine_records(&self) -> Result<Vec<Value>, BackendError>;
    /// Quarantine deliveries that failed (dead-lettered), as records with `id` (the finding
    /// id), `time`, `rule`, `targetId`, `error`, `attempts`, `bucket`, `key`, `severity`.
    fn quarantine_failures(&self) -> Result<Vec<Value>, BackendError>;
    /// Moves a quarantined object back; the record of what was restored.
    fn restore(&self, finding_id: &str) -> Result<Value, BackendError>;
    /// Re-reads the finding's object and returns up to `per_type` values of each detection
    /// type (managed id, or custom identifier name), refusing a changed object and, unless
    /// `reads_isolation`, a quarantined one.
    fn reveal(
        &self,
        finding: &StoredFinding,
        reads_isolation: bool,
        per_type: usize,
    ) -> Result<BTreeMap<String, Vec<String>>, RevealError>;
    /// Built-in and configured investigations.
    fn investigations(&self) -> Vec<Investigation>;
    /// Appends a record to the audit log (never holding a detected value).
    fn audit(&self, record: &Value) -> Result<(), BackendError>;
    /// The service's health document (`GET /health`).
    fn health(&self) -> Value;
    /// The current time (queries resolve `now-24h` against it).
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Limits of the API.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Reveals one token may make per minute (further ones get 429).
    pub reveals_per_minute: u32,
    /// Largest request body, in bytes (larger ones get 413).
    pub max_body_bytes: usize,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            reveals_per_minute: 10,
            max_body_bytes: 64 * 1024,
        }
    }
}

/// What handlers share.
pub(crate) struct AppState {
    pub backend: Arc<dyn Backend>,
    pub options: ApiOptions,
    pub reveals: limit::RateLimiter,
}

#[cfg(test)]
mod tests;
