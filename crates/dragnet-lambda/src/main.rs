//! `bootstrap`: the quarantine Lambda function for the `provided.al2023` runtime.
//!
//! Environment: `DRAGNET_ISOLATION_BUCKET` (required), `DRAGNET_ISOLATION_PREFIX`,
//! `DRAGNET_S3_FORCE_PATH_STYLE`, and the standard AWS variables Lambda sets (region,
//! credentials) or a deployment adds (`AWS_ENDPOINT_URL_S3`).

use std::sync::Arc;

use dragnet_lambda::{handle, HandlerError, Settings};
use dragnet_store::s3::S3Store;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

fn main() -> Result<(), lambda_runtime::Error> {
    // Lambda sends stdout/stderr to CloudWatch Logs, which time-stamps each line itself.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DRAGNET_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .without_time()
        .init();
    let settings = Settings::from_env(|name| std::env::var(name).ok())?;
    // The store owns its own runtime and is called from blocking threads; it is created and
    // dropped outside the runtime that serves invocations.
    let store = Arc::new(S3Store::connect(&settings.s3).map_err(Box::new)?);
    let isolation = Arc::new(settings.isolation);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let served = runtime.block_on(lambda_runtime::run(service_fn(
        |event: LambdaEvent<Value>| {
            let store = Arc::clone(&store);
            let isolation = Arc::clone(&isolation);
            async move {
                tokio::task::spawn_blocking(move || {
                    handle(store.as_ref(), &isolation, &event.payload)
                })
                .await
                .map_err(|e| HandlerError::Config(format!("the handler thread failed: {e}")))?
            }
        },
    )));
    drop(runtime);
    served
}
