//! Planning from an Amazon S3 Inventory report instead of listing a bucket, for buckets with
//! millions of objects: the `manifest.json` S3 writes with each report names the source
//! bucket, the format, the schema and the data files.
//!
//! CSV reports (gzip, one object a line, keys URL-encoded as S3 writes them) and Parquet
//! reports (one object a row, columns `key`, `size`, `last_modified_date`, `e_tag`,
//! `storage_class`, `version_id`, `is_latest`, `is_delete_marker`) are read; ORC reports are
//! refused with a message saying so. Delete markers and noncurrent versions (in reports that
//! include versions) are left out: a scan looks at current objects, as a listing does.

use std::io::{BufRead, BufReader, Read};

use dragnet_model::Timestamp;
use dragnet_store::ObjectMeta;
use serde_json::Value;

/// The format of a report's data files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryFormat {
    /// Gzip CSV, columns as `fileSchema` lists them.
    Csv,
    /// Apache Parquet, columns named in snake case.
    Parquet,
}

/// What `manifest.json` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The bucket the report lists.
    pub source_bucket: String,
    /// The data files' format.
    pub format: InventoryFormat,
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
    let format = match field("fileFormat")?.to_ascii_uppercase().as_str() {
        "CSV" => InventoryFormat::Csv,
        "PARQUET" if cfg!(feature = "parquet") => InventoryFormat::Parquet,
        "PARQUET" => {
            return Err(error(
                "manifest",
                "fileFormat is Parquet and this build has no Parquet support (the dragnet-job `parquet` feature); set the inventory's output format to CSV",
            ))
        }
        other => {
            return Err(error(
                "manifest",
                format!("fileFormat is {other}; dragnet reads CSV and Parquet inventories (set the inventory's output format to one of them)"),
            ))
        }
    };
    let destination = field("destinationBucket")?;
    let schema: Vec<String> = match format {
        InventoryFormat::Csv => field("fileSchema")?
            .split(',')
            .map(|c| c.trim().to_string())
            .collect(),
        // A Parquet message type: `message s3.inventory { required binary key (UTF8); ... }`.
        InventoryFormat::Parquet => field("fileSchema")?
            .split(';')
            .filter_map(|decl| decl.split('(').next()?.split_whitespace().last())
            .map(str::to_string)
            .collect(),
    };
    let (bucket_column, key_column) = match format {
        InventoryFormat::Csv => ("Bucket", "Key"),
        InventoryFormat::Parquet => ("bucket", "key"),
    };
    for required in [bucket_column, key_column] {
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
        format,
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
pub(crate) fn url_decode(value: &str) -> Option<String> {
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

/// One object of a report, whatever its format.
#[derive(Default)]
struct Entry {
    key: String,
    size: u64,
    last_modified: Option<Timestamp>,
    etag: Option<String>,
    storage_class: Option<String>,
    version_id: Option<String>,
    noncurrent_or_deleted: bool,
}

impl Entry {
    /// The listing entry, or `None` for a delete marker or a noncurrent version.
    fn into_meta(self) -> Option<ObjectMeta> {
        if self.noncurrent_or_deleted {
            return None;
        }
        let present = |v: Option<String>| v.filter(|v| !v.is_empty());
        Some(ObjectMeta {
            key: self.key,
            size: self.size,
            last_modified: self.last_modified.unwrap_or(Timestamp::from_millis(0)),
            etag: present(self.etag),
            storage_class: present(self.storage_class).unwrap_or_else(|| "STANDARD".into()),
            version_id: present(self.version_id),
        })
    }
}

/// Reads one data file of an inventory (gzip CSV or Parquet, as the manifest says): the
/// current objects it lists.
pub fn read_data_file(
    manifest: &Manifest,
    name: &str,
    data: impl Read,
) -> Result<Vec<ObjectMeta>, InventoryError> {
    match manifest.format {
        InventoryFormat::Csv => read_csv(manifest, name, data),
        #[cfg(feature = "parquet")]
        InventoryFormat::Parquet => parquet_inventory::read(name, data),
        #[cfg(not(feature = "parquet"))]
        InventoryFormat::Parquet => Err(error(name, "this build reads no Parquet")),
    }
}

fn read_csv(
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
            None | Some("") => None,
            Some(t) => Some(
                Timestamp::parse(t)
                    .map_err(|e| error(name, format!("line {}: LastModifiedDate: {e}", n + 1)))?,
            ),
        };
        let entry = Entry {
            key,
            size,
            last_modified,
            etag: get(etag_at).map(str::to_string),
            storage_class: get(class_at).map(str::to_string),
            version_id: get(version_at).map(str::to_string),
            noncurrent_or_deleted: get(latest_at) == Some("false")
                || get(marker_at) == Some("true"),
        };
        objects.extend(entry.into_meta());
    }
    Ok(objects)
}

#[cfg(feature = "parquet")]
mod parquet_inventory {
    use std::io::{Read, Seek};

    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    use super::{error, Entry, InventoryError, ObjectMeta, Timestamp};

