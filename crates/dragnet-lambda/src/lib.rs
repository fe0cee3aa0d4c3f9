//! dragnet's AWS Lambda functions for the `provided.al2023` runtime (each binary is packaged
//! as `bootstrap` in its own zip):
//!
//! - `dragnet-quarantine-lambda` ([`quarantine`]): an EventBridge rule on High findings invokes
//!   it with the finding event, and it moves the object to the isolation bucket;
//! - `dragnet-scan-lambda` ([`scan`]): the Step Functions state machine invokes it per
//!   Distributed Map batch to scan, then once to merge the run and publish its findings.
//!
//! Handlers are synchronous functions of (store, settings, event) that tests call directly;
//! [`serve`] wires one to `lambda_runtime`.
#![warn(missing_docs)]

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

pub mod quarantine;
pub mod scan;

pub use quarantine::{
    handle, HandlerError, Settings, ISOLATION_BUCKET_VAR, ISOLATION_PREFIX_VAR,
    PURGE_NONCURRENT_VAR,
};

/// Environment variable that turns on path-style S3 addressing (`true`), for S3-compatible
/// endpoints and emulators (`AWS_ENDPOINT_URL_S3` sets the endpoint, as for every AWS SDK).
pub const FORCE_PATH_STYLE_VAR: &str = "DRAGNET_S3_FORCE_PATH_STYLE";

/// A `true`/`false` variable; unset or empty is `false`, anything else is an error naming it.
pub(crate) fn env_flag(var: &impl Fn(&str) -> Option<String>, name: &str) -> Result<bool, String> {
    match var(name).as_deref().map(str::trim) {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(format!("{name} is {other:?}; use true or false")),
    }
}

/// An environment of these variables, for the settings tests.
#[cfg(test)]
pub(crate) fn test_env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: std::collections::BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

/// Logs to stdout without timestamps (CloudWatch Logs stamps each line), filtered by
/// `DRAGNET_LOG` (default `info`).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DRAGNET_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .without_time()
        .init();
}

/// Serves invocations with `handler` until the runtime stops. The handler runs on a blocking
/// thread because the stores and publishers own their own runtimes and block on them.
pub fn serve<H, E>(handler: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(Value) -> Result<Value, E> + Send + Sync + 'static,
    E: Into<Diagnostic> + Send + 'static,
{
    let handler = std::sync::Arc::new(handler);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let served = runtime.block_on(lambda_runtime::run(service_fn(
        |event: LambdaEvent<Value>| {
            let handler = std::sync::Arc::clone(&handler);
            async move {
                match tokio::task::spawn_blocking(move || handler(event.payload)).await {
                    Ok(result) => result.map_err(Into::into),
                    Err(e) => Err(Diagnostic {
                        error_type: "HANDLER_PANICKED".into(),
                        error_message: format!("the handler thread failed: {e}"),
                    }),
                }
            }
        },
    )));
    drop(runtime);
    served
}
