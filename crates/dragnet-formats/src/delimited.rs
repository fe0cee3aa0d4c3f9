//! CSV and TSV, header-aware, on `csv-core`: quoted fields, embedded newlines, any bytes.
//!
//! Most data rows are plain: one line, no quotes. Those are split with `memchr` (SIMD) instead
//! of going through `csv-core` a byte at a time, which was a third of the cost of scanning a
//! Synthea file; every other row (quotes, a lone `\r`, a line crossing a read buffer or longer
//! than a window) goes through `csv-core`, and the cells are the same either way (tested
//! against `csv-core` alone).

use std::cell::RefCell;
use std::io::{self, Read};

use csv_core::{ReadFieldResult, ReaderBuilder};

use crate::{OVERLAP, READ_BUFFER, WINDOW};

/// Receives the header and cells of a delimited file.
pub trait CellVisitor {
    /// The header row's column names (lossy UTF-8, each at most 4 KiB).
    fn header(&mut self, names: &[String]);
    /// One cell, or one window of a long cell. `row` counts the header as row 1 and
    /// `column` is 1-based. Matches ending at or before `skip_before` were seen in the
    /// previous window of the same cell.
    fn cell(&mut self, row: u64, column: u64, value: &[u8], skip_before: usize);
}

/// What reading a delimited file found besides its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DelimitedSummary {
    /// Data rows (the header not counted).
    pub rows: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Some row had a different number of fields than the header (Macie: `MALFORMED_FILE`).
    pub malformed: bool,
}

const MAX_HEADER_NAME: usize = 4 << 10;

/// A reader's buffers and parser, kept per thread between files: a data set of many small
/// files would otherwise zero a [`WINDOW`] and build a parser for each one (most of the time
/// spent on 1 KB files).
struct Buffers {
    parser: csv_core::Reader,
    delimiter: u8,
    inbuf: Vec<u8>,
    field: Vec<u8>,
}

thread_local! {
    static SPARE: RefCell<Option<Buffers>> = const { RefCell::new(None) };
}

impl Buffers {
    /// This thread's spare buffers (a nested read, such as a CSV inside an archive inside a
    /// CSV being read, gets new ones), with a parser for `delimiter` in its initial state.
    fn take(delimiter: u8) -> Buffers {
        match SPARE.with(|s| s.borrow_mut().take()) {
            Some(mut b) if b.delimiter == delimiter => {
                b.parser.reset();
                b
            }
            Some(b) => Buffers {
                parser: ReaderBuilder::new().delimiter(delimiter).build(),
                delimiter,
                ..b
            },
            None => Buffers {
                parser: ReaderBuilder::new().delimiter(delimiter).build(),
                delimiter,
                inbuf: vec![0u8; READ_BUFFER],
                field: vec![0u8; WINDOW],
            },
        }
    }

    fn give_back(self) {
        SPARE.with(|s| *s.borrow_mut() = Some(self));
    }
}

/// Streams a delimited file from `input` to `visitor` with memory bounded by [`WINDOW`].
pub fn read_delimited<R: Read, V: CellVisitor>(
    input: R,
    delimiter: u8,
    visitor: &mut V,
) -> io::Result<DelimitedSummary> {
    let mut buffers = Buffers::take(delimiter);
    let result = read_with(input, visitor, &mut buffers, true);
    buffers.give_back();
    result
}

