//! Exporting a run's discovery results to `[results] location` (Macie's discovery results
//! repository, macie.md §7): every file under `<out>/results/` is written to the same relative
//! key under the location's prefix, encrypted with `kms_key_id` when one is set, so the
//! `detailedResultsLocation` of each finding names an object that exists.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use dragnet_store::ObjectStore;

use crate::config::Config;

/// Every file under `folder`, at any depth, in path order.
fn files_under(folder: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        for entry in entries {
            let path = entry
                .with_context(|| format!("reading {}", dir.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Writes the run's result files under `out` to the configured location and returns the
/// URIs written (none when no location is configured).
pub fn export(config: &Config, store: &dyn ObjectStore, out: &Path) -> Result<Vec<String>> {
    let Some((bucket, prefix)) = config.results.bucket_and_prefix() else {
        return Ok(Vec::new());
    };
    let root = out.join("results");
    let mut written = Vec::new();
    for file in files_under(&root)? {
        let relative = file
            .strip_prefix(&root)
            .expect("under the results folder")
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        let key = if prefix.is_empty() {
            relative
        } else {
            format!("{prefix}/{relative}")
        };
        let mut body =
            std::fs::File::open(&file).with_context(|| format!("reading {}", file.display()))?;
        match &config.results.kms_key_id {
            Some(kms) => store.put_encrypted(&bucket, &key, &mut body, kms),
            None => store.put(&bucket, &key, &mut body, &Default::default()),
        }
        .with_context(|| {
            format!("exporting discovery results to s3://{bucket}/{key} ([results] location)")
        })?;
        written.push(format!("s3://{bucket}/{key}"));
    }
    tracing::info!(files = written.len(), bucket = %bucket, "discovery results exported");
    Ok(written)
}
