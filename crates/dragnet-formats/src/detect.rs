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
}

impl Format {
    /// The MIME type reported in results.
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv",
            Format::Tsv => "text/tab-separated-values",
            Format::Text => "text/plain",
        }
    }

    /// Parses a `--format` value (`csv`, `tsv`, `text`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "tsv" => Some(Format::Tsv),
            "text" | "txt" => Some(Format::Text),
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

/// Chooses the reader for `key` given its first bytes (up to 8 KiB is enough): CSV and TSV by
/// extension, text for text extensions and for extension-less keys whose bytes are text;
/// content with NUL bytes is binary and unsupported.
pub fn detect_format(key: &str, head: &[u8]) -> Result<Format, UnsupportedReason> {
    if head.contains(&0) {
        return Err(UnsupportedReason::UnsupportedFileType);
    }
    let ext = extension(key).to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Ok(Format::Csv),
        "tsv" | "tab" => Ok(Format::Tsv),
        e if TEXT_EXTENSIONS.contains(&e) || e.is_empty() => Ok(Format::Text),
        _ => Err(UnsupportedReason::UnsupportedFileType),
    }
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
        assert!(detect_format("data.csv", b"PK\x03\x04\x00").is_err());
        assert_eq!(extension("dir.d/file"), "");
        assert_eq!(extension(".hidden"), "");
        assert_eq!(extension("x/y.tar.gz"), "gz");
    }
}

/// Whether a file-name extension is one dragnet reads (extension-less keys are sniffed).
pub fn is_supported_extension(ext: &str) -> bool {
    let ext = ext.to_ascii_lowercase();
    ext.is_empty()
        || ext == "csv"
        || ext == "tsv"
        || ext == "tab"
        || TEXT_EXTENSIONS.contains(&ext.as_str())
}
