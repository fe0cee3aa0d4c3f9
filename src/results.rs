//! Exporting a run's discovery results to `[results] location` (Macie's discovery results
//! repository, macie.md §7): every file under `<out>/results/` is written to the same relative
//! key under the location's prefix, encrypted with `kms_key_id` when one is set, so the
//! `detailedResultsLocation` of each finding names an object that exists.

use std::path::Path;

use anyhow::{Context, Result};
use dragnet_store::ObjectStore;

use crate::config::Config;

/// Writes the run's result files under `out` to the configured location and returns the
/// URIs written (none when no location is configured).
pub fn export(config: &Config, store: &dyn ObjectStore, out: &Path) -> Result<Vec<String>> {
    let Some((bucket, prefix)) = config.results.bucket_and_prefix() else {
        return Ok(Vec::new());
    };
    let written = dragnet_store::upload_tree(
        store,
        &out.join("results"),
        &bucket,
        &prefix,
        config.results.kms_key_id.as_deref(),
    )
    .with_context(|| {
        format!("exporting discovery results to s3://{bucket}/{prefix} ([results] location)")
    })?;
    tracing::info!(files = written.len(), bucket = %bucket, "discovery results exported");
    Ok(written)
}
