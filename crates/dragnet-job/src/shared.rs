//! The job store shared between machines through an object store: in AWS mode, an S3
//! location that every scheduler and `jobs` command of a deployment uses.
//!
//! Choice (issue: "S3 conditional writes or DynamoDB"): the state stays one SQLite file, the
//! same [`JobStore`] the embedded default uses, so there is one implementation of the job
//! lifecycle, incremental state and resumable runs; the S3 location holds its last saved copy
//! (`state.db`) and a lease document (`lease.json`). Both are written only with conditional
//! requests (`If-None-Match: *` to create, `If-Match: <ETag>` to replace), which S3 has
//! supported since 2024, so:
//! - only the lease holder writes the state: a second scheduler (or a `jobs` command) sees who
//!   holds it and until when, and waits or gives up, rather than both running a job;
//! - a lease whose holder died expires after its time to live and is taken over, again with a
//!   conditional write, so two processes cannot both take it;
//! - a state write that does not start from the copy the writer read fails instead of
//!   overwriting someone else's changes.
//!
//! DynamoDB would give the same guarantees with conditional `PutItem`, but would need a
//! second AWS service, a table to provision, and a second implementation of the store's
//! queries; S3 is already required. The cost is coarse locking: one writer at a time for the
//! whole state, which suits a scheduler that holds the lease only while it runs jobs.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use dragnet_model::Timestamp;
use dragnet_store::{ObjectStore, StoreError};
use serde::{Deserialize, Serialize};

use crate::state::{JobStore, StateError};

/// Where a deployment's job store is kept.
#[derive(Clone)]
pub struct SharedState {
    store: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
}

/// The lease document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeaseDocument {
    holder: String,
    acquired_at: Timestamp,
    expires_at: Timestamp,
}

/// A lease this process holds: the right to write the shared state until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Who holds it (`host:pid` by convention).
    pub holder: String,
    /// When it lapses unless renewed.
    pub expires_at: Timestamp,
    etag: String,
    acquired_at: Timestamp,
}

/// The copy of the state a process read: where it was written from, for the next write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// ETag of the shared copy read; `None` when nothing was shared yet.
    pub etag: Option<String>,
}

