//! Plain text, line by line, with 1-based line numbers and character columns.

use std::io::{self, Read};

use crate::delimited::read_full;
use crate::{OVERLAP, READ_BUFFER, WINDOW};

/// Receives the lines of a text object.
pub trait LineVisitor {
    /// One line (without its terminator), or one window of a long line. `first_column` is
    /// the 1-based character column of `text[0]` on the line; matches ending at or before
    /// `skip_before` were seen in the previous window.
    fn line(&mut self, line: u64, first_column: u64, text: &[u8], skip_before: usize);
}

/// What reading a text object found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextSummary {
    /// Lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
}

fn chars(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count() as u64
}

/// Streams `input` line by line to `visitor`, with memory bounded by [`WINDOW`].
pub fn read_lines<R: Read, V: LineVisitor>(
    mut input: R,
    visitor: &mut V,
) -> io::Result<TextSummary> {
    let mut inbuf = vec![0u8; READ_BUFFER];
    let mut line_buf: Vec<u8> = Vec::with_capacity(8 << 10);
    let mut summary = TextSummary::default();
    let mut line_no: u64 = 1;
    let mut first_column: u64 = 1;
    let mut carried = 0usize;
    loop {
        let n = read_full(&mut input, &mut inbuf)?;
        if n == 0 {
            break;
        }
        summary.bytes += n as u64;
        let mut chunk = &inbuf[..n];
        while !chunk.is_empty() {
            let room = WINDOW - line_buf.len();
            match chunk[..chunk.len().min(room)]
                .iter()
                .position(|b| *b == b'\n')
            {
                Some(i) => {
                    line_buf.extend_from_slice(&chunk[..i]);
                    if line_buf.last() == Some(&b'\r') {
                        line_buf.pop();
                    }
                    visitor.line(line_no, first_column, &line_buf, carried);
                    summary.lines += 1;
                    line_no += 1;
                    first_column = 1;
                    carried = 0;
                    line_buf.clear();
                    chunk = &chunk[i + 1..];
                }
                None if chunk.len() < room => {
                    line_buf.extend_from_slice(chunk);
                    chunk = &[];
                }
                None => {
                    line_buf.extend_from_slice(&chunk[..room]);
                    chunk = &chunk[room..];
                    visitor.line(line_no, first_column, &line_buf, carried);
                    let keep = OVERLAP.min(line_buf.len());
                    first_column += chars(&line_buf[..line_buf.len() - keep]);
                    line_buf.drain(..line_buf.len() - keep);
                    carried = keep;
                }
            }
        }
    }
    if !line_buf.is_empty() || carried > 0 {
        visitor.line(line_no, first_column, &line_buf, carried);
        summary.lines += 1;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<(u64, u64, Vec<u8>, usize)>);

    impl LineVisitor for Collect {
        fn line(&mut self, line: u64, first_column: u64, text: &[u8], skip_before: usize) {
            self.0
                .push((line, first_column, text.to_vec(), skip_before));
        }
    }

    #[test]
    fn lines_with_numbers() {
        let mut c = Collect::default();
        let s = read_lines(&b"one\r\ntwo\n\nlast"[..], &mut c).unwrap();
        assert_eq!(s.lines, 4);
        assert_eq!(c.0[1], (2, 1, b"two".to_vec(), 0));
        assert_eq!(c.0[3], (4, 1, b"last".to_vec(), 0));
    }

    #[test]
    fn one_huge_line_is_windowed_with_columns() {
        let data = vec![b'a'; WINDOW * 3];
        let mut c = Collect::default();
        read_lines(&data[..], &mut c).unwrap();
        assert!(c
            .0
            .iter()
            .all(|(line, _, text, _)| *line == 1 && text.len() <= WINDOW));
        assert_eq!(c.0[1].1, (WINDOW - OVERLAP) as u64 + 1);
        let seen: usize = c.0.iter().map(|(_, _, t, skip)| t.len() - skip).sum();
        assert_eq!(seen, WINDOW * 3);
    }
}
