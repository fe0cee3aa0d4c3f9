//! `S3Store`: buckets in Amazon S3, or any S3-compatible endpoint, through the official AWS
//! SDK for Rust.
//!
//! The [`ObjectStore`] trait is synchronous (the engine scans on worker threads), so the store
//! owns a small tokio runtime and blocks on it from those threads; object bodies stream chunk
//! by chunk through [`std::io::Read`]. Credentials and region come from the standard AWS chain
//! (environment, profile, instance role), the region and endpoint may be overridden.
//!
//! `put` holds the body in memory (it writes small objects: quarantine records and result
//! files); `copy` uses CopyObject up to 5 GiB and UploadPartCopy above, keeping the source's
//! server-side encryption either way.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::time::Duration;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, MetadataDirective, Tag, Tagging, TaggingDirective,
};
use dragnet_model::Timestamp;

use crate::security::{self, BlockPublicAccess, BucketSecurity, Encryption, Owner, PolicyFacts};
use crate::{
    Body, BucketInfo, ObjectAttributes, ObjectDetails, ObjectMeta, ObjectStore, StoreError,
};

/// How to reach S3.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// Region (else the standard chain's).
    pub region: Option<String>,
    /// A custom endpoint (an S3-compatible service, or a local emulator).
    pub endpoint_url: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), which emulators need.
    pub force_path_style: bool,
    /// Attempts per request, retries included, with exponential backoff and jitter on
    /// throttling, 5xx and transient network errors (the SDK's standard retry mode). `None`
    /// keeps the SDK's default (3) or `AWS_MAX_ATTEMPTS`.
    pub max_attempts: Option<u32>,
    /// Time allowed to open a connection.
    pub connect_timeout: Option<Duration>,
    /// Time allowed without a byte from S3 on an open connection (also while a body streams).
    pub read_timeout: Option<Duration>,
    /// Objects larger than this are copied part by part with UploadPartCopy (CopyObject
    /// refuses sources over 5 GiB).
    pub multipart_copy_threshold: u64,
    /// Part size of a multipart copy (raised when needed to stay within 10,000 parts).
    pub copy_part_size: u64,
}

/// CopyObject's limit on the source size.
pub const MAX_COPY_OBJECT_SIZE: u64 = 5 << 30;

impl Default for S3Options {
    fn default() -> Self {
        S3Options {
            region: None,
            endpoint_url: None,
            force_path_style: false,
            max_attempts: None,
            connect_timeout: None,
            read_timeout: None,
            multipart_copy_threshold: MAX_COPY_OBJECT_SIZE,
            copy_part_size: 512 << 20,
        }
    }
}

/// Buckets in S3.
pub struct S3Store {
    client: aws_sdk_s3::Client,
    runtime: tokio::runtime::Runtime,
    multipart_copy_threshold: u64,
    copy_part_size: u64,
}

fn err_of<E: ProvideErrorMetadata + std::fmt::Debug>(
    e: SdkError<E>,
    what: &str,
    bucket: &str,
    key: &str,
) -> StoreError {
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e
        .as_service_error()
        .and_then(|s| s.code())
        .unwrap_or_default()
        .to_string();
    match (code.as_str(), status) {
        ("NoSuchBucket", _) => StoreError::NoSuchBucket {
            bucket: bucket.into(),
        },
        ("NoSuchKey" | "NotFound", _) | (_, Some(404)) if !key.is_empty() => {
            StoreError::NoSuchKey {
                bucket: bucket.into(),
                key: key.into(),
            }
        }
        (_, Some(404)) => StoreError::NoSuchBucket {
            bucket: bucket.into(),
        },
        ("PreconditionFailed" | "ConditionalRequestConflict", _) | (_, Some(412 | 409))
            if !key.is_empty() =>
        {
            StoreError::PreconditionFailed {
                bucket: bucket.into(),
                key: key.into(),
            }
        }
        ("AccessDenied", _) | (_, Some(403)) => StoreError::PermissionDenied {
            what: format!("{what} s3://{bucket}/{key}"),
        },
        _ => StoreError::Io {
            context: format!("{what} s3://{bucket}/{key}"),
            source: io::Error::other(format!(
                "{code} {}",
                e.as_service_error()
                    .and_then(|s| s.message())
                    .unwrap_or(&format!("{e:?}"))
            )),
        },
    }
}

