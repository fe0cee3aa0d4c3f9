//! `DirStore`: the embedded default store, a folder per bucket under a root folder.
//!
//! Layout (documented contract):
//! - object `s3://<bucket>/<key>` is the file `<root>/<bucket>/<key>`;
//! - its content type, user metadata and tags are the JSON file
//!   `<root>/<bucket>/.dragnet/meta/<key>.json`
//!   (`{"contentType": "...", "metadata": {...}, "tags": {...}}`, every member optional);
//! - bucket tags are `<root>/<bucket>/.dragnet/bucket.json` (`{"tags": {...}}`);
//! - the ETag is the hex MD5 of the content, as S3 gives for single-part uploads; listing does
//!   not read contents, [`ObjectStore::head`] computes it;
//! - symbolic links are never followed: a key whose path passes through a link is refused and
//!   listings skip links, so nothing outside the root is read or written.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use dragnet_model::ids::hex;
use dragnet_model::Timestamp;
use md5::{Digest, Md5};

use crate::keys::{validate_bucket_name, validate_key, META_DIR};
use crate::{Body, BucketInfo, ObjectAttributes, ObjectMeta, ObjectStore, StoreError};

/// A folder per bucket under `root`.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Io { context, source }
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BucketFile {
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

impl DirStore {
    /// A store over `root` (which need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirStore { root: root.into() }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates a bucket folder (no error if it exists).
    pub fn create_bucket(&self, bucket: &str) -> Result<(), StoreError> {
        validate_bucket_name(bucket)?;
        let dir = self.root.join(bucket);
        fs::create_dir_all(&dir)
            .map_err(io_err(format!("creating bucket folder {}", dir.display())))
    }

    /// Sets a bucket's tags.
    pub fn put_bucket_tags(
        &self,
        bucket: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let dir = self.bucket_dir(bucket)?;
        let meta = dir.join(META_DIR);
        fs::create_dir_all(&meta).map_err(io_err(format!("creating {}", meta.display())))?;
        let text =
            serde_json::to_vec_pretty(&BucketFile { tags: tags.clone() }).expect("serializable");
        write_atomic(&meta.join("bucket.json"), &mut &text[..]).map(|_| ())
    }

    fn bucket_dir(&self, bucket: &str) -> Result<PathBuf, StoreError> {
        validate_bucket_name(bucket)?;
        let dir = self.root.join(bucket);
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(dir),
            Ok(_) => Err(StoreError::InvalidKey {
                key: bucket.to_string(),
                reason: "the bucket folder is a link or a file, not a folder".into(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NoSuchBucket {
                bucket: bucket.to_string(),
            }),
            Err(e) => Err(io_err(format!("reading bucket folder {}", dir.display()))(
                e,
            )),
        }
    }

    /// The path of `key`, refusing keys that leave the bucket or pass through a link.
    fn object_path(&self, bucket: &str, key: &str) -> Result<PathBuf, StoreError> {
        validate_key(key)?;
        let mut path = self.bucket_dir(bucket)?;
        let segments: Vec<&str> = key.split('/').collect();
        for (i, segment) in segments.iter().enumerate() {
            path.push(segment);
            match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(StoreError::InvalidKey {
                        key: key.to_string(),
                        reason: "the path passes through a symbolic link; links are not followed"
                            .into(),
                    })
                }
                Ok(m) if i + 1 < segments.len() && !m.is_dir() => {
                    return Err(StoreError::NoSuchKey {
                        bucket: bucket.into(),
                        key: key.into(),
                    })
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // Rest of the path does not exist yet (fine for writes).
                    for rest in &segments[i + 1..] {
                        path.push(rest);
                    }
                    break;
                }
                Err(e) => return Err(io_err(format!("reading {}", path.display()))(e)),
            }
        }
        Ok(path)
    }

    fn meta_path(&self, bucket: &str, key: &str) -> Result<PathBuf, StoreError> {
        Ok(self
            .bucket_dir(bucket)?
            .join(META_DIR)
            .join("meta")
            .join(format!("{key}.json")))
    }

    fn existing_file(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<(PathBuf, fs::Metadata), StoreError> {
        let path = self.object_path(bucket, key)?;
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => Ok((path, m)),
            Ok(_) => Err(StoreError::NoSuchKey {
                bucket: bucket.into(),
                key: key.into(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NoSuchKey {
                bucket: bucket.into(),
                key: key.into(),
            }),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                Err(StoreError::PermissionDenied {
                    what: format!("s3://{bucket}/{key}"),
                })
            }
            Err(e) => Err(io_err(format!("reading {}", path.display()))(e)),
        }
    }

    fn write_attributes(
        &self,
        bucket: &str,
        key: &str,
        attributes: &ObjectAttributes,
    ) -> Result<(), StoreError> {
        let path = self.meta_path(bucket, key)?;
        if *attributes == ObjectAttributes::default() {
            return match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    Err(io_err(format!("removing {}", path.display()))(e))
                }
                _ => Ok(()),
            };
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err(format!("creating {}", parent.display())))?;
        }
        let text = serde_json::to_vec_pretty(attributes).expect("serializable");
        write_atomic(&path, &mut &text[..]).map(|_| ())
    }
}

