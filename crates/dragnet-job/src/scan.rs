//! Classifying one object's bytes: pick the reader (recursing into compressed files and
//! archives), feed its units to the engine, tally, and say how complete the analysis was.

use std::io::{self, Read, Seek};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dragnet_detect::{Engine, Hit, Location, ObjectDetections, Place, Qualification};
use dragnet_formats::{
    decompressed_name, detect_format, read_delimited, read_json, read_json_lines_at, read_lines,
    CellVisitor, ColumnarError, Format, JsonError, JsonPath, JsonSummary, LineVisitor,
    RecordVisitor,
};
use dragnet_model::ids::hex;
use md5::{Digest, Md5};

use crate::parallel::Column;
use crate::parallel_records::{scan_json_lines_in_parallel, Split};
use crate::record_paths::{PathQualifications, SensitiveKeys};

/// What classifying one object produced.
#[derive(Debug)]
pub struct ObjectOutcome {
    /// `COMPLETE`, `PARTIAL` or `SKIPPED`.
    pub status: &'static str,
    /// Why not `COMPLETE` (a Macie reason).
    pub reason: Option<String>,
    /// MIME type of the format read.
    pub mime_type: String,
    /// Bytes of the object analysed.
    pub size_classified: u64,
    /// Hex MD5 of the bytes read (the ETag of a single-part object), when all were read.
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

/// Limits that keep one object's analysis bounded (Macie's quotas, macie.md §2.4).
#[derive(Debug, Clone, Copy)]
pub struct ScanLimits {
    /// Files extracted from archives, in all.
    pub archive_files: u64,
    /// Nesting of archives and compressed files.
    pub archive_depth: u32,
    /// Bytes extracted from archives, in all.
    pub archive_bytes: u64,
    /// Bytes of one extracted file.
    pub member_bytes: u64,
    /// Time spent on one object.
    pub time: Duration,
    /// Threads that run the engine over a CSV or TSV file's cells or a text file's lines (1:
    /// the reading thread itself). More pay off for a large object while cores would otherwise
    /// idle; the result is the same either way.
    pub unit_threads: usize,
    /// Compute the MD5 of the object's bytes ([`ObjectOutcome::md5`]), for a store whose
    /// listing does not carry the ETag (a local folder). S3's listing does, and the hash was
    /// about a tenth of a scan's CPU; without it, reading also stops where the readers stop.
    pub checksum: bool,
}

impl Default for ScanLimits {
    fn default() -> Self {
        ScanLimits {
            archive_files: 1_000_000,
            archive_depth: 10,
            archive_bytes: 10_000_000_000,
            member_bytes: 3_000_000_000,
            time: Duration::from_secs(10 * 3600),
            unit_threads: 1,
            checksum: true,
        }
    }
}

/// Size of the chunks the hashing thread reads.
const CHUNK: usize = 256 << 10;
/// Chunks in flight between the hashing thread and the scan (bounds memory).
const CHUNKS_IN_FLIGHT: usize = 4;

/// What the hashing thread saw.
struct Hashed {
    md5: Option<String>,
    bytes: u64,
}

/// The scan's end of the pipe: chunks read and hashed by the other thread.
struct ChunkReader {
    chunks: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// With `checksum`, reads `body` to its end, hashing every byte (the ETag is the MD5 of the
/// whole object, however much of it the readers needed), while `scan` consumes the bytes;
/// without, reads only what `scan` consumes. An object that fits in one chunk is read (and
/// hashed) here; a larger one is read on a second thread that feeds `scan` through a bounded
/// channel, so one large object uses two cores while many small ones do not pay for a
/// thread each.
fn with_hashing<R: Read + Send, T>(
    mut body: R,
    checksum: bool,
    scan: impl FnOnce(&mut ChunkReader) -> T,
) -> (T, Hashed) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(CHUNKS_IN_FLIGHT);
    let mut first = vec![0u8; CHUNK];
    let (n, error) = fill(&mut body, &mut first);
    first.truncate(n);
    if error.is_some() || n == CHUNK {
        return std::thread::scope(|s| {
            let hasher = s.spawn(move || hash_rest(body, first, error, tx, checksum));
            finish(rx, scan, || {
                hasher.join().unwrap_or(Hashed {
                    md5: None,
                    bytes: 0,
                })
            })
        });
    }
    let hashed = Hashed {
        md5: checksum.then(|| hex(&Md5::digest(&first))),
        bytes: n as u64,
    };
    let _ = tx.send(Ok(first));
    drop(tx);
    finish(rx, scan, || hashed)
}

/// Reads into `buf` until it is full or `body` ends; the bytes read, and the error that
/// stopped it (bytes read before a failure are kept: a broken connection still yields them).
fn fill(body: &mut impl Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut n = 0;
    while n < buf.len() {
        match body.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

/// The second thread of a large object (or one whose read failed): sends (and, with
/// `checksum`, hashes) the first chunk, then the rest, until the body ends or fails; once the
/// scan stops listening it keeps reading only to finish the hash.
fn hash_rest<R: Read>(
    mut body: R,
    first: Vec<u8>,
    first_error: Option<io::Error>,
    tx: std::sync::mpsc::SyncSender<io::Result<Vec<u8>>>,
    checksum: bool,
) -> Hashed {
    let mut md5 = checksum.then(Md5::new);
    let mut bytes = 0u64;
    let mut listening = true;
    let (mut chunk, mut error) = (first, first_error);
    loop {
        if !chunk.is_empty() {
            if let Some(md5) = md5.as_mut() {
                md5.update(&chunk);
            }
            bytes += chunk.len() as u64;
            if listening && tx.send(Ok(chunk)).is_err() {
                listening = false;
            }
            if !listening && md5.is_none() {
                break;
            }
        }
        if let Some(e) = error {
            let _ = tx.send(Err(e));
            return Hashed { md5: None, bytes };
        }
        let mut next = vec![0u8; CHUNK];
        let (n, e) = fill(&mut body, &mut next);
        if n == 0 && e.is_none() {
            break;
        }
        next.truncate(n);
        (chunk, error) = (next, e);
    }
    Hashed {
        md5: md5.map(|md5| hex(&md5.finalize())),
        bytes,
    }
}

/// Runs `scan` over the chunks `rx` receives, then takes the hash from `hashed`.
fn finish<T>(
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    scan: impl FnOnce(&mut ChunkReader) -> T,
    hashed: impl FnOnce() -> Hashed,
) -> (T, Hashed) {
    let mut reader = ChunkReader {
        chunks: rx,
        current: Vec::new(),
        pos: 0,
        done: false,
    };
    let result = scan(&mut reader);
    // Dropping the reader tells a hashing thread the scan stopped listening.
    drop(reader);
    (result, hashed())
}

/// A limit reached while reading: carried inside an `io::Error` so every reader stops.
#[derive(Debug)]
struct LimitReached(&'static str);

impl std::fmt::Display for LimitReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for LimitReached {}

fn limit_reached(e: &io::Error) -> Option<&'static str> {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<LimitReached>())
        .map(|l| l.0)
}

/// Enforces the deadline and, for archive members, the per-member and total byte budgets,
/// while inflating (so an archive bomb stops at the limit, whatever its headers claim).
struct Guard<'a, R> {
    inner: R,
    deadline: Instant,
    member_left: Option<u64>,
    archive_left: Option<&'a mut u64>,
}

impl<R: Read> Read for Guard<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if Instant::now() > self.deadline {
            return Err(io::Error::other(LimitReached("TIME_CUT_OFF_REACHED")));
        }
        let n = self.inner.read(buf)?;
        if let Some(left) = self.member_left.as_mut() {
            *left = left.checked_sub(n as u64).ok_or_else(|| {
                io::Error::other(LimitReached("ARCHIVE_CONTAINS_UNPROCESSED_FILES"))
            })?;
        }
        if let Some(left) = self.archive_left.as_deref_mut() {
            *left = left.checked_sub(n as u64).ok_or_else(|| {
                io::Error::other(LimitReached("ARCHIVE_TOTAL_BYTES_EXTRACTED_OVER_LIMIT"))
            })?;
        }
        Ok(n)
    }
}

