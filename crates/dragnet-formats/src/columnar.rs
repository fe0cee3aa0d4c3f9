//! Apache Parquet and Avro, record by record: each scalar is handed to a [`RecordVisitor`]
//! with its 0-based record index and a path through column, field, list and map names (every
//! name is keyword context, as Macie treats Parquet and Avro paths).

use std::io;

/// What reading a columnar file found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ColumnarSummary {
    /// Records read.
    pub records: u64,
}

/// Why a columnar read stopped.
#[derive(Debug, thiserror::Error)]
pub enum ColumnarError {
    /// Reading the bytes failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The file cannot be opened (corrupt footer or header, unsupported codec): nothing was read.
    #[error("cannot open the file: {0}")]
    Unreadable(String),
    /// This build does not read the format (its cargo feature is off).
    #[error("this build does not read this format")]
    Unsupported,
    /// The file broke part-way; the records before it were handed over.
    #[error("the file is broken after {records} records: {message}")]
    Broken {
        /// Records handed over.
        records: u64,
        /// What broke.
        message: String,
    },
}

#[cfg(feature = "parquet")]
mod parquet_reader {
    use std::io::{Read, Seek};

    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::{Field, Row};

    use super::{io, ColumnarError, ColumnarSummary};
    use crate::json::{JsonPath, RecordVisitor};

    fn visit_field<V: RecordVisitor>(
        record: u64,
        path: &mut JsonPath,
        field: &Field,
        visitor: &mut V,
    ) {
        match field {
            Field::Null | Field::Bool(_) => {}
            Field::Str(s) => visitor.value(record, path, s.as_bytes(), 0),
            Field::Bytes(b) => visitor.value(record, path, b.data(), 0),
            Field::Group(row) => visit_row(record, path, row, visitor),
            Field::ListInternal(list) => {
                for (i, item) in list.elements().iter().enumerate() {
                    path.push_index(i as u64);
                    visit_field(record, path, item, visitor);
                    path.pop();
                }
            }
            Field::MapInternal(map) => {
                for (k, v) in map.entries() {
                    let key = match k {
                        Field::Str(s) => s.clone(),
                        other => other.to_string(),
                    };
                    visitor.key(record, path, &key);
                    path.push_key(&key);
                    visit_field(record, path, v, visitor);
                    path.pop();
                }
            }
            other => visitor.value(record, path, other.to_string().as_bytes(), 0),
        }
    }

    fn visit_row<V: RecordVisitor>(record: u64, path: &mut JsonPath, row: &Row, visitor: &mut V) {
        for (name, field) in row.get_column_iter() {
            path.push_key(name);
            visit_field(record, path, field, visitor);
            path.pop();
        }
    }

    /// Reads a Parquet file. The footer is at the end, so the bytes are first copied to a
    /// temporary file (disk, not memory); rows are then read one row group at a time.
    pub fn read_parquet<R: Read, V: RecordVisitor>(
        mut input: R,
        visitor: &mut V,
    ) -> Result<ColumnarSummary, ColumnarError> {
        let mut spool = tempfile::tempfile()?;
        io::copy(&mut input, &mut spool)?;
        spool.rewind()?;
        let reader = SerializedFileReader::new(spool)
            .map_err(|e| ColumnarError::Unreadable(e.to_string()))?;
        let rows = reader
            .get_row_iter(None)
            .map_err(|e| ColumnarError::Unreadable(e.to_string()))?;
        let mut summary = ColumnarSummary::default();
        let mut path = JsonPath::default();
        for row in rows {
            let row = row.map_err(|e| ColumnarError::Broken {
                records: summary.records,
                message: e.to_string(),
            })?;
            visit_row(summary.records, &mut path, &row, visitor);
            summary.records += 1;
        }
        Ok(summary)
    }
}

#[cfg(feature = "parquet")]
pub use parquet_reader::read_parquet;

#[cfg(feature = "avro")]
mod avro_reader {
    use std::io::Read;

    use apache_avro::types::Value;

    use super::{ColumnarError, ColumnarSummary};
    use crate::json::{JsonPath, RecordVisitor};

    fn visit<V: RecordVisitor>(record: u64, path: &mut JsonPath, value: &Value, visitor: &mut V) {
        match value {
            Value::Null | Value::Boolean(_) => {}
            Value::String(s) | Value::Enum(_, s) => visitor.value(record, path, s.as_bytes(), 0),
            Value::Bytes(b) | Value::Fixed(_, b) => visitor.value(record, path, b, 0),
            Value::Int(i) => visitor.value(record, path, i.to_string().as_bytes(), 0),
            Value::Long(i) => visitor.value(record, path, i.to_string().as_bytes(), 0),
            Value::Float(f) => visitor.value(record, path, f.to_string().as_bytes(), 0),
            Value::Double(f) => visitor.value(record, path, f.to_string().as_bytes(), 0),
            Value::Union(_, inner) => visit(record, path, inner, visitor),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push_index(i as u64);
                    visit(record, path, item, visitor);
                    path.pop();
                }
            }
            Value::Map(map) => {
                for (k, v) in map {
                    visitor.key(record, path, k);
                    path.push_key(k);
                    visit(record, path, v, visitor);
                    path.pop();
                }
            }
            Value::Record(fields) => {
                for (k, v) in fields {
                    path.push_key(k);
                    visit(record, path, v, visitor);
                    path.pop();
                }
            }
            // Dates, times, decimals, UUIDs and durations: their text.
            other => visitor.value(record, path, format!("{other:?}").as_bytes(), 0),
        }
    }

    /// Reads an Avro object container file as a stream, record by record.
    pub fn read_avro<R: Read, V: RecordVisitor>(
        input: R,
        visitor: &mut V,
    ) -> Result<ColumnarSummary, ColumnarError> {
        let reader = apache_avro::Reader::new(input)
            .map_err(|e| ColumnarError::Unreadable(e.to_string()))?;
        let mut summary = ColumnarSummary::default();
        let mut path = JsonPath::default();
        for value in reader {
            let value = value.map_err(|e| ColumnarError::Broken {
                records: summary.records,
                message: e.to_string(),
            })?;
            visit(summary.records, &mut path, &value, visitor);
            summary.records += 1;
        }
        Ok(summary)
    }
}

#[cfg(feature = "avro")]
pub use avro_reader::read_avro;