    /// Reads a Parquet data file; its footer is at the end, so it is spooled to disk first.
    pub(super) fn read(name: &str, mut data: impl Read) -> Result<Vec<ObjectMeta>, InventoryError> {
        let fail = |e: &dyn std::fmt::Display| error(name, e.to_string());
        let mut spool = tempfile::tempfile().map_err(|e| fail(&e))?;
        std::io::copy(&mut data, &mut spool).map_err(|e| fail(&e))?;
        spool.rewind().map_err(|e| fail(&e))?;
        let reader = SerializedFileReader::new(spool)
            .map_err(|e| error(name, format!("not a Parquet file: {e}")))?;
        let rows = reader.get_row_iter(None).map_err(|e| fail(&e))?;
        let mut objects = Vec::new();
        for (n, row) in rows.enumerate() {
            let row = row.map_err(|e| error(name, format!("row {}: {e}", n + 1)))?;
            let mut entry = Entry::default();
            for (column, field) in row.get_column_iter() {
                let text = match field {
                    Field::Str(s) => Some(s.clone()),
                    _ => None,
                };
                match (column.as_str(), field) {
                    ("key", _) => entry.key = text.unwrap_or_default(),
                    ("size", Field::Long(v)) => entry.size = u64::try_from(*v).unwrap_or(0),
                    ("last_modified_date", Field::TimestampMillis(ms) | Field::Long(ms)) => {
                        entry.last_modified = Some(Timestamp::from_millis(*ms))
                    }
                    ("e_tag", _) => entry.etag = text,
                    ("storage_class", _) => entry.storage_class = text,
                    ("version_id", _) => entry.version_id = text,
                    ("is_latest", Field::Bool(false)) | ("is_delete_marker", Field::Bool(true)) => {
                        entry.noncurrent_or_deleted = true
                    }
                    _ => {}
                }
            }
            if entry.key.is_empty() {
                return Err(error(name, format!("row {}: no key", n + 1)));
            }
            objects.extend(entry.into_meta());
        }
        Ok(objects)
    }
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

    /// A Parquet inventory data file, as S3 writes one (a subset of its columns).
    #[cfg(feature = "parquet")]
    fn parquet_report() -> Vec<u8> {
        use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int64Type};
        use parquet::file::properties::WriterProperties;
        use parquet::file::writer::SerializedFileWriter;
        let schema = parquet::schema::parser::parse_message_type(PARQUET_SCHEMA).unwrap();
        let mut buf = Vec::new();
        let mut writer = SerializedFileWriter::new(
            &mut buf,
            std::sync::Arc::new(schema),
            std::sync::Arc::new(WriterProperties::builder().build()),
        )
        .unwrap();
        let mut rg = writer.next_row_group().unwrap();
        let text = |values: &[&str]| -> Vec<ByteArray> {
            values.iter().map(|v| ByteArray::from(*v)).collect()
        };
        let mut i = 0;
        while let Some(mut col) = rg.next_column().unwrap() {
            match i {
                0 => col
                    .typed::<ByteArrayType>()
                    .write_batch(&text(&["b", "b", "b"]), None, None),
                1 => col.typed::<ByteArrayType>().write_batch(
                    &text(&["exports/patients 2020.csv", "old.csv", "gone.csv"]),
                    None,
                    None,
                ),
                2 => col.typed::<BoolType>().write_batch(
                    &[true, false, true],
                    Some(&[1, 1, 1]),
                    None,
                ),
                3 => col.typed::<BoolType>().write_batch(
                    &[false, false, true],
                    Some(&[1, 1, 1]),
                    None,
                ),
                4 => col
                    .typed::<Int64Type>()
                    .write_batch(&[1024, 9, 0], Some(&[1, 1, 1]), None),
                5 => col.typed::<Int64Type>().write_batch(
                    &[1_585_735_200_000, 1_585_735_200_000, 1_585_735_200_000],
                    Some(&[1, 1, 1]),
                    None,
                ),
                _ => col.typed::<ByteArrayType>().write_batch(
                    &text(&["GLACIER", "STANDARD", "STANDARD"]),
                    Some(&[1, 1, 1]),
                    None,
                ),
            }
            .unwrap();
            col.close().unwrap();
            i += 1;
        }
        rg.close().unwrap();
        writer.close().unwrap();
        buf
    }

    const PARQUET_SCHEMA: &str = "message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional boolean is_latest; optional boolean is_delete_marker; optional int64 size; optional int64 last_modified_date (TIMESTAMP_MILLIS); optional binary storage_class (UTF8); }";

    #[cfg(feature = "parquet")]
    #[test]
    fn reads_parquet_reports() {
        let manifest = MANIFEST
            .replace("\"CSV\"", "\"Parquet\"")
            .replace(
                "\"Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass\"",
                &format!("{PARQUET_SCHEMA:?}"),
            );
        let m = parse_manifest(&manifest).unwrap();
        assert_eq!(m.format, InventoryFormat::Parquet);
        assert!(
            m.schema.contains(&"last_modified_date".to_string()),
            "{:?}",
            m.schema
        );
        let objects = read_data_file(&m, "data.parquet", &parquet_report()[..]).unwrap();
        assert_eq!(
            objects.len(),
            1,
            "noncurrent and deleted left out: {objects:?}"
        );
        assert_eq!(
            objects[0].key, "exports/patients 2020.csv",
            "keys are not URL-encoded"
        );
        assert_eq!(objects[0].size, 1024);
        assert_eq!(objects[0].storage_class, "GLACIER");
        assert_eq!(
            objects[0].last_modified,
            Timestamp::from_millis(1_585_735_200_000)
        );
        let e = read_data_file(&m, "data.parquet", &b"PAR1 not really"[..]).unwrap_err();
        assert!(
            e.to_string().contains("data.parquet: not a Parquet file"),
            "{e}"
        );
    }

    #[test]
    fn unusable_inventories_are_named() {
        let orc = MANIFEST.replace("\"CSV\"", "\"ORC\"");
        assert!(parse_manifest(&orc)
            .unwrap_err()
            .to_string()
            .contains("dragnet reads CSV and Parquet inventories"));
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
