//! Folders of files to and from a store: what exporting discovery results, handing a batch's
//! output to the merge step, and reading it back there share.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::{validate_bucket_name, ObjectStore, StoreError};

/// `s3://bucket/prefix` as the bucket and the prefix without surrounding slashes; `None`
/// when `uri` is not an S3 URI or the bucket name is not valid.
pub fn parse_s3_location(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    validate_bucket_name(bucket).ok()?;
    Some((bucket.to_string(), prefix.trim_matches('/').to_string()))
}

/// `prefix/relative`, or `relative` when the prefix is empty.
pub fn join_key(prefix: &str, relative: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        relative.to_string()
    } else {
        format!("{prefix}/{relative}")
    }
}

/// Every file under `root`, at any depth, in path order; none when `root` does not exist.
pub fn files_under(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn io_error(context: String) -> impl FnOnce(io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

/// Writes every file under `root` to `bucket` at `prefix/<path relative to root>` (with SSE-KMS
/// under `kms_key_id` when given) and returns the `s3://` URIs written, in path order.
pub fn upload_tree(
    store: &dyn ObjectStore,
    root: &Path,
    bucket: &str,
    prefix: &str,
    kms_key_id: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    let mut written = Vec::new();
    let files = files_under(root).map_err(io_error(format!("reading {}", root.display())))?;
    for file in files {
        let relative = file
            .strip_prefix(root)
            .expect("files_under yields paths under root")
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        let key = join_key(prefix, &relative);
        let mut body =
            fs::File::open(&file).map_err(io_error(format!("reading {}", file.display())))?;
        match kms_key_id {
            Some(kms) => store.put_encrypted(bucket, &key, &mut body, kms)?,
            None => store.put(bucket, &key, &mut body, &Default::default())?,
        };
        written.push(format!("s3://{bucket}/{key}"));
    }
    Ok(written)
}

/// Copies every object under `prefix/` in `bucket` to `root/<key relative to the prefix>` and
/// returns how many were copied. Keys are validated, so none can write outside `root`.
pub fn download_prefix(
    store: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
    root: &Path,
) -> Result<usize, StoreError> {
    let listed = format!("{}/", prefix.trim_matches('/'));
    let mut keys = Vec::new();
    store.list(bucket, &listed, &mut |meta| keys.push(meta.key))?;
    for key in &keys {
        let relative = &key[listed.len()..];
        let unsafe_path = relative
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..");
        if unsafe_path {
            return Err(StoreError::Io {
                context: format!("s3://{bucket}/{key}"),
                source: io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the key has an empty, `.` or `..` segment and cannot be written as a file",
                ),
            });
        }
        let target = root.join(relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)
                .map_err(io_error(format!("creating {}", parent.display())))?;
        }
        let mut body = store.get(bucket, key)?;
        let mut file = fs::File::create(&target)
            .map_err(io_error(format!("creating {}", target.display())))?;
        io::copy(&mut body, &mut file).map_err(io_error(format!("copying s3://{bucket}/{key}")))?;
    }
    Ok(keys.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DirStore;

    #[test]
    fn s3_locations_parse_and_reject_what_is_not_one() {
        assert_eq!(
            parse_s3_location("s3://results-bucket/dragnet/"),
            Some(("results-bucket".into(), "dragnet".into()))
        );
        assert_eq!(
            parse_s3_location("s3://results-bucket"),
            Some(("results-bucket".into(), String::new()))
        );
        assert_eq!(parse_s3_location("results-bucket/x"), None);
        assert_eq!(parse_s3_location("s3://Bad_Bucket/x"), None);
        assert_eq!(join_key("", "a/b"), "a/b");
        assert_eq!(join_key("/p/", "a"), "p/a");
    }

    #[test]
    fn a_tree_round_trips_through_a_store() {
        let buckets = tempfile::tempdir().unwrap();
        std::fs::create_dir(buckets.path().join("out-bucket")).unwrap();
        let store = DirStore::new(buckets.path());
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("results/a")).unwrap();
        std::fs::write(src.path().join("job.json"), "{}").unwrap();
        std::fs::write(src.path().join("results/a/r.jsonl.gz"), "gz").unwrap();
        let written = upload_tree(&store, src.path(), "out-bucket", "runs/r1", None).unwrap();
        assert_eq!(
            written,
            [
                "s3://out-bucket/runs/r1/job.json",
                "s3://out-bucket/runs/r1/results/a/r.jsonl.gz"
            ]
        );
        let dst = tempfile::tempdir().unwrap();
        assert_eq!(
            download_prefix(&store, "out-bucket", "runs/r1", dst.path()).unwrap(),
            2
        );
        assert_eq!(
            std::fs::read_to_string(dst.path().join("results/a/r.jsonl.gz")).unwrap(),
            "gz"
        );
        assert_eq!(
            download_prefix(&store, "out-bucket", "runs/none", dst.path()).unwrap(),
            0
        );
    }
}
