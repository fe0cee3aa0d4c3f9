//! `dragnet-scan-lambda`, packaged as `bootstrap`: the scan function of the Step Functions
//! deployment (a Distributed Map batch in, or a merge request).
//!
//! Environment: `DRAGNET_OUTPUT_LOCATION` (required, `s3://bucket/prefix`),
//! `DRAGNET_RESULTS_KMS_KEY`, `DRAGNET_ACCOUNT_ID`, `DRAGNET_EVENT_BUS`,
//! `DRAGNET_EVENT_SOURCE`, `DRAGNET_SAMPLING_SEED`, `DRAGNET_S3_FORCE_PATH_STYLE`, and the
//! standard AWS variables.

use dragnet_events::aws::AwsOptions;
use dragnet_events::bus::RetryPolicy;
use dragnet_events::eventbridge::EventBridgePublisher;
use dragnet_lambda::scan::{handle_scan, ScanSettings};
use dragnet_lambda::{init_logging, serve};
use dragnet_store::s3::S3Store;

fn main() -> Result<(), lambda_runtime::Error> {
    init_logging();
    let settings = ScanSettings::from_env(|name| std::env::var(name).ok())?;
    let store = S3Store::connect(&settings.s3).map_err(Box::new)?;
    let publisher = EventBridgePublisher::new(
        &settings.event_bus,
        &AwsOptions {
            region: Some(settings.region.clone()),
            endpoint_url: None,
        },
        RetryPolicy::default(),
    )?;
    serve(move |event| {
        handle_scan(
            &store,
            &settings,
            &|events| publisher.publish(events),
            event,
        )
    })
}
