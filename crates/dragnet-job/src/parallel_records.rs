//! A JSON Lines object scanned on several threads.
//!
//! The calling thread reads the object and cuts it at newlines into pieces of about
//! [`PIECE_BYTES`]; helpers parse and scan the pieces on their own (record indexes counted from
//! each piece's first line), and the calling thread records what they found in the object's
//! order (see [`crate::ordered`]). For JSON, parsing costs more than detection, so parsing has
//! to be spread over the helpers too, not only the scanning.
//!
//! Two things cross pieces in a one-thread read; both are handled so that the result (counts,
//! kept occurrences, `jsonPath`s, the malformed flag) is the same as on one thread:
//! - Keys found sensitive hide the `jsonPath` of later occurrences through them. Helpers do not
//!   decide this: they report values with detections and sensitive keys as events in parse
//!   order, and the calling thread replays the events through one [`SensitiveKeys`].
//! - A record may go on past its line (pretty-printed records, a raw newline in a string), and
//!   a piece read on its own is then not read as the whole object would be. From the first
//!   piece where this happens ([`JsonSummary::spans_lines`]), the rest of the object is handed
//!   back as [`Split::Rest`] to be read on one thread, as is everything after a line longer
//!   than [`MAX_PIECE_BYTES`] (memory stays bounded).

use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;

use dragnet_detect::{Engine, Hit, Location, ObjectDetections, Place};
use dragnet_formats::{read_json_lines_at, JsonError, JsonPath, JsonSummary, RecordVisitor};

use crate::ordered::with_helpers;
use crate::record_paths::{PathQualifications, SensitiveKeys};

/// Bytes per piece (whole lines, so a piece may be longer).
pub const PIECE_BYTES: usize = 256 << 10;
/// Longest piece: a line longer than this ends the split, and the rest of the object is read
/// on one thread, which handles long strings in bounded windows.
pub const MAX_PIECE_BYTES: usize = 8 << 20;
/// Bytes asked of the object per read.
const READ_BYTES: usize = 64 << 10;

/// How a split read ended.
pub(crate) enum Split {
    /// The whole object was read.
    Done(JsonSummary),
    /// The object's pieces before `first_line` were read (`summary`); `head`, then whatever is
    /// left of the input, must be read on one thread as JSON Lines starting at `first_line`.
    Rest {
        summary: JsonSummary,
        first_line: u64,
        head: Vec<u8>,
    },
}

/// What a helper met in a piece that must be recorded in order.
enum Event {
    /// A value with detections (`hits`: their identifiers, in the piece's `found`).
    Value {
        record: u64,
        path: JsonPath,
        hits: Range<usize>,
    },
    /// A key with detections: it is sensitive itself.
    Key {
        record: u64,
        key: String,
        hits: Range<usize>,
    },
}

/// Lines of the object on their way to a helper, and what it found on the way back.
struct Piece {
    first_line: u64,
    bytes: Vec<u8>,
    events: Vec<Event>,
    found: Vec<usize>,
    read: Option<Result<JsonSummary, JsonError>>,
}

/// What a helper keeps from piece to piece.
#[derive(Default)]
struct HelperState {
    paths: PathQualifications,
    hits: Vec<Hit>,
}

impl Piece {
    fn new(bytes: Vec<u8>, first_line: u64) -> Self {
        Piece {
            first_line,
            bytes,
            events: Vec::new(),
            found: Vec::new(),
            read: None,
        }
    }

    fn scan(&mut self, engine: &Engine, state: &mut HelperState) {
        let mut visitor = PieceScan {
            engine,
            state,
            events: &mut self.events,
            found: &mut self.found,
        };
        self.read = Some(read_json_lines_at(
            &self.bytes[..],
            self.first_line,
            &mut visitor,
        ));
    }
}

/// The visitor a helper parses a piece with.
struct PieceScan<'a> {
    engine: &'a Engine,
    state: &'a mut HelperState,
    events: &'a mut Vec<Event>,
    found: &'a mut Vec<usize>,
}

impl PieceScan<'_> {
    /// Scans one unit; the range of its detections in `found` (empty when none).
    fn scan(&mut self, parent: &JsonPath, text: &[u8], skip_before: usize) -> Range<usize> {
        let q = self.state.paths.get(self.engine, parent);
        self.state.hits.clear();
        self.engine
            .scan(text, &q, skip_before, &mut self.state.hits);
        let start = self.found.len();
        self.found
            .extend(self.state.hits.iter().map(|h| h.identifier));
        start..self.found.len()
    }
}