const SNIFF: usize = 8 << 10;

/// Why scanning a stream stopped early.
enum Stop {
    /// Nothing can be reported (unsupported type, too deeply nested JSON).
    Skip(&'static str),
    /// A limit or a read error: what was read so far stands.
    Partial(String),
}

fn io_reason(e: &io::Error) -> String {
    if let Some(reason) = limit_reached(e) {
        return reason.into();
    }
    match e.kind() {
        io::ErrorKind::PermissionDenied => "PERMISSION_DENIED",
        io::ErrorKind::NotFound => "SOURCE_OBJECT_NO_LONGER_AVAILABLE",
        _ => "UNABLE_TO_PARSE_FILE",
    }
    .to_string()
}

struct Scan<'a> {
    engine: &'a Engine,
    limits: ScanLimits,
    deadline: Instant,
    detections: ObjectDetections,
    files_left: u64,
    archive_bytes_left: u64,
    /// The first problem that leaves the analysis incomplete (the result's reason).
    problem: Option<String>,
    qualifications: PathQualifications,
    hits: Vec<Hit>,
    /// Values kept for a reveal, per identifier; `None` on every ordinary scan.
    samples: Option<Samples>,
}

/// The values a reveal keeps: up to `per_identifier` distinct values of each identifier.
struct Samples {
    per_identifier: usize,
    values: Vec<Vec<String>>,
}