/// The service error code of a failed call (`NoSuchBucketPolicy`, ...), `""` when none.
fn code_of<E: ProvideErrorMetadata>(e: &SdkError<E>) -> &str {
    e.as_service_error().and_then(|s| s.code()).unwrap_or("")
}

/// A bucket setting read with one call: `Some(absent)` when S3 says it is not configured
/// (error `not_configured`), `None` when it could not be read (access denied, ...).
fn setting<T, O, E: ProvideErrorMetadata>(
    result: Result<O, SdkError<E>>,
    not_configured: &str,
    absent: T,
    read: impl FnOnce(O) -> T,
) -> Option<T> {
    match result {
        Ok(out) => Some(read(out)),
        Err(e) if code_of(&e) == not_configured => Some(absent),
        Err(_) => None,
    }
}

fn ts(t: Option<&aws_sdk_s3::primitives::DateTime>) -> Timestamp {
    t.and_then(|d| d.to_millis().ok())
        .map_or(Timestamp::from_millis(0), Timestamp::from_millis)
}

fn unquote(etag: Option<&str>) -> Option<String> {
    etag.map(|e| e.trim_matches('"').to_string())
}

/// A body to upload, in memory (the store uploads small objects: records, state, results).
fn read_body(bucket: &str, key: &str, body: &mut dyn Read) -> Result<Vec<u8>, StoreError> {
    let mut data = Vec::new();
    body.read_to_end(&mut data).map_err(|e| StoreError::Io {
        context: format!("reading the body for s3://{bucket}/{key}"),
        source: e,
    })?;
    Ok(data)
}

/// The encryption a copy keeps.
struct Sse {
    kind: Option<aws_sdk_s3::types::ServerSideEncryption>,
    kms_key_id: Option<String>,
}

/// `x-amz-copy-source`: `bucket/key`, percent-encoded.
fn copy_source(bucket: &str, key: &str) -> String {
    format!("{bucket}/{key}")
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A streamed object body: each `read` waits for the next chunk.
struct S3Body {
    stream: ByteStream,
    handle: tokio::runtime::Handle,
    chunk: bytes_like::Chunk,
}

mod bytes_like {
    /// The current chunk and how much of it was read.
    #[derive(Default)]
    pub struct Chunk {
        pub data: Vec<u8>,
        pub pos: usize,
    }
}

impl Read for S3Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.pos >= self.chunk.data.len() {
            match self.handle.block_on(self.stream.try_next()) {
                Ok(Some(bytes)) => {
                    self.chunk.data = bytes.to_vec();
                    self.chunk.pos = 0;
                }
                Ok(None) => return Ok(0),
                Err(e) => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        e.to_string(),
                    ))
                }
            }
        }
        let n = buf.len().min(self.chunk.data.len() - self.chunk.pos);
        buf[..n].copy_from_slice(&self.chunk.data[self.chunk.pos..self.chunk.pos + n]);
        self.chunk.pos += n;
        Ok(n)
    }
}

fn tagging(tags: &BTreeMap<String, String>) -> Result<Tagging, StoreError> {
    let set = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Io {
            context: "building tags".into(),
            source: io::Error::other(e.to_string()),
        })?;
    Tagging::builder()
        .set_tag_set(Some(set))
        .build()
        .map_err(|e| StoreError::Io {
            context: "building tags".into(),
            source: io::Error::other(e.to_string()),
        })
}

