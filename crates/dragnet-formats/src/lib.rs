//! Readers that turn an object's bytes into located units for the detection engine: CSV/TSV
//! cells with row, column and column name; text lines with line and column; JSON and JSON
//! Lines scalars with record index and path. Format detection by content and extension.
//!
//! Every reader streams with bounded memory: a value longer than [`WINDOW`] bytes (a huge
//! cell, a multi-gigabyte single line) is handed over in overlapping windows, and the unit
//! visitor is told how much of each window it has already seen, so nothing is counted twice
//! and matches across a window edge are still found (up to [`OVERLAP`] bytes long).
#![warn(missing_docs)]

mod columnar;
mod delimited;
mod detect;
mod json;
mod text;
#[cfg(test)]
mod trickle;

#[cfg(feature = "avro")]
pub use columnar::read_avro;
#[cfg(feature = "parquet")]
pub use columnar::read_parquet;
pub use columnar::{ColumnarError, ColumnarSummary};
pub use delimited::{read_delimited, CellVisitor, DelimitedSummary};
pub use detect::{
    decompressed_name, detect_format, extension, is_supported_extension, max_size_for_extension,
    Format, UnsupportedReason,
};
pub use json::{
    read_json, read_json_lines_at, JsonError, JsonPath, JsonSummary, RecordVisitor, MAX_DEPTH,
};
pub use text::{read_lines, LineVisitor, TextSummary};

/// Largest piece of one value handed to a visitor at once.
pub const WINDOW: usize = 1 << 20;
/// Bytes of a value repeated at the start of the next window.
pub const OVERLAP: usize = 4 << 10;

/// Size of the read buffer.
const READ_BUFFER: usize = 64 << 10;
