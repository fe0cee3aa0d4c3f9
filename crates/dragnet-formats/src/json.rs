//! JSON and JSON Lines, streamed: every scalar is handed over with its record index and path,
//! without building the document in memory. Strings that themselves hold JSON (logged events
//! whose `input` field is a JSON string) are parsed and handed over with their inner paths.
//!
//! Memory is bounded: the parser keeps one path and one string at a time (a string longer
//! than [`WINDOW`] is handed over in overlapping windows), and nesting deeper than
//! [`MAX_DEPTH`] stops the read (Macie: `JSON_NESTING_LEVEL_OVER_LIMIT`).

use std::io::{self, Read};

use crate::delimited::read_full;
use crate::{OVERLAP, READ_BUFFER, WINDOW};

/// Deepest nesting Macie analyses.
pub const MAX_DEPTH: usize = 256;
/// Longest object key kept in a path (Macie truncates element names over 240 characters).
const MAX_KEY: usize = 4 << 10;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// An object member, whose name is `keys[start..end]`.
    Key { start: usize, end: usize },
    /// An array element.
    Index(u64),
}

/// Where a value is in its record.
///
/// Paths change at every key of every record, so a path keeps its member names in one buffer
/// and its shape up to date as steps come and go: following a record allocates nothing once
/// the buffers have grown to its depth.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonPath {
    steps: Vec<(Step, usize)>,
    /// The member names of the key steps, one after the other.
    keys: String,
    /// [`JsonPath::shape`], without its leading `$`; each step holds its length before it.
    shape: String,
}

impl JsonPath {
    /// Appends a member name (readers of other record formats build paths with it).
    pub fn push_key(&mut self, key: &str) {
        let start = self.keys.len();
        self.keys.push_str(key);
        let step = Step::Key {
            start,
            end: self.keys.len(),
        };
        self.steps.push((step, self.shape.len()));
        push_key(&mut self.shape, key);
    }

    /// Appends an array index.
    pub fn push_index(&mut self, index: u64) {
        self.steps.push((Step::Index(index), self.shape.len()));
        self.shape.push_str("[*]");
    }

    /// Removes the last step.
    pub fn pop(&mut self) {
        if let Some((step, shape_len)) = self.steps.pop() {
            if let Step::Key { start, .. } = step {
                self.keys.truncate(start);
            }
            self.shape.truncate(shape_len);
        }
    }

    /// Removes every step.
    fn clear(&mut self) {
        self.steps.clear();
        self.keys.clear();
        self.shape.clear();
    }

    /// Sets the index of the last step, when it is an array element.
    fn set_last_index(&mut self, index: u64) {
        if let Some((Step::Index(i), _)) = self.steps.last_mut() {
            *i = index;
        }
    }

    /// Steps in the path.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True for the record itself (`$`).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The object keys along the path (the keyword context of the value).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter_map(|(step, _)| match *step {
            Step::Key { start, end } => Some(&self.keys[start..end]),
            Step::Index(_) => None,
        })
    }

    /// The path with array indices replaced by `[*]`, without the leading `$`
    /// (`.items[*].email`): equal for every value of one field.
    pub fn shape(&self) -> &str {
        &self.shape
    }

    /// The JSONPath, as Macie reports it: `$.customer.ssn`, `$.items[2].email`; element names
    /// over 240 characters are cut from the start and the whole path to its last 250
    /// characters.
    pub fn to_json_path(&self) -> String {
        let mut s = String::from("$");
        for (step, _) in &self.steps {
            match *step {
                Step::Key { start, end } => {
                    let k = &self.keys[start..end];
                    let chars = k.chars().count();
                    let cut = k
                        .char_indices()
                        .nth(chars.saturating_sub(240))
                        .map_or(k.len(), |(i, _)| i);
                    push_key(&mut s, &k[cut..])
                }
                Step::Index(i) => {
                    use std::fmt::Write;
                    let _ = write!(s, "[{i}]");
                }
            }
        }
        let n = s.chars().count();
        if n > 250 {
            s = s.chars().skip(n - 250).collect();
        }
        s
    }
}

