//! Loading what a command needs from files, with errors that name the file and the field.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use dragnet_detect::{select_managed, AllowSource, ManagedIdentifier};
use dragnet_model::identifiers::{parse_allow_lists, parse_custom_identifiers};
use dragnet_model::{AllowList, CustomDataIdentifier, JobSpec};
use dragnet_store::ObjectStore;

use crate::config::Config;

/// Reads a job spec file; a missing `name` comes from `name` or the file name and a missing
/// `clientToken` is derived from the content (decisions.md §11).
pub fn job_spec(path: &Path, name: Option<&str>, config: &Config) -> Result<JobSpec> {
    let text = read_text(path, "job spec")?;
    let mut spec =
        JobSpec::from_json(&text).with_context(|| format!("job spec {}", path.display()))?;
    if let Some(n) = name {
        spec.name = Some(n.to_string());
    } else if spec.name.is_none() {
        spec.name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    }
    // ssm:/ references in bucket names resolve before the job runs.
    if let Some(defs) = spec.s3_job_definition.bucket_definitions.as_mut() {
        for (i, def) in defs.iter_mut().enumerate() {
            for (j, bucket) in def.buckets.iter_mut().enumerate() {
                *bucket = crate::params::resolve(config, bucket).with_context(|| {
                    format!(
                        "job spec {}: s3JobDefinition.bucketDefinitions[{i}].buckets[{j}]",
                        path.display()
                    )
                })?;
            }
        }
    }
    Ok(spec)
}

fn read_text(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {what} {}", path.display()))
}

/// The files without repeats (the config and the command line may name the same file).
fn distinct(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut seen = BTreeSet::new();
    files
        .iter()
        .filter(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())))
        .cloned()
        .collect()
}

/// Custom identifiers from every file (config's, then the command line's); ids must be
/// unique across files.
pub fn custom_identifiers(files: &[PathBuf]) -> Result<Vec<CustomDataIdentifier>> {
    let mut all: Vec<CustomDataIdentifier> = Vec::new();
    for path in &distinct(files) {
        let text = read_text(path, "custom identifier file")?;
        let list = parse_custom_identifiers(&text)
            .with_context(|| format!("custom identifier file {}", path.display()))?;
        for cdi in list {
            if all.iter().any(|c| c.id == cdi.id) {
                bail!(
                    "custom identifier file {}: id {:?} is defined in more than one file",
                    path.display(),
                    cdi.id
                );
            }
            all.push(cdi);
        }
    }
    Ok(all)
}

/// Allow lists from every file, with word lists read (local files relative to their list
/// file; `s3WordsList` objects from the store).
pub fn allow_lists(
    files: &[PathBuf],
    store: &dyn ObjectStore,
) -> Result<Vec<(AllowList, AllowSource)>> {
    let mut out: Vec<(AllowList, AllowSource)> = Vec::new();
    for path in &distinct(files) {
        let text = read_text(path, "allow list file")?;
        let lists = parse_allow_lists(&text)
            .with_context(|| format!("allow list file {}", path.display()))?;
        for list in lists {
            if out.iter().any(|(l, _)| l.id == list.id) {
                bail!(
                    "allow list file {}: id {:?} is defined in more than one file",
                    path.display(),
                    list.id
                );
            }
            let source = dragnet_job::engine::allow_source(&list, store, |words_file| {
                let p = path.parent().unwrap_or(Path::new(".")).join(words_file);
                read_text(&p, &format!("words file of allow list {:?}", list.id))
                    .map_err(|e| format!("{e:#}"))
            })?;
            out.push((list, source));
        }
    }
    Ok(out)
}

/// The managed identifiers a `--managed` option names: `ALL`, `RECOMMENDED`, `NONE`, or a
/// comma-separated list of ids.
pub fn managed_option(value: &str) -> Result<Vec<&'static ManagedIdentifier>> {
    use dragnet_model::jobspec::ManagedDataIdentifierSelector as S;
    let (selector, ids) = match value.to_ascii_uppercase().as_str() {
        "ALL" => (S::All, Vec::new()),
        "RECOMMENDED" => (S::Recommended, Vec::new()),
        "NONE" => (S::None, Vec::new()),
        _ => (
            S::Include,
            value
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ),
    };
    select_managed(selector, &ids).map_err(|e| anyhow::anyhow!("--managed: {e}"))
}
