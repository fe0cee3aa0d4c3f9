//! `ssm:/name` values: from SSM Parameter Store (with decryption) in AWS mode, from the
//! config's `[parameters]` table locally (ARCHITECTURE.md "Data flow", step 1). A name in
//! `[parameters]` wins in both modes, so a local override is always possible.

use anyhow::{bail, Context, Result};

use crate::config::Config;

/// Resolves `value` if it is an `ssm:` reference; other values are returned as they are.
pub fn resolve(config: &Config, value: &str) -> Result<String> {
    let Some(name) = value.strip_prefix("ssm:") else {
        return Ok(value.to_string());
    };
    if let Some(v) = config.parameters.get(name) {
        return Ok(v.clone());
    }
    if config.store.kind != "s3" {
        bail!(
            "SSM parameter {name:?} is not defined: add it under [parameters] in the config file"
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the SSM client runtime")?;
    runtime.block_on(async {
        let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(config.region.clone()))
            .load()
            .await;
        let client = aws_sdk_ssm::Client::new(&shared);
        let out = client.get_parameter().name(name).with_decryption(true).send().await;
        match out {
            Ok(o) => o
                .parameter()
                .and_then(|p| p.value())
                .map(str::to_string)
                .with_context(|| format!("SSM parameter {name:?} has no value")),
            Err(e) => {
                let code = e.as_service_error().map(|s| s.meta().code().unwrap_or_default().to_string()).unwrap_or_default();
                if code == "ParameterNotFound" {
                    bail!("SSM parameter {name:?} does not exist in region {} (create it, or set it under [parameters])", config.region)
                }
                Err(anyhow::anyhow!("reading SSM parameter {name:?}: {}", aws_sdk_ssm::error::DisplayErrorContext(&e)))
            }
        }
    })
}
