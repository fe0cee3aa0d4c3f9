//! Key and bucket-name rules that keep hostile names inside the store.

use crate::StoreError;

/// Folder inside each bucket where [`crate::DirStore`] keeps object attributes; keys under
/// it are reserved.
pub const META_DIR: &str = ".dragnet";

/// Checks an S3-style bucket name (3–63 of `a-z 0-9 . - _`, not `.`/`..`-shaped).
pub fn validate_bucket_name(bucket: &str) -> Result<(), StoreError> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        })
        && !bucket.starts_with('.')
        && !bucket.contains("..");
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidKey {
            key: bucket.to_string(),
            reason: "not a valid bucket name (3-63 characters of a-z, 0-9, '.', '-', '_')".into(),
        })
    }
}

/// Checks that `key` names a file inside its bucket: relative, `/`-separated, no empty, `.`
/// or `..` segments, no NUL or backslash, at most 1,024 bytes, and not under the reserved
/// attributes folder.
pub fn validate_key(key: &str) -> Result<(), StoreError> {
    let refuse = |reason: &str| {
        Err(StoreError::InvalidKey {
            key: key.to_string(),
            reason: reason.to_string(),
        })
    };
    if key.is_empty() || key.len() > 1024 {
        return refuse("keys must be 1 to 1,024 bytes long");
    }
    if key.starts_with('/') {
        return refuse("absolute paths would escape the bucket");
    }
    if key.contains('\0') || key.contains('\\') {
        return refuse("NUL and backslash are not allowed in keys of a folder store");
    }
    for segment in key.split('/') {
        match segment {
            "" => return refuse("empty path segments (//, trailing /) are not allowed"),
            "." | ".." => return refuse("'.' and '..' segments would escape the bucket"),
            _ => {}
        }
    }
    if key == META_DIR || key.starts_with(&format!("{META_DIR}/")) {
        return refuse("keys under .dragnet/ are reserved for object attributes");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for good in [
            "a.csv",
            "dir/sub/file.txt",
            "weird name (1).csv",
            "ünïcode/ключ.txt",
        ] {
            assert!(validate_key(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a/./b",
            "a/",
            "a\\b",
            ".dragnet/meta/x.json",
            "nul\0",
        ] {
            assert!(validate_key(bad).is_err(), "{bad:?}");
        }
        assert!(validate_key(&"a".repeat(1025)).is_err());
    }

    #[test]
    fn buckets() {
        assert!(validate_bucket_name("synthea-data-111222333444-us-east-1").is_ok());
        for bad in ["ab", "..", "../etc", "UPPER", "a/b", ".hidden"] {
            assert!(validate_bucket_name(bad).is_err(), "{bad}");
        }
    }
}
