//! What the AWS publishers share: where to reach the service, and a client setup that owns
//! a small runtime, since the react path is synchronous.

/// Where an AWS service is reached.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// Region (else the standard chain's).
    pub region: Option<String>,
    /// A custom endpoint (a local emulator); the standard `AWS_ENDPOINT_URL_<SERVICE>`
    /// variables also work.
    pub endpoint_url: Option<String>,
}

/// Could not set up an AWS client.
#[derive(Debug, thiserror::Error)]
#[error("starting the AWS client runtime: {0}")]
pub struct SetupError(#[from] std::io::Error);

/// A one-worker runtime and the shared AWS config for `options`, credentials from the
/// standard AWS chain.
pub(crate) fn connect(
    options: &AwsOptions,
) -> Result<(tokio::runtime::Runtime, aws_config::SdkConfig), SetupError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let config = runtime.block_on(async {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = &options.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        loader.load().await
    });
    Ok((runtime, config))
}