/// `plain_rows`: split plain rows without `csv-core` (false only to test that it changes
/// nothing).
fn read_with<R: Read, V: CellVisitor>(
    mut input: R,
    visitor: &mut V,
    buffers: &mut Buffers,
    plain_rows: bool,
) -> io::Result<DelimitedSummary> {
    let Buffers {
        parser,
        delimiter,
        inbuf,
        field,
    } = buffers;
    let delimiter = *delimiter;
    // The parser has just ended a record (or is where `plain_rows` left it, after whole
    // lines): its state is then equivalent to the start of a record, so plain rows may be
    // split here. csv-core's state after a record's `\n` or `\r` (EndRecord, CRLF) treats
    // what follows exactly as StartRecord does (terminator bytes skipped, then a field).
    let mut at_record_start = false;
    let (mut in_start, mut in_end) = (0usize, 0usize);
    let mut eof = false;
    let mut field_len = 0usize;
    // Bytes of the current cell already handed over in earlier windows, kept as overlap.
    let mut carried = 0usize;
    let mut summary = DelimitedSummary::default();
    let mut row: u64 = 1;
    let mut column: u64 = 0;
    let mut header: Vec<String> = Vec::new();
    let mut header_columns: u64 = 0;
    loop {
        if in_start == in_end && !eof {
            in_end = read_full(&mut input, inbuf)?;
            in_start = 0;
            summary.bytes += in_end as u64;
            eof = in_end == 0;
        }
        if plain_rows && at_record_start && row > 1 && in_start < in_end {
            in_start += split_plain_rows(
                &inbuf[in_start..in_end],
                delimiter,
                header_columns,
                &mut row,
                &mut summary,
                visitor,
            );
            if in_start == in_end {
                continue;
            }
            at_record_start = false;
        }
        let (result, nin, nout) =
            parser.read_field(&inbuf[in_start..in_end], &mut field[field_len..]);
        in_start += nin;
        field_len += nout;
        match result {
            ReadFieldResult::InputEmpty => continue,
            ReadFieldResult::OutputFull => {
                // A long cell: hand over this window and keep its tail as overlap.
                if row > 1 {
                    visitor.cell(row, column + 1, &field[..field_len], carried);
                }
                let keep = OVERLAP.min(field_len);
                field.copy_within(field_len - keep..field_len, 0);
                field_len = keep;
                carried = keep;
            }
            ReadFieldResult::Field { record_end } => {
                column += 1;
                if row == 1 {
                    let name = &field[..field_len.min(MAX_HEADER_NAME)];
                    header.push(String::from_utf8_lossy(name).into_owned());
                } else if field_len > 0 {
                    visitor.cell(row, column, &field[..field_len], carried);
                }
                field_len = 0;
                carried = 0;
                if record_end {
                    if row == 1 {
                        header_columns = header.len() as u64;
                        visitor.header(&header);
                    } else {
                        summary.rows += 1;
                        if column != header_columns {
                            summary.malformed = true;
                        }
                    }
                    row += 1;
                    column = 0;
                    at_record_start = true;
                }
            }
            ReadFieldResult::End => break,
        }
    }
    if row == 1 && !header.is_empty() {
        visitor.header(&header);
    }
    Ok(summary)
}

/// Hands over the plain rows at the start of `buf` (whole lines ending in `\n`, shorter than
/// a window, holding no quote and no `\r` but a final `\r\n`) as `csv-core` would, and
/// returns the bytes they took. Stops at the first other line, which `csv-core` reads.
fn split_plain_rows<V: CellVisitor>(
    buf: &[u8],
    delimiter: u8,
    header_columns: u64,
    row: &mut u64,
    summary: &mut DelimitedSummary,
    visitor: &mut V,
) -> usize {
    let mut taken = 0;
    while let Some(newline) = memchr::memchr(b'\n', &buf[taken..]) {
        let mut line = &buf[taken..taken + newline];
        if let Some(body) = line.strip_suffix(b"\r") {
            line = body;
        }
        if line.len() >= WINDOW || memchr::memchr2(b'"', b'\r', line).is_some() {
            break;
        }
        taken += newline + 1;
        // csv-core skips empty lines.
        if line.is_empty() {
            continue;
        }
        let mut column: u64 = 0;
        let mut start = 0;
        for end in memchr::memchr_iter(delimiter, line).chain([line.len()]) {
            column += 1;
            if end > start {
                visitor.cell(*row, column, &line[start..end], 0);
            }
            start = end + 1;
        }
        summary.rows += 1;
        if column != header_columns {
            summary.malformed = true;
        }
        *row += 1;
    }
    taken
}

