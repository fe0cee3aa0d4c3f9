//! The unit of work of a Step Functions Distributed Map: one batch of objects, as the S3
//! `ItemReader` (ListObjectsV2) lists them and `ItemBatcher` groups them:
//! `{"Items": [{"Key", "Size", "LastModified", "Etag", "StorageClass"}, ...],
//!   "BatchInput": {"Bucket": "<name>"}}`.
//!
//! Step Functions writes the ETag key as `Etag` and `LastModified` as epoch seconds; `ETag`
//! and ISO-8601 times (what an S3 Inventory or a hand-written batch may hold) are read too.
//! A batch names one bucket because an `ItemReader` reads one.
//!
//! An `ItemReader` over an S3 Inventory manifest (`ReaderConfig.InputType: MANIFEST`) hands
//! over the report's rows instead: every field a string (`"Size": "1024"`), the time as
//! `LastModifiedDate`, and, for CSV reports, the key URL-encoded as S3 writes it; the map's
//! `BatchInput` says so with `"KeyEncoding": "url"`.

use dragnet_model::Timestamp;
use dragnet_store::ObjectMeta;
use serde_json::Value;

/// A parsed batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The bucket the items are in.
    pub bucket: String,
    /// The items, as listing entries.
    pub objects: Vec<ObjectMeta>,
}

/// Why a batch is not usable; names the JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("batch input {path}: {message}")]
pub struct BatchError {
    /// Where, e.g. `$.Items[3].Key`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn error(path: impl Into<String>, message: impl Into<String>) -> BatchError {
    BatchError {
        path: path.into(),
        message: message.into(),
    }
}

fn last_modified(value: &Value, path: &str) -> Result<Timestamp, BatchError> {
    match value {
        Value::Number(n) => n
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Timestamp::from_millis((s * 1000.0) as i64))
            .ok_or_else(|| error(path, "expected epoch seconds")),
        Value::String(s) => Timestamp::parse(s).map_err(|e| error(path, e.to_string())),
        Value::Null => Ok(Timestamp::from_millis(0)),
        _ => Err(error(path, "expected epoch seconds or an ISO-8601 time")),
    }
}

/// Whether a job may scan `bucket`: the spec names it, or picks buckets by criteria. A batch,
/// inventory or shard naming another bucket is refused rather than scanned under the job.
pub fn job_covers_bucket(spec: &dragnet_model::JobSpec, bucket: &str) -> bool {
    spec.s3_job_definition.bucket_criteria.is_some()
        || spec
            .s3_job_definition
            .bucket_definitions
            .iter()
            .flatten()
            .any(|d| d.buckets.iter().any(|b| b == bucket))
}

