//! Masking streams with the detection engine: text and log lines, CSV/TSV cells (header
//! kept, quoting kept), JSON and JSON Lines (structure, key order and whitespace kept; JSON
//! held in string values masked and re-encoded). Audit records say what was masked and
//! where, never the value.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead, Read, Write};

use dragnet_detect::{AllowMatcher, Engine, EngineError, Hit, Qualification};
use dragnet_model::CustomDataIdentifier;
use serde_json::{json, Value};

use crate::policy::MaskPolicy;

/// The format of a stream to mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskFormat {
    /// Lines of text.
    Text,
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// One JSON document.
    Json,
    /// One JSON document per line.
    JsonLines,
}

/// Counts of what a stream's masking did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaskSummary {
    /// Lines, rows or records read.
    pub units: u64,
    /// Values masked, by identifier.
    pub masked: BTreeMap<String, u64>,
}

/// Masks text with a policy.
pub struct Masker {
    engine: Engine,
    policy: MaskPolicy,
    key: Vec<u8>,
    qualifications: HashMap<String, Qualification>,
    /// The key of `qualifications` being looked up, kept so a lookup allocates nothing.
    qualification_key: String,
}

/// Largest single JSON document masked at once (JSON Lines has no such limit per file).
pub const MAX_JSON_DOCUMENT: usize = 256 << 20;

struct Detection {
    start: usize,
    end: usize,
    identifier: usize,
}

impl Masker {
    /// A masker for `policy` (plus `custom` identifiers, masked by the policy's rules or
    /// fully), with `key` for the keyed operators.
    pub fn new(
        policy: MaskPolicy,
        custom: &[CustomDataIdentifier],
        key: Vec<u8>,
    ) -> Result<Self, EngineError> {
        let engine = Engine::new(&policy.managed, custom, AllowMatcher::default())?;
        Ok(Masker {
            engine,
            policy,
            key,
            qualifications: HashMap::new(),
            qualification_key: String::new(),
        })
    }

