//! The engine a job spec asks for: its managed selection, and the custom identifiers and allow
//! lists it names by id, picked from the definitions the caller loaded (files for the CLI, the
//! state machine's input for the scan Lambda). Every entry point builds its engine here, so a
//! spec detects the same things wherever it runs.

use std::collections::BTreeSet;

use dragnet_detect::selection::UnknownManagedIds;
use dragnet_detect::{select_managed, AllowMatcher, AllowSource, Engine, EngineError};
use dragnet_model::{AllowList, CustomDataIdentifier, JobSpec};
use dragnet_store::ObjectStore;
use std::io::Read;

/// The most an S3 word list may hold, as in Macie (35 MB).
pub const MAX_WORDS_LIST_BYTES: u64 = 35_000_000;

/// Why an allow list's words could not be read; names the list and where its words are.
#[derive(Debug, thiserror::Error)]
#[error("allow list {id:?}: {message}")]
pub struct AllowListError {
    /// The list's id.
    pub id: String,
    /// What went wrong, naming the words file or object.
    pub message: String,
}

/// What an allow list matches: its regex, or the words of its word list, read from the store
/// (`s3WordsList`, at most [`MAX_WORDS_LIST_BYTES`], UTF-8) or through `local_words` (a
/// `wordsFile` path as written in the list; callers without local files refuse it there).
pub fn allow_source(
    list: &AllowList,
    store: &dyn ObjectStore,
    local_words: impl FnOnce(&str) -> Result<String, String>,
) -> Result<AllowSource, AllowListError> {
    let fail = |message: String| AllowListError {
        id: list.id.clone(),
        message,
    };
    let c = &list.criteria;
    let words = if let Some(pattern) = &c.regex {
        return Ok(AllowSource::Regex {
            id: list.id.clone(),
            pattern: pattern.clone(),
        });
    } else if let Some(file) = &c.words_file {
        local_words(file).map_err(fail)?
    } else if let Some(s3) = &c.s3_words_list {
        let at = format!("s3://{}/{}", s3.bucket_name, s3.object_key);
        let body = store
            .get(&s3.bucket_name, &s3.object_key)
            .map_err(|e| fail(format!("reading its word list {at}: {e}")))?;
        let mut text = String::new();
        body.take(MAX_WORDS_LIST_BYTES)
            .read_to_string(&mut text)
            .map_err(|e| fail(format!("its word list {at} is not UTF-8 text: {e}")))?;
        text
    } else {
        return Err(fail(
            "criteria must hold one of regex, s3WordsList or wordsFile".into(),
        ));
    };
    Ok(AllowSource::Words {
        id: list.id.clone(),
        words: words.lines().map(str::to_string).collect(),
    })
}

/// Why a job spec's engine cannot be built; each message names the spec field.
#[derive(Debug, thiserror::Error)]
pub enum JobEngineError {
    /// `managedDataIdentifierIds` names ids this build does not know.
    #[error(transparent)]
    UnknownManaged(#[from] UnknownManagedIds),
    /// `customDataIdentifierIds` names ids no loaded definition has.
    #[error("customDataIdentifierIds: unknown custom data identifier id(s): {}; load the definitions that declare them (--identifiers, the config's `identifiers`, or the scan input's CustomDataIdentifiers)", .0.join(", "))]
    UnknownCustom(Vec<String>),
    /// `allowListIds` names ids no loaded allow list has.
    #[error("allowListIds: unknown allow list id(s): {}; load the lists that declare them (--allow-list or the config's `allow_lists`)", .0.join(", "))]
    UnknownAllowList(Vec<String>),
    /// A regex does not compile or the patterns are too large together.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The ids a job spec lists (custom identifiers or allow lists).
fn named(ids: &Option<Vec<String>>) -> BTreeSet<&str> {
    ids.iter().flatten().map(String::as_str).collect()
}

/// The ids a job names that no loaded definition has.
fn unknown_ids(wanted: &BTreeSet<&str>, defined: impl Fn(&str) -> bool) -> Vec<String> {
    wanted
        .iter()
        .filter(|id| !defined(id))
        .map(|id| id.to_string())
        .collect()
}

/// What a spec selects from the loaded definitions: managed identifiers, custom identifiers,
/// allow lists.
struct Selection<'a> {
    managed: Vec<&'static dragnet_detect::ManagedIdentifier>,
    custom: Vec<&'a CustomDataIdentifier>,
    allow: Vec<&'a AllowSource>,
}

fn select<'a>(
    spec: &JobSpec,
    custom: &'a [CustomDataIdentifier],
    allow: &'a [(AllowList, AllowSource)],
) -> Result<Selection<'a>, JobEngineError> {
    let managed = select_managed(
        spec.selector(),
        spec.managed_data_identifier_ids.as_deref().unwrap_or(&[]),
    )?;
    let wanted = named(&spec.custom_data_identifier_ids);
    let unknown = unknown_ids(&wanted, |id| custom.iter().any(|c| c.id == id));
    if !unknown.is_empty() {
        return Err(JobEngineError::UnknownCustom(unknown));
    }
    let wanted_allow = named(&spec.allow_list_ids);
    let unknown = unknown_ids(&wanted_allow, |id| allow.iter().any(|(l, _)| l.id == id));
    if !unknown.is_empty() {
        return Err(JobEngineError::UnknownAllowList(unknown));
    }
    Ok(Selection {
        managed,
        custom: custom
            .iter()
            .filter(|c| wanted.contains(c.id.as_str()))
            .collect(),
        allow: allow
            .iter()
            .filter(|(l, _)| wanted_allow.contains(l.id.as_str()))
            .map(|(_, s)| s)
            .collect(),
    })
}

/// The engine `spec` runs with: its managed selection, and the custom identifiers and allow
/// lists it names, picked from `custom` and `allow` (ids it names that they lack are an error
/// listing them).
pub fn job_engine(
    spec: &JobSpec,
    custom: &[CustomDataIdentifier],
    allow: &[(AllowList, AllowSource)],
) -> Result<Engine, JobEngineError> {
    let selection = select(spec, custom, allow)?;
    let custom: Vec<CustomDataIdentifier> = selection.custom.into_iter().cloned().collect();
    let allow: Vec<AllowSource> = selection.allow.into_iter().cloned().collect();
    Ok(Engine::new(
        &selection.managed,
        &custom,
        AllowMatcher::new(&allow)?,
    )?)
}

/// A fingerprint of what a job detects with: the managed identifiers its selector picks from
/// this build's catalog, the definitions of its custom identifiers, and its allow lists (their
/// words included). When it changes, a scheduled job analyses unchanged objects again.
pub fn ruleset_fingerprint(
    spec: &JobSpec,
    custom: &[CustomDataIdentifier],
    allow: &[(AllowList, AllowSource)],
) -> Result<String, JobEngineError> {
    let selection = select(spec, custom, allow)?;
    let managed: Vec<&str> = selection.managed.iter().map(|m| m.id).collect();
    let allow: Vec<String> = selection.allow.iter().map(|s| format!("{s:?}")).collect();
    let doc = serde_json::json!({
        "engine": env!("CARGO_PKG_VERSION"),
        "managed": managed,
        "custom": selection.custom,
        "allow": allow,
    });
    Ok(dragnet_model::ids::stable_hex_id(&[
        "ruleset",
        &doc.to_string(),
    ]))
}
