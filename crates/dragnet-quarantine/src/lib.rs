//! The quarantine mover: copy the object of a finding to an isolation bucket, verify the
//! copy, record it, and only then delete the original. And back again (`restore`).
//!
//! Guarantees, each tested:
//! - an original is deleted only after a copy with the same size, MD5 and SHA-256 is in the
//!   isolation bucket and the quarantine record is written;
//! - if the object changed since the scan (its ETag differs from the finding's `eTag`),
//!   nothing is moved and the error is `OBJECT_VERSION_MISMATCH`;
//! - running again on the same finding is a no-op success once the move is complete, and
//!   completes it when an earlier run stopped between copy and delete;
//! - restore refuses to overwrite an object that now sits at the original key.
//!
//! Layout in the isolation bucket: the copy at `<prefix><original key>` with its content
//! type, metadata and tags, plus the `dragnet-quarantine-finding` and
//! `dragnet-quarantine-severity` tags while S3's ten-tag limit leaves room; the record at
//! `<prefix>dragnet-quarantine-records/<finding id>.json`.
#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::io::Read;

use dragnet_model::ids::hex;
use dragnet_store::{ObjectAttributes, ObjectMeta, ObjectStore, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Folder (under the prefix) of quarantine records in the isolation bucket.
pub const RECORDS_FOLDER: &str = "dragnet-quarantine-records/";

/// What to quarantine: the facts of a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineRequest {
    /// Finding id.
    pub finding_id: String,
    /// Bucket of the object.
    pub bucket: String,
    /// Key of the object.
    pub key: String,
    /// ETag when scanned (`""` if unknown: then no change check is possible and the mover
    /// refuses).
    pub etag: String,
    /// Version id when scanned (`""` when unversioned).
    pub version_id: String,
    /// Severity description, for records.
    pub severity: String,
}

impl QuarantineRequest {
    /// Reads a finding event (EventBridge envelope) or a bare finding.
    pub fn from_json(value: &Value) -> Result<Self, QuarantineError> {
        let finding = if value.get("detail").is_some() {
            &value["detail"]
        } else {
            value
        };
        let object = &finding["resourcesAffected"]["s3Object"];
        let text = |v: &Value, what: &str| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| QuarantineError::InvalidInput(format!("the finding has no {what}")))
        };
        let path = text(&object["path"], "resourcesAffected.s3Object.path")?;
        let key = text(&object["key"], "resourcesAffected.s3Object.key")?;
        let bucket = path
            .strip_suffix(&format!("/{key}"))
            .map(str::to_string)
            .or_else(|| {
                object["bucketArn"]
                    .as_str()
                    .and_then(|a| a.strip_prefix("arn:aws:s3:::"))
                    .map(str::to_string)
            })
            .ok_or_else(|| {
                QuarantineError::InvalidInput(
                    "cannot tell the bucket from resourcesAffected.s3Object".into(),
                )
            })?;
        Ok(QuarantineRequest {
            finding_id: text(&finding["id"], "id")?,
            bucket,
            key,
            etag: object["eTag"]
                .as_str()
                .unwrap_or("")
                .trim_matches('"')
                .to_string(),
            version_id: object["versionId"].as_str().unwrap_or("").to_string(),
            severity: finding["severity"]["description"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        })
    }
}

/// Where quarantined objects go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Isolation {
    /// The isolation bucket.
    pub bucket: String,
    /// Key prefix inside it.
    pub prefix: String,
    /// In a versioned source bucket, also delete the object's noncurrent versions once the
    /// scanned version is safe in the isolation bucket (earlier versions of a file that holds
    /// sensitive data usually hold it too). Off by default: they are not verified copies.
    pub purge_noncurrent_versions: bool,
}

impl Isolation {
    fn object_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
    fn record_key(&self, finding_id: &str) -> String {
        format!("{}{RECORDS_FOLDER}{finding_id}.json", self.prefix)
    }
}

/// Size and checksums of an object's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checksums {
    /// Bytes.
    pub size: u64,
    /// Hex MD5 (the ETag of a single-part object).
    pub md5: String,
    /// Hex SHA-256.
    pub sha256: String,
}