/// Reads a batch document.
pub fn parse_batch(text: &str) -> Result<Batch, BatchError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| error("$", e.to_string()))?;
    let bucket = doc["BatchInput"]["Bucket"]
        .as_str()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| {
            error(
                "$.BatchInput.Bucket",
                "missing: set it in the Map state's ItemBatcher.BatchInput to the bucket the ItemReader lists",
            )
        })?
        .to_string();
    let url_encoded = match doc["BatchInput"]["KeyEncoding"].as_str() {
        None => false,
        Some("url") => true,
        Some(other) => {
            return Err(error(
                "$.BatchInput.KeyEncoding",
                format!("{other:?}: use \"url\" for keys URL-encoded as in S3 Inventory CSV reports, or leave it out"),
            ))
        }
    };
    let items = doc["Items"]
        .as_array()
        .ok_or_else(|| error("$.Items", "expected an array of objects"))?;
    let mut objects = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |field: &str| format!("$.Items[{i}].{field}");
        let raw_key = item["Key"]
            .as_str()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| error(at("Key"), "missing"))?;
        let key = if url_encoded {
            crate::inventory::url_decode(raw_key)
                .ok_or_else(|| error(at("Key"), "not a URL-encoded key"))?
        } else {
            raw_key.to_string()
        };
        let size = match &item["Size"] {
            Value::Null => 0,
            Value::String(s) if s.is_empty() => 0,
            Value::String(s) => s
                .parse()
                .map_err(|_| error(at("Size"), "expected a byte count"))?,
            v => v
                .as_u64()
                .ok_or_else(|| error(at("Size"), "expected a byte count"))?,
        };
        let etag = item
            .get("Etag")
            .or_else(|| item.get("ETag"))
            .and_then(Value::as_str)
            .map(|e| e.trim_matches('"').to_string())
            .filter(|e| !e.is_empty());
        objects.push(ObjectMeta {
            key,
            size,
            last_modified: match item.get("LastModifiedDate") {
                Some(v) => last_modified(v, &at("LastModifiedDate"))?,
                None => last_modified(&item["LastModified"], &at("LastModified"))?,
            },
            etag,
            storage_class: item["StorageClass"]
                .as_str()
                .unwrap_or("STANDARD")
                .to_string(),
            version_id: None,
        });
    }
    Ok(Batch { bucket, objects })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_s3_item_reader_produces() {
        let batch = parse_batch(
            r#"{"Items":[
                {"Etag":"\"05704fbdccb224cb01c59005bebbad28\"","Key":"landing/a.csv","LastModified":1668699881,"Size":134,"StorageClass":"STANDARD"},
                {"ETag":"abc","Key":"landing/b.json","LastModified":"2026-01-02T03:04:05.000Z","Size":7,"StorageClass":"GLACIER"}],
              "BatchInput":{"Bucket":"data-bucket"}}"#,
        )
        .unwrap();
        assert_eq!(batch.bucket, "data-bucket");
        let a = &batch.objects[0];
        assert_eq!(a.key, "landing/a.csv");
        assert_eq!(a.etag.as_deref(), Some("05704fbdccb224cb01c59005bebbad28"));
        assert_eq!(a.last_modified, Timestamp::from_millis(1_668_699_881_000));
        assert_eq!(a.size, 134);
        assert_eq!(batch.objects[1].storage_class, "GLACIER");
        assert_eq!(batch.objects[1].etag.as_deref(), Some("abc"));
    }

    #[test]
    fn reads_the_rows_of_an_inventory_manifest_reader() {
        let batch = parse_batch(
            r#"{"Items":[
                {"Bucket":"data-bucket","Key":"exports/patients%202020.csv","Size":"1024","LastModifiedDate":"2026-11-20T10:00:00.000Z","ETag":"5eb63bbbe01eeed093cb22bb8f5acdc3","StorageClass":"STANDARD"}],
              "BatchInput":{"Bucket":"data-bucket","KeyEncoding":"url"}}"#,
        )
        .unwrap();
        let o = &batch.objects[0];
        assert_eq!(o.key, "exports/patients 2020.csv");
        assert_eq!(o.size, 1024);
        assert_eq!(
            o.last_modified,
            Timestamp::parse("2026-11-20T10:00:00.000Z").unwrap()
        );
        let e = parse_batch(r#"{"Items":[],"BatchInput":{"Bucket":"b","KeyEncoding":"base64"}}"#)
            .unwrap_err();
        assert_eq!(e.path, "$.BatchInput.KeyEncoding");
    }

    #[test]
    fn errors_name_the_path() {
        let cases = [
            ("not json", "$"),
            (r#"{"Items":[]}"#, "$.BatchInput.Bucket"),
            (r#"{"BatchInput":{"Bucket":"b"}}"#, "$.Items"),
            (
                r#"{"BatchInput":{"Bucket":"b"},"Items":[{"Size":1}]}"#,
                "$.Items[0].Key",
            ),
            (
                r#"{"BatchInput":{"Bucket":"b"},"Items":[{"Key":"k","Size":-1}]}"#,
                "$.Items[0].Size",
            ),
            (
                r#"{"BatchInput":{"Bucket":"b"},"Items":[{"Key":"k","LastModified":"yesterday"}]}"#,
                "$.Items[0].LastModified",
            ),
        ];
        for (text, path) in cases {
            assert_eq!(parse_batch(text).unwrap_err().path, path, "{text}");
        }
    }
}