/// Longest value a reveal returns, in characters (Macie's limit for
/// GetSensitiveDataOccurrences).
pub const REVEAL_VALUE_CHARS: usize = 128;

impl Samples {
    fn keep(&mut self, identifier: usize, value: &[u8]) {
        let Some(kept) = self.values.get_mut(identifier) else {
            return;
        };
        if kept.len() >= self.per_identifier {
            return;
        }
        let text: String = String::from_utf8_lossy(value)
            .chars()
            .take(REVEAL_VALUE_CHARS)
            .collect();
        if !text.is_empty() && !kept.contains(&text) {
            kept.push(text);
        }
    }
}

/// Classifies the bytes of object `key` from `body`, choosing the reader from the key and the
/// first bytes unless `format` is given.
pub fn scan_reader(
    engine: &Engine,
    key: &str,
    body: impl Read + Send,
    format: Option<Format>,
) -> ObjectOutcome {
    scan_reader_with(engine, key, body, format, ScanLimits::default())
}

/// [`scan_reader`] with explicit limits.
pub fn scan_reader_with(
    engine: &Engine,
    key: &str,
    body: impl Read + Send,
    format: Option<Format>,
    limits: ScanLimits,
) -> ObjectOutcome {
    scan_object(engine, key, body, format, limits, None).0
}

/// Classifies the object as [`scan_reader`] does and also returns, for a reveal (Macie's
/// GetSensitiveDataOccurrences), up to `per_identifier` distinct matched values of each of the
/// engine's identifiers (indexed as [`Engine::info`]), each cut to [`REVEAL_VALUE_CHARS`].
///
/// The values are raw sensitive data: the caller returns them to an authorised reader only
/// and never logs them.
pub fn reveal_values(
    engine: &Engine,
    key: &str,
    body: impl Read + Send,
    format: Option<Format>,
    per_identifier: usize,
) -> (ObjectOutcome, Vec<Vec<String>>) {
    let samples = Samples {
        per_identifier,
        values: vec![Vec::new(); engine.len()],
    };
    let (outcome, samples) = scan_object(
        engine,
        key,
        body,
        format,
        ScanLimits::default(),
        Some(samples),
    );
    (outcome, samples.map(|s| s.values).unwrap_or_default())
}

