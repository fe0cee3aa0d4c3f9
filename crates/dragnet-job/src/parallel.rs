//! Running the engine over one object's units (a delimited file's cells, a text file's lines)
//! on several threads.
//!
//! One thread reads and parses the object (and another hashes it, as for every object); the
//! units are copied into batches of about [`BATCH_BYTES`], which helper threads scan (cells
//! with their column's plan); the detections come back per batch and are recorded in batch
//! order, so the result (counts, and which occurrences are kept under the location cap) is the
//! same as a scan on one thread (see [`crate::ordered`]).

use std::io::{self, Read};
use std::sync::Arc;

use dragnet_detect::keywords::char_count;
use dragnet_detect::{Engine, Hit, Location, ObjectDetections, Place, Qualification};
use dragnet_formats::{
    read_delimited, read_lines, CellVisitor, DelimitedSummary, LineVisitor, TextSummary,
};

use crate::ordered::{with_helpers, Pipeline};

/// Unit bytes per batch.
pub const BATCH_BYTES: usize = 256 << 10;
/// Units per batch, at most (many empty cells make small batches of bytes).
const BATCH_UNITS: usize = 16 << 10;

/// A column: its name and the identifiers its name qualifies.
pub(crate) struct Column {
    pub name: Arc<str>,
    pub qualification: Qualification,
}

impl Column {
    /// The columns of a header row.
    pub fn from_header(engine: &Engine, names: &[String]) -> Vec<Column> {
        // Keyword decisions are made once per column, from its header.
        names
            .iter()
            .map(|n| Column {
                name: Arc::from(n.as_str()),
                qualification: engine.qualify(&[n]),
            })
            .collect()
    }
}

/// Where a unit is in its object.
#[derive(Clone, Copy)]
enum At {
    /// A cell (1-based row and column).
    Cell { row: u64, column: u64 },
    /// A line, or a window of a long one (`first_column`: the character column of its start).
    Line { line: u64, first_column: u64 },
}

/// One unit of a batch: where it is and its bytes in the batch.
struct Unit {
    at: At,
    start: usize,
    end: usize,
    skip_before: usize,
}

/// One detection: the unit's index in the batch, the identifier, and for a line the
/// character column where the match starts.
struct Found {
    unit: usize,
    identifier: usize,
    start_column: u64,
}

/// Units on their way to a helper, and their detections on the way back.
#[derive(Default)]
struct Batch {
    columns: Arc<Vec<Column>>,
    bytes: Vec<u8>,
    units: Vec<Unit>,
    /// Every detection, in scan order.
    hits: Vec<Found>,
}

impl Batch {
    fn scan(&mut self, engine: &Engine, found: &mut Vec<Hit>) {
        self.hits.clear();
        let none = Qualification::default();
        for (i, unit) in self.units.iter().enumerate() {
            let qualification = match unit.at {
                At::Cell { column, .. } => self
                    .columns
                    .get((column as usize).wrapping_sub(1))
                    .map_or(&none, |c| &c.qualification),
                At::Line { .. } => &none,
            };
            let text = &self.bytes[unit.start..unit.end];
            found.clear();
            engine.scan(text, qualification, unit.skip_before, found);
            self.hits.extend(found.iter().map(|h| Found {
                unit: i,
                identifier: h.identifier,
                start_column: match unit.at {
                    At::Line { first_column, .. } => {
                        first_column + char_count(&text[..h.start]) as u64
                    }
                    At::Cell { .. } => 0,
                },
            }));
        }
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.units.clear();
        self.hits.clear();
    }
}

/// The visitor that hands units to helpers and records their detections in order.
struct ParallelUnits<'d, 'p, 'f> {
    engine: &'d Engine,
    detections: &'d mut ObjectDetections,
    member: Option<Arc<str>>,
    columns: Arc<Vec<Column>>,
    current: Batch,
    pipeline: &'p mut Pipeline<'f, Batch>,
    spare: Vec<Batch>,
}