/// An object's location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
}

/// The record stored with every quarantined copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuarantineRecord {
    /// The finding that caused the move.
    pub finding_id: String,
    /// Where the object was.
    pub source: Location,
    /// Version id of the original (`""` when unversioned).
    pub source_version_id: String,
    /// Where the object is now.
    pub isolation: Location,
    /// Content checksums, verified on both sides.
    pub checksums: Checksums,
    /// Content type, metadata and tags of the original, restored with it.
    pub attributes: ObjectAttributes,
    /// When the move completed.
    pub quarantined_at: String,
    /// The rule (or command) that asked for it.
    pub rule: String,
    /// The finding's severity.
    pub severity: String,
    /// Noncurrent versions of the original deleted with it (versioned buckets, when asked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purged_versions: Vec<String>,
}

/// How a quarantine ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveOutcome {
    /// The object was moved now.
    Moved(QuarantineRecord),
    /// An earlier run had already moved it.
    AlreadyQuarantined(QuarantineRecord),
}

impl MoveOutcome {
    /// The record either way.
    pub fn record(&self) -> &QuarantineRecord {
        match self {
            MoveOutcome::Moved(r) | MoveOutcome::AlreadyQuarantined(r) => r,
        }
    }

    /// `MOVED` or `ALREADY_QUARANTINED`, as every entry point reports it.
    pub fn status(&self) -> &'static str {
        match self {
            MoveOutcome::Moved(_) => "MOVED",
            MoveOutcome::AlreadyQuarantined(_) => "ALREADY_QUARANTINED",
        }
    }

    /// `{"status": ..., "record": ...}`: what the CLI prints, the SQS consumer logs and the
    /// Lambda handler returns, so scripts read one shape whichever entry point moved the object.
    pub fn summary(&self) -> Value {
        serde_json::json!({"status": self.status(), "record": self.record()})
    }
}

/// Moves the object a finding event names: `event` is the EventBridge event (`detail` holds
/// the finding) or a bare finding. The shared body of the entry points (`dragnet quarantine
/// --event`, the SQS consumer, the Lambda handler); `rule` names the entry point in the record.
pub fn quarantine_event(
    store: &dyn ObjectStore,
    event: &Value,
    iso: &Isolation,
    rule: &str,
) -> Result<MoveOutcome, QuarantineError> {
    let request = QuarantineRequest::from_json(event)?;
    quarantine(store, &request, iso, rule)
}