fn meta_of(key: String, m: &fs::Metadata, etag: Option<String>) -> ObjectMeta {
    ObjectMeta {
        key,
        size: m.len(),
        last_modified: m
            .modified()
            .map(Timestamp::from_system_time)
            .unwrap_or(Timestamp::from_millis(0)),
        etag,
        storage_class: "STANDARD".into(),
        version_id: None,
    }
}

/// Writes `body` to a temporary file beside `path`, syncs it and renames it into place;
/// returns the content's MD5.
fn write_atomic(path: &Path, body: &mut dyn Read) -> Result<String, StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("object");
    let tmp = dir.join(format!(".{name}.dragnet-tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
        let mut md5 = Md5::new();
        crate::for_each_chunk(body, |chunk| {
            md5.update(chunk);
            f.write_all(chunk)
        })
        .map_err(io_err(format!("copying into {}", tmp.display())))?;
        f.sync_all()
            .map_err(io_err(format!("syncing {}", tmp.display())))?;
        fs::rename(&tmp, path).map_err(io_err(format!("renaming into {}", path.display())))?;
        Ok(hex(&md5.finalize()))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

impl ObjectStore for DirStore {
    fn list_buckets(&self) -> Result<Vec<BucketInfo>, StoreError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(format!("listing {}", self.root.display()))(e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err(format!("listing {}", self.root.display())))?;
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if let (true, Some(name)) = (is_dir, entry.file_name().to_str()) {
                if validate_bucket_name(name).is_ok() {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        names.iter().map(|n| self.bucket(n)).collect()
    }

    fn bucket(&self, bucket: &str) -> Result<BucketInfo, StoreError> {
        let dir = self.bucket_dir(bucket)?;
        let created = fs::metadata(&dir)
            .ok()
            .and_then(|m| m.created().or_else(|_| m.modified()).ok());
        let file = dir.join(META_DIR).join("bucket.json");
        let tags = match fs::read(&file) {
            Ok(bytes) => {
                serde_json::from_slice::<BucketFile>(&bytes)
                    .map_err(|e| {
                        io_err(format!("reading {}", file.display()))(io::Error::new(
                            io::ErrorKind::InvalidData,
                            e,
                        ))
                    })?
                    .tags
            }
            Err(_) => BTreeMap::new(),
        };
        Ok(BucketInfo {
            name: bucket.to_string(),
            created_at: created.map(Timestamp::from_system_time),
            tags,
            security: None,
        })
    }

    fn list(
        &self,
        bucket: &str,
        prefix: &str,
        visit: &mut dyn FnMut(ObjectMeta),
    ) -> Result<(), StoreError> {
        let dir = self.bucket_dir(bucket)?;
        let mut found = Vec::new();
        let mut stack = vec![(dir.clone(), String::new())];
        while let Some((folder, key_prefix)) = stack.pop() {
            let entries =
                fs::read_dir(&folder).map_err(io_err(format!("listing {}", folder.display())))?;
            for entry in entries {
                let entry = entry.map_err(io_err(format!("listing {}", folder.display())))?;
                let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                    tracing::warn!(folder = %folder.display(), "skipping a file name that is not UTF-8 (not a valid key)");
                    continue;
                };
                let key = format!("{key_prefix}{name}");
                let ft = entry
                    .file_type()
                    .map_err(io_err(format!("reading {}", entry.path().display())))?;
                if key == META_DIR || name.contains(".dragnet-tmp-") {
                    continue;
                }
                if ft.is_symlink() {
                    tracing::warn!(bucket, key = %key, "skipping a symbolic link: links are not followed");
                } else if ft.is_dir() {
                    let sub = format!("{key}/");
                    if sub.starts_with(prefix) || prefix.starts_with(&sub) {
                        stack.push((entry.path(), sub));
                    }
                } else if ft.is_file() && key.starts_with(prefix) && validate_key(&key).is_ok() {
                    let m = entry
                        .metadata()
                        .map_err(io_err(format!("reading {}", entry.path().display())))?;
                    found.push(meta_of(key, &m, None));
                }
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        found.into_iter().for_each(visit);
        Ok(())
    }

    fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError> {
        let (path, m) = self.existing_file(bucket, key)?;
        let mut f = File::open(&path).map_err(io_err(format!("opening {}", path.display())))?;
        let mut md5 = Md5::new();
        crate::for_each_chunk(&mut f, |chunk| {
            md5.update(chunk);
            Ok(())
        })
        .map_err(io_err(format!("reading {}", path.display())))?;
        Ok(meta_of(key.to_string(), &m, Some(hex(&md5.finalize()))))
    }

    fn attributes(&self, bucket: &str, key: &str) -> Result<ObjectAttributes, StoreError> {
        self.existing_file(bucket, key)?;
        let path = self.meta_path(bucket, key)?;
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Io {
                context: format!("reading attributes {}", path.display()),
                source: io::Error::new(io::ErrorKind::InvalidData, e),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(ObjectAttributes::default()),
            Err(e) => Err(io_err(format!("reading {}", path.display()))(e)),
        }
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Body, StoreError> {
        let (path, _) = self.existing_file(bucket, key)?;
        match File::open(&path) {
            Ok(f) => Ok(Box::new(f)),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                Err(StoreError::PermissionDenied {
                    what: format!("s3://{bucket}/{key}"),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NoSuchKey {
                bucket: bucket.into(),
                key: key.into(),
            }),
            Err(e) => Err(io_err(format!("opening {}", path.display()))(e)),
        }
    }

    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        attributes: &ObjectAttributes,
    ) -> Result<ObjectMeta, StoreError> {
        let path = self.object_path(bucket, key)?;
        let etag = write_atomic(&path, body)?;
        self.write_attributes(bucket, key, attributes)?;
        let m = fs::metadata(&path).map_err(io_err(format!("reading {}", path.display())))?;
        Ok(meta_of(key.to_string(), &m, Some(etag)))
    }

    /// Conditional writes of one bucket take turns under an exclusive lock on
    /// `.dragnet/conditional-write.lock`, held from the ETag check to the write, so they are
    /// atomic against each other across processes (plain `put`s do not take the lock).
    fn put_if(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        expected_etag: Option<&str>,
    ) -> Result<ObjectMeta, StoreError> {
        let meta = self.bucket_dir(bucket)?.join(META_DIR);
        fs::create_dir_all(&meta).map_err(io_err(format!("creating {}", meta.display())))?;
        let lock_path = meta.join("conditional-write.lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(format!("opening {}", lock_path.display())))?;
        lock.lock()
            .map_err(io_err(format!("locking {}", lock_path.display())))?;
        let current = match self.head(bucket, key) {
            Ok(m) => m.etag,
            Err(StoreError::NoSuchKey { .. }) => None,
            Err(e) => return Err(e),
        };
        if current.as_deref() != expected_etag {
            return Err(StoreError::PreconditionFailed {
                bucket: bucket.into(),
                key: key.into(),
            });
        }
        self.put(bucket, key, body, &ObjectAttributes::default())
    }

    fn copy(
        &self,
        src_bucket: &str,
        src_key: &str,
        dst_bucket: &str,
        dst_key: &str,
        attributes: Option<&ObjectAttributes>,
    ) -> Result<ObjectMeta, StoreError> {
        let attrs = match attributes {
            Some(a) => a.clone(),
            None => self.attributes(src_bucket, src_key)?,
        };
        let mut body = self.get(src_bucket, src_key)?;
        self.put(dst_bucket, dst_key, &mut body, &attrs)
    }

    fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        let path = self.object_path(bucket, key)?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(format!("deleting {}", path.display()))(e)),
        }
        let meta = self.meta_path(bucket, key)?;
        let _ = fs::remove_file(&meta);
        // S3 has no folders: remove the ones this delete emptied.
        let bucket_dir = self.bucket_dir(bucket)?;
        let mut dir = path.parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if d == bucket_dir || fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
        Ok(())
    }

    fn put_tags(
        &self,
        bucket: &str,
        key: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let mut attrs = self.attributes(bucket, key)?;
        attrs.tags = tags.clone();
        self.write_attributes(bucket, key, &attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, DirStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = DirStore::new(dir.path().join("buckets"));
        s.create_bucket("bucket-a").unwrap();
        (dir, s)
    }

    fn put(s: &DirStore, key: &str, body: &str) -> ObjectMeta {
        s.put(
            "bucket-a",
            key,
            &mut body.as_bytes(),
            &ObjectAttributes::default(),
        )
        .unwrap()
    }

    #[test]
    fn put_list_head_get_delete() {
        let (_d, s) = store();
        put(&s, "b/2.csv", "two");
        let m = put(&s, "a.csv", "hello");
        assert_eq!(m.etag.as_deref(), Some("5d41402abc4b2a76b9719d911017c592"));
        put(&s, "b/1.csv", "one");
        let mut keys = Vec::new();
        s.list("bucket-a", "", &mut |o| keys.push((o.key, o.size, o.etag)))
            .unwrap();
        assert_eq!(
            keys,
            vec![
                ("a.csv".into(), 5, None),
                ("b/1.csv".into(), 3, None),
                ("b/2.csv".into(), 3, None)
            ]
        );
        let mut prefixed = Vec::new();
        s.list("bucket-a", "b/1", &mut |o| prefixed.push(o.key))
            .unwrap();
        assert_eq!(prefixed, vec!["b/1.csv"]);
        assert_eq!(
            s.head("bucket-a", "a.csv").unwrap().etag.unwrap(),
            "5d41402abc4b2a76b9719d911017c592"
        );
        let mut text = String::new();
        s.get("bucket-a", "b/1.csv")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "one");
        s.delete("bucket-a", "b/1.csv").unwrap();
        s.delete("bucket-a", "b/2.csv").unwrap();
        s.delete("bucket-a", "never-existed").unwrap();
        assert!(
            !s.root().join("bucket-a/b").exists(),
            "emptied folders are removed"
        );
        assert!(matches!(
            s.get("bucket-a", "b/1.csv"),
            Err(StoreError::NoSuchKey { .. })
        ));
        assert!(matches!(
            s.get("nope-bucket", "x"),
            Err(StoreError::NoSuchBucket { .. })
        ));
    }

    #[test]
    fn attributes_travel_with_copies() {
        let (_d, s) = store();
        s.create_bucket("isolation").unwrap();
        let attrs = ObjectAttributes {
            content_type: Some("text/csv".into()),
            metadata: BTreeMap::from([("owner".into(), "data-team".into())]),
            tags: BTreeMap::from([("Project".into(), "Synthea".into())]),
        };
        s.put("bucket-a", "x/y.csv", &mut &b"1,2"[..], &attrs)
            .unwrap();
        s.copy("bucket-a", "x/y.csv", "isolation", "x/y.csv", None)
            .unwrap();
        assert_eq!(s.attributes("isolation", "x/y.csv").unwrap(), attrs);
        let mut keys = Vec::new();
        s.list("bucket-a", "", &mut |o| keys.push(o.key)).unwrap();
        assert_eq!(
            keys,
            vec!["x/y.csv"],
            "attribute files are not listed as objects"
        );
        s.put_tags(
            "isolation",
            "x/y.csv",
            &BTreeMap::from([("q".into(), "1".into())]),
        )
        .unwrap();
        assert_eq!(s.attributes("isolation", "x/y.csv").unwrap().tags["q"], "1");
    }

    #[test]
    fn hostile_keys_are_refused() {
        let (d, s) = store();
        fs::write(d.path().join("secret.txt"), "outside").unwrap();
        for key in [
            "../secret.txt",
            "../../etc/passwd",
            "/etc/passwd",
            "a/../../secret.txt",
            ".dragnet/bucket.json",
        ] {
            assert!(
                matches!(s.get("bucket-a", key), Err(StoreError::InvalidKey { .. })),
                "{key}"
            );
            assert!(
                s.put(
                    "bucket-a",
                    key,
                    &mut &b"x"[..],
                    &ObjectAttributes::default()
                )
                .is_err(),
                "{key}"
            );
        }
        assert!(matches!(
            s.get("..", "secret.txt"),
            Err(StoreError::InvalidKey { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_root_are_not_followed() {
        let (d, s) = store();
        fs::write(d.path().join("secret.txt"), "outside").unwrap();
        std::os::unix::fs::symlink(
            d.path().join("secret.txt"),
            s.root().join("bucket-a/link.csv"),
        )
        .unwrap();
        std::os::unix::fs::symlink(d.path(), s.root().join("bucket-a/dirlink")).unwrap();
        let mut keys = Vec::new();
        s.list("bucket-a", "", &mut |o| keys.push(o.key)).unwrap();
        assert!(keys.is_empty(), "links are not listed: {keys:?}");
        assert!(matches!(
            s.get("bucket-a", "link.csv"),
            Err(StoreError::InvalidKey { .. })
        ));
        assert!(matches!(
            s.get("bucket-a", "dirlink/secret.txt"),
            Err(StoreError::InvalidKey { .. })
        ));
    }
}
