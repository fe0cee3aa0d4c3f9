//! The quarantine function: an EventBridge rule on High findings invokes it with the finding
//! event itself (as the Macie walkthrough's Lambda is invoked), and it moves the object to the
//! isolation bucket with the mover's guarantees (copy, verify, record, then delete).
//!
//! The handler is synchronous and free of the Lambda runtime so tests call it directly against
//! any [`ObjectStore`]; `bin/quarantine.rs` only wires it to `lambda_runtime`. A failed invocation returns
//! an error whose type is the mover's reason code (`OBJECT_VERSION_MISMATCH`, ...), so the
//! function's asynchronous-invocation retries and its on-failure destination or dead-letter
//! queue see why, and the original object is intact in every failure case.

use dragnet_quarantine::{quarantine_event, Isolation, QuarantineError};
use dragnet_store::s3::S3Options;
use dragnet_store::ObjectStore;
use serde_json::Value;

use crate::{env_flag, FORCE_PATH_STYLE_VAR};

/// Environment variable naming the isolation bucket (required).
pub const ISOLATION_BUCKET_VAR: &str = "DRAGNET_ISOLATION_BUCKET";
/// Environment variable with the key prefix inside the isolation bucket (optional).
pub const ISOLATION_PREFIX_VAR: &str = "DRAGNET_ISOLATION_PREFIX";
/// Environment variable that makes the mover also delete the noncurrent versions of a moved
/// object in a versioned bucket (`true`).
pub const PURGE_NONCURRENT_VAR: &str = "DRAGNET_PURGE_NONCURRENT_VERSIONS";

/// What the function needs, read from its environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where quarantined objects go.
    pub isolation: Isolation,
    /// How to reach S3 (region and credentials come from the Lambda environment).
    pub s3: S3Options,
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The function is misconfigured: the message names the variable.
    #[error("configuration: {0}")]
    Config(String),
    /// The mover refused or failed; the original is intact unless the reason says the delete
    /// failed after a verified copy.
    #[error(transparent)]
    Quarantine(#[from] QuarantineError),
}

impl HandlerError {
    /// The error type Lambda reports: the mover's reason code, or `CONFIGURATION`.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Config(_) => "CONFIGURATION",
            HandlerError::Quarantine(e) => e.reason(),
        }
    }
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.error_type().to_string(),
            error_message: error.to_string(),
        }
    }
}

impl Settings {
    /// Reads the settings through `var` (the process environment in the function).
    ///
    /// The isolation bucket is a plain name: a CloudFormation template that keeps it in SSM
    /// Parameter Store passes `{{resolve:ssm:/name}}`, so the function needs no SSM call.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, HandlerError> {
        let bucket = var(ISOLATION_BUCKET_VAR)
            .filter(|b| !b.trim().is_empty())
            .ok_or_else(|| {
                HandlerError::Config(format!(
                    "{ISOLATION_BUCKET_VAR} is not set; set it to the isolation bucket's name"
                ))
            })?;
        let flag = |name: &str| env_flag(&var, name).map_err(HandlerError::Config);
        Ok(Settings {
            isolation: Isolation {
                bucket: bucket.trim().to_string(),
                prefix: var(ISOLATION_PREFIX_VAR).unwrap_or_default(),
                purge_noncurrent_versions: flag(PURGE_NONCURRENT_VAR)?,
            },
            s3: S3Options {
                force_path_style: flag(FORCE_PATH_STYLE_VAR)?,
                ..S3Options::default()
            },
        })
    }
}

/// Moves the object that the finding event names and returns the mover's summary
/// (`{"status": "MOVED" | "ALREADY_QUARANTINED", "record": ...}`). Invoking it twice with the
/// same event is safe: the second call reports `ALREADY_QUARANTINED`.
pub fn handle(
    store: &dyn ObjectStore,
    isolation: &Isolation,
    event: &Value,
) -> Result<Value, HandlerError> {
    let outcome = quarantine_event(store, event, isolation, "dragnet-lambda")?;
    let record = outcome.record();
    tracing::info!(
        finding = %record.finding_id,
        status = outcome.status(),
        isolation_bucket = %isolation.bucket,
        "quarantine handled"
    );
    Ok(outcome.summary())
}

#[cfg(test)]
#[path = "quarantine_tests.rs"]
mod tests;