impl RecordVisitor for PieceScan<'_> {
    fn value(&mut self, record: u64, path: &JsonPath, value: &[u8], skip_before: usize) {
        let hits = self.scan(path, value, skip_before);
        if !hits.is_empty() {
            self.events.push(Event::Value {
                record,
                path: path.clone(),
                hits,
            });
        }
    }

    fn key(&mut self, record: u64, parent: &JsonPath, key: &str) {
        let hits = self.scan(parent, key.as_bytes(), 0);
        if !hits.is_empty() {
            self.events.push(Event::Key {
                record,
                key: key.to_string(),
                hits,
            });
        }
    }
}

/// Why the calling thread stopped handing out pieces.
enum Stop {
    /// The rest is read on one thread, from line `first_line` (`head` holds the bytes read).
    Rest { first_line: u64, head: Vec<u8> },
    /// A piece could not be read (nesting too deep); nothing after it counts.
    Failed(JsonError),
}

/// Records the pieces in order, as a one-thread read would have.
struct Merge<'d> {
    detections: &'d mut ObjectDetections,
    member: Option<Arc<str>>,
    keys: &'d mut SensitiveKeys,
    summary: JsonSummary,
    stop: Option<Stop>,
}

impl Merge<'_> {
    fn piece(&mut self, mut piece: Piece) {
        match &mut self.stop {
            Some(Stop::Rest { head, .. }) => {
                head.extend_from_slice(&piece.bytes);
                return;
            }
            Some(Stop::Failed(_)) => return,
            None => {}
        }
        match piece.read.take() {
            Some(Ok(summary)) if summary.spans_lines => {
                self.stop = Some(Stop::Rest {
                    first_line: piece.first_line,
                    head: piece.bytes,
                });
            }
            Some(Ok(summary)) => {
                self.replay(&piece);
                self.summary.records += summary.records;
                self.summary.bytes += summary.bytes;
                self.summary.malformed |= summary.malformed;
            }
            // Nesting too deep stops a one-thread read at the same place: what came before
            // it in the piece stands.
            Some(Err(e)) => {
                self.replay(&piece);
                self.stop = Some(Stop::Failed(e));
            }
            None => {
                self.stop = Some(Stop::Failed(JsonError::Io(io::Error::other(
                    "a JSON Lines piece came back unread",
                ))))
            }
        }
    }

    fn replay(&mut self, piece: &Piece) {
        for event in &piece.events {
            let (record, json_path, hits) = match event {
                Event::Value { record, path, hits } => {
                    (*record, self.keys.json_path(path), hits.clone())
                }
                Event::Key { record, key, hits } => {
                    self.keys.add(key);
                    (*record, None, hits.clone())
                }
            };
            for &identifier in &piece.found[hits] {
                let member = self.member.clone();
                let json_path = json_path.clone();
                self.detections.record(identifier, || Location {
                    member,
                    place: Place::Record {
                        index: record,
                        json_path,
                    },
                });
            }
        }
    }
}