fn push_key(s: &mut String, k: &str) {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        s.push('.');
        s.push_str(k);
    } else {
        s.push_str("['");
        s.push_str(&k.replace('\'', "\\'"));
        s.push_str("']");
    }
}

/// Receives the scalars and keys of JSON records.
pub trait RecordVisitor {
    /// A scalar (a string decoded to UTF-8, or a number's text) at `path` of record `record`,
    /// or one window of a long string (matches ending at or before `skip_before` were seen).
    fn value(&mut self, record: u64, path: &JsonPath, value: &[u8], skip_before: usize);
    /// An object key under `parent` (keys can hold sensitive data too).
    fn key(&mut self, record: u64, parent: &JsonPath, key: &str);
}

/// What reading JSON found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JsonSummary {
    /// Records read (JSON Lines: lines with a value; JSON: top-level values).
    pub records: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Some record was not valid JSON (it was skipped; Macie: `MALFORMED_FILE`).
    pub malformed: bool,
    /// JSON Lines: some record (or the stretch skipped after a syntax error) went on past the
    /// newline of the line it started on. Without this, each line is read on its own, so a
    /// reader may split the input at any newline and read the pieces independently.
    pub spans_lines: bool,
}

/// Why a JSON read stopped.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("JSON nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

struct Bytes<R> {
    input: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    total: u64,
    line: u64,
}

impl<R: Read> Bytes<R> {
    fn fill(&mut self) -> io::Result<bool> {
        if self.pos < self.len {
            return Ok(true);
        }
        self.len = read_full(&mut self.input, &mut self.buf)?;
        self.pos = 0;
        self.total += self.len as u64;
        Ok(self.len > 0)
    }
    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(if self.fill()? {
            Some(self.buf[self.pos])
        } else {
            None
        })
    }
    fn next(&mut self) -> io::Result<Option<u8>> {
        let b = self.peek()?;
        if let Some(c) = b {
            self.pos += 1;
            if c == b'\n' {
                self.line += 1;
            }
        }
        Ok(b)
    }
    fn skip_ws(&mut self) -> io::Result<Option<u8>> {
        while let Some(c) = self.peek()? {
            if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
                self.next()?;
            } else {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }
    /// Inside a string: copies the buffered bytes up to the next quote, backslash or newline
    /// (at most what keeps `out` within [`WINDOW`]) into `out` in one go; false when the next
    /// byte is one of those, or the input is at its end, and must be read on its own.
    fn plain_run(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        if !self.fill()? {
            return Ok(false);
        }
        let available = &self.buf[self.pos..self.len];
        let limit = available.len().min(WINDOW.saturating_sub(out.len()));
        let run = memchr::memchr3(b'"', b'\\', b'\n', &available[..limit]).unwrap_or(limit);
        out.extend_from_slice(&available[..run]);
        self.pos += run;
        Ok(run > 0)
    }

    /// Skips to just after the next newline (recovery in JSON Lines).
    fn skip_line(&mut self) -> io::Result<()> {
        while let Some(c) = self.next()? {
            if c == b'\n' {
                break;
            }
        }
        Ok(())
    }
}