impl ParallelUnits<'_, '_, '_> {
    fn dispatch(&mut self) {
        if self.current.units.is_empty() {
            return;
        }
        let mut batch = self.spare.pop().unwrap_or_default();
        batch.clear();
        std::mem::swap(&mut batch, &mut self.current);
        batch.columns = self.columns.clone();
        let (detections, member, spare) = (&mut *self.detections, &self.member, &mut self.spare);
        self.pipeline.send(batch, &mut |batch| {
            record(detections, member, &batch);
            spare.push(batch);
        });
    }

    /// Adds a unit to the current batch, sending the batch when it is full.
    fn push(&mut self, at: At, value: &[u8], skip_before: usize) {
        let start = self.current.bytes.len();
        self.current.bytes.extend_from_slice(value);
        self.current.units.push(Unit {
            at,
            start,
            end: self.current.bytes.len(),
            skip_before,
        });
        if self.current.bytes.len() >= BATCH_BYTES || self.current.units.len() >= BATCH_UNITS {
            self.dispatch();
        }
    }

    /// Sends what is left and records everything still in flight.
    fn finish(&mut self) {
        self.dispatch();
        let (detections, member) = (&mut *self.detections, &self.member);
        self.pipeline
            .finish(&mut |batch| record(detections, member, &batch));
    }
}

/// Records a scanned batch's detections, in scan order.
fn record(detections: &mut ObjectDetections, member: &Option<Arc<str>>, batch: &Batch) {
    for found in &batch.hits {
        let member = member.clone();
        let place = || match batch.units[found.unit].at {
            At::Cell { row, column } => Place::Cell {
                row,
                column,
                column_name: batch
                    .columns
                    .get((column as usize).wrapping_sub(1))
                    .map_or_else(|| Arc::from(""), |c| c.name.clone()),
            },
            At::Line { line, .. } => Place::Line {
                line,
                start_column: found.start_column,
            },
        };
        detections.record(found.identifier, || Location {
            member,
            place: place(),
        });
    }
}

impl CellVisitor for ParallelUnits<'_, '_, '_> {
    fn header(&mut self, names: &[String]) {
        self.dispatch();
        self.columns = Arc::new(Column::from_header(self.engine, names));
    }

    fn cell(&mut self, row: u64, column: u64, value: &[u8], skip_before: usize) {
        self.push(At::Cell { row, column }, value, skip_before);
    }
}

impl LineVisitor for ParallelUnits<'_, '_, '_> {
    fn line(&mut self, line: u64, first_column: u64, text: &[u8], skip_before: usize) {
        self.push(At::Line { line, first_column }, text, skip_before);
    }
}

/// Reads the delimited file `input` on this thread while `helpers` threads scan its cells;
/// detections go to `detections` exactly as a one-thread scan would record them.
pub(crate) fn scan_cells_in_parallel(
    engine: &Engine,
    detections: &mut ObjectDetections,
    member: Option<Arc<str>>,
    helpers: usize,
    input: impl Read,
    delimiter: u8,
) -> io::Result<DelimitedSummary> {
    in_parallel(engine, detections, member, helpers, |visitor| {
        read_delimited(input, delimiter, visitor)
    })
}

/// Reads the text object `input` on this thread while `helpers` threads scan its lines;
/// detections go to `detections` exactly as a one-thread scan would record them.
pub(crate) fn scan_lines_in_parallel(
    engine: &Engine,
    detections: &mut ObjectDetections,
    member: Option<Arc<str>>,
    helpers: usize,
    input: impl Read,
) -> io::Result<TextSummary> {
    in_parallel(engine, detections, member, helpers, |visitor| {
        read_lines(input, visitor)
    })
}

/// Starts `helpers` threads, runs `read` (which feeds the visitor) on this one, and records
/// every batch before returning.
fn in_parallel<T>(
    engine: &Engine,
    detections: &mut ObjectDetections,
    member: Option<Arc<str>>,
    helpers: usize,
    read: impl FnOnce(&mut ParallelUnits<'_, '_, '_>) -> T,
) -> T {
    with_helpers(
        helpers,
        |batch: &mut Batch, found: &mut Vec<Hit>| batch.scan(engine, found),
        |pipeline| {
            let mut visitor = ParallelUnits {
                engine,
                detections,
                member,
                columns: Arc::new(Vec::new()),
                current: Batch::default(),
                pipeline,
                spare: Vec::new(),
            };
            let out = read(&mut visitor);
            visitor.finish();
            out
        },
    )
}