fn scan_object(
    engine: &Engine,
    key: &str,
    body: impl Read + Send,
    format: Option<Format>,
    limits: ScanLimits,
    samples: Option<Samples>,
) -> (ObjectOutcome, Option<Samples>) {
    let deadline = Instant::now() + limits.time;
    let mut scan = Scan {
        engine,
        limits,
        deadline,
        detections: ObjectDetections::new(engine.len()),
        files_left: limits.archive_files,
        archive_bytes_left: limits.archive_bytes,
        problem: None,
        qualifications: PathQualifications::default(),
        hits: Vec::new(),
        samples,
    };
    let (result, hashed) = with_hashing(body, limits.checksum, |reader| {
        let mut guarded = Guard {
            inner: reader,
            deadline,
            member_left: None,
            archive_left: None,
        };
        scan.stream(key, None, &mut guarded, format, 0)
    });
    let (format, stop) = match result {
        Ok(f) => (Some(f), None),
        Err((f, stop)) => (f, Some(stop)),
    };
    let mime_type = format
        .map(|f| f.mime_type().to_string())
        .unwrap_or_default();
    let (status, reason) = match stop {
        Some(Stop::Skip(reason)) => {
            let mut o = ObjectOutcome::skipped(reason);
            o.mime_type = mime_type;
            o.md5 = hashed.md5;
            return (o, scan.samples);
        }
        Some(Stop::Partial(reason)) => {
            tracing::warn!(key = ?key, reason = %reason, "analysis stopped part-way; what was read is reported");
            ("PARTIAL", Some(reason))
        }
        None => match scan.problem.take() {
            Some(problem) => ("PARTIAL", Some(problem)),
            None => ("COMPLETE", None),
        },
    };
    let outcome = ObjectOutcome {
        status,
        reason,
        mime_type,
        size_classified: hashed.bytes,
        md5: hashed.md5,
        detections: Some(scan.detections),
    };
    (outcome, scan.samples)
}

type StreamResult = Result<Format, (Option<Format>, Stop)>;

