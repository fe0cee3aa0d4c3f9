//! Picks a reader from the object's extension and first bytes.

/// A format dragnet can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// Plain text, read line by line.
    Text,
    /// One JSON document (record index always 0).
    Json,
    /// JSON Lines (record index = 0-based line).
    JsonLines,
    /// gzip-compressed data (one file).
    Gzip,
    /// A zip archive.
    Zip,
    /// A tar archive.
    Tar,
    /// Apache Parquet (records by row; columns and nested fields as paths).
    Parquet,
    /// Apache Avro object container file.
    Avro,
}

impl Format {
    /// The MIME type reported in results.
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv",
            Format::Tsv => "text/tab-separated-values",
            Format::Text => "text/plain",
            Format::Json => "application/json",
            Format::JsonLines => "application/x-ndjson",
            Format::Gzip => "application/gzip",
            Format::Zip => "application/zip",
            Format::Tar => "application/x-tar",
            Format::Parquet => "application/vnd.apache.parquet",
            Format::Avro => "application/avro",
        }
    }

    /// Whether the format holds other files (members are scanned in turn).
    pub fn is_container(self) -> bool {
        matches!(self, Format::Gzip | Format::Zip | Format::Tar)
    }

    /// Parses a `--format` value (`csv`, `tsv`, `text`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "tsv" => Some(Format::Tsv),
            "text" | "txt" => Some(Format::Text),
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }
}

/// Why an object cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsupportedReason {
    /// An extension of a format dragnet does not read yet, or binary content.
    UnsupportedFileType,
}

const TEXT_EXTENSIONS: &[&str] = &[
    "txt",
    "text",
    "log",
    "md",
    "htm",
    "html",
    "xml",
    "yaml",
    "yml",
    "ini",
    "cfg",
    "conf",
    "properties",
    "env",
    "sql",
];

/// Chooses the reader for `key` given its first bytes (8 KiB is enough): archives and
/// compression by their magic bytes, then by extension; extension-less keys by content. Other
/// binary content (a NUL byte) is unsupported.
pub fn detect_format(key: &str, head: &[u8]) -> Result<Format, UnsupportedReason> {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(Format::Gzip);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Ok(Format::Zip);
    }
    if head.len() > 262 && &head[257..262] == b"ustar" {
        return Ok(Format::Tar);
    }
    if head.starts_with(b"PAR1") {
        return Ok(Format::Parquet);
    }
    if head.starts_with(b"Obj\x01") {
        return Ok(Format::Avro);
    }
    if head.contains(&0) {
        return Err(UnsupportedReason::UnsupportedFileType);
    }
    let ext = extension(key).to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Ok(Format::Csv),
        "tsv" | "tab" => Ok(Format::Tsv),
        "json" => Ok(Format::Json),
        "jsonl" | "ndjson" => Ok(Format::JsonLines),
        "" => Ok(sniff_text(head)),
        e if TEXT_EXTENSIONS.contains(&e) => Ok(Format::Text),
        _ => Err(UnsupportedReason::UnsupportedFileType),
    }
}

/// Extension-less text: JSON Lines when the first two lines are objects, JSON when it starts
/// like one, text otherwise.
fn sniff_text(head: &[u8]) -> Format {
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    let mut lines = trimmed.lines().filter(|l| !l.trim().is_empty());
    match (lines.next(), lines.next()) {
        (Some(a), Some(b))
            if a.trim_start().starts_with('{') && b.trim_start().starts_with('{') =>
        {
            Format::JsonLines
        }
        _ if trimmed.starts_with('{') || trimmed.starts_with('[') => Format::Json,
        _ => Format::Text,
    }
}

/// The name a compressed file's content goes by: `x.csv.gz` → `x.csv`, `x.tgz` → `x.tar`.
pub fn decompressed_name(key: &str) -> String {
    let lower = key.to_ascii_lowercase();
    if lower.ends_with(".tgz") {
        return format!("{}.tar", &key[..key.len() - 4]);
    }
    for suffix in [".gz", ".gzip"] {
        if lower.ends_with(suffix) {
            return key[..key.len() - suffix.len()].to_string();
        }
    }
    key.to_string()
}

/// The file-name extension of a key, without the dot; `""` when it has none (Macie's
/// `s3Object.extension`).
pub fn extension(key: &str) -> &str {
    let name = key.rsplit('/').next().unwrap_or(key);
    match name.rfind('.') {
        Some(0) | None => "",
        Some(i) => &name[i + 1..],
    }
}

/// Whether a file-name extension is one dragnet reads (extension-less keys are sniffed).
pub fn is_supported_extension(ext: &str) -> bool {
    max_size_for_extension(ext).is_some()
}

/// The largest object of this extension that is analysed (macie.md §2.4), or `None` when the
/// extension is not supported: 8 GB for gzip and zip, 20 GB for tar and text formats.
pub fn max_size_for_extension(ext: &str) -> Option<u64> {
    const GB: u64 = 1_000_000_000;
    match ext.to_ascii_lowercase().as_str() {
        "gz" | "gzip" | "tgz" | "zip" | "parquet" | "avro" => Some(8 * GB),
        "tar" | "csv" | "tsv" | "tab" | "json" | "jsonl" | "ndjson" | "" => Some(20 * GB),
        e if TEXT_EXTENSIONS.contains(&e) => Some(20 * GB),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_by_extension_and_content() {
        assert_eq!(detect_format("a/b.csv", b"x,y\n"), Ok(Format::Csv));
        assert_eq!(detect_format("a/b.TSV", b"x\ty\n"), Ok(Format::Tsv));
        assert_eq!(detect_format("app.log", b"hello"), Ok(Format::Text));
        assert_eq!(detect_format("README", b"hello"), Ok(Format::Text));
        assert!(detect_format("img.png", b"\x89PNG").is_err());
        assert_eq!(
            detect_format("data.csv", b"PK\x03\x04\x00"),
            Ok(Format::Zip),
            "magic bytes win"
        );
        assert_eq!(
            detect_format("x.csv.gz", &[0x1f, 0x8b, 8, 0]),
            Ok(Format::Gzip)
        );
        assert_eq!(detect_format("events.jsonl", b"{}"), Ok(Format::JsonLines));
        assert_eq!(
            detect_format("noext", b"{\"a\":1}\n{\"a\":2}\n"),
            Ok(Format::JsonLines)
        );
        assert_eq!(detect_format("noext", b"  [1, 2]"), Ok(Format::Json));
        assert!(detect_format("x.bin", b"abc").is_err());
        assert_eq!(decompressed_name("a/b.csv.gz"), "a/b.csv");
        assert_eq!(decompressed_name("b.TGZ"), "b.tar");
        assert_eq!(max_size_for_extension("zip"), Some(8_000_000_000));
        assert_eq!(max_size_for_extension("png"), None);
        assert_eq!(
            detect_format("t.parquet", b"PAR1\x15\x04"),
            Ok(Format::Parquet)
        );
        assert_eq!(detect_format("t", b"Obj\x01\x04"), Ok(Format::Avro));
        assert_eq!(extension("dir.d/file"), "");
        assert_eq!(extension(".hidden"), "");
        assert_eq!(extension("x/y.tar.gz"), "gz");
    }
}