/// Reads the JSON Lines object `input` on this thread while `helpers` threads parse and scan
/// its pieces; detections go to `detections` exactly as a one-thread read would record them,
/// and `keys` ends as it would. A [`Split::Rest`] must be read on one thread to finish.
///
/// A read error ends the split after the lines read so far were scanned (the object is then
/// incomplete in any case).
pub(crate) fn scan_json_lines_in_parallel(
    engine: &Engine,
    detections: &mut ObjectDetections,
    member: Option<Arc<str>>,
    keys: &mut SensitiveKeys,
    helpers: usize,
    input: &mut dyn Read,
) -> Result<Split, JsonError> {
    let mut merge = Merge {
        detections,
        member,
        keys,
        summary: JsonSummary::default(),
        stop: None,
    };
    let read_error = with_helpers(
        helpers,
        |piece: &mut Piece, state: &mut HelperState| piece.scan(engine, state),
        |pipeline| {
            let mut current: Vec<u8> = Vec::with_capacity(PIECE_BYTES + READ_BYTES);
            let mut line = 0u64;
            let mut long_line = false;
            let read_error = loop {
                if merge.stop.is_some() {
                    break None;
                }
                let filled = current.len();
                current.resize(filled + READ_BYTES, 0);
                let read = read_some(input, &mut current[filled..]);
                current.truncate(filled + *read.as_ref().unwrap_or(&0));
                match read {
                    Err(e) => break Some(e),
                    Ok(0) => break None,
                    Ok(_) if current.len() < PIECE_BYTES => continue,
                    Ok(_) => {}
                }
                match memchr::memrchr(b'\n', &current) {
                    Some(end) => {
                        let mut rest = Vec::with_capacity(PIECE_BYTES + READ_BYTES);
                        rest.extend_from_slice(&current[end + 1..]);
                        current.truncate(end + 1);
                        let piece = std::mem::replace(&mut current, rest);
                        let lines = memchr::memchr_iter(b'\n', &piece).count() as u64;
                        pipeline.send(Piece::new(piece, line), &mut |p| merge.piece(p));
                        line += lines;
                    }
                    None if current.len() >= MAX_PIECE_BYTES => {
                        long_line = true;
                        break None;
                    }
                    None => {}
                }
            };
            // The object's last lines (or, after a read error, the lines read before it).
            if merge.stop.is_none() && !long_line && !current.is_empty() {
                let last = std::mem::take(&mut current);
                pipeline.send(Piece::new(last, line), &mut |p| merge.piece(p));
            }
            pipeline.finish(&mut |p| merge.piece(p));
            match &mut merge.stop {
                None if long_line => {
                    merge.stop = Some(Stop::Rest {
                        first_line: line,
                        head: current,
                    })
                }
                Some(Stop::Rest { head, .. }) => head.extend_from_slice(&current),
                _ => {}
            }
            read_error
        },
    );
    let summary = merge.summary;
    match (merge.stop, read_error) {
        (Some(Stop::Failed(e)), _) => Err(e),
        (_, Some(e)) => Err(JsonError::Io(e)),
        (None, None) => Ok(Split::Done(summary)),
        (Some(Stop::Rest { first_line, head }), None) => Ok(Split::Rest {
            summary,
            first_line,
            head,
        }),
    }
}

/// Reads some bytes, retrying when interrupted.
fn read_some(input: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_detect::{AllowMatcher, ManagedIdentifier, MANAGED};

    /// The split of `body`, its detections, and what was left unread.
    fn split(body: &str) -> (Result<Split, JsonError>, ObjectDetections, Vec<u8>) {
        let all: Vec<&ManagedIdentifier> = MANAGED.iter().collect();
        let engine = Engine::new(&all, &[], AllowMatcher::default()).unwrap();
        let mut detections = ObjectDetections::new(engine.len());
        let mut keys = SensitiveKeys::default();
        let mut input = body.as_bytes();
        let split =
            scan_json_lines_in_parallel(&engine, &mut detections, None, &mut keys, 2, &mut input);
        (split, detections, input.to_vec())
    }

    fn lines(n: usize) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "{{\"n\": {i}, \"ssn\": \"536-22-{:04}\"}}\n",
                    1000 + i % 9000
                )
            })
            .collect()
    }

    #[test]
    fn records_on_their_own_lines_are_all_read_in_pieces() {
        let body = lines(40_000);
        assert!(body.len() > 4 * PIECE_BYTES);
        let (split, detections, _) = split(&body);
        match split {
            Ok(Split::Done(summary)) => {
                assert_eq!(summary.records, 40_000);
                assert_eq!(summary.bytes, body.len() as u64);
                assert!(!summary.malformed);
            }
            _ => panic!("expected the whole object read in pieces"),
        }
        assert_eq!(detections.total(), 40_000);
    }

    #[test]
    fn the_rest_is_handed_back_from_the_piece_a_record_spans() {
        let before = lines(20_000);
        let after = format!("{{\n\"ssn\": \"536-22-9999\"\n}}\n{}", lines(10));
        let body = format!("{before}{after}");
        let (split, detections, unread) = split(&body);
        let Ok(Split::Rest {
            summary,
            first_line,
            head,
        }) = split
        else {
            panic!("expected the rest handed back");
        };
        // Whole pieces before the spanning record were recorded; the head starts at the line
        // where that piece starts, and what was not read yet follows it.
        assert!(first_line > 0 && first_line < 20_000);
        assert_eq!(summary.records, first_line);
        assert_eq!(detections.total(), first_line);
        let offset: usize = before
            .split_inclusive('\n')
            .take(first_line as usize)
            .map(str::len)
            .sum();
        assert_eq!([head, unread].concat(), body.as_bytes()[offset..]);
    }
}
