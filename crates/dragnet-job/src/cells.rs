//! Running the engine over one delimited file's cells on several threads.
//!
//! One thread reads and parses the file (and another hashes it, as for every object); the
//! cells are copied into batches of about [`BATCH_BYTES`], which helper threads scan with each
//! column's plan; the detections come back per batch and are recorded in batch order, so the
//! result (counts, and which occurrences are kept under the location cap) is the same as a
//! scan on one thread. At most two batches per helper are in flight, which bounds memory.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use std::io::{self, Read};

use dragnet_detect::{Engine, Hit, Location, ObjectDetections, Place, Qualification};
use dragnet_formats::{read_delimited, CellVisitor, DelimitedSummary};

/// Cell bytes per batch.
pub const BATCH_BYTES: usize = 256 << 10;
/// Cells per batch, at most (many empty cells make small batches of bytes).
const BATCH_CELLS: usize = 16 << 10;

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

/// One cell of a batch: where it is and its bytes in the batch.
struct Cell {
    row: u64,
    column: u64,
    start: usize,
    end: usize,
    skip_before: usize,
}

/// Cells on their way to a helper, and their detections on the way back.
#[derive(Default)]
struct Batch {
    columns: Arc<Vec<Column>>,
    bytes: Vec<u8>,
    cells: Vec<Cell>,
    /// (cell index, identifier) of every detection, in scan order.
    hits: Vec<(usize, usize)>,
}

impl Batch {
    fn scan(&mut self, engine: &Engine, found: &mut Vec<Hit>) {
        self.hits.clear();
        let none = Qualification::default();
        for (i, cell) in self.cells.iter().enumerate() {
            let qualification = self
                .columns
                .get((cell.column as usize).wrapping_sub(1))
                .map_or(&none, |c| &c.qualification);
            found.clear();
            engine.scan(
                &self.bytes[cell.start..cell.end],
                qualification,
                cell.skip_before,
                found,
            );
            self.hits.extend(found.iter().map(|h| (i, h.identifier)));
        }
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.cells.clear();
        self.hits.clear();
    }
}

/// A helper: scans the batches it is given until the sender is dropped.
fn helper(
    engine: &Engine,
    work: &Mutex<Receiver<(u64, Batch)>>,
    done: &mpsc::Sender<(u64, Batch)>,
) {
    let mut found = Vec::new();
    loop {
        let next = work.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok((index, mut batch)) = next else {
            return;
        };
        batch.scan(engine, &mut found);
        if done.send((index, batch)).is_err() {
            return;
        }
    }
}

/// The cell visitor that hands cells to helpers and records their detections in order.
struct ParallelCells<'d> {
    engine: &'d Engine,
    detections: &'d mut ObjectDetections,
    member: Option<Arc<str>>,
    columns: Arc<Vec<Column>>,
    current: Batch,
    sent: u64,
    recorded: u64,
    max_in_flight: u64,
    work: Option<SyncSender<(u64, Batch)>>,
    done: Receiver<(u64, Batch)>,
    arrived: BTreeMap<u64, Batch>,
    spare: Vec<Batch>,
}

impl ParallelCells<'_> {
    fn dispatch(&mut self) {
        if self.current.cells.is_empty() {
            return;
        }
        while self.sent - self.recorded >= self.max_in_flight {
            if !self.receive() {
                break;
            }
        }
        let mut batch = self.spare.pop().unwrap_or_default();
        batch.clear();
        std::mem::swap(&mut batch, &mut self.current);
        batch.columns = self.columns.clone();
        let sent = self
            .work
            .as_ref()
            .is_some_and(|w| w.send((self.sent, batch)).is_ok());
        if sent {
            self.sent += 1;
        }
    }

    /// Waits for one batch back and records every batch that is next in order; false when
    /// no helper is left.
    fn receive(&mut self) -> bool {
        let Ok((index, batch)) = self.done.recv() else {
            return false;
        };
        self.arrived.insert(index, batch);
        while let Some(batch) = self.arrived.remove(&self.recorded) {
            self.record(&batch);
            self.recorded += 1;
            self.spare.push(batch);
        }
        true
    }

    fn record(&mut self, batch: &Batch) {
        for &(i, identifier) in &batch.hits {
            let cell = &batch.cells[i];
            let column_name = batch
                .columns
                .get((cell.column as usize).wrapping_sub(1))
                .map_or_else(|| Arc::from(""), |c| c.name.clone());
            let member = self.member.clone();
            let (row, column) = (cell.row, cell.column);
            self.detections.record(identifier, || Location {
                member,
                place: Place::Cell {
                    row,
                    column,
                    column_name,
                },
            });
        }
    }

    /// Sends what is left and records everything still in flight.
    fn finish(&mut self) {
        self.dispatch();
        self.work = None;
        while self.recorded < self.sent {
            if !self.receive() {
                break;
            }
        }
    }
}

impl CellVisitor for ParallelCells<'_> {
    fn header(&mut self, names: &[String]) {
        self.dispatch();
        self.columns = Arc::new(Column::from_header(self.engine, names));
    }

    fn cell(&mut self, row: u64, column: u64, value: &[u8], skip_before: usize) {
        let start = self.current.bytes.len();
        self.current.bytes.extend_from_slice(value);
        self.current.cells.push(Cell {
            row,
            column,
            start,
            end: self.current.bytes.len(),
            skip_before,
        });
        if self.current.bytes.len() >= BATCH_BYTES || self.current.cells.len() >= BATCH_CELLS {
            self.dispatch();
        }
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
    let helpers = helpers.max(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Batch)>(helpers);
    let (done_tx, done_rx) = mpsc::channel();
    let work_rx = Mutex::new(work_rx);
    std::thread::scope(|scope| {
        for _ in 0..helpers {
            let done = done_tx.clone();
            let work = &work_rx;
            scope.spawn(move || helper(engine, work, &done));
        }
        drop(done_tx);
        let mut visitor = ParallelCells {
            engine,
            detections,
            member,
            columns: Arc::new(Vec::new()),
            current: Batch::default(),
            sent: 0,
            recorded: 0,
            max_in_flight: 2 * helpers as u64,
            work: Some(work_tx),
            done: done_rx,
            arrived: BTreeMap::new(),
            spare: Vec::new(),
        };
        let out = read_delimited(input, delimiter, &mut visitor);
        visitor.finish();
        out
    })
}
