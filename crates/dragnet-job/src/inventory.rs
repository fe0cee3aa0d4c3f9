//! Planning from an Amazon S3 Inventory report instead of listing a bucket, for buckets with
//! millions of objects: the `manifest.json` S3 writes with each report names the source
//! bucket, the schema and the data files; each CSV data file (gzip) has one object a line.
//!
//! Only CSV inventories are read (Parquet and ORC reports are refused with a message saying
//! so). Keys in CSV inventories are URL-encoded, as S3 writes them. Delete markers and
//! noncurrent versions (in reports that include versions) are left out: a scan looks at
//! current objects, as a listing does.

use std::io::{BufRead, BufReader, Read};

use dragnet_model::Timestamp;
use dragnet_store::ObjectMeta;
use serde_json::Value;

/// What `manifest.json` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The bucket the report lists.
    pub source_bucket: String,
    /// The bucket holding the data files.
    pub destination_bucket: String,
    /// Column names of the data files, in order.
    pub schema: Vec<String>,
    /// Keys of the data files in the destination bucket.
    pub files: Vec<String>,
}

/// Why an inventory cannot be used; names the file and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("S3 Inventory {what}: {message}")]
pub struct InventoryError {
    /// The manifest or data file.
    pub what: String,
    /// What is wrong.
    pub message: String,
}

fn error(what: &str, message: impl Into<String>) -> InventoryError {
    InventoryError {
        what: what.to_string(),
        message: message.into(),
    }
}

