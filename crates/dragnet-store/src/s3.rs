//! `S3Store`: buckets in Amazon S3, or any S3-compatible endpoint, through the official AWS
//! SDK for Rust.
//!
//! The [`ObjectStore`] trait is synchronous (the engine scans on worker threads), so the store
//! owns a small tokio runtime and blocks on it from those threads; object bodies stream chunk
//! by chunk through [`std::io::Read`]. Credentials and region come from the standard AWS chain
//! (environment, profile, instance role), the region and endpoint may be overridden.
//!
//! Limits of this first version: `put` holds the body in memory (it writes small objects:
//! quarantine records); `copy` uses CopyObject, so objects over 5 GB fail with a clear error
//! rather than being copied part by part.

use std::collections::BTreeMap;
use std::io::{self, Read};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{MetadataDirective, Tag, Tagging, TaggingDirective};
use dragnet_model::Timestamp;

use crate::{Body, BucketInfo, ObjectAttributes, ObjectMeta, ObjectStore, StoreError};

/// How to reach S3.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// Region (else the standard chain's).
    pub region: Option<String>,
    /// A custom endpoint (an S3-compatible service, or a local emulator).
    pub endpoint_url: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), which emulators need.
    pub force_path_style: bool,
}

/// Buckets in S3.
pub struct S3Store {
    client: aws_sdk_s3::Client,
    runtime: tokio::runtime::Runtime,
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

fn ts(t: Option<&aws_sdk_s3::primitives::DateTime>) -> Timestamp {
    t.and_then(|d| d.to_millis().ok())
        .map_or(Timestamp::from_millis(0), Timestamp::from_millis)
}

fn unquote(etag: Option<&str>) -> Option<String> {
    etag.map(|e| e.trim_matches('"').to_string())
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
        let shared = runtime.block_on(loader.load());
        let config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(options.force_path_style)
            .build();
        Ok(S3Store {
            client: aws_sdk_s3::Client::from_conf(config),
            runtime,
        })
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
        Ok(BucketInfo {
            name: bucket.to_string(),
            created_at: None,
            tags,
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
        Ok(ObjectAttributes {
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
        let mut data = Vec::new();
        body.read_to_end(&mut data).map_err(|e| StoreError::Io {
            context: format!("reading the body for s3://{bucket}/{key}"),
            source: e,
        })?;
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

    fn copy(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        attributes: Option<&ObjectAttributes>,
    ) -> Result<ObjectMeta, StoreError> {
        let source: String = format!("{src_bucket}/{src_key}")
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let mut req = self
            .client
            .copy_object()
            .bucket(dst_bucket)
            .key(dst_key)
            .copy_source(source);
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