/// Why a quarantine, tag or restore did not happen (the original is intact in every case but
/// `DeleteFailed`, where both the original and the verified copy exist).
#[derive(Debug, thiserror::Error)]
pub enum QuarantineError {
    /// The input is not a finding or finding event.
    #[error("not a finding: {0}")]
    InvalidInput(String),
    /// The object changed since the scan.
    #[error("OBJECT_VERSION_MISMATCH: s3://{bucket}/{key} changed since the scan (ETag {actual}, finding has {expected}); nothing was moved")]
    VersionMismatch {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The finding's ETag.
        expected: String,
        /// The object's ETag now.
        actual: String,
    },
    /// The original is gone and no verified copy exists.
    #[error("SOURCE_OBJECT_NO_LONGER_AVAILABLE: s3://{bucket}/{key} does not exist and no verified quarantined copy was found")]
    SourceMissing {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// The copy's content differs from the original's.
    #[error("the copy at s3://{bucket}/{key} does not match the original ({detail}); the original was kept")]
    VerifyFailed {
        /// Isolation bucket.
        bucket: String,
        /// Copy key.
        key: String,
        /// What differed.
        detail: String,
    },
    /// Restore would overwrite a different object at the original key.
    #[error("s3://{bucket}/{key} already holds a different object; restore would overwrite it, so nothing was changed")]
    RestoreConflict {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// No record for that finding in the isolation bucket.
    #[error("no quarantine record for finding {finding_id} in s3://{bucket}/{key}")]
    NoRecord {
        /// Finding id.
        finding_id: String,
        /// Isolation bucket.
        bucket: String,
        /// Record key.
        key: String,
    },
    /// A store operation failed, with the step it was part of.
    #[error("{step}: {source}")]
    Store {
        /// The step: copying, verifying, recording, deleting the original, ...
        step: &'static str,
        /// The store error.
        #[source]
        source: StoreError,
    },
}

impl QuarantineError {
    /// The Macie-style reason code, for records and events.
    pub fn reason(&self) -> &'static str {
        match self {
            QuarantineError::VersionMismatch { .. } => "OBJECT_VERSION_MISMATCH",
            QuarantineError::SourceMissing { .. } => "SOURCE_OBJECT_NO_LONGER_AVAILABLE",
            QuarantineError::VerifyFailed { .. } => "VERIFICATION_FAILED",
            QuarantineError::RestoreConflict { .. } => "RESTORE_CONFLICT",
            QuarantineError::NoRecord { .. } => "NO_QUARANTINE_RECORD",
            QuarantineError::InvalidInput(_) => "INVALID_INPUT",
            QuarantineError::Store { source, .. } => source.macie_reason(),
        }
    }
}

fn step(step: &'static str) -> impl FnOnce(StoreError) -> QuarantineError {
    move |source| QuarantineError::Store { step, source }
}

/// Size, MD5 and SHA-256 of an object, read as a stream.
pub fn checksums(
    store: &dyn ObjectStore,
    bucket: &str,
    key: &str,
) -> Result<Checksums, StoreError> {
    let mut body = store.get(bucket, key)?;
    let mut md5 = md5::Md5::new();
    let mut sha = Sha256::new();
    let size = dragnet_store::for_each_chunk(&mut body, |chunk| {
        md5.update(chunk);
        sha.update(chunk);
        Ok(())
    })
    .map_err(|e| StoreError::Io {
        context: format!("reading s3://{bucket}/{key}"),
        source: e,
    })?;
    Ok(Checksums {
        size,
        md5: hex(&md5.finalize()),
        sha256: hex(&sha.finalize()),
    })
}

fn exists(store: &dyn ObjectStore, bucket: &str, key: &str) -> Result<bool, StoreError> {
    let mut found = false;
    store.list(bucket, key, &mut |m| found |= m.key == key)?;
    Ok(found)
}

/// Whether `e` says the isolation bucket does not exist (so nothing was quarantined there).
fn no_isolation_bucket(e: &QuarantineError) -> bool {
    matches!(
        e,
        QuarantineError::Store {
            source: StoreError::NoSuchBucket { .. },
            ..
        }
    )
}

/// The quarantine record of `finding_id` in `iso`, when its object was quarantined there
/// (none when the isolation bucket does not exist).
pub fn find_record(
    store: &dyn ObjectStore,
    iso: &Isolation,
    finding_id: &str,
) -> Result<Option<QuarantineRecord>, QuarantineError> {
    match read_record(store, iso, finding_id) {
        Err(e) if no_isolation_bucket(&e) => Ok(None),
        other => other,
    }
}

/// Every quarantine record in `iso`, in finding-id order.
pub fn list_records(
    store: &dyn ObjectStore,
    iso: &Isolation,
) -> Result<Vec<QuarantineRecord>, QuarantineError> {
    let folder = format!("{}{RECORDS_FOLDER}", iso.prefix);
    let mut ids = Vec::new();
    let listed = store
        .list(&iso.bucket, &folder, &mut |m| {
            let id = m
                .key
                .strip_prefix(folder.as_str())
                .and_then(|k| k.strip_suffix(".json"));
            if let Some(id) = id.filter(|id| !id.is_empty() && !id.contains('/')) {
                ids.push(id.to_string());
            }
        })
        .map_err(step("listing quarantine records"));
    match listed {
        Err(e) if no_isolation_bucket(&e) => return Ok(Vec::new()),
        other => other?,
    }
    let mut records = Vec::new();
    for id in ids {
        if let Some(r) = read_record(store, iso, &id)? {
            records.push(r);
        }
    }
    Ok(records)
}

fn read_record(
    store: &dyn ObjectStore,
    iso: &Isolation,
    finding_id: &str,
) -> Result<Option<QuarantineRecord>, QuarantineError> {
    let key = iso.record_key(finding_id);
    let mut body = match store.get(&iso.bucket, &key) {
        Ok(b) => b,
        Err(StoreError::NoSuchKey { .. }) => return Ok(None),
        Err(e) => return Err(step("reading the quarantine record")(e)),
    };
    let mut text = String::new();
    body.read_to_string(&mut text).map_err(|e| {
        step("reading the quarantine record")(StoreError::Io {
            context: key.clone(),
            source: e,
        })
    })?;
    serde_json::from_str(&text).map(Some).map_err(|e| {
        QuarantineError::InvalidInput(format!(
            "quarantine record s3://{}/{key} is not valid: {e}",
            iso.bucket
        ))
    })
}

/// Moves the finding's object to the isolation bucket: copy, verify, record, delete.
pub fn quarantine(
    store: &dyn ObjectStore,
    request: &QuarantineRequest,
    iso: &Isolation,
    rule: &str,
) -> Result<MoveOutcome, QuarantineError> {
    let dest_key = iso.object_key(&request.key);
    let source = match store.head(&request.bucket, &request.key) {
        Ok(m) => Some(m),
        Err(StoreError::NoSuchKey { .. }) => None,
        Err(e) => return Err(step("reading the original")(e)),
    };
    // In a versioned bucket, deleting the scanned version makes the previous one current, so
    // a finished move looks like a changed object; the record tells them apart.
    let moved_version = |source: &ObjectMeta| {
        !request.version_id.is_empty()
            && source
                .version_id
                .as_deref()
                .is_some_and(|v| v != request.version_id)
    };
    let source = match source {
        Some(source) if !moved_version(&source) => source,
        gone_or_replaced => {
            if let Some(record) = completed_move(store, iso, request, &dest_key)? {
                return Ok(MoveOutcome::AlreadyQuarantined(record));
            }
            return Err(match gone_or_replaced {
                None => QuarantineError::SourceMissing {
                    bucket: request.bucket.clone(),
                    key: request.key.clone(),
                },
                Some(now) => QuarantineError::VersionMismatch {
                    bucket: request.bucket.clone(),
                    key: request.key.clone(),
                    expected: format!("version {}", request.version_id),
                    actual: format!("version {}", now.version_id.unwrap_or_default()),
                },
            });
        }
    };
    let current = source.etag.clone().unwrap_or_default();
    if request.etag.is_empty() || current != request.etag {
        return Err(QuarantineError::VersionMismatch {
            bucket: request.bucket.clone(),
            key: request.key.clone(),
            expected: request.etag.clone(),
            actual: current,
        });
    }
    let original =
        checksums(store, &request.bucket, &request.key).map_err(step("reading the original"))?;
    // A single-part ETag is the content's MD5; a multipart one ("<hash>-<parts>") is not, and
    // then the store's ETag comparison above is the check.
    let plain_md5 = request.etag.len() == 32 && request.etag.bytes().all(|b| b.is_ascii_hexdigit());
    if plain_md5 && original.md5 != request.etag {
        return Err(QuarantineError::VersionMismatch {
            bucket: request.bucket.clone(),
            key: request.key.clone(),
            expected: request.etag.clone(),
            actual: original.md5,
        });
    }
    let attributes = store
        .attributes(&request.bucket, &request.key)
        .map_err(step("reading the original's attributes"))?;
    // A copy left by an interrupted run is reused only if it verifies.
    let have_copy = exists(store, &iso.bucket, &dest_key)
        .map_err(step("checking the isolation bucket"))?
        && checksums(store, &iso.bucket, &dest_key).map_err(step("verifying the copy"))?
            == original;
    if !have_copy {
        store
            .copy(
                &request.bucket,
                &request.key,
                &iso.bucket,
                &dest_key,
                Some(&with_quarantine_tags(&attributes, request)),
            )
            .map_err(step("copying to the isolation bucket"))?;
    }
    let copied = checksums(store, &iso.bucket, &dest_key).map_err(step("verifying the copy"))?;
    if copied != original {
        return Err(QuarantineError::VerifyFailed {
            bucket: iso.bucket.clone(),
            key: dest_key,
            detail: format!(
                "size {} vs {}, sha256 {} vs {}",
                copied.size, original.size, copied.sha256, original.sha256
            ),
        });
    }
    let record = QuarantineRecord {
        finding_id: request.finding_id.clone(),
        source: Location {
            bucket: request.bucket.clone(),
            key: request.key.clone(),
        },
        source_version_id: request.version_id.clone(),
        isolation: Location {
            bucket: iso.bucket.clone(),
            key: dest_key,
        },
        checksums: original,
        attributes,
        quarantined_at: dragnet_model::Timestamp::now().to_string(),
        rule: rule.to_string(),
        severity: request.severity.clone(),
        purged_versions: Vec::new(),
    };
    write_record(store, iso, &record).map_err(step("writing the quarantine record"))?;
    let mut record = record;
    match &source.version_id {
        Some(version) => {
            // Listing the noncurrent versions first keeps the one being deleted out of it.
            let older = if iso.purge_noncurrent_versions {
                store
                    .noncurrent_versions(&request.bucket, &request.key)
                    .map_err(step("listing the original's noncurrent versions"))?
            } else {
                Vec::new()
            };
            store
                .delete_version(&request.bucket, &request.key, version)
                .map_err(step("deleting the original (the verified copy is kept)"))?;
            for old in older {
                store
                    .delete_version(&request.bucket, &request.key, &old)
                    .map_err(step("purging a noncurrent version (the original is moved)"))?;
                record.purged_versions.push(old);
            }
            if !record.purged_versions.is_empty() {
                write_record(store, iso, &record).map_err(step(
                    "recording the purged versions (the original is moved)",
                ))?;
            }
        }
        None => store
            .delete(&request.bucket, &request.key)
            .map_err(step("deleting the original (the verified copy is kept)"))?,
    }
    tracing::info!(finding = %request.finding_id, bucket = %request.bucket, key = ?request.key, isolation = %iso.bucket, purged = record.purged_versions.len(), "quarantined");
    Ok(MoveOutcome::Moved(record))
}

/// Tag on the isolated copy naming the finding that moved it.
pub const FINDING_TAG: &str = "dragnet-quarantine-finding";
/// Tag on the isolated copy with the finding's severity.
pub const SEVERITY_TAG: &str = "dragnet-quarantine-severity";
/// S3's limit on tags per object.
const MAX_TAGS: usize = 10;

/// The original's attributes plus the quarantine tags on the copy, so the isolation bucket can
/// be searched and governed by tag (lifecycle, access) without reading records. S3 allows ten
/// tags per object: the quarantine tags are added only while there is room, the original's
/// tags always win, and the record (which keeps the original's attributes for restore) stays
/// the authority either way.
fn with_quarantine_tags(
    original: &ObjectAttributes,
    request: &QuarantineRequest,
) -> ObjectAttributes {
    let mut copy = original.clone();
    for (key, value) in [
        (FINDING_TAG, request.finding_id.as_str()),
        (SEVERITY_TAG, request.severity.as_str()),
    ] {
        if copy.tags.len() < MAX_TAGS && !value.is_empty() {
            copy.tags
                .entry(key.to_string())
                .or_insert_with(|| value.to_string());
        }
    }
    copy
}

/// Writes (or rewrites) the record of a move in the isolation bucket.
fn write_record(
    store: &dyn ObjectStore,
    iso: &Isolation,
    record: &QuarantineRecord,
) -> Result<(), StoreError> {
    let text = serde_json::to_vec_pretty(record).expect("serializable");
    let attributes = ObjectAttributes {
        content_type: Some("application/json".into()),
        ..Default::default()
    };
    store
        .put(
            &iso.bucket,
            &iso.record_key(&record.finding_id),
            &mut &text[..],
            &attributes,
        )
        .map(|_| ())
}

/// The record of a finished move of this finding whose copy still verifies, if any.
fn completed_move(
    store: &dyn ObjectStore,
    iso: &Isolation,
    request: &QuarantineRequest,
    dest_key: &str,
) -> Result<Option<QuarantineRecord>, QuarantineError> {
    let Some(record) = read_record(store, iso, &request.finding_id)? else {
        return Ok(None);
    };
    let verified = exists(store, &iso.bucket, dest_key).map_err(step("checking the copy"))?
        && checksums(store, &iso.bucket, dest_key).map_err(step("verifying the copy"))?
            == record.checksums;
    Ok(verified.then_some(record))
}

/// Moves a quarantined object back to where it was, with its attributes, and removes the
/// copy and the record. Refuses to overwrite a different object at the original key.
pub fn restore(
    store: &dyn ObjectStore,
    iso: &Isolation,
    finding_id: &str,
) -> Result<QuarantineRecord, QuarantineError> {
    let record = read_record(store, iso, finding_id)?.ok_or_else(|| QuarantineError::NoRecord {
        finding_id: finding_id.to_string(),
        bucket: iso.bucket.clone(),
        key: iso.record_key(finding_id),
    })?;
    let (src, dst) = (&record.isolation, &record.source);
    let copy =
        checksums(store, &src.bucket, &src.key).map_err(step("reading the quarantined copy"))?;
    if copy != record.checksums {
        return Err(QuarantineError::VerifyFailed {
            bucket: src.bucket.clone(),
            key: src.key.clone(),
            detail: "the quarantined copy no longer matches its record".into(),
        });
    }
    let occupied =
        exists(store, &dst.bucket, &dst.key).map_err(step("checking the original location"))?;
    if occupied {
        let there = checksums(store, &dst.bucket, &dst.key)
            .map_err(step("checking the original location"))?;
        if there != record.checksums {
            return Err(QuarantineError::RestoreConflict {
                bucket: dst.bucket.clone(),
                key: dst.key.clone(),
            });
        }
    } else {
        store
            .copy(
                &src.bucket,
                &src.key,
                &dst.bucket,
                &dst.key,
                Some(&record.attributes),
            )
            .map_err(step("copying back"))?;
    }
    let back =
        checksums(store, &dst.bucket, &dst.key).map_err(step("verifying the restored object"))?;
    if back != record.checksums {
        return Err(QuarantineError::VerifyFailed {
            bucket: dst.bucket.clone(),
            key: dst.key.clone(),
            detail: "the restored object does not match the record".into(),
        });
    }
    store.delete(&src.bucket, &src.key).map_err(step(
        "deleting the quarantined copy (the object is restored)",
    ))?;
    store
        .delete(&iso.bucket, &iso.record_key(finding_id))
        .map_err(step("deleting the quarantine record"))?;
    Ok(record)
}

/// Tags the finding's object in place (the middle tier below quarantine), after checking it
/// is still the object that was scanned.
pub fn tag(
    store: &dyn ObjectStore,
    request: &QuarantineRequest,
    key: &str,
    value: &str,
) -> Result<BTreeMap<String, String>, QuarantineError> {
    let meta = match store.head(&request.bucket, &request.key) {
        Ok(m) => m,
        Err(StoreError::NoSuchKey { .. }) => {
            return Err(QuarantineError::SourceMissing {
                bucket: request.bucket.clone(),
                key: request.key.clone(),
            })
        }
        Err(e) => return Err(step("reading the object")(e)),
    };
    let current = meta.etag.unwrap_or_default();
    if current != request.etag {
        return Err(QuarantineError::VersionMismatch {
            bucket: request.bucket.clone(),
            key: request.key.clone(),
            expected: request.etag.clone(),
            actual: current,
        });
    }
    let mut tags = store
        .attributes(&request.bucket, &request.key)
        .map_err(step("reading tags"))?
        .tags;
    tags.insert(key.to_string(), value.to_string());
    store
        .put_tags(&request.bucket, &request.key, &tags)
        .map_err(step("writing tags"))?;
    Ok(tags)
}

#[cfg(test)]
mod tests;