    fn qualification<S: AsRef<str>>(&mut self, names: &[S]) -> Qualification {
        let key = &mut self.qualification_key;
        key.clear();
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                key.push('\u{1f}');
            }
            key.push_str(name.as_ref());
        }
        if let Some(q) = self.qualifications.get(key.as_str()) {
            return q.clone();
        }
        let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
        let q = self.engine.qualify(&names);
        self.qualifications.insert(key.clone(), q.clone());
        q
    }

    /// Masks one value; returns the masked text and what was found (byte ranges in `text`).
    /// A value with nothing to mask (most of them) is returned as it is, without a copy.
    fn mask_value<'t>(
        &self,
        text: &'t str,
        q: &Qualification,
        summary: &mut MaskSummary,
    ) -> (Cow<'t, str>, Vec<Detection>) {
        let mut hits: Vec<Hit> = Vec::new();
        self.engine.scan(text.as_bytes(), q, 0, &mut hits);
        if hits.is_empty() {
            return (Cow::Borrowed(text), Vec::new());
        }
        hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut found = Vec::new();
        for h in hits {
            // Overlapping custom and managed detections: the first, longest one is masked.
            if h.start < at || !text.is_char_boundary(h.start) || !text.is_char_boundary(h.end) {
                continue;
            }
            let info = self.engine.info(h.identifier);
            let op = self.policy.operator_for(&info.id, info.category());
            out.push_str(&text[at..h.start]);
            out.push_str(&op.apply(&text[h.start..h.end], &info.id, &self.key));
            at = h.end;
            match summary.masked.get_mut(&info.id) {
                Some(count) => *count += 1,
                None => {
                    summary.masked.insert(info.id.clone(), 1);
                }
            }
            found.push(Detection {
                start: h.start,
                end: h.end,
                identifier: h.identifier,
            });
        }
        out.push_str(&text[at..]);
        (Cow::Owned(out), found)
    }

    /// An audit record in the shape of CloudWatch Logs' data protection audit findings.
    fn audit_record(&self, source: &str, location: Value, found: &[Detection]) -> Value {
        let mut by_name: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for d in found {
            let info = self.engine.info(d.identifier);
            let name = dragnet_detect::MANAGED
                .iter()
                .find(|m| m.id == info.id)
                .and_then(|m| m.cloudwatch_name)
                .map_or_else(|| info.name.clone(), str::to_string);
            by_name
                .entry(name)
                .or_default()
                .push(json!({"start": d.start, "end": d.end}));
        }
        json!({
            "auditTimestamp": dragnet_model::Timestamp::now(),
            "resourceArn": source,
            "policyName": self.policy.name,
            "location": location,
            "dataIdentifiers": by_name.into_iter().map(|(name, detections)| json!({"name": name, "count": detections.len(), "detections": detections})).collect::<Vec<_>>(),
        })
    }

    /// Masks `input` to `output`. With `follow`, every line is flushed as soon as it is masked
    /// (a log-forwarder filter). Audit records go to `audit`, one JSON line each.
    pub fn mask_stream(
        &mut self,
        format: MaskFormat,
        source: &str,
        mut input: impl BufRead,
        output: &mut dyn Write,
        mut audit: Option<&mut dyn Write>,
        follow: bool,
    ) -> io::Result<MaskSummary> {
        let mut summary = MaskSummary::default();
        if format == MaskFormat::Json {
            let mut doc = String::new();
            (&mut input)
                .take(MAX_JSON_DOCUMENT as u64 + 1)
                .read_to_string(&mut doc)?;
            if doc.len() > MAX_JSON_DOCUMENT {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "JSON document over 256 MiB: write it as JSON Lines to mask it as a stream",
                ));
            }
            let mut found = Vec::new();
            let masked = self.mask_json_text(&doc, &mut summary, &mut found)?;
            output.write_all(masked.as_bytes())?;
            summary.units = 1;
            self.write_audit(&mut audit, source, 0, found)?;
            return Ok(summary);
        }
        let delimiter = if format == MaskFormat::Tsv {
            b'\t'
        } else {
            b','
        };
        let mut header: Vec<String> = Vec::new();
        let mut line_no = 0u64;
        let mut raw = Vec::new();
        loop {
            raw.clear();
            let n = if matches!(format, MaskFormat::Csv | MaskFormat::Tsv) {
                read_record(&mut input, &mut raw, delimiter)?
            } else {
                input.read_until(b'\n', &mut raw)?
            };
            if n == 0 {
                break;
            }
            line_no += 1;
            summary.units += 1;
            let text = String::from_utf8_lossy(&raw).into_owned();
            let (body, ending) = split_ending(&text);
            match format {
                MaskFormat::Text => {
                    let q = Qualification::default();
                    let (masked, found) = self.mask_value(body, &q, &mut summary);
                    output.write_all(masked.as_bytes())?;
                    output.write_all(ending.as_bytes())?;
                    if !found.is_empty() && audit.is_some() {
                        let record = self.audit_record(source, json!({"line": line_no}), &found);
                        write_line(&mut audit, &record)?;
                    }
                }
                MaskFormat::JsonLines => {
                    let mut found = Vec::new();
                    let masked = if body.trim().is_empty() {
                        body.to_string()
                    } else {
                        match self.mask_json_text(body, &mut summary, &mut found) {
                            Ok(m) => m,
                            // Not JSON: masked as text, as Macie reads malformed records.
                            Err(_) => {
                                let q = Qualification::default();
                                let (m, f) = self.mask_value(body, &q, &mut summary);
                                found = f.into_iter().map(|d| (String::from("$"), d)).collect();
                                m.into_owned()
                            }
                        }
                    };
                    output.write_all(masked.as_bytes())?;
                    output.write_all(ending.as_bytes())?;
                    self.write_audit(&mut audit, source, line_no, found)?;
                }
                MaskFormat::Csv | MaskFormat::Tsv => {
                    let fields = split_fields(body, delimiter as char);
                    if header.is_empty() {
                        header = fields.iter().map(|f| f.value.clone()).collect();
                        output.write_all(text.as_bytes())?;
                    } else {
                        let mut out = String::with_capacity(text.len());
                        for (i, f) in fields.iter().enumerate() {
                            if i > 0 {
                                out.push(delimiter as char);
                            }
                            let name = header.get(i).map_or("", String::as_str);
                            let q = self.qualification(&[name]);
                            let (masked, found) = self.mask_value(&f.value, &q, &mut summary);
                            if found.is_empty() {
                                out.push_str(&f.raw);
                            } else {
                                out.push_str(&encode_field(&masked, f.quoted, delimiter as char));
                                if audit.is_none() {
                                    continue;
                                }
                                let record = self.audit_record(
                                    source,
                                    json!({"row": line_no, "column": i + 1, "columnName": name}),
                                    &found,
                                );
                                write_line(&mut audit, &record)?;
                            }
                        }
                        output.write_all(out.as_bytes())?;
                        output.write_all(ending.as_bytes())?;
                    }
                }
                MaskFormat::Json => unreachable!("handled above"),
            }
            if follow {
                output.flush()?;
            }
        }
        output.flush()?;
        Ok(summary)
    }

    fn write_audit(
        &self,
        audit: &mut Option<&mut dyn Write>,
        source: &str,
        record: u64,
        found: Vec<(String, Detection)>,
    ) -> io::Result<()> {
        if audit.is_none() || found.is_empty() {
            return Ok(());
        }
        let mut by_path: BTreeMap<String, Vec<Detection>> = BTreeMap::new();
        for (path, d) in found {
            by_path.entry(path).or_default().push(d);
        }
        for (path, found) in by_path {
            let rec = self.audit_record(
                source,
                json!({"recordIndex": record, "jsonPath": path}),
                &found,
            );
            write_line(audit, &rec)?;
        }
        Ok(())
    }

    /// Masks one JSON text, keeping everything but the masked values byte for byte.
    fn mask_json_text(
        &mut self,
        text: &str,
        summary: &mut MaskSummary,
        found: &mut Vec<(String, Detection)>,
    ) -> io::Result<String> {
        let mut rewriter = JsonRewriter::new(text, Vec::new(), 0);
        rewriter.out.reserve(text.len());
        rewriter
            .value(self, summary, found)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        rewriter.ws();
        if rewriter.pos != rewriter.src.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "content after the JSON value",
            ));
        }
        Ok(rewriter.out)
    }
}

