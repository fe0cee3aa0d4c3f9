//! Loading what a command needs from files, with errors that name the file and the field.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use dragnet_detect::{select_managed, AllowMatcher, AllowSource, Engine, ManagedIdentifier};
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
            let c = &list.criteria;
            let source = if let Some(pattern) = &c.regex {
                AllowSource::Regex {
                    id: list.id.clone(),
                    pattern: pattern.clone(),
                }
            } else if let Some(words_file) = &c.words_file {
                let p = path.parent().unwrap_or(Path::new(".")).join(words_file);
                let text = read_text(&p, &format!("words file of allow list {:?}", list.id))?;
                AllowSource::Words {
                    id: list.id.clone(),
                    words: text.lines().map(str::to_string).collect(),
                }
            } else if let Some(s3) = &c.s3_words_list {
                let mut body = store
                    .get(&s3.bucket_name, &s3.object_key)
                    .with_context(|| {
                        format!("allow list {:?}: reading its S3 word list", list.id)
                    })?;
                let mut text = String::new();
                (&mut body)
                    .take(35_000_000)
                    .read_to_string(&mut text)
                    .with_context(|| {
                        format!(
                            "allow list {:?}: s3://{}/{} is not UTF-8 text",
                            list.id, s3.bucket_name, s3.object_key
                        )
                    })?;
                AllowSource::Words {
                    id: list.id.clone(),
                    words: text.lines().map(str::to_string).collect(),
                }
            } else {
                unreachable!("validated: exactly one criterion")
            };
            out.push((list, source));
        }
    }
    Ok(out)
}

/// The engine a job runs: its managed selection, the custom identifiers and allow lists it
/// names (unknown ids are an error that lists them).
pub fn job_engine(
    spec: &JobSpec,
    custom: &[CustomDataIdentifier],
    allow: &[(AllowList, AllowSource)],
) -> Result<Engine> {
    let managed = select_managed(
        spec.selector(),
        spec.managed_data_identifier_ids.as_deref().unwrap_or(&[]),
    )?;
    let wanted = named(&spec.custom_data_identifier_ids);
    let unknown = unknown_ids(&wanted, |id| custom.iter().any(|c| c.id == id));
    if !unknown.is_empty() {
        bail!(
            "customDataIdentifierIds: unknown custom data identifier id(s): {}; load the file that defines them with --identifiers or the config's `identifiers`",
            unknown.join(", ")
        );
    }
    let selected: Vec<CustomDataIdentifier> = custom
        .iter()
        .filter(|c| wanted.contains(c.id.as_str()))
        .cloned()
        .collect();
    let wanted_allow = named(&spec.allow_list_ids);
    let unknown = unknown_ids(&wanted_allow, |id| allow.iter().any(|(l, _)| l.id == id));
    if !unknown.is_empty() {
        bail!(
            "allowListIds: unknown allow list id(s): {}; load the file that defines them with --allow-list or the config's `allow_lists`",
            unknown.join(", ")
        );
    }
    let sources: Vec<AllowSource> = allow
        .iter()
        .filter(|(l, _)| wanted_allow.contains(l.id.as_str()))
        .map(|(_, s)| s.clone())
        .collect();
    Ok(Engine::new(
        &managed,
        &selected,
        AllowMatcher::new(&sources)?,
    )?)
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

/// The ids a job spec lists (custom identifiers or allow lists).
fn named(ids: &Option<Vec<String>>) -> BTreeSet<&str> {
    ids.iter().flatten().map(String::as_str).collect()
}

/// The ids a job names that no loaded file defines.
fn unknown_ids<'a>(wanted: &BTreeSet<&'a str>, defined: impl Fn(&str) -> bool) -> Vec<&'a str> {
    wanted.iter().copied().filter(|id| !defined(id)).collect()
}

/// A fingerprint of what a job detects with: the managed identifiers its selector picks from
/// this build's catalog, the definitions of its custom identifiers, and its allow lists (their
/// words included). When it changes, a scheduled job analyses unchanged objects again.
pub fn ruleset_fingerprint(
    spec: &JobSpec,
    custom: &[CustomDataIdentifier],
    allow: &[(AllowList, AllowSource)],
) -> Result<String> {
    let managed: Vec<&str> = select_managed(
        spec.selector(),
        spec.managed_data_identifier_ids.as_deref().unwrap_or(&[]),
    )?
    .iter()
    .map(|m| m.id)
    .collect();
    let wanted = named(&spec.custom_data_identifier_ids);
    let custom: Vec<&CustomDataIdentifier> = custom
        .iter()
        .filter(|c| wanted.contains(c.id.as_str()))
        .collect();
    let wanted_allow = named(&spec.allow_list_ids);
    let allow: Vec<String> = allow
        .iter()
        .filter(|(l, _)| wanted_allow.contains(l.id.as_str()))
        .map(|(_, s)| format!("{s:?}"))
        .collect();
    let doc = serde_json::json!({"engine": env!("CARGO_PKG_VERSION"), "managed": managed, "custom": custom, "allow": allow});
    Ok(dragnet_model::ids::stable_hex_id(&[
        "ruleset",
        &doc.to_string(),
    ]))
}
