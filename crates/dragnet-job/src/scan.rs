//! Classifying one object's bytes: pick the reader, feed its units to the engine, tally.

use std::io::{self, Read};
use std::sync::Arc;

use dragnet_detect::{Engine, Hit, Location, ObjectDetections, Qualification};
use dragnet_formats::{
    detect_format, read_delimited, read_lines, CellVisitor, Format, LineVisitor,
};
use dragnet_model::ids::hex;
use md5::{Digest, Md5};

/// What classifying one object produced.
#[derive(Debug)]
pub struct ObjectOutcome {
    /// `COMPLETE`, `PARTIAL` or `SKIPPED`.
    pub status: &'static str,
    /// Why not `COMPLETE` (a Macie reason).
    pub reason: Option<String>,
    /// MIME type of the format read.
    pub mime_type: String,
    /// Bytes analysed.
    pub size_classified: u64,
    /// Hex MD5 of the bytes read (the ETag of a single-part object).
    pub md5: Option<String>,
    /// Detections, when anything was analysed.
    pub detections: Option<ObjectDetections>,
}

impl ObjectOutcome {
    /// A SKIPPED outcome with `reason`.
    pub fn skipped(reason: impl Into<String>) -> Self {
        ObjectOutcome {
            status: "SKIPPED",
            reason: Some(reason.into()),
            mime_type: String::new(),
            size_classified: 0,
            md5: None,
            detections: None,
        }
    }
}

/// Counts and hashes every byte that passes through.
struct HashingReader<R> {
    inner: R,
    md5: Md5,
    bytes: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.md5.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

const SNIFF: usize = 8 << 10;

/// Classifies the bytes of object `key` from `body`, choosing the reader from the key and the
/// first bytes unless `format` is given.
pub fn scan_reader(
    engine: &Engine,
    key: &str,
    body: impl Read,
    format: Option<Format>,
) -> ObjectOutcome {
    let mut hashing = HashingReader {
        inner: body,
        md5: Md5::new(),
        bytes: 0,
    };
    // Sniff the first bytes; an error here still leaves what was read to classify.
    let mut head = vec![0u8; SNIFF];
    let mut filled = 0;
    let mut early_error = None;
    while filled < SNIFF {
        match hashing.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                early_error = Some(e);
                break;
            }
        }
    }
    head.truncate(filled);
    if let (Some(e), true) = (&early_error, head.is_empty()) {
        return ObjectOutcome::skipped(io_reason(e));
    }
    let format = match format.map_or_else(|| detect_format(key, &head), Ok) {
        Ok(f) => f,
        Err(_) => return ObjectOutcome::skipped("UNSUPPORTED_FILE_TYPE_EXCEPTION"),
    };
    let mut detections = ObjectDetections::new(engine.len());
    let rest: &mut dyn Read = if early_error.is_some() {
        &mut io::empty()
    } else {
        &mut hashing
    };
    let mut reader = io::Cursor::new(head).chain(rest);
    let (read_result, malformed) = match format {
        Format::Csv | Format::Tsv => {
            let mut visitor = CellScan {
                engine,
                detections: &mut detections,
                columns: Vec::new(),
                hits: Vec::new(),
                none: Qualification::default(),
            };
            let delimiter = if format == Format::Csv { b',' } else { b'\t' };
            match read_delimited(&mut reader, delimiter, &mut visitor) {
                Ok(summary) => (Ok(()), summary.malformed),
                Err(e) => (Err(e), false),
            }
        }
        Format::Text => {
            let mut visitor = LineScan {
                engine,
                detections: &mut detections,
                hits: Vec::new(),
                none: Qualification::default(),
            };
            (read_lines(&mut reader, &mut visitor).map(|_| ()), false)
        }
    };
    drop(reader);
    let read_result = match early_error {
        Some(e) => Err(e),
        None => read_result,
    };
    let (status, reason) = match (&read_result, malformed) {
        (Err(e), _) => ("PARTIAL", Some(io_reason(e))),
        (Ok(()), true) => ("PARTIAL", Some("MALFORMED_FILE".to_string())),
        (Ok(()), false) => ("COMPLETE", None),
    };
    if let Err(e) = &read_result {
        tracing::warn!(key = ?key, error = %e, "reading stopped part-way; what was read is reported");
    }
    ObjectOutcome {
        status,
        reason,
        mime_type: format.mime_type().to_string(),
        size_classified: hashing.bytes,
        md5: read_result.is_ok().then(|| hex(&hashing.md5.finalize())),
        detections: Some(detections),
    }
}

fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => "PERMISSION_DENIED",
        io::ErrorKind::NotFound => "SOURCE_OBJECT_NO_LONGER_AVAILABLE",
        _ => "UNABLE_TO_PARSE_FILE",
    }
    .to_string()
}

struct Column {
    name: Arc<str>,
    qualification: Qualification,
}

struct CellScan<'a> {
    engine: &'a Engine,
    detections: &'a mut ObjectDetections,
    columns: Vec<Column>,
    hits: Vec<Hit>,
    none: Qualification,
}

impl CellVisitor for CellScan<'_> {
    fn header(&mut self, names: &[String]) {
        // Keyword decisions are made once per column, from its header.
        self.columns = names
            .iter()
            .map(|n| Column {
                name: Arc::from(n.as_str()),
                qualification: self.engine.qualify(&[n]),
            })
            .collect();
    }

    fn cell(&mut self, row: u64, column: u64, value: &[u8], skip_before: usize) {
        let col = self.columns.get(column as usize - 1);
        let qualification = col.map_or(&self.none, |c| &c.qualification);
        self.hits.clear();
        self.engine
            .scan(value, qualification, skip_before, &mut self.hits);
        for hit in &self.hits {
            let column_name = col.map_or_else(|| Arc::from(""), |c| c.name.clone());
            self.detections.record(hit.identifier, || Location::Cell {
                row,
                column,
                column_name,
            });
        }
    }
}

struct LineScan<'a> {
    engine: &'a Engine,
    detections: &'a mut ObjectDetections,
    hits: Vec<Hit>,
    none: Qualification,
}

impl LineVisitor for LineScan<'_> {
    fn line(&mut self, line: u64, first_column: u64, text: &[u8], skip_before: usize) {
        self.hits.clear();
        self.engine
            .scan(text, &self.none, skip_before, &mut self.hits);
        for hit in &self.hits {
            let start_column =
                first_column + dragnet_detect::keywords::char_count(&text[..hit.start]) as u64;
            self.detections
                .record(hit.identifier, || Location::Line { line, start_column });
        }
    }
}