fn write_line(audit: &mut Option<&mut dyn Write>, record: &Value) -> io::Result<()> {
    if let Some(w) = audit.as_deref_mut() {
        writeln!(w, "{record}")?;
    }
    Ok(())
}

fn split_ending(text: &str) -> (&str, &str) {
    let body = text.trim_end_matches(['\n', '\r']);
    (body, &text[body.len()..])
}

/// Reads one CSV record, which may span lines inside quotes.
fn read_record(input: &mut impl BufRead, raw: &mut Vec<u8>, _delimiter: u8) -> io::Result<usize> {
    let mut total = 0;
    loop {
        let n = input.read_until(b'\n', raw)?;
        total += n;
        let quotes = raw.iter().filter(|b| **b == b'"').count();
        if n == 0 || quotes % 2 == 0 {
            return Ok(total);
        }
    }
}

struct Field {
    raw: String,
    value: String,
    quoted: bool,
}

fn split_fields(line: &str, delimiter: char) -> Vec<Field> {
    let mut fields = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    loop {
        let start = i;
        let mut value = String::new();
        let quoted = chars.get(i) == Some(&'"');
        if quoted {
            i += 1;
            while i < chars.len() {
                if chars[i] == '"' {
                    if chars.get(i + 1) == Some(&'"') {
                        value.push('"');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                value.push(chars[i]);
                i += 1;
            }
            // Anything between the closing quote and the delimiter is kept as it was.
            while i < chars.len() && chars[i] != delimiter {
                value.push(chars[i]);
                i += 1;
            }
        } else {
            while i < chars.len() && chars[i] != delimiter {
                value.push(chars[i]);
                i += 1;
            }
        }
        fields.push(Field {
            raw: chars[start..i].iter().collect(),
            value,
            quoted,
        });
        if i >= chars.len() {
            break;
        }
        i += 1;
    }
    fields
}

fn encode_field(value: &str, quoted: bool, delimiter: char) -> String {
    if quoted || value.contains(delimiter) || value.contains('"') || value.contains('\n') {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

struct JsonRewriter<'a> {
    text: &'a str,
    src: &'a [u8],
    pos: usize,
    out: String,
    path: Vec<String>,
    /// Strings of keys popped from `path`, reused for the next keys.
    spare: Vec<String>,
    depth: usize,
}

impl<'a> JsonRewriter<'a> {
    fn new(text: &'a str, path: Vec<String>, depth: usize) -> Self {
        JsonRewriter {
            text,
            src: text.as_bytes(),
            pos: 0,
            out: String::new(),
            path,
            spare: Vec::new(),
            depth,
        }
    }

    fn ws(&mut self) {
        while self.pos < self.src.len()
            && matches!(self.src[self.pos], b' ' | b'\t' | b'\n' | b'\r')
        {
            self.out.push(self.src[self.pos] as char);
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.src.get(self.pos) == Some(&c) {
            self.out.push(c as char);
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.pos))
        }
    }

    /// The raw string token at `pos` (quotes included) and its decoded value. Most strings
    /// have no escape and are their own value, without a copy; the others (and any with a raw
    /// control character, which is invalid JSON) are decoded by serde_json.
    fn string(&mut self) -> Result<(&'a str, Cow<'a, str>), String> {
        let start = self.pos;
        self.pos += 1;
        while self.pos < self.src.len() {
            match self.src[self.pos] {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    // Quotes are ASCII, so the token is whole characters of `text`.
                    let raw = &self.text[start..self.pos];
                    let body = &raw[1..raw.len() - 1];
                    if !body.bytes().any(|b| b == b'\\' || b < 0x20) {
                        return Ok((raw, Cow::Borrowed(body)));
                    }
                    let value: String = serde_json::from_str(raw).map_err(|e| e.to_string())?;
                    return Ok((raw, Cow::Owned(value)));
                }
                _ => self.pos += 1,
            }
        }
        Err("unterminated string".into())
    }

    fn push_key(&mut self, key: &str) {
        let mut owned = self.spare.pop().unwrap_or_default();
        owned.clear();
        owned.push_str(key);
        self.path.push(owned);
    }

    fn pop_key(&mut self) {
        if let Some(key) = self.path.pop() {
            self.spare.push(key);
        }
    }

    fn json_path(&self) -> String {
        let mut p = String::from("$");
        for k in &self.path {
            p.push('.');
            p.push_str(k);
        }
        p
    }

    fn value(
        &mut self,
        masker: &mut Masker,
        summary: &mut MaskSummary,
        found: &mut Vec<(String, Detection)>,
    ) -> Result<(), String> {
        self.ws();
        self.depth += 1;
        if self.depth > 256 {
            return Err("JSON nesting deeper than 256 levels".into());
        }
        let result = match self.src.get(self.pos) {
            Some(b'{') => {
                self.out.push('{');
                self.pos += 1;
                self.ws();
                if self.src.get(self.pos) == Some(&b'}') {
                    self.out.push('}');
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        if self.src.get(self.pos) != Some(&b'"') {
                            return Err(format!("expected a key at byte {}", self.pos));
                        }
                        let (raw, key) = self.string()?;
                        self.out.push_str(raw);
                        self.expect(b':')?;
                        self.push_key(&key);
                        self.value(masker, summary, found)?;
                        self.pop_key();
                        self.ws();
                        match self.src.get(self.pos) {
                            Some(b',') => {
                                self.out.push(',');
                                self.pos += 1;
                            }
                            Some(b'}') => {
                                self.out.push('}');
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(format!("expected ',' or '}}' at byte {}", self.pos)),
                        }
                    }
                }
                Ok(())
            }
            Some(b'[') => {
                self.out.push('[');
                self.pos += 1;
                self.ws();
                if self.src.get(self.pos) == Some(&b']') {
                    self.out.push(']');
                    self.pos += 1;
                } else {
                    loop {
                        self.value(masker, summary, found)?;
                        self.ws();
                        match self.src.get(self.pos) {
                            Some(b',') => {
                                self.out.push(',');
                                self.pos += 1;
                            }
                            Some(b']') => {
                                self.out.push(']');
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(format!("expected ',' or ']' at byte {}", self.pos)),
                        }
                    }
                }
                Ok(())
            }
            Some(b'"') => {
                let (raw, value) = self.string()?;
                let trimmed = value.trim();
                let nested = (trimmed.starts_with('{') && trimmed.ends_with('}'))
                    || (trimmed.starts_with('[') && trimmed.ends_with(']'));
                let inner = if nested {
                    let mut inner_rw = JsonRewriter::new(&value, self.path.clone(), self.depth);
                    let mut inner_found = Vec::new();
                    let ok = inner_rw.value(masker, summary, &mut inner_found).is_ok() && {
                        inner_rw.ws();
                        inner_rw.pos == inner_rw.src.len()
                    };
                    ok.then(|| {
                        found.extend(inner_found);
                        inner_rw.out
                    })
                } else {
                    None
                };
                match inner {
                    // JSON inside a string: masked as JSON, then encoded back into the string.
                    Some(masked) if masked != value => self
                        .out
                        .push_str(&serde_json::to_string(&masked).expect("a string serializes")),
                    Some(_) => self.out.push_str(raw),
                    None => {
                        let q = masker.qualification(&self.path);
                        let (masked, hits) = masker.mask_value(&value, &q, summary);
                        if hits.is_empty() {
                            self.out.push_str(raw);
                        } else {
                            self.out.push_str(
                                &serde_json::to_string(&masked).expect("a string serializes"),
                            );
                            let path = self.json_path();
                            found.extend(hits.into_iter().map(|h| (path.clone(), h)));
                        }
                    }
                }
                Ok(())
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                let start = self.pos;
                while self.pos < self.src.len()
                    && (self.src[self.pos].is_ascii_digit()
                        || matches!(self.src[self.pos], b'-' | b'+' | b'.' | b'e' | b'E'))
                {
                    self.pos += 1;
                }
                // Digits and signs are ASCII, so the number is whole characters of `text`.
                let number = &self.text[start..self.pos];
                let q = masker.qualification(&self.path);
                let (masked, hits) = masker.mask_value(number, &q, summary);
                if hits.is_empty() {
                    self.out.push_str(number);
                } else {
                    // A masked number is no longer a number: it becomes a string.
                    self.out
                        .push_str(&serde_json::to_string(&masked).expect("a string serializes"));
                    let path = self.json_path();
                    found.extend(hits.into_iter().map(|h| (path.clone(), h)));
                }
                Ok(())
            }
            Some(_) => {
                for word in ["true", "false", "null"] {
                    if self.src[self.pos..].starts_with(word.as_bytes()) {
                        self.out.push_str(word);
                        self.pos += word.len();
                        self.depth -= 1;
                        return Ok(());
                    }
                }
                Err(format!("unexpected byte at {}", self.pos))
            }
            None => Err("unexpected end of JSON".into()),
        };
        self.depth -= 1;
        result
    }
}
