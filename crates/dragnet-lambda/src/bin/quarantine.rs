//! `dragnet-quarantine-lambda`, packaged as `bootstrap`: the quarantine function.
//!
//! Environment: `DRAGNET_ISOLATION_BUCKET` (required), `DRAGNET_ISOLATION_PREFIX`,
//! `DRAGNET_PURGE_NONCURRENT_VERSIONS`, `DRAGNET_S3_FORCE_PATH_STYLE`, and the standard AWS
//! variables Lambda sets (region, credentials) or a deployment adds (`AWS_ENDPOINT_URL_S3`).

use dragnet_lambda::{handle, init_logging, serve, Settings};
use dragnet_store::s3::S3Store;

fn main() -> Result<(), lambda_runtime::Error> {
    init_logging();
    let settings = Settings::from_env(|name| std::env::var(name).ok())?;
    // The store owns its own runtime; it is created outside the one that serves invocations.
    let store = S3Store::connect(&settings.s3).map_err(Box::new)?;
    let isolation = settings.isolation;
    serve(move |event| handle(&store, &isolation, &event))
}