impl Scan<'_> {
    fn note(&mut self, problem: &str) {
        if self.problem.is_none() {
            self.problem = Some(problem.to_string());
        }
    }

    /// Scans one stream named `name` (an object, or a member at `member`), `depth` levels
    /// inside compressed files and archives.
    fn stream(
        &mut self,
        name: &str,
        member: Option<Arc<str>>,
        reader: &mut dyn Read,
        forced: Option<Format>,
        depth: u32,
    ) -> StreamResult {
        let mut head = vec![0u8; SNIFF];
        let mut filled = 0;
        let mut early_error = None;
        while filled < SNIFF {
            match reader.read(&mut head[filled..]) {
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
            return Err((None, Stop::Partial(io_reason(e))));
        }
        let format = match forced.map_or_else(|| detect_format(name, &head), Ok) {
            Ok(f) => f,
            Err(_) => return Err((None, Stop::Skip("UNSUPPORTED_FILE_TYPE_EXCEPTION"))),
        };
        let rest: &mut dyn Read = if early_error.is_some() {
            &mut io::empty()
        } else {
            reader
        };
        let mut input = io::Cursor::new(head).chain(rest);
        let outcome = match format {
            Format::Csv | Format::Tsv => {
                let delimiter = if format == Format::Csv { b',' } else { b'\t' };
                // Reveals keep values, which only the one-thread scan collects.
                let read = if self.limits.unit_threads > 1 && self.samples.is_none() {
                    crate::parallel::scan_cells_in_parallel(
                        self.engine,
                        &mut self.detections,
                        member.clone(),
                        self.limits.unit_threads,
                        &mut input,
                        delimiter,
                    )
                } else {
                    let mut visitor = CellScan {
                        scan: self,
                        member: member.clone(),
                        columns: Vec::new(),
                    };
                    read_delimited(&mut input, delimiter, &mut visitor)
                };
                match read {
                    Ok(summary) => {
                        if summary.malformed {
                            self.note("MALFORMED_FILE");
                        }
                        Ok(())
                    }
                    Err(e) => Err(Stop::Partial(io_reason(&e))),
                }
            }
            Format::Text => {
                let read = if self.limits.unit_threads > 1 && self.samples.is_none() {
                    crate::parallel::scan_lines_in_parallel(
                        self.engine,
                        &mut self.detections,
                        member.clone(),
                        self.limits.unit_threads,
                        &mut input,
                    )
                } else {
                    let mut visitor = LineScan {
                        scan: self,
                        member: member.clone(),
                    };
                    read_lines(&mut input, &mut visitor)
                };
                read.map(|_| ()).map_err(|e| Stop::Partial(io_reason(&e)))
            }
            Format::Json | Format::JsonLines => {
                // Reveals keep values, which only the one-thread scan collects.
                let split = format == Format::JsonLines
                    && self.limits.unit_threads > 1
                    && self.samples.is_none();
                match self.records(&mut input, format == Format::JsonLines, split, &member) {
                    Ok(summary) => {
                        if summary.malformed {
                            self.note("MALFORMED_FILE");
                        }
                        Ok(())
                    }
                    Err(JsonError::TooDeep) => Err(Stop::Skip("JSON_NESTING_LEVEL_OVER_LIMIT")),
                    Err(JsonError::Io(e)) => Err(Stop::Partial(io_reason(&e))),
                }
            }
            Format::Gzip | Format::Zip | Format::Tar if depth >= self.limits.archive_depth => {
                self.note("ARCHIVE_NESTING_LEVEL_OVER_LIMIT");
                Ok(())
            }
            Format::Gzip => {
                let inner_name = decompressed_name(name);
                let mut decoder = flate2::read::MultiGzDecoder::new(&mut input);
                match self.stream(&inner_name, member.clone(), &mut decoder, None, depth + 1) {
                    Ok(_) => Ok(()),
                    Err((_, Stop::Skip(reason))) if depth == 0 => Err(Stop::Skip(reason)),
                    Err((_, Stop::Skip(_))) => {
                        self.note("ARCHIVE_CONTAINS_UNPROCESSED_FILES");
                        Ok(())
                    }
                    Err((_, stop)) => Err(stop),
                }
            }
            Format::Parquet | Format::Avro => self.columnar(format, member.clone(), &mut input),
            Format::Tar => self.tar(name, member.as_deref(), &mut input, depth),
            Format::Zip => self.zip(name, member.as_deref(), &mut input, depth),
        };
        // An error while sniffing ended the stream early: what was read stands, PARTIAL.
        let outcome = match (outcome, early_error) {
            (Ok(()), Some(e)) => Err(Stop::Partial(io_reason(&e))),
            (outcome, _) => outcome,
        };
        outcome
            .map(|()| format)
            .map_err(|stop| (Some(format), stop))
    }

    /// Reads JSON (`lines = false`) or JSON Lines, on several threads when `split`.
    fn records(
        &mut self,
        input: &mut dyn Read,
        lines: bool,
        split: bool,
        member: &Option<Arc<str>>,
    ) -> Result<JsonSummary, JsonError> {
        let mut sensitive_keys = SensitiveKeys::default();
        let mut before = JsonSummary::default();
        let mut rest: Box<dyn Read + '_> = Box::new(&mut *input);
        let mut first_line = 0;
        if split {
            match scan_json_lines_in_parallel(
                self.engine,
                &mut self.detections,
                member.clone(),
                &mut sensitive_keys,
                self.limits.unit_threads,
                &mut rest,
            )? {
                Split::Done(summary) => return Ok(summary),
                Split::Rest {
                    summary,
                    first_line: line,
                    head,
                } => {
                    before = summary;
                    first_line = line;
                    rest = Box::new(io::Cursor::new(head).chain(rest));
                }
            }
        }
        let mut visitor = RecordScan {
            scan: self,
            member: member.clone(),
            sensitive_keys,
        };
        let after = if lines {
            read_json_lines_at(rest, first_line, &mut visitor)?
        } else {
            read_json(rest, false, &mut visitor)?
        };
        Ok(JsonSummary {
            records: before.records + after.records,
            bytes: before.bytes + after.bytes,
            malformed: before.malformed || after.malformed,
            spans_lines: after.spans_lines,
        })
    }

    fn member_name(parent: Option<&str>, name: &str) -> Arc<str> {
        match parent {
            Some(p) => Arc::from(format!("{p}/{name}")),
            None => Arc::from(name),
        }
    }

    /// Scans one archive member through the byte budgets; problems in a member leave the
    /// archive PARTIAL and the other members are still scanned, except when a budget for the
    /// whole archive runs out.
    fn member(
        &mut self,
        member: Arc<str>,
        size: u64,
        reader: &mut dyn Read,
        depth: u32,
    ) -> Result<(), Stop> {
        if self.files_left == 0 {
            self.note("ARCHIVE_TOTAL_DOCUMENTS_PROCESSED_OVER_LIMIT");
            return Err(Stop::Partial(
                "ARCHIVE_TOTAL_DOCUMENTS_PROCESSED_OVER_LIMIT".into(),
            ));
        }
        self.files_left -= 1;
        if size > self.limits.member_bytes {
            self.note("ARCHIVE_CONTAINS_UNPROCESSED_FILES");
            return Ok(());
        }
        let mut budget = self.archive_bytes_left;
        let mut guarded = Guard {
            inner: reader,
            deadline: self.deadline,
            member_left: Some(self.limits.member_bytes),
            archive_left: Some(&mut budget),
        };
        let result = self.stream(&member.clone(), Some(member), &mut guarded, None, depth + 1);
        self.archive_bytes_left = budget;
        match result {
            Ok(_) => Ok(()),
            Err((_, Stop::Skip(_))) => {
                self.note("ARCHIVE_CONTAINS_UNPROCESSED_FILES");
                Ok(())
            }
            Err((_, Stop::Partial(reason))) => match reason.as_str() {
                "ARCHIVE_TOTAL_BYTES_EXTRACTED_OVER_LIMIT" | "TIME_CUT_OFF_REACHED" => {
                    Err(Stop::Partial(reason))
                }
                "ARCHIVE_CONTAINS_UNPROCESSED_FILES" => {
                    self.note(&reason);
                    Ok(())
                }
                _ => {
                    self.note("ARCHIVE_CONTAINS_UNPROCESSED_FILES");
                    Ok(())
                }
            },
        }
    }

    fn tar(
        &mut self,
        _name: &str,
        parent: Option<&str>,
        input: &mut dyn Read,
        depth: u32,
    ) -> Result<(), Stop> {
        let mut archive = tar::Archive::new(input);
        let entries = archive
            .entries()
            .map_err(|e| Stop::Partial(io_reason(&e)))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| {
                Stop::Partial(
                    limit_reached(&e).map_or("UNABLE_TO_PARSE_FILE".to_string(), String::from),
                )
            })?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let size = entry.header().size().unwrap_or(u64::MAX);
            self.member(Self::member_name(parent, &path), size, &mut entry, depth)?;
        }
        Ok(())
    }

    fn zip(
        &mut self,
        _name: &str,
        parent: Option<&str>,
        input: &mut dyn Read,
        depth: u32,
    ) -> Result<(), Stop> {
        // The central directory is at the end: spool the compressed bytes to a temporary file
        // (disk, not memory), then read members from it.
        let mut spool = tempfile::tempfile().map_err(|e| Stop::Partial(io_reason(&e)))?;
        io::copy(input, &mut spool).map_err(|e| Stop::Partial(io_reason(&e)))?;
        spool.rewind().map_err(|e| Stop::Partial(io_reason(&e)))?;
        let mut archive = zip::ZipArchive::new(spool)
            .map_err(|_| Stop::Partial("UNABLE_TO_PARSE_FILE".into()))?;
        // What the metadata declares is checked before anything is extracted.
        let declared: u64 = (0..archive.len())
            .filter_map(|i| archive.by_index_raw(i).ok().map(|f| f.size()))
            .fold(0u64, u64::saturating_add);
        if declared > self.archive_bytes_left {
            return Err(Stop::Partial(
                "ARCHIVE_TOTAL_BYTES_EXTRACTED_OVER_LIMIT".into(),
            ));
        }
        for i in 0..archive.len() {
            let mut file = match archive.by_index(i) {
                Ok(f) => f,
                Err(_) => {
                    // Encrypted or with an unsupported compression method.
                    self.note("ARCHIVE_CONTAINS_UNPROCESSED_FILES");
                    continue;
                }
            };
            if !file.is_file() {
                continue;
            }
            let name = file.name().to_string();
            let size = file.size();
            self.member(Self::member_name(parent, &name), size, &mut file, depth)?;
        }
        Ok(())
    }

    /// Parquet and Avro (each behind a cargo feature; without it the object is unsupported).
    fn columnar(
        &mut self,
        format: Format,
        member: Option<Arc<str>>,
        input: &mut dyn Read,
    ) -> Result<(), Stop> {
        let mut visitor = RecordScan {
            scan: self,
            member,
            sensitive_keys: SensitiveKeys::default(),
        };
        let result: Result<dragnet_formats::ColumnarSummary, ColumnarError> = match format {
            #[cfg(feature = "parquet")]
            Format::Parquet => dragnet_formats::read_parquet(input, &mut visitor),
            #[cfg(feature = "avro")]
            Format::Avro => dragnet_formats::read_avro(input, &mut visitor),
            _ => {
                let _ = (&mut visitor, input);
                Err(ColumnarError::Unsupported)
            }
        };
        match result {
            Ok(_) => Ok(()),
            Err(ColumnarError::Io(e)) => Err(Stop::Partial(io_reason(&e))),
            Err(ColumnarError::Unsupported) => Err(Stop::Skip("UNSUPPORTED_FILE_TYPE_EXCEPTION")),
            Err(ColumnarError::Unreadable(message)) => {
                tracing::warn!(error = %message, "columnar file cannot be opened");
                Err(Stop::Skip("UNABLE_TO_PARSE_FILE"))
            }
            Err(ColumnarError::Broken { message, .. }) => {
                tracing::warn!(error = %message, "columnar file broke part-way; earlier records are reported");
                Err(Stop::Partial("UNABLE_TO_PARSE_FILE".into()))
            }
        }
    }

    fn scan_unit(
        &mut self,
        text: &[u8],
        qualification: Option<&Qualification>,
        skip_before: usize,
    ) {
        self.hits.clear();
        match qualification {
            Some(q) => self.engine.scan(text, q, skip_before, &mut self.hits),
            None => self
                .engine
                .scan(text, &Qualification::default(), skip_before, &mut self.hits),
        }
        if let Some(samples) = &mut self.samples {
            for hit in &self.hits {
                samples.keep(hit.identifier, &text[hit.start..hit.end]);
            }
        }
    }
}