/// `k=v&k2=v2`, URL-encoded, as PutObject's and CopyObject's `Tagging` header wants it.
fn tag_header(tags: &BTreeMap<String, String>) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }
    tags.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl S3Store {
    /// Connects with the standard credential chain and `options`.
    pub fn connect(options: &S3Options) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| StoreError::Io {
                context: "starting the S3 client runtime".into(),
                source: e,
            })?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = &options.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(attempts) = options.max_attempts {
            loader = loader.retry_config(
                aws_config::retry::RetryConfig::standard().with_max_attempts(attempts.max(1)),
            );
        }
        if options.connect_timeout.is_some() || options.read_timeout.is_some() {
            let mut timeouts = aws_config::timeout::TimeoutConfig::builder();
            if let Some(t) = options.connect_timeout {
                timeouts = timeouts.connect_timeout(t);
            }
            if let Some(t) = options.read_timeout {
                timeouts = timeouts.read_timeout(t);
            }
            loader = loader.timeout_config(timeouts.build());
        }
        let shared = runtime.block_on(loader.load());
        let config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(options.force_path_style)
            .build();
        Ok(S3Store {
            client: aws_sdk_s3::Client::from_conf(config),
            runtime,
            multipart_copy_threshold: options.multipart_copy_threshold,
            copy_part_size: options.copy_part_size.max(5 << 20),
        })
    }

    /// Reads the encryption, owner and public access settings findings report; each setting
    /// that cannot be read (for example for lack of permission) stays unknown.
    fn bucket_security(&self, bucket: &str) -> BucketSecurity {
        let c = &self.client;
        let rt = &self.runtime;
        let default_encryption = setting(
            rt.block_on(c.get_bucket_encryption().bucket(bucket).send()),
            "ServerSideEncryptionConfigurationNotFoundError",
            None,
            |out| {
                out.server_side_encryption_configuration()
                    .and_then(|conf| conf.rules().first())
                    .and_then(|rule| rule.apply_server_side_encryption_by_default())
                    .map(|d| Encryption {
                        kind: d.sse_algorithm().as_str().to_string(),
                        kms_key_id: d.kms_master_key_id().map(str::to_string),
                    })
            },
        );
        let acl = rt.block_on(c.get_bucket_acl().bucket(bucket).send()).ok();
        let owner = acl.as_ref().and_then(|a| a.owner()).map(|o| Owner {
            id: o.id().map(str::to_string),
            display_name: o.display_name().map(str::to_string),
        });
        let acl = acl.map(|a| {
            security::acl_grants(
                a.grants()
                    .iter()
                    .filter_map(|g| Some((g.grantee()?.uri()?, g.permission()?.as_str()))),
            )
        });
        let block_public_access = setting(
            rt.block_on(c.get_public_access_block().bucket(bucket).send()),
            "NoSuchPublicAccessBlockConfiguration",
            BlockPublicAccess::default(),
            |out| {
                let conf = out.public_access_block_configuration();
                let flag = |f: Option<bool>| f.unwrap_or(false);
                BlockPublicAccess {
                    block_public_acls: flag(conf.and_then(|c| c.block_public_acls())),
                    ignore_public_acls: flag(conf.and_then(|c| c.ignore_public_acls())),
                    block_public_policy: flag(conf.and_then(|c| c.block_public_policy())),
                    restrict_public_buckets: flag(conf.and_then(|c| c.restrict_public_buckets())),
                }
            },
        );
        let policy = setting(
            rt.block_on(c.get_bucket_policy().bucket(bucket).send()),
            "NoSuchBucketPolicy",
            Some(PolicyFacts::default()),
            |out| out.policy().and_then(security::policy_facts),
        )
        .flatten();
        BucketSecurity {
            default_encryption,
            owner,
            block_public_access,
            acl,
            policy,
        }
    }

    /// Copies an object too large for CopyObject: a multipart upload whose parts are
    /// UploadPartCopy ranges of the source, aborted if any part fails so no orphan parts are
    /// billed. Attributes are set on the upload, since a multipart copy carries none over.
    fn copy_in_parts(
        &self,
        source: &str,
        size: u64,
        dst_bucket: &str,
        dst_key: &str,
        attributes: &ObjectAttributes,
        encryption: &Sse,
    ) -> Result<(), StoreError> {
        fn fail<'a, E: ProvideErrorMetadata + std::fmt::Debug>(
            what: &str,
            bucket: &'a str,
            key: &'a str,
        ) -> impl FnOnce(SdkError<E>) -> StoreError + 'a {
            let what = what.to_string();
            move |e| err_of(e, &what, bucket, key)
        }
        let mut create = self
            .client
            .create_multipart_upload()
            .bucket(dst_bucket)
            .key(dst_key)
            .set_metadata(Some(attributes.metadata.clone().into_iter().collect()))
            .set_content_type(attributes.content_type.clone())
            .set_server_side_encryption(encryption.kind.clone())
            .set_ssekms_key_id(encryption.kms_key_id.clone());
        if !attributes.tags.is_empty() {
            create = create.tagging(tag_header(&attributes.tags));
        }
        let upload = self.runtime.block_on(create.send()).map_err(fail(
            "starting a multipart copy to",
            dst_bucket,
            dst_key,
        ))?;
        let upload_id = upload.upload_id().unwrap_or_default().to_string();
        let part_size = self.copy_part_size.max(size.div_ceil(10_000));
        let copied = (|| {
            let mut parts = Vec::new();
            let mut start = 0u64;
            while start < size {
                let end = (start + part_size).min(size) - 1;
                let number = parts.len() as i32 + 1;
                let part = self
                    .runtime
                    .block_on(
                        self.client
                            .upload_part_copy()
                            .bucket(dst_bucket)
                            .key(dst_key)
                            .upload_id(&upload_id)
                            .part_number(number)
                            .copy_source(source)
                            .copy_source_range(format!("bytes={start}-{end}"))
                            .send(),
                    )
                    .map_err(fail(
                        &format!("copying part {number} to"),
                        dst_bucket,
                        dst_key,
                    ))?;
                parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(
                            part.copy_part_result()
                                .and_then(|r| r.e_tag().map(str::to_string)),
                        )
                        .build(),
                );
                start = end + 1;
            }
            self.runtime
                .block_on(
                    self.client
                        .complete_multipart_upload()
                        .bucket(dst_bucket)
                        .key(dst_key)
                        .upload_id(&upload_id)
                        .multipart_upload(
                            CompletedMultipartUpload::builder()
                                .set_parts(Some(parts))
                                .build(),
                        )
                        .send(),
                )
                .map(|_| ())
                .or_else(|e| {
                    // Some S3-compatible services (moto among them) name the response's root
                    // element differently and the SDK cannot read it; the status says the
                    // upload completed, and callers verify the copy's content anyway.
                    let completed =
                        matches!(&e, SdkError::ServiceError(s) if s.raw().status().is_success());
                    if completed {
                        Ok(())
                    } else {
                        Err(fail(
                            "completing the multipart copy to",
                            dst_bucket,
                            dst_key,
                        )(e))
                    }
                })
        })();
        if copied.is_err() {
            let aborted = self.runtime.block_on(
                self.client
                    .abort_multipart_upload()
                    .bucket(dst_bucket)
                    .key(dst_key)
                    .upload_id(&upload_id)
                    .send(),
            );
            if let Err(e) = aborted {
                tracing::warn!(bucket = %dst_bucket, upload = %upload_id, error = %aws_sdk_s3::error::DisplayErrorContext(&e), "could not abort the failed multipart copy; a lifecycle rule for incomplete uploads will remove its parts");
            }
        }
        copied
    }

    /// Creates a bucket (tests and set-up).
    pub fn create_bucket(&self, bucket: &str) -> Result<(), StoreError> {
        self.runtime
            .block_on(self.client.create_bucket().bucket(bucket).send())
            .map(|_| ())
            .map_err(|e| err_of(e, "creating", bucket, ""))
    }
}