/// Why the shared state could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SharedStateError {
    /// Another process holds the lease.
    #[error("the job store at s3://{bucket}/{key} is in use by {holder} until {until}; try again then, or stop that process")]
    Held {
        /// Bucket.
        bucket: String,
        /// Lease key.
        key: String,
        /// The holder.
        holder: String,
        /// When its lease lapses.
        until: Timestamp,
    },
    /// The lease was taken over (it had lapsed): this process must stop writing.
    #[error("the lease on the job store at s3://{bucket}/{key} was lost (it lapsed and another process took it); this process's later changes were not saved")]
    Lost {
        /// Bucket.
        bucket: String,
        /// Lease key.
        key: String,
    },
    /// The shared copy changed since this process read it.
    #[error("the job store at s3://{bucket}/{key} was saved by another process since it was read; this process's changes were not saved, run the command again")]
    Conflict {
        /// Bucket.
        bucket: String,
        /// State key.
        key: String,
    },
    /// A document in the location is not what dragnet wrote.
    #[error("s3://{bucket}/{key} is not a dragnet lease document: {message}")]
    Corrupt {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// Why.
        message: String,
    },
    /// The object store failed.
    #[error("shared job store: {0}")]
    Store(#[from] StoreError),
    /// The local copy could not be read or written.
    #[error("local copy of the job store {path}: {message}")]
    Local {
        /// The local file.
        path: String,
        /// What failed.
        message: String,
    },
    /// The job store failed while taking a snapshot.
    #[error(transparent)]
    State(#[from] StateError),
}

impl SharedState {
    /// The state kept under `prefix` in `bucket` of `store`.
    pub fn new(store: Arc<dyn ObjectStore>, bucket: &str, prefix: &str) -> Self {
        let prefix = match prefix.trim_matches('/') {
            "" => String::new(),
            p => format!("{p}/"),
        };
        SharedState {
            store,
            bucket: bucket.to_string(),
            prefix,
        }
    }

    /// `s3://bucket/prefix/`, for messages.
    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn lease_key(&self) -> String {
        format!("{}lease.json", self.prefix)
    }

    fn state_key(&self) -> String {
        format!("{}state.db", self.prefix)
    }

    fn read_lease(&self) -> Result<Option<(LeaseDocument, String)>, SharedStateError> {
        let key = self.lease_key();
        let meta = match self.store.head(&self.bucket, &key) {
            Ok(m) => m,
            Err(StoreError::NoSuchKey { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut text = Vec::new();
        let read = self.store.get(&self.bucket, &key).and_then(|mut body| {
            body.read_to_end(&mut text).map_err(|e| StoreError::Io {
                context: format!("reading s3://{}/{key}", self.bucket),
                source: e,
            })
        });
        match read {
            Ok(_) => {}
            Err(StoreError::NoSuchKey { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let doc = serde_json::from_slice(&text).map_err(|e| SharedStateError::Corrupt {
            bucket: self.bucket.clone(),
            key: key.clone(),
            message: e.to_string(),
        })?;
        Ok(Some((doc, meta.etag.unwrap_or_default())))
    }

    fn write_lease(
        &self,
        doc: &LeaseDocument,
        expected: Option<&str>,
    ) -> Result<String, StoreError> {
        let text = serde_json::to_vec(doc).expect("serializable");
        self.store
            .put_if(&self.bucket, &self.lease_key(), &mut &text[..], expected)
            .map(|meta| meta.etag.unwrap_or_default())
    }

    fn held(&self, doc: LeaseDocument) -> SharedStateError {
        SharedStateError::Held {
            bucket: self.bucket.clone(),
            key: self.lease_key(),
            holder: doc.holder,
            until: doc.expires_at,
        }
    }

    /// Takes the lease for `ttl_ms` as `holder` when it is free, lapsed, or already
    /// `holder`'s; else says who holds it.
    pub fn acquire(
        &self,
        holder: &str,
        ttl_ms: i64,
        now: Timestamp,
    ) -> Result<Lease, SharedStateError> {
        let current = self.read_lease()?;
        let expected = match &current {
            None => None,
            Some((doc, etag)) if doc.holder == holder || doc.expires_at <= now => {
                Some(etag.as_str())
            }
            Some((doc, _)) => return Err(self.held(doc.clone())),
        };
        let doc = LeaseDocument {
            holder: holder.to_string(),
            acquired_at: now,
            expires_at: Timestamp::from_millis(now.millis() + ttl_ms),
        };
        match self.write_lease(&doc, expected) {
            Ok(etag) => Ok(Lease {
                holder: doc.holder,
                expires_at: doc.expires_at,
                etag,
                acquired_at: now,
            }),
            // Someone else took it between the read and the write.
            Err(StoreError::PreconditionFailed { .. }) => match self.read_lease()? {
                Some((doc, _)) => Err(self.held(doc)),
                None => Err(SharedStateError::Lost {
                    bucket: self.bucket.clone(),
                    key: self.lease_key(),
                }),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Extends a held lease to `now + ttl_ms`; [`SharedStateError::Lost`] when another process
    /// took it meanwhile.
    pub fn renew(
        &self,
        lease: &mut Lease,
        ttl_ms: i64,
        now: Timestamp,
    ) -> Result<(), SharedStateError> {
        let doc = LeaseDocument {
            holder: lease.holder.clone(),
            acquired_at: lease.acquired_at,
            expires_at: Timestamp::from_millis(now.millis() + ttl_ms),
        };
        match self.write_lease(&doc, Some(&lease.etag)) {
            Ok(etag) => {
                lease.etag = etag;
                lease.expires_at = doc.expires_at;
                Ok(())
            }
            Err(StoreError::PreconditionFailed { .. } | StoreError::NoSuchKey { .. }) => {
                Err(SharedStateError::Lost {
                    bucket: self.bucket.clone(),
                    key: self.lease_key(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Gives the lease up: it is rewritten as lapsed, so the next process takes it at once.
    /// Releasing a lease already taken over is not an error.
    pub fn release(&self, lease: Lease) -> Result<(), SharedStateError> {
        let doc = LeaseDocument {
            holder: lease.holder,
            acquired_at: lease.acquired_at,
            expires_at: Timestamp::from_millis(0),
        };
        match self.write_lease(&doc, Some(&lease.etag)) {
            Ok(_) | Err(StoreError::PreconditionFailed { .. } | StoreError::NoSuchKey { .. }) => {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces the local job store file `local` with the shared copy (when there is one)
    /// and says which copy was read. SQLite's side files of the old local copy are removed
    /// with it so they cannot be replayed into the new one.
    pub fn pull(&self, local: &Path) -> Result<Pulled, SharedStateError> {
        let local_err = |message: String| SharedStateError::Local {
            path: local.display().to_string(),
            message,
        };
        let key = self.state_key();
        let meta = match self.store.head(&self.bucket, &key) {
            Ok(m) => m,
            Err(StoreError::NoSuchKey { .. }) => return Ok(Pulled { etag: None }),
            Err(e) => return Err(e.into()),
        };
        let folder = local
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(folder).map_err(|e| local_err(e.to_string()))?;
        let mut file =
            tempfile::NamedTempFile::new_in(folder).map_err(|e| local_err(e.to_string()))?;
        let mut body = self.store.get(&self.bucket, &key)?;
        std::io::copy(&mut body, &mut file).map_err(|e| local_err(format!("downloading: {e}")))?;
        for side in ["-wal", "-shm"] {
            let mut name = local.as_os_str().to_owned();
            name.push(side);
            match std::fs::remove_file(&name) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(local_err(e.to_string())),
            }
        }
        file.persist(local)
            .map_err(|e| local_err(e.error.to_string()))?;
        Ok(Pulled { etag: meta.etag })
    }

    /// Saves a consistent snapshot of `jobs` as the shared copy, provided the shared copy is
    /// still the one `pulled` read; returns what the next save must start from.
    pub fn push(&self, jobs: &JobStore, pulled: &Pulled) -> Result<Pulled, SharedStateError> {
        let snapshot = tempfile::NamedTempFile::new().map_err(|e| SharedStateError::Local {
            path: "snapshot".into(),
            message: e.to_string(),
        })?;
        let path = snapshot.path().to_path_buf();
        drop(snapshot);
        jobs.snapshot(&path)?;
        let result = (|| {
            let mut file = std::fs::File::open(&path).map_err(|e| SharedStateError::Local {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            match self.store.put_if(
                &self.bucket,
                &self.state_key(),
                &mut file,
                pulled.etag.as_deref(),
            ) {
                Ok(meta) => Ok(Pulled { etag: meta.etag }),
                Err(StoreError::PreconditionFailed { .. }) => Err(SharedStateError::Conflict {
                    bucket: self.bucket.clone(),
                    key: self.state_key(),
                }),
                Err(e) => Err(e.into()),
            }
        })();
        let _ = std::fs::remove_file(&path);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_store::DirStore;

    fn shared() -> (tempfile::TempDir, SharedState) {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::new(dir.path().join("buckets"));
        store.create_bucket("state-bucket").unwrap();
        let shared = SharedState::new(Arc::new(store), "state-bucket", "dragnet/prod");
        (dir, shared)
    }

    const MINUTE: i64 = 60_000;

    #[test]
    fn one_holder_at_a_time_until_the_lease_lapses_or_is_released() {
        let (_dir, shared) = shared();
        let t0 = Timestamp::from_millis(1_000_000);
        let mut a = shared.acquire("host-a:1", MINUTE, t0).unwrap();
        let err = shared
            .acquire(
                "host-b:2",
                MINUTE,
                Timestamp::from_millis(t0.millis() + 1000),
            )
            .unwrap_err();
        assert!(
            matches!(&err, SharedStateError::Held { holder, .. } if holder == "host-a:1"),
            "{err}"
        );
        assert!(err.to_string().contains("in use by host-a:1"));
        // The holder renews; the other still waits.
        shared
            .renew(&mut a, MINUTE, Timestamp::from_millis(t0.millis() + 30_000))
            .unwrap();
        assert!(shared
            .acquire(
                "host-b:2",
                MINUTE,
                Timestamp::from_millis(t0.millis() + 70_000)
            )
            .is_err());
        // Lapsed: taken over, and the old holder knows it lost it.
        let late = Timestamp::from_millis(t0.millis() + 200_000);
        let b = shared.acquire("host-b:2", MINUTE, late).unwrap();
        assert!(matches!(
            shared.renew(&mut a, MINUTE, late).unwrap_err(),
            SharedStateError::Lost { .. }
        ));
        // Releasing a lost lease changes nothing; releasing a held one frees it.
        shared.release(a).unwrap();
        assert!(shared.acquire("host-c:3", MINUTE, late).is_err());
        shared.release(b).unwrap();
        shared.acquire("host-c:3", MINUTE, late).unwrap();
    }

    #[test]
    fn state_round_trips_and_stale_writes_are_refused() {
        let (dir, shared) = shared();
        let local_a = dir.path().join("a/state.db");
        let local_b = dir.path().join("b/state.db");
        assert_eq!(shared.pull(&local_a).unwrap(), Pulled { etag: None });
        let jobs = JobStore::open(&local_a).unwrap();
        jobs.event(
            "job-1",
            Timestamp::now(),
            "JOB_CREATED",
            serde_json::json!({"by": "a"}),
        )
        .unwrap();
        let saved = shared.push(&jobs, &Pulled { etag: None }).unwrap();
        assert!(saved.etag.is_some());

        let pulled_b = shared.pull(&local_b).unwrap();
        assert_eq!(pulled_b, saved);
        let jobs_b = JobStore::open(&local_b).unwrap();
        assert_eq!(jobs_b.events("job-1").unwrap().len(), 1);

        // A saves again; B's save from the older copy is refused, not merged or lost.
        jobs.event(
            "job-1",
            Timestamp::now(),
            "JOB_PAUSED",
            serde_json::json!({}),
        )
        .unwrap();
        shared.push(&jobs, &saved).unwrap();
        jobs_b
            .event(
                "job-1",
                Timestamp::now(),
                "JOB_CANCELLED",
                serde_json::json!({}),
            )
            .unwrap();
        let err = shared.push(&jobs_b, &pulled_b).unwrap_err();
        assert!(matches!(err, SharedStateError::Conflict { .. }), "{err}");
        // A fresh pull sees A's two events.
        drop(jobs_b);
        shared.pull(&local_b).unwrap();
        assert_eq!(
            JobStore::open(&local_b)
                .unwrap()
                .events("job-1")
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn a_damaged_lease_document_is_named() {
        let (_dir, shared) = shared();
        shared
            .store
            .put(
                "state-bucket",
                "dragnet/prod/lease.json",
                &mut &b"not json"[..],
                &Default::default(),
            )
            .unwrap();
        let err = shared
            .acquire("host-a:1", MINUTE, Timestamp::now())
            .unwrap_err();
        assert!(err.to_string().contains("dragnet/prod/lease.json"), "{err}");
    }
}