struct CellScan<'s, 'e> {
    scan: &'s mut Scan<'e>,
    member: Option<Arc<str>>,
    columns: Vec<Column>,
}

impl CellVisitor for CellScan<'_, '_> {
    fn header(&mut self, names: &[String]) {
        self.columns = Column::from_header(self.scan.engine, names);
    }

    fn cell(&mut self, row: u64, column: u64, value: &[u8], skip_before: usize) {
        let col = self.columns.get(column as usize - 1);
        self.scan
            .scan_unit(value, col.map(|c| &c.qualification), skip_before);
        for hit in &self.scan.hits {
            let column_name = col.map_or_else(|| Arc::from(""), |c| c.name.clone());
            let member = self.member.clone();
            self.scan.detections.record(hit.identifier, || Location {
                member,
                place: Place::Cell {
                    row,
                    column,
                    column_name,
                },
            });
        }
    }
}

struct LineScan<'s, 'e> {
    scan: &'s mut Scan<'e>,
    member: Option<Arc<str>>,
}

impl LineVisitor for LineScan<'_, '_> {
    fn line(&mut self, line: u64, first_column: u64, text: &[u8], skip_before: usize) {
        self.scan.scan_unit(text, None, skip_before);
        for hit in &self.scan.hits {
            let start_column =
                first_column + dragnet_detect::keywords::char_count(&text[..hit.start]) as u64;
            let member = self.member.clone();
            self.scan.detections.record(hit.identifier, || Location {
                member,
                place: Place::Line { line, start_column },
            });
        }
    }
}