impl ObjectStore for S3Store {
    fn list_buckets(&self) -> Result<Vec<BucketInfo>, StoreError> {
        let out = self
            .runtime
            .block_on(self.client.list_buckets().send())
            .map_err(|e| err_of(e, "listing buckets", "", ""))?;
        out.buckets()
            .iter()
            .filter_map(|b| b.name())
            .map(|n| self.bucket(n))
            .collect()
    }

    fn bucket(&self, bucket: &str) -> Result<BucketInfo, StoreError> {
        self.runtime
            .block_on(self.client.head_bucket().bucket(bucket).send())
            .map_err(|e| err_of(e, "reading bucket", bucket, ""))?;
        let tags = match self
            .runtime
            .block_on(self.client.get_bucket_tagging().bucket(bucket).send())
        {
            Ok(t) => t
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            Err(_) => BTreeMap::new(),
        };
        let created_at = self
            .runtime
            .block_on(self.client.list_buckets().prefix(bucket).send())
            .ok()
            .and_then(|out| {
                out.buckets()
                    .iter()
                    .find(|b| b.name() == Some(bucket))
                    .and_then(|b| b.creation_date().and_then(|d| d.to_millis().ok()))
            })
            .map(Timestamp::from_millis);
        Ok(BucketInfo {
            name: bucket.to_string(),
            created_at,
            tags,
            security: Some(self.bucket_security(bucket)),
        })
    }