/// Reads `manifest.json`.
pub fn parse_manifest(text: &str) -> Result<Manifest, InventoryError> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| error("manifest", format!("not JSON: {e}")))?;
    let field = |name: &str| {
        doc[name]
            .as_str()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| error("manifest", format!("has no {name}")))
    };
    let format = field("fileFormat")?;
    if !format.eq_ignore_ascii_case("CSV") {
        return Err(error(
            "manifest",
            format!("fileFormat is {format}; dragnet reads CSV inventories (set the inventory's output format to CSV)"),
        ));
    }
    let destination = field("destinationBucket")?;
    let schema: Vec<String> = field("fileSchema")?
        .split(',')
        .map(|c| c.trim().to_string())
        .collect();
    for required in ["Bucket", "Key"] {
        if !schema.iter().any(|c| c == required) {
            return Err(error(
                "manifest",
                format!("fileSchema has no {required} column"),
            ));
        }
    }
    let files = doc["files"]
        .as_array()
        .ok_or_else(|| error("manifest", "has no files array"))?
        .iter()
        .map(|f| {
            f["key"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| error("manifest", "a files entry has no key"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Manifest {
        source_bucket: field("sourceBucket")?.to_string(),
        destination_bucket: destination
            .strip_prefix("arn:aws:s3:::")
            .unwrap_or(destination)
            .to_string(),
        schema,
        files,
    })
}

/// Splits one CSV line of an inventory (fields quoted, quotes doubled inside).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    out.push(field);
    out
}

/// Decodes `%XX` escapes and `+` (S3 Inventory URL-encodes keys in CSV reports).
fn url_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Reads one data file (gzip CSV) of an inventory: the current objects it lists.
pub fn read_data_file(
    manifest: &Manifest,
    name: &str,
    gzipped: impl Read,
) -> Result<Vec<ObjectMeta>, InventoryError> {
    let column = |n: &str| manifest.schema.iter().position(|c| c == n);
    let key_at = column("Key").expect("checked when the manifest was read");
    let (size_at, modified_at, etag_at, class_at) = (
        column("Size"),
        column("LastModifiedDate"),
        column("ETag"),
        column("StorageClass"),
    );
    let (latest_at, marker_at, version_at) = (
        column("IsLatest"),
        column("IsDeleteMarker"),
        column("VersionId"),
    );
    let reader = BufReader::new(flate2::read::GzDecoder::new(gzipped));
    let mut objects = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| error(name, format!("line {}: {e}", n + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let row = fields(&line);
        let get = |at: Option<usize>| at.and_then(|i| row.get(i)).map(String::as_str);
        if get(latest_at) == Some("false") || get(marker_at) == Some("true") {
            continue;
        }
        let key = row
            .get(key_at)
            .and_then(|k| url_decode(k))
            .filter(|k| !k.is_empty())
            .ok_or_else(|| error(name, format!("line {}: no readable Key", n + 1)))?;
        let size = match get(size_at) {
            None | Some("") => 0,
            Some(s) => s
                .parse()
                .map_err(|_| error(name, format!("line {}: Size {s:?} is not a number", n + 1)))?,
        };
        let last_modified = match get(modified_at) {
            None | Some("") => Timestamp::from_millis(0),
            Some(t) => Timestamp::parse(t)
                .map_err(|e| error(name, format!("line {}: LastModifiedDate: {e}", n + 1)))?,
        };
        objects.push(ObjectMeta {
            key,
            size,
            last_modified,
            etag: get(etag_at).filter(|e| !e.is_empty()).map(str::to_string),
            storage_class: get(class_at)
                .filter(|c| !c.is_empty())
                .unwrap_or("STANDARD")
                .to_string(),
            version_id: get(version_at)
                .filter(|v| !v.is_empty())
                .map(str::to_string),
        });
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const MANIFEST: &str = r#"{
        "sourceBucket": "example-source-bucket",
        "destinationBucket": "arn:aws:s3:::example-inventory-destination-bucket",
        "version": "2016-11-30",
        "creationTimestamp": "1514944800000",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass",
        "files": [{"key": "Inventory/example-source-bucket/2016-11-06T21-32Z/files/939c6d46-85a9-4ba8-aa4e-4e2d6d3a1b2c.csv.gz", "size": 2147483647, "MD5checksum": "f11166069f1990abeb9c97ace9cdfabc"}]
    }"#;

    fn gz(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_the_manifest_and_current_objects() {
        let m = parse_manifest(MANIFEST).unwrap();
        assert_eq!(m.source_bucket, "example-source-bucket");
        assert_eq!(m.destination_bucket, "example-inventory-destination-bucket");
        assert_eq!(m.files.len(), 1);
        let data = gz(concat!(
            "\"example-source-bucket\",\"exports/patients%202020.csv\",\"v2\",\"true\",\"false\",\"1024\",\"2020-04-01T10:00:00.000Z\",\"5eb63bbbe01eeed093cb22bb8f5acdc3\",\"STANDARD\"\n",
            "\"example-source-bucket\",\"exports/patients%202020.csv\",\"v1\",\"false\",\"false\",\"900\",\"2020-03-01T10:00:00.000Z\",\"aaaa\",\"STANDARD\"\n",
            "\"example-source-bucket\",\"gone.csv\",\"v3\",\"true\",\"true\",\"\",\"2020-04-02T10:00:00.000Z\",\"\",\"\"\n",
            "\"example-source-bucket\",\"cold/a.csv\",\"v4\",\"true\",\"false\",\"5\",\"2020-04-03T10:00:00.000Z\",\"bbbb\",\"GLACIER\"\n",
        ));
        let objects = read_data_file(&m, "data.csv.gz", &data[..]).unwrap();
        assert_eq!(objects.len(), 2, "{objects:?}");
        assert_eq!(objects[0].key, "exports/patients 2020.csv");
        assert_eq!(objects[0].size, 1024);
        assert_eq!(objects[0].version_id.as_deref(), Some("v2"));
        assert_eq!(
            objects[0].etag.as_deref(),
            Some("5eb63bbbe01eeed093cb22bb8f5acdc3")
        );
        assert_eq!(objects[1].storage_class, "GLACIER");
    }

    #[test]
    fn unusable_inventories_are_named() {
        let parquet = MANIFEST.replace("\"CSV\"", "\"Parquet\"");
        assert!(parse_manifest(&parquet)
            .unwrap_err()
            .to_string()
            .contains("set the inventory's output format to CSV"));
        let no_key = MANIFEST.replace("Bucket, Key,", "Bucket,");
        assert!(parse_manifest(&no_key)
            .unwrap_err()
            .to_string()
            .contains("no Key column"));
        let m = parse_manifest(MANIFEST).unwrap();
        let bad = gz("\"b\",\"k\",\"v\",\"true\",\"false\",\"big\",\"\",\"\",\"\"\n");
        let e = read_data_file(&m, "data.csv.gz", &bad[..]).unwrap_err();
        assert!(e.to_string().contains("data.csv.gz: line 1: Size"), "{e}");
        assert!(read_data_file(&m, "x", &b"not gzip"[..]).is_err());
    }
}