struct RecordScan<'s, 'e> {
    scan: &'s mut Scan<'e>,
    member: Option<Arc<str>>,
    sensitive_keys: SensitiveKeys,
}

impl RecordScan<'_, '_> {
    fn record_hits(&mut self, record: u64, json_path: Option<String>) {
        for hit in &self.scan.hits {
            let member = self.member.clone();
            let json_path = json_path.clone();
            self.scan.detections.record(hit.identifier, || Location {
                member,
                place: Place::Record {
                    index: record,
                    json_path,
                },
            });
        }
    }
}

impl RecordVisitor for RecordScan<'_, '_> {
    fn value(&mut self, record: u64, path: &JsonPath, value: &[u8], skip_before: usize) {
        let q = self.scan.qualifications.get(self.scan.engine, path);
        self.scan.scan_unit(value, Some(&q), skip_before);
        if self.scan.hits.is_empty() {
            return;
        }
        let json_path = self.sensitive_keys.json_path(path);
        self.record_hits(record, json_path);
    }

    fn key(&mut self, record: u64, parent: &JsonPath, key: &str) {
        let q = self.scan.qualifications.get(self.scan.engine, parent);
        self.scan.scan_unit(key.as_bytes(), Some(&q), 0);
        if !self.scan.hits.is_empty() {
            self.sensitive_keys.add(key);
            self.record_hits(record, None);
        }
    }
}
