//! A store wrapper that injects faults, for tests of the code that must survive them
//! (the job engine's per-object errors, the quarantine mover's guarantees, the bus's retries).
//! Only built with the `fault-injection` feature.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::Mutex;

use crate::{
    Body, BucketInfo, ObjectAttributes, ObjectDetails, ObjectMeta, ObjectStore, StoreError,
};

/// Faults to inject; all off by default.
#[derive(Debug, Default)]
pub struct Faults {
    /// `copy` fails with access denied.
    pub copy_fails: AtomicBool,
    /// `copy` writes different (truncated) content instead of the source's.
    pub copy_corrupts: AtomicBool,
    /// The next N `delete`s fail.
    pub delete_failures: AtomicU32,
    /// `get` of these keys is denied.
    pub get_denied: Mutex<BTreeSet<String>>,
    /// `get` of these keys finds nothing (deleted between listing and reading).
    pub get_gone: Mutex<BTreeSet<String>>,
    /// `get` of these keys returns this many bytes of the content, then an I/O error.
    pub get_breaks_after: Mutex<BTreeMap<String, usize>>,
    /// `get` of these keys panics: a stand-in for the process dying mid-run.
    pub get_crashes: Mutex<BTreeSet<String>>,
}

/// Wraps a store and injects [`Faults`].
pub struct FaultyStore<S> {
    /// The real store.
    pub inner: S,
    /// What to break.
    pub faults: Faults,
}

impl<S> FaultyStore<S> {
    /// No faults yet.
    pub fn new(inner: S) -> Self {
        FaultyStore {
            inner,
            faults: Faults::default(),
        }
    }
}

impl<S> FaultyStore<S> {
    /// Fails while `delete_failures` lasts.
    fn injected_delete_failure(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        let left = self.faults.delete_failures.load(SeqCst);
        if left > 0 {
            self.faults.delete_failures.store(left - 1, SeqCst);
            return Err(StoreError::Io {
                context: format!("deleting s3://{bucket}/{key}"),
                source: io::Error::other("injected failure"),
            });
        }
        Ok(())
    }
}

struct BreakingReader {
    inner: Body,
    left: usize,
}

impl Read for BreakingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "injected: connection reset",
            ));
        }
        let n = buf.len().min(self.left);
        let got = self.inner.read(&mut buf[..n])?;
        self.left -= got;
        if got == 0 {
            self.left = 0;
        }
        Ok(got)
    }
}

impl<S: ObjectStore> ObjectStore for FaultyStore<S> {
    fn list_buckets(&self) -> Result<Vec<BucketInfo>, StoreError> {
        self.inner.list_buckets()
    }
    fn bucket(&self, bucket: &str) -> Result<BucketInfo, StoreError> {
        self.inner.bucket(bucket)
    }
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
        visit: &mut dyn FnMut(ObjectMeta),
    ) -> Result<(), StoreError> {
        self.inner.list(bucket, prefix, visit)
    }
    fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError> {
        self.inner.head(bucket, key)
    }
    fn attributes(&self, bucket: &str, key: &str) -> Result<ObjectAttributes, StoreError> {
        self.inner.attributes(bucket, key)
    }
    fn details(&self, bucket: &str, key: &str) -> Result<ObjectDetails, StoreError> {
        self.inner.details(bucket, key)
    }
    fn noncurrent_versions(&self, bucket: &str, key: &str) -> Result<Vec<String>, StoreError> {
        self.inner.noncurrent_versions(bucket, key)
    }
    fn get(&self, bucket: &str, key: &str) -> Result<Body, StoreError> {
        if self.faults.get_denied.lock().unwrap().contains(key) {
            return Err(StoreError::PermissionDenied {
                what: format!("s3://{bucket}/{key}"),
            });
        }
        if self.faults.get_crashes.lock().unwrap().contains(key) {
            panic!("injected crash reading s3://{bucket}/{key}");
        }
        if self.faults.get_gone.lock().unwrap().contains(key) {
            return Err(StoreError::NoSuchKey {
                bucket: bucket.into(),
                key: key.into(),
            });
        }
        let body = self.inner.get(bucket, key)?;
        match self.faults.get_breaks_after.lock().unwrap().get(key) {
            Some(&left) => Ok(Box::new(BreakingReader { inner: body, left })),
            None => Ok(body),
        }
    }
    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        attributes: &ObjectAttributes,
    ) -> Result<ObjectMeta, StoreError> {
        self.inner.put(bucket, key, body, attributes)
    }
    fn copy(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        attributes: Option<&ObjectAttributes>,
    ) -> Result<ObjectMeta, StoreError> {
        if self.faults.copy_fails.load(SeqCst) {
            return Err(StoreError::PermissionDenied {
                what: format!("s3://{dst_bucket}/{dst_key}"),
            });
        }
        if self.faults.copy_corrupts.load(SeqCst) {
            let attrs = attributes.cloned().unwrap_or_default();
            return self
                .inner
                .put(dst_bucket, dst_key, &mut &b"truncated"[..], &attrs);
        }
        self.inner
            .copy(src_bucket, src_key, dst_bucket, dst_key, attributes)
    }
    fn put_encrypted(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        kms_key_id: &str,
    ) -> Result<ObjectMeta, StoreError> {
        self.inner.put_encrypted(bucket, key, body, kms_key_id)
    }
    fn put_if(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        expected_etag: Option<&str>,
    ) -> Result<ObjectMeta, StoreError> {
        self.inner.put_if(bucket, key, body, expected_etag)
    }
    fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        self.injected_delete_failure(bucket, key)?;
        self.inner.delete(bucket, key)
    }
    fn delete_version(&self, bucket: &str, key: &str, version_id: &str) -> Result<(), StoreError> {
        self.injected_delete_failure(bucket, key)?;
        self.inner.delete_version(bucket, key, version_id)
    }
    fn put_tags(
        &self,
        bucket: &str,
        key: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.inner.put_tags(bucket, key, tags)
    }
}