enum Failure {
    Io(io::Error),
    TooDeep,
    Syntax,
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

/// Streams JSON (`lines = false`: record index always 0, as Macie reports JSON) or JSON Lines
/// (`lines = true`: record index = 0-based line of the record) from `input` to `visitor`.
pub fn read_json<R: Read, V: RecordVisitor>(
    input: R,
    lines: bool,
    visitor: &mut V,
) -> Result<JsonSummary, JsonError> {
    read_records(input, lines.then_some(0), visitor)
}

/// Streams JSON Lines from `input`, which starts at 0-based line `first_line` of its object:
/// record indexes are lines of the whole object. A reader that splits an object at newlines
/// reads each piece with this, and checks [`JsonSummary::spans_lines`].
pub fn read_json_lines_at<R: Read, V: RecordVisitor>(
    input: R,
    first_line: u64,
    visitor: &mut V,
) -> Result<JsonSummary, JsonError> {
    read_records(input, Some(first_line), visitor)
}

/// JSON Lines when `first_line` is given, else JSON.
fn read_records<R: Read, V: RecordVisitor>(
    input: R,
    first_line: Option<u64>,
    visitor: &mut V,
) -> Result<JsonSummary, JsonError> {
    let lines = first_line.is_some();
    let mut bytes = Bytes {
        input,
        buf: vec![0; READ_BUFFER],
        pos: 0,
        len: 0,
        total: 0,
        line: first_line.unwrap_or(0),
    };
    let mut summary = JsonSummary::default();
    let mut path = JsonPath::default();
    while bytes.skip_ws()?.is_some() {
        let started_on = bytes.line;
        let record = if lines { started_on } else { 0 };
        path.clear();
        let parsed = parse_value(&mut bytes, record, &mut path, 0, visitor);
        summary.spans_lines |= bytes.line != started_on;
        match parsed {
            Ok(()) => summary.records += 1,
            Err(Failure::Io(e)) => return Err(e.into()),
            Err(Failure::TooDeep) => return Err(JsonError::TooDeep),
            Err(Failure::Syntax) => {
                summary.malformed = true;
                if !lines {
                    break;
                }
                bytes.skip_line()?;
            }
        }
    }
    summary.bytes = bytes.total;
    Ok(summary)
}

/// Parses JSON held in a string value, handing its scalars over under `prefix`. Returns false
/// (and hands over nothing) when the text is not exactly one JSON object or array.
fn parse_embedded<V: RecordVisitor>(
    text: &[u8],
    record: u64,
    prefix: &JsonPath,
    depth: usize,
    visitor: &mut V,
) -> Result<bool, Failure> {
    // Collect first, so a string that only looks like JSON hands over nothing twice.
    struct Collect {
        items: Vec<(JsonPath, Option<Vec<u8>>, Option<String>)>,
    }
    impl RecordVisitor for Collect {
        fn value(&mut self, _: u64, path: &JsonPath, value: &[u8], _: usize) {
            self.items.push((path.clone(), Some(value.to_vec()), None));
        }
        fn key(&mut self, _: u64, parent: &JsonPath, key: &str) {
            self.items
                .push((parent.clone(), None, Some(key.to_string())));
        }
    }
    let mut bytes = Bytes {
        input: text,
        buf: vec![0; text.len().clamp(1, READ_BUFFER)],
        pos: 0,
        len: 0,
        total: 0,
        line: 0,
    };
    let mut collect = Collect { items: Vec::new() };
    let mut path = prefix.clone();
    match parse_value(&mut bytes, record, &mut path, depth, &mut collect) {
        Ok(()) => {}
        Err(Failure::Syntax) => return Ok(false),
        Err(e) => return Err(e),
    }
    if bytes.skip_ws()?.is_some() {
        return Ok(false);
    }
    for (path, value, key) in collect.items {
        match (value, key) {
            (Some(v), _) => visitor.value(record, &path, &v, 0),
            (None, Some(k)) => visitor.key(record, &path, &k),
            _ => {}
        }
    }
    Ok(true)
}

enum Frame {
    Object,
    Array(u64),
}

/// Parses one value iteratively (no recursion, so deep nesting cannot overflow the stack).
fn parse_value<R: Read, V: RecordVisitor>(
    bytes: &mut Bytes<R>,
    record: u64,
    path: &mut JsonPath,
    base_depth: usize,
    visitor: &mut V,
) -> Result<(), Failure> {
    let mut stack: Vec<Frame> = Vec::new();
    let start_len = path.len();
    let mut string = Vec::new();
    // What may come next: a value, or (in a container) its continuation.
    let mut want_value = true;
    loop {
        let c = bytes.skip_ws()?.ok_or(Failure::Syntax)?;
        if want_value {
            match c {
                b'{' | b'[' => {
                    bytes.next()?;
                    if base_depth + stack.len() + 1 > MAX_DEPTH {
                        return Err(Failure::TooDeep);
                    }
                    if c == b'{' {
                        stack.push(Frame::Object);
                        if bytes.skip_ws()? == Some(b'}') {
                            bytes.next()?;
                            stack.pop();
                            want_value = false;
                        } else {
                            read_key(bytes, record, path, visitor, &mut string)?;
                        }
                    } else {
                        stack.push(Frame::Array(0));
                        if bytes.skip_ws()? == Some(b']') {
                            bytes.next()?;
                            stack.pop();
                            want_value = false;
                        } else {
                            path.push_index(0);
                        }
                    }
                    continue;
                }
                b'"' => {
                    bytes.next()?;
                    read_string(bytes, &mut string, Some((record, &*path, &mut *visitor)))?;
                    if string.len() >= 2
                        && matches!(
                            (string[0], string[string.len() - 1]),
                            (b'{', b'}') | (b'[', b']')
                        )
                        && parse_embedded(&string, record, path, base_depth + stack.len(), visitor)?
                    {
                        // Scanned with its inner paths.
                    } else {
                        visitor.value(record, path, &string, 0);
                    }
                }
                b'-' | b'0'..=b'9' => {
                    string.clear();
                    while let Some(d) = bytes.peek()? {
                        if d.is_ascii_digit() || matches!(d, b'-' | b'+' | b'.' | b'e' | b'E') {
                            string.push(d);
                            bytes.next()?;
                        } else {
                            break;
                        }
                    }
                    visitor.value(record, path, &string, 0);
                }
                b't' => literal(bytes, b"true")?,
                b'f' => literal(bytes, b"false")?,
                b'n' => literal(bytes, b"null")?,
                _ => return Err(Failure::Syntax),
            }
            want_value = false;
        } else {
            // After a value: end of the document, or `,`/`}`/`]` of the enclosing container.
            let Some(top) = stack.last_mut() else {
                debug_assert_eq!(path.len(), start_len);
                return Ok(());
            };
            bytes.next()?;
            match (top, c) {
                (Frame::Object, b',') => {
                    path.pop();
                    read_key(bytes, record, path, visitor, &mut string)?;
                    want_value = true;
                }
                (Frame::Object, b'}') => {
                    path.pop();
                    stack.pop();
                }
                (Frame::Array(i), b',') => {
                    *i += 1;
                    path.set_last_index(*i);
                    want_value = true;
                }
                (Frame::Array(_), b']') => {
                    path.pop();
                    stack.pop();
                }
                _ => return Err(Failure::Syntax),
            }
        }
        if stack.is_empty() && !want_value {
            return Ok(());
        }
    }
}

/// Reads `"key":` (into `buffer`) and pushes the key onto the path.
fn read_key<R: Read, V: RecordVisitor>(
    bytes: &mut Bytes<R>,
    record: u64,
    path: &mut JsonPath,
    visitor: &mut V,
    buffer: &mut Vec<u8>,
) -> Result<(), Failure> {
    if bytes.skip_ws()? != Some(b'"') {
        return Err(Failure::Syntax);
    }
    bytes.next()?;
    read_string::<R, V>(bytes, buffer, None)?;
    buffer.truncate(MAX_KEY);
    let key = String::from_utf8_lossy(buffer);
    if bytes.skip_ws()? != Some(b':') {
        return Err(Failure::Syntax);
    }
    bytes.next()?;
    visitor.key(record, path, &key);
    path.push_key(&key);
    Ok(())
}

fn literal<R: Read>(bytes: &mut Bytes<R>, word: &[u8]) -> Result<(), Failure> {
    for &w in word {
        if bytes.next()? != Some(w) {
            return Err(Failure::Syntax);
        }
    }
    Ok(())
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut b = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
}

fn hex4<R: Read>(bytes: &mut Bytes<R>) -> Result<u32, Failure> {
    let mut v = 0u32;
    for _ in 0..4 {
        let c = bytes.next()?.ok_or(Failure::Syntax)?;
        v = v * 16 + (c as char).to_digit(16).ok_or(Failure::Syntax)?;
    }
    Ok(v)
}

/// Decodes a string body (after the opening quote) into `out`. With a visitor, a string
/// longer than [`WINDOW`] is handed over window by window and `out` keeps the last window.
fn read_string<R: Read, V: RecordVisitor>(
    bytes: &mut Bytes<R>,
    out: &mut Vec<u8>,
    mut windows: Option<(u64, &JsonPath, &mut V)>,
) -> Result<(), Failure> {
    out.clear();
    let mut carried = 0;
    loop {
        // A run of plain bytes is copied at once; anything else is read on its own.
        if !bytes.plain_run(out)? {
            let c = bytes.next()?.ok_or(Failure::Syntax)?;
            match c {
                b'"' => break,
                b'\\' => match bytes.next()?.ok_or(Failure::Syntax)? {
                    b'"' => out.push(b'"'),
                    b'\\' => out.push(b'\\'),
                    b'/' => out.push(b'/'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'u' => {
                        let hi = hex4(bytes)?;
                        let code = if (0xD800..0xDC00).contains(&hi) && bytes.peek()? == Some(b'\\')
                        {
                            bytes.next()?;
                            if bytes.next()? != Some(b'u') {
                                return Err(Failure::Syntax);
                            }
                            let lo = hex4(bytes)?;
                            0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                        } else {
                            hi
                        };
                        push_char(out, char::from_u32(code).unwrap_or('\u{FFFD}'));
                    }
                    _ => return Err(Failure::Syntax),
                },
                c => out.push(c),
            }
        }
        if out.len() >= WINDOW {
            match windows.as_mut() {
                Some((record, path, visitor)) => {
                    visitor.value(*record, path, out, carried);
                    let keep = OVERLAP.min(out.len());
                    out.drain(..out.len() - keep);
                    carried = keep;
                }
                None => out.truncate(WINDOW - 1),
            }
        }
    }
    if carried > 0 {
        // The last window of a long string: hand it over here and leave nothing to the caller.
        if let Some((record, path, visitor)) = windows {
            visitor.value(record, path, out, carried);
        }
        out.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trickle::Trickle;

    #[derive(Default)]
    struct Collect {
        values: Vec<(u64, String, String)>,
        keys: Vec<String>,
    }

    impl RecordVisitor for Collect {
        fn value(&mut self, record: u64, path: &JsonPath, value: &[u8], _skip: usize) {
            self.values.push((
                record,
                path.to_json_path(),
                String::from_utf8_lossy(value).into_owned(),
            ));
        }
        fn key(&mut self, _record: u64, _parent: &JsonPath, key: &str) {
            self.keys.push(key.to_string());
        }
    }

    fn read(text: &str, lines: bool) -> (Collect, Result<JsonSummary, JsonError>) {
        let mut c = Collect::default();
        let r = read_json(text.as_bytes(), lines, &mut c);
        (c, r)
    }

    #[test]
    fn paths_and_records() {
        let (c, r) = read(
            r#"{"customer": {"name": "Jane Doe", "ssn": "536-22-1234", "tags": ["a", {"x": 1}]}, "n": -1.5e3, "ok": true, "none": null, "e": {}, "l": []}"#,
            false,
        );
        assert_eq!(r.unwrap().records, 1);
        assert_eq!(
            c.values,
            vec![
                (0, "$.customer.name".into(), "Jane Doe".into()),
                (0, "$.customer.ssn".into(), "536-22-1234".into()),
                (0, "$.customer.tags[0]".into(), "a".into()),
                (0, "$.customer.tags[1].x".into(), "1".into()),
                (0, "$.n".into(), "-1.5e3".into()),
            ]
        );
        assert_eq!(
            c.keys,
            vec!["customer", "name", "ssn", "tags", "x", "n", "ok", "none", "e", "l"]
        );
    }

    #[test]
    fn json_lines_records_are_lines() {
        let (c, r) = read("{\"a\": \"x\"}\n\n{\"a\": \"y\"}\n[\"z\"]\n", true);
        assert_eq!(r.unwrap().records, 3);
        let got: Vec<(u64, &str)> = c.values.iter().map(|(i, _, v)| (*i, v.as_str())).collect();
        assert_eq!(got, vec![(0, "x"), (2, "y"), (3, "z")]);
    }

    #[test]
    fn paths_follow_steps_as_they_come_and_go() {
        let mut p = JsonPath::default();
        p.push_key("orders");
        p.push_index(0);
        p.set_last_index(3);
        p.push_key("we ird");
        assert_eq!(p.to_json_path(), "$.orders[3]['we ird']");
        assert_eq!(p.shape(), ".orders[*]['we ird']");
        assert_eq!(p.names().collect::<Vec<_>>(), ["orders", "we ird"]);
        p.pop();
        p.pop();
        p.push_key("email");
        assert_eq!(p.to_json_path(), "$.orders.email");
        assert_eq!(p.shape(), ".orders.email");
        assert_eq!(p.names().collect::<Vec<_>>(), ["orders", "email"]);
        p.clear();
        assert!(p.is_empty());
        assert_eq!((p.shape(), p.to_json_path().as_str()), ("", "$"));
    }

    #[test]
    fn strings_read_in_runs_keep_their_windows_and_lines() {
        // Plain runs longer than a read buffer and than a window, escapes at run edges, and a
        // raw newline inside a string (counted as a line).
        let long = "ab\\\"".repeat(WINDOW / 2);
        let text = format!("{{\"k\": \"{long}\"}}\n{{\"raw\": \"x\ny\"}}\n[\"z\"]\n");
        #[derive(Default)]
        struct Windows(Vec<(u64, usize, usize)>);
        impl RecordVisitor for Windows {
            fn value(&mut self, record: u64, _: &JsonPath, v: &[u8], skip: usize) {
                // (A windowed string is followed by an empty value, which scans to nothing.)
                if !v.is_empty() {
                    self.0.push((record, v.len(), skip));
                }
            }
            fn key(&mut self, _: u64, _: &JsonPath, _: &str) {}
        }
        let mut w = Windows::default();
        let summary = read_json(text.as_bytes(), true, &mut w).unwrap();
        assert!(summary.spans_lines);
        // The long value decodes to 1.5 windows (`ab\"` to 3 bytes): a full window, then the
        // rest with the overlap carried.
        assert_eq!(w.0[0], (0, WINDOW, 0));
        assert_eq!(w.0[1], (0, WINDOW / 2 + OVERLAP, OVERLAP));
        assert_eq!(w.0[2], (1, 3, 0));
        assert_eq!(w.0[3], (3, 1, 0));
    }

    proptest::proptest! {
        /// Whatever the input and however it arrives (one byte per read reads strings a byte
        /// at a time), the same values, keys, records and flags come out.
        #[test]
        fn any_input_reads_the_same_in_any_reads(
            data in proptest::collection::vec(proptest::sample::select(
                b"{}[]\":,\\ \nabu0123456789-".to_vec()), 0..300),
            step in 1usize..40,
        ) {
            let mut whole = Collect::default();
            let expected = read_json(&data[..], true, &mut whole);
            for step in [1, step] {
                let mut pieces = Collect::default();
                let got = read_json(Trickle { data: &data, step }, true, &mut pieces);
                proptest::prop_assert_eq!(&pieces.values, &whole.values);
                proptest::prop_assert_eq!(&pieces.keys, &whole.keys);
                proptest::prop_assert_eq!(
                    format!("{got:?}"),
                    format!("{expected:?}")
                );
            }
        }
    }

    #[test]
    fn a_record_past_its_line_is_flagged() {
        let one_per_line = "{\"a\": 1}\n{\"a\": [1, 2]} [3]\n{broken\n\n\"x\"\n";
        let (_, r) = read(one_per_line, true);
        let summary = r.unwrap();
        assert!(summary.malformed);
        assert!(!summary.spans_lines);
        for spanning in [
            "{\"a\":\n1}\n",
            "{\"a\": \"two\nlines\"}\n",
            "{\"a\": 1,\n",
            "{\"a\": tru\n{\"b\": 2}\n",
        ] {
            let (_, r) = read(spanning, true);
            assert!(r.unwrap().spans_lines, "{spanning:?}");
        }
    }

    #[test]
    fn pieces_split_at_newlines_read_as_the_whole() {
        let text = "{\"a\": \"x\"}\n\n{bad\n[\"y\", {\"b\": \"z\"}]\n\"w\" 7\n{\"c\": {}}";
        let (whole, r) = read(text, true);
        let whole_summary = r.unwrap();
        let newlines: Vec<usize> = text.match_indices('\n').map(|(i, _)| i + 1).collect();
        for &cut in &newlines {
            let mut pieces = Collect::default();
            let first = read_json_lines_at(&text.as_bytes()[..cut], 0, &mut pieces).unwrap();
            let line = text[..cut].matches('\n').count() as u64;
            let second = read_json_lines_at(&text.as_bytes()[cut..], line, &mut pieces).unwrap();
            assert_eq!(pieces.values, whole.values, "cut at {cut}");
            assert_eq!(pieces.keys, whole.keys);
            assert_eq!(first.records + second.records, whole_summary.records);
            assert_eq!(first.malformed || second.malformed, whole_summary.malformed);
            assert!(!first.spans_lines && !second.spans_lines);
        }
    }

    #[test]
    fn escapes_and_unicode() {
        let (c, _) = read(
            r#"{"k": "a\"b\\c\u00e9\ud83d\ude00\n", "we ird": "v"}"#,
            false,
        );
        assert_eq!(c.values[0].2, "a\"b\\cé😀\n");
        assert_eq!(c.values[1].1, "$['we ird']");
    }

    #[test]
    fn json_inside_strings_is_scanned_with_inner_paths() {
        let (c, _) = read(
            r#"{"detail": {"input": "{\"name\": \"Jane Doe\", \"order-id\": \"A-1\"}", "text": "{not json}"}}"#,
            false,
        );
        assert_eq!(
            c.values[0],
            (0, "$.detail.input.name".into(), "Jane Doe".into())
        );
        assert_eq!(
            c.values[1],
            (0, "$.detail.input.order-id".into(), "A-1".into())
        );
        assert_eq!(
            c.values[2],
            (0, "$.detail.text".into(), "{not json}".into())
        );
    }

    #[test]
    fn malformed_lines_are_skipped_and_flagged() {
        let (c, r) = read("{\"a\": \"x\"}\n{\"a\": \n{\"a\": \"z\"}\n", true);
        let s = r.unwrap();
        assert!(s.malformed);
        let got: Vec<&str> = c.values.iter().map(|v| v.2.as_str()).collect();
        assert!(got.contains(&"x") && got.contains(&"z"), "{got:?}");
        let (_, r) = read("{\"a\": [1, 2,]}", false);
        assert!(r.unwrap().malformed);
        let (_, r) = read("[1} ", false);
        assert!(r.unwrap().malformed);
    }

    #[test]
    fn nesting_limit() {
        let ok = format!("{}1{}", "[".repeat(256), "]".repeat(256));
        assert!(read(&ok, false).1.is_ok());
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        assert!(matches!(read(&deep, false).1, Err(JsonError::TooDeep)));
        let embedded_deep = format!(r#"{{"a": "{}1{}"}}"#, "[".repeat(300), "]".repeat(300));
        assert!(matches!(
            read(&embedded_deep, false).1,
            Err(JsonError::TooDeep)
        ));
    }

    #[test]
    fn long_strings_come_in_windows() {
        let big = "x".repeat(WINDOW * 2 + 5);
        let mut seen = 0usize;
        struct Count<'a>(&'a mut usize, usize);
        impl RecordVisitor for Count<'_> {
            fn value(&mut self, _: u64, _: &JsonPath, v: &[u8], skip: usize) {
                *self.0 += v.len() - skip;
                self.1 = self.1.max(v.len());
            }
            fn key(&mut self, _: u64, _: &JsonPath, _: &str) {}
        }
        let mut c = Count(&mut seen, 0);
        read_json(format!("{{\"a\": \"{big}\"}}").as_bytes(), false, &mut c).unwrap();
        assert!(c.1 <= WINDOW);
        assert_eq!(seen, WINDOW * 2 + 5);
    }

    #[test]
    fn long_paths_are_truncated_like_macie() {
        let mut p = JsonPath::default();
        p.push_key(&"k".repeat(300));
        assert_eq!(p.to_json_path().chars().count(), 242);
        for i in 0..10 {
            p.push_key(&format!("{i}{}", "y".repeat(40)));
        }
        assert_eq!(p.to_json_path().chars().count(), 250);
    }
}