    fn list(
        &self,
        bucket: &str,
        prefix: &str,
        visit: &mut dyn FnMut(ObjectMeta),
    ) -> Result<(), StoreError> {
        let mut token: Option<String> = None;
        loop {
            let mut req = self.client.list_objects_v2().bucket(bucket).prefix(prefix);
            if let Some(t) = &token {
                req = req.continuation_token(t);
            }
            let page = self
                .runtime
                .block_on(req.send())
                .map_err(|e| err_of(e, "listing", bucket, ""))?;
            for o in page.contents() {
                visit(ObjectMeta {
                    key: o.key().unwrap_or_default().to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                    last_modified: ts(o.last_modified()),
                    etag: unquote(o.e_tag()),
                    storage_class: o
                        .storage_class()
                        .map_or("STANDARD".into(), |c| c.as_str().to_string()),
                    version_id: None,
                });
            }
            match page.next_continuation_token() {
                Some(t) if page.is_truncated().unwrap_or(false) => token = Some(t.to_string()),
                _ => return Ok(()),
            }
        }
    }

    fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError> {
        let h = self
            .runtime
            .block_on(self.client.head_object().bucket(bucket).key(key).send())
            .map_err(|e| err_of(e, "reading", bucket, key))?;
        Ok(ObjectMeta {
            key: key.to_string(),
            size: h.content_length().unwrap_or(0).max(0) as u64,
            last_modified: ts(h.last_modified()),
            etag: unquote(h.e_tag()),
            storage_class: h
                .storage_class()
                .map_or("STANDARD".into(), |c| c.as_str().to_string()),
            version_id: h.version_id().map(str::to_string),
        })
    }

    fn attributes(&self, bucket: &str, key: &str) -> Result<ObjectAttributes, StoreError> {
        self.details(bucket, key).map(|d| d.attributes)
    }

