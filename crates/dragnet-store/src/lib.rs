//! Object stores. [`ObjectStore`] is what the job engine and the quarantine mover use;
//! [`DirStore`] is the embedded default (a folder per bucket). An S3 implementation over the
//! AWS SDK plugs in behind the same trait.
//!
//! The trait is synchronous: the engine scans on worker threads and a network store bridges
//! to its async client inside its own methods.
#![warn(missing_docs)]

mod dir;
#[cfg(feature = "fault-injection")]
pub mod faulty;
mod keys;
#[cfg(feature = "s3")]
pub mod s3;
pub mod security;
pub mod tree;

use std::collections::BTreeMap;
use std::io::Read;

use dragnet_model::Timestamp;

pub use dir::DirStore;
pub use keys::{validate_bucket_name, validate_key};
pub use security::{BucketSecurity, Encryption};
pub use tree::{download_prefix, files_under, join_key, parse_s3_location, upload_tree};

/// An object as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Last-Modified (creation or last change).
    pub last_modified: Timestamp,
    /// ETag without quotes, when the listing carries it (S3 does; [`DirStore`] computes it on
    /// [`ObjectStore::head`] and while reading).
    pub etag: Option<String>,
    /// Storage class, e.g. `STANDARD`.
    pub storage_class: String,
    /// Version id, when the bucket is versioned.
    pub version_id: Option<String>,
}

/// What travels with an object besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectAttributes {
    /// Content-Type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// User metadata (`x-amz-meta-*`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Object tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// A bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketInfo {
    /// Bucket name.
    pub name: String,
    /// Creation time, when known.
    pub created_at: Option<Timestamp>,
    /// Bucket tags.
    pub tags: BTreeMap<String, String>,
    /// Encryption, owner and public access settings, when the store has them (S3 does; a
    /// folder store has none, and findings then report what a folder enforces: nothing).
    pub security: Option<BucketSecurity>,
}

/// What a finding reports of one object beyond its listing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectDetails {
    /// Content type, metadata and tags.
    pub attributes: ObjectAttributes,
    /// Server-side encryption, when the store knows it (`None` is reported as `NONE`).
    pub encryption: Option<Encryption>,
    /// The current version's id, in a versioned bucket.
    pub version_id: Option<String>,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The bucket does not exist.
    #[error("bucket {bucket:?} does not exist")]
    NoSuchBucket {
        /// Bucket name.
        bucket: String,
    },
    /// The object does not exist (any more).
    #[error("object s3://{bucket}/{key} does not exist")]
    NoSuchKey {
        /// Bucket name.
        bucket: String,
        /// Key.
        key: String,
    },
    /// The key or bucket name is not acceptable (for example it would escape the store root).
    #[error("refused key {key:?}: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// Why it is refused.
        reason: String,
    },
    /// A conditional write found the object not as expected: another writer got there first.
    #[error("s3://{bucket}/{key} was changed by another writer since it was read; read it again")]
    PreconditionFailed {
        /// Bucket name.
        bucket: String,
        /// Key.
        key: String,
    },
    /// The store refused access.
    #[error("access denied to {what}")]
    PermissionDenied {
        /// What was denied.
        what: String,
    },
    /// Any other I/O failure, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// The Macie result status reason that fits this error (macie.md §5.2).
    pub fn macie_reason(&self) -> &'static str {
        match self {
            StoreError::NoSuchBucket { .. } => "NO_SUCH_BUCKET_AVAILABLE",
            StoreError::NoSuchKey { .. } => "SOURCE_OBJECT_NO_LONGER_AVAILABLE",
            StoreError::InvalidKey { .. } | StoreError::PreconditionFailed { .. } => {
                "INVALID_OBJECT_STATE"
            }
            StoreError::PermissionDenied { .. } => "PERMISSION_DENIED",
            StoreError::Io { .. } => "UNABLE_TO_PARSE_FILE",
        }
    }
}

/// A streamed object body.
pub type Body = Box<dyn Read + Send>;

/// Reads `body` to the end in 64 KiB chunks, handing each to `chunk`; returns the byte count.
/// Interrupted reads are retried; any other error ends the read.
pub fn for_each_chunk(
    body: &mut dyn Read,
    mut chunk: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        match body.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => {
                chunk(&buf[..n])?;
                total += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// What dragnet needs from an object store.
pub trait ObjectStore: Send + Sync {
    /// All buckets (for `bucketCriteria`).
    fn list_buckets(&self) -> Result<Vec<BucketInfo>, StoreError>;
    /// One bucket's facts.
    fn bucket(&self, bucket: &str) -> Result<BucketInfo, StoreError>;
    /// Calls `visit` for each object whose key starts with `prefix`, in key order.
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
        visit: &mut dyn FnMut(ObjectMeta),
    ) -> Result<(), StoreError>;
    /// An object's current metadata, ETag included.
    fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError>;
    /// Content type, user metadata and tags.
    fn attributes(&self, bucket: &str, key: &str) -> Result<ObjectAttributes, StoreError>;
    /// [`ObjectStore::attributes`] plus the encryption and version a store like S3 reports
    /// with them, in one round trip where it can.
    fn details(&self, bucket: &str, key: &str) -> Result<ObjectDetails, StoreError> {
        Ok(ObjectDetails {
            attributes: self.attributes(bucket, key)?,
            ..ObjectDetails::default()
        })
    }
    /// The object's bytes as a stream.
    fn get(&self, bucket: &str, key: &str) -> Result<Body, StoreError>;
    /// Writes an object (atomically: readers see the old or the new object, never a part).
    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        attributes: &ObjectAttributes,
    ) -> Result<ObjectMeta, StoreError>;
    /// Writes an object encrypted under this KMS key (SSE-KMS), as Macie requires of its
    /// discovery results repository. A store without server-side encryption (the folder
    /// store) writes it as [`ObjectStore::put`] does.
    fn put_encrypted(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        kms_key_id: &str,
    ) -> Result<ObjectMeta, StoreError> {
        let _ = kms_key_id;
        self.put(bucket, key, body, &ObjectAttributes::default())
    }
    /// Writes an object only if the key holds what the writer last read: no object when
    /// `expected_etag` is `None`, else the object with that ETag (S3's conditional writes,
    /// `If-None-Match: *` and `If-Match`). Fails with [`StoreError::PreconditionFailed`]
    /// otherwise, so processes sharing state through the store never overwrite each other.
    fn put_if(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        expected_etag: Option<&str>,
    ) -> Result<ObjectMeta, StoreError>;
    /// Copies an object with its attributes (or with `attributes` instead, when given).
    fn copy(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        attributes: Option<&ObjectAttributes>,
    ) -> Result<ObjectMeta, StoreError>;
    /// Deletes an object; deleting a missing object succeeds, as in S3.
    fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError>;
    /// Deletes one version of an object for good. In a versioned bucket a plain delete only
    /// adds a delete marker and the data stays readable as a noncurrent version, which is not
    /// out of reach; a store without versions deletes the object.
    fn delete_version(&self, bucket: &str, key: &str, version_id: &str) -> Result<(), StoreError> {
        let _ = version_id;
        self.delete(bucket, key)
    }
    /// Ids of the noncurrent versions of `key` (a store without versions has none).
    fn noncurrent_versions(&self, bucket: &str, key: &str) -> Result<Vec<String>, StoreError> {
        let _ = (bucket, key);
        Ok(Vec::new())
    }
    /// Replaces an object's tags.
    fn put_tags(
        &self,
        bucket: &str,
        key: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError>;
}