/// Fills `buf` as far as the reader allows; 0 means end of input.
pub(crate) fn read_full<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trickle::Trickle;

    #[derive(Default)]
    struct Collect {
        header: Vec<String>,
        cells: Vec<(u64, u64, Vec<u8>, usize)>,
    }

    impl CellVisitor for Collect {
        fn header(&mut self, names: &[String]) {
            self.header = names.to_vec();
        }
        fn cell(&mut self, row: u64, column: u64, value: &[u8], skip_before: usize) {
            self.cells.push((row, column, value.to_vec(), skip_before));
        }
    }

    fn read(data: &[u8]) -> (Collect, DelimitedSummary) {
        let mut c = Collect::default();
        let s = read_delimited(data, b',', &mut c).unwrap();
        (c, s)
    }

    #[test]
    fn header_rows_columns_and_quotes() {
        let (c, s) =
            read(b"Id,NAME,NOTE\n1,\"Smith, John\",\"line1\nline2\"\n2,Jane,\"say \"\"hi\"\"\"\n");
        assert_eq!(c.header, vec!["Id", "NAME", "NOTE"]);
        assert_eq!(s.rows, 2);
        assert!(!s.malformed);
        assert!(c.cells.contains(&(2, 2, b"Smith, John".to_vec(), 0)));
        assert!(c.cells.contains(&(2, 3, b"line1\nline2".to_vec(), 0)));
        assert!(c.cells.contains(&(3, 3, b"say \"hi\"".to_vec(), 0)));
    }

    #[test]
    fn ragged_rows_are_malformed_but_still_read() {
        let (c, s) = read(b"a,b\n1,2,3\n4\n");
        assert!(s.malformed);
        assert_eq!(c.cells.len(), 4);
    }

    #[test]
    fn invalid_utf8_and_crlf_are_fine() {
        let (c, s) = read(b"a,b\r\n\xff\xfe,ok\r\n");
        assert_eq!(s.rows, 1);
        assert_eq!(c.cells[0].2, b"\xff\xfe".to_vec());
        assert_eq!(c.cells[1].2, b"ok".to_vec());
    }

    #[test]
    fn huge_cells_come_in_overlapping_windows() {
        let mut data = b"h\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', WINDOW * 2 + 10));
        data.push(b'\n');
        let (c, s) = read(&data);
        assert_eq!(s.rows, 1);
        assert_eq!(c.cells.len(), 3);
        assert_eq!(c.cells[0].3, 0);
        assert_eq!(c.cells[1].3, OVERLAP);
        let seen: usize = c.cells.iter().map(|(_, _, v, skip)| v.len() - skip).sum();
        assert_eq!(
            seen,
            WINDOW * 2 + 10,
            "every byte handed over exactly once beyond the overlap"
        );
    }

    fn read_both(data: &[u8], step: usize) -> [(Collect, DelimitedSummary); 2] {
        [false, true].map(|plain_rows| {
            let mut c = Collect::default();
            let mut buffers = Buffers::take(b',');
            let s = read_with(Trickle { data, step }, &mut c, &mut buffers, plain_rows).unwrap();
            (c, s)
        })
    }

    fn assert_same(data: &[u8], step: usize) -> Result<(), proptest::test_runner::TestCaseError> {
        let [(slow, slow_summary), (fast, fast_summary)] = read_both(data, step);
        proptest::prop_assert_eq!(slow.header, fast.header);
        proptest::prop_assert_eq!(slow.cells, fast.cells);
        proptest::prop_assert_eq!(slow_summary, fast_summary);
        Ok(())
    }

    #[test]
    fn plain_rows_are_read_as_csv_core_reads_them() {
        let cases: [&[u8]; 8] = [
            b"a,b\n1,2\n3,4\n",
            b"a,b\r\n1,2\r\n\r\n\n3,\r\n,4",
            b"a,b\n1,\"x,y\"\n2,3\n\"q\"\"\",5\n6,7\n",
            b"a,b\n1\r2,3\n4,5\r",
            b"\xef\xbb\xbfa,b\n\xef\xbb\xbf1,2\n",
            b"a\n1,2,3\n\n\n4\n",
            b"a,b\n1,2",
            b"a,b\n,,\n",
        ];
        for data in cases {
            for step in [1, 2, 3, 7, 4096] {
                assert_same(data, step).unwrap();
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_input_is_read_as_csv_core_reads_it(
            data in proptest::collection::vec(proptest::sample::select(b"ab,\"\r\n\xff".to_vec()), 0..300),
            step in 1usize..40,
        ) {
            assert_same(&data, step)?;
        }
    }

    #[test]
    fn header_only_and_empty_files() {
        let (c, s) = read(b"DATE,PATIENT\n");
        assert_eq!(c.header, vec!["DATE", "PATIENT"]);
        assert_eq!(s.rows, 0);
        let (c, s) = read(b"");
        assert!(c.header.is_empty());
        assert_eq!(s.rows, 0);
    }
}