    fn details(&self, bucket: &str, key: &str) -> Result<ObjectDetails, StoreError> {
        let h = self
            .runtime
            .block_on(self.client.head_object().bucket(bucket).key(key).send())
            .map_err(|e| err_of(e, "reading", bucket, key))?;
        let tags = self
            .runtime
            .block_on(
                self.client
                    .get_object_tagging()
                    .bucket(bucket)
                    .key(key)
                    .send(),
            )
            .map_err(|e| err_of(e, "reading tags of", bucket, key))?;
        Ok(ObjectDetails {
            attributes: ObjectAttributes {
                content_type: h.content_type().map(str::to_string),
                metadata: h
                    .metadata()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                tags: tags
                    .tag_set()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
            },
            encryption: h.server_side_encryption().map(|sse| Encryption {
                kind: sse.as_str().to_string(),
                kms_key_id: h.ssekms_key_id().map(str::to_string),
            }),
            version_id: h.version_id().map(str::to_string),
        })
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Body, StoreError> {
        let out = self
            .runtime
            .block_on(self.client.get_object().bucket(bucket).key(key).send())
            .map_err(|e| err_of(e, "reading", bucket, key))?;
        Ok(Box::new(S3Body {
            stream: out.body,
            handle: self.runtime.handle().clone(),
            chunk: Default::default(),
        }))
    }

    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        attributes: &ObjectAttributes,
    ) -> Result<ObjectMeta, StoreError> {
        let data = read_body(bucket, key, body)?;
        let mut req = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(data))
            .set_metadata(Some(attributes.metadata.clone().into_iter().collect()));
        if let Some(ct) = &attributes.content_type {
            req = req.content_type(ct);
        }
        if !attributes.tags.is_empty() {
            req = req.tagging(tag_header(&attributes.tags));
        }
        self.runtime
            .block_on(req.send())
            .map_err(|e| err_of(e, "writing", bucket, key))?;
        self.head(bucket, key)
    }

    fn put_encrypted(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        kms_key_id: &str,
    ) -> Result<ObjectMeta, StoreError> {
        let data = read_body(bucket, key, body)?;
        let req = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(data))
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
            .ssekms_key_id(kms_key_id);
        self.runtime
            .block_on(req.send())
            .map_err(|e| err_of(e, "writing", bucket, key))?;
        self.head(bucket, key)
    }

    fn put_if(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        expected_etag: Option<&str>,
    ) -> Result<ObjectMeta, StoreError> {
        let data = read_body(bucket, key, body)?;
        let data_len = data.len();
        let req = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(data));
        let req = match expected_etag {
            None => req.if_none_match("*"),
            Some(etag) => req.if_match(format!("\"{etag}\"")),
        };
        let size = data_len as u64;
        let out = self
            .runtime
            .block_on(req.send())
            .map_err(|e| err_of(e, "writing", bucket, key))?;
        // From the response, not a HEAD, which could already see a later writer's object.
        Ok(ObjectMeta {
            key: key.to_string(),
            size,
            last_modified: Timestamp::now(),
            etag: unquote(out.e_tag()),
            storage_class: "STANDARD".into(),
            version_id: out.version_id().map(str::to_string),
        })
    }

    fn copy(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        attributes: Option<&ObjectAttributes>,
    ) -> Result<ObjectMeta, StoreError> {
        let source = copy_source(src_bucket, src_key);
        let head = self
            .runtime
            .block_on(
                self.client
                    .head_object()
                    .bucket(src_bucket)
                    .key(src_key)
                    .send(),
            )
            .map_err(|e| err_of(e, "reading", src_bucket, src_key))?;
        // The copy keeps the original's encryption rather than taking the destination's default.
        let encryption = Sse {
            kind: head.server_side_encryption().cloned(),
            kms_key_id: head.ssekms_key_id().map(str::to_string),
        };
        let size = head.content_length().unwrap_or(0).max(0) as u64;
        if size > self.multipart_copy_threshold {
            let attributes = match attributes {
                Some(a) => a.clone(),
                None => self.attributes(src_bucket, src_key)?,
            };
            self.copy_in_parts(&source, size, dst_bucket, dst_key, &attributes, &encryption)?;
            return self.head(dst_bucket, dst_key);
        }
        let mut req = self
            .client
            .copy_object()
            .bucket(dst_bucket)
            .key(dst_key)
            .copy_source(source)
            .set_server_side_encryption(encryption.kind.clone())
            .set_ssekms_key_id(encryption.kms_key_id.clone());
        if let Some(a) = attributes {
            req = req
                .metadata_directive(MetadataDirective::Replace)
                .set_metadata(Some(a.metadata.clone().into_iter().collect()))
                .tagging_directive(TaggingDirective::Replace)
                .tagging(tag_header(&a.tags));
            if let Some(ct) = &a.content_type {
                req = req.content_type(ct);
            }
        }
        self.runtime
            .block_on(req.send())
            .map_err(|e| err_of(e, "copying to", dst_bucket, dst_key))?;
        self.head(dst_bucket, dst_key)
    }

    fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        self.runtime
            .block_on(self.client.delete_object().bucket(bucket).key(key).send())
            .map(|_| ())
            .map_err(|e| err_of(e, "deleting", bucket, key))
    }

    fn delete_version(&self, bucket: &str, key: &str, version_id: &str) -> Result<(), StoreError> {
        self.runtime
            .block_on(
                self.client
                    .delete_object()
                    .bucket(bucket)
                    .key(key)
                    .version_id(version_id)
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| err_of(e, &format!("deleting version {version_id} of"), bucket, key))
    }

    fn noncurrent_versions(&self, bucket: &str, key: &str) -> Result<Vec<String>, StoreError> {
        let mut versions = Vec::new();
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .runtime
                .block_on(
                    self.client
                        .list_object_versions()
                        .bucket(bucket)
                        .prefix(key)
                        .set_key_marker(key_marker.take())
                        .set_version_id_marker(version_marker.take())
                        .send(),
                )
                .map_err(|e| err_of(e, "listing versions of", bucket, key))?;
            versions.extend(
                page.versions()
                    .iter()
                    .filter(|v| v.key() == Some(key) && v.is_latest() != Some(true))
                    .filter_map(|v| v.version_id().map(str::to_string)),
            );
            if !page.is_truncated().unwrap_or(false) {
                return Ok(versions);
            }
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
        }
    }

    fn put_tags(
        &self,
        bucket: &str,
        key: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let tagging = tagging(tags)?;
        self.runtime
            .block_on(
                self.client
                    .put_object_tagging()
                    .bucket(bucket)
                    .key(key)
                    .tagging(tagging)
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| err_of(e, "tagging", bucket, key))
    }
}
