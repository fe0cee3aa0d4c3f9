//! EventBridge event patterns (macie.md §10.1): a pure matcher, compiled once, with every
//! documented operator. Invalid patterns are refused at compile time with the path of the
//! offending part.

use std::net::IpAddr;

use serde_json::{Map, Value};

/// Why a pattern is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PatternError {
    /// Where in the pattern, e.g. `detail.severity.description[0]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A compiled event pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPattern {
    root: ObjectPattern,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct ObjectPattern {
    fields: Vec<(String, Node)>,
    /// Each `$or` is a list of alternatives; one must match.
    ors: Vec<Vec<ObjectPattern>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Object(ObjectPattern),
    Leaf(Vec<Matcher>),
}

#[derive(Debug, Clone, PartialEq)]
enum Text {
    Exact(String),
    IgnoreCase(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    /// A literal: string, number (by its JSON text), boolean or null.
    Literal(Value),
    Prefix(Text),
    Suffix(Text),
    EqualsIgnoreCase(String),
    Wildcard(Vec<WildPart>),
    AnythingBut(AnythingBut),
    Numeric(Vec<(NumOp, f64)>),
    Cidr(IpAddr, u8),
    Exists(bool),
}

#[derive(Debug, Clone, PartialEq)]
enum AnythingBut {
    Values(Vec<Value>),
    Prefix(Vec<String>),
    Suffix(Vec<String>),
    EqualsIgnoreCase(Vec<String>),
    Wildcard(Vec<Vec<WildPart>>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum NumOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum WildPart {
    Text(String),
    Star,
}

fn err(path: &str, message: impl Into<String>) -> PatternError {
    PatternError {
        path: if path.is_empty() {
            "(pattern)".into()
        } else {
            path.into()
        },
        message: message.into(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Most `$or` combinations a pattern may expand to (EventBridge's limit).
const MAX_OR_COMBINATIONS: usize = 1000;

impl EventPattern {
    /// Compiles a pattern given as JSON (an object).
    pub fn compile(pattern: &Value) -> Result<Self, PatternError> {
        let Value::Object(map) = pattern else {
            return Err(err("", "an event pattern must be a JSON object"));
        };
        if map.is_empty() {
            return Err(err("", "an event pattern must name at least one field"));
        }
        let root = compile_object(map, "")?;
        let combos = root.combinations();
        if combos > MAX_OR_COMBINATIONS {
            return Err(err("", format!("$or expands to {combos} combinations; at most {MAX_OR_COMBINATIONS} are allowed")));
        }
        Ok(EventPattern { root })
    }

    /// Compiles a pattern given as JSON text (as `PutRule` takes it).
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| err("", format!("not valid JSON: {e}")))?;
        Self::compile(&value)
    }

    /// Whether `event` matches.
    pub fn matches(&self, event: &Value) -> bool {
        self.root.matches(Some(event))
    }
}

impl ObjectPattern {
    fn combinations(&self) -> usize {
        let mut n = 1usize;
        for (_, node) in &self.fields {
            if let Node::Object(o) = node {
                n = n.saturating_mul(o.combinations());
            }
        }
        for alternatives in &self.ors {
            n = n.saturating_mul(
                alternatives
                    .iter()
                    .map(ObjectPattern::combinations)
                    .sum::<usize>(),
            );
        }
        n
    }

    fn matches(&self, value: Option<&Value>) -> bool {
        let object = value.and_then(Value::as_object);
        self.fields.iter().all(|(key, node)| {
            let field = object.and_then(|o| o.get(key));
            match node {
                Node::Leaf(matchers) => leaf_matches(matchers, field),
                Node::Object(sub) => match field {
                    // Arrays of objects: some element must match the whole sub-pattern (fields
                    // of different elements are never combined).
                    Some(Value::Array(items)) => items.iter().any(|i| sub.matches(Some(i))),
                    Some(v @ Value::Object(_)) => sub.matches(Some(v)),
                    Some(_) => false,
                    None => sub.matches(None),
                },
            }
        }) && self
            .ors
            .iter()
            .all(|alts| alts.iter().any(|alt| alt.matches(value)))
    }
}

fn compile_object(map: &Map<String, Value>, path: &str) -> Result<ObjectPattern, PatternError> {
    let mut out = ObjectPattern::default();
    for (key, value) in map {
        let here = join(path, key);
        if key == "$or" {
            let Value::Array(alternatives) = value else {
                return Err(err(&here, "$or takes an array of at least two patterns"));
            };
            if alternatives.len() < 2 {
                return Err(err(&here, "$or takes an array of at least two patterns"));
            }
            let mut compiled = Vec::new();
            for (i, alt) in alternatives.iter().enumerate() {
                let p = format!("{here}[{i}]");
                let Value::Object(m) = alt else {
                    return Err(err(&p, "each $or alternative must be an object"));
                };
                if m.is_empty() {
                    return Err(err(&p, "an $or alternative must name at least one field"));
                }
                compiled.push(compile_object(m, path)?);
            }
            out.ors.push(compiled);
            continue;
        }
        let node = match value {
            Value::Object(m) => {
                if m.is_empty() {
                    return Err(err(
                        &here,
                        "an empty object matches nothing; give fields or remove it",
                    ));
                }
                Node::Object(compile_object(m, &here)?)
            }
            Value::Array(items) => {
                if items.is_empty() {
                    return Err(err(
                        &here,
                        "an empty array matches nothing; give at least one value",
                    ));
                }
                let matchers = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| compile_matcher(v, &format!("{here}[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                Node::Leaf(matchers)
            }
            other => {
                return Err(err(
                    &here,
                    format!("leaf values must be arrays, e.g. [{other}]"),
                ));
            }
        };
        out.fields.push((key.clone(), node));
    }
    Ok(out)
}

fn string_arg<'a>(v: &'a Value, path: &str, op: &str) -> Result<&'a str, PatternError> {
    v.as_str()
        .ok_or_else(|| err(path, format!("{op} takes a string")))
}

fn text_arg(v: &Value, path: &str, op: &str) -> Result<Text, PatternError> {
    match v {
        Value::String(s) => Ok(Text::Exact(s.clone())),
        Value::Object(m) if m.len() == 1 && m.contains_key("equals-ignore-case") => Ok(
            Text::IgnoreCase(string_arg(&m["equals-ignore-case"], path, op)?.to_lowercase()),
        ),
        _ => Err(err(
            path,
            format!("{op} takes a string or {{\"equals-ignore-case\": string}}"),
        )),
    }
}

fn strings(v: &Value, path: &str, op: &str) -> Result<Vec<String>, PatternError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| err(path, format!("{op} takes strings")))
            })
            .collect(),
        _ => Err(err(
            path,
            format!("{op} takes a string or a non-empty array of strings"),
        )),
    }
}

fn compile_matcher(v: &Value, path: &str) -> Result<Matcher, PatternError> {
    let Value::Object(m) = v else {
        return Ok(Matcher::Literal(v.clone()));
    };
    if m.len() != 1 {
        return Err(err(path, "an operator object holds exactly one operator"));
    }
    let (op, arg) = m.iter().next().expect("one entry");
    match op.as_str() {
        "prefix" => Ok(Matcher::Prefix(text_arg(arg, path, "prefix")?)),
        "suffix" => Ok(Matcher::Suffix(text_arg(arg, path, "suffix")?)),
        "equals-ignore-case" => Ok(Matcher::EqualsIgnoreCase(string_arg(arg, path, op)?.to_lowercase())),
        "wildcard" => Ok(Matcher::Wildcard(wildcard(string_arg(arg, path, op)?, path)?)),
        "exists" => match arg {
            Value::Bool(b) => Ok(Matcher::Exists(*b)),
            _ => Err(err(path, "exists takes true or false")),
        },
        "cidr" => cidr(string_arg(arg, path, op)?, path),
        "numeric" => numeric(arg, path),
        "anything-but" => anything_but(arg, path),
        other => Err(err(
            path,
            format!("unknown operator {other:?} (known: prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, cidr, exists)"),
        )),
    }
}

fn anything_but(arg: &Value, path: &str) -> Result<Matcher, PatternError> {
    let ab = match arg {
        Value::String(_) | Value::Number(_) => AnythingBut::Values(vec![arg.clone()]),
        Value::Array(items) => {
            let all_strings = items.iter().all(Value::is_string);
            let all_numbers = items.iter().all(Value::is_number);
            if items.is_empty() || !(all_strings || all_numbers) {
                return Err(err(path, "anything-but takes a non-empty list of all strings or all numbers"));
            }
            AnythingBut::Values(items.clone())
        }
        Value::Object(m) if m.len() == 1 => {
            let (op, v) = m.iter().next().expect("one entry");
            match op.as_str() {
                "prefix" => AnythingBut::Prefix(strings(v, path, "anything-but prefix")?),
                "suffix" => AnythingBut::Suffix(strings(v, path, "anything-but suffix")?),
                "equals-ignore-case" => AnythingBut::EqualsIgnoreCase(
                    strings(v, path, "anything-but equals-ignore-case")?.iter().map(|s| s.to_lowercase()).collect(),
                ),
                "wildcard" => AnythingBut::Wildcard(
                    strings(v, path, "anything-but wildcard")?.iter().map(|s| wildcard(s, path)).collect::<Result<_, _>>()?,
                ),
                other => return Err(err(path, format!("anything-but does not take {other:?} (allowed: prefix, suffix, equals-ignore-case, wildcard)"))),
            }
        }
        _ => return Err(err(path, "anything-but takes a string, a number, a list, or {prefix|suffix|equals-ignore-case|wildcard: ...}")),
    };
    Ok(Matcher::AnythingBut(ab))
}

fn numeric(arg: &Value, path: &str) -> Result<Matcher, PatternError> {
    let Value::Array(items) = arg else {
        return Err(err(
            path,
            "numeric takes an array such as [\">\", 0, \"<=\", 5]",
        ));
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err(err(
            path,
            "numeric takes one or two (operator, number) pairs",
        ));
    }
    let mut ops = Vec::new();
    for pair in items.chunks(2) {
        let op = match pair[0].as_str() {
            Some("=") => NumOp::Eq,
            Some("<") => NumOp::Lt,
            Some("<=") => NumOp::Le,
            Some(">") => NumOp::Gt,
            Some(">=") => NumOp::Ge,
            _ => {
                return Err(err(
                    path,
                    format!("numeric operator {} is not one of =, <, <=, >, >=", pair[0]),
                ))
            }
        };
        let n = pair[1].as_f64().ok_or_else(|| {
            err(
                path,
                format!(
                    "numeric needs a number after {:?}, not {}",
                    pair[0], pair[1]
                ),
            )
        })?;
        ops.push((op, n));
    }
    if ops.len() == 2 {
        let lower = |o: NumOp| matches!(o, NumOp::Gt | NumOp::Ge);
        let upper = |o: NumOp| matches!(o, NumOp::Lt | NumOp::Le);
        let ok = (lower(ops[0].0) && upper(ops[1].0)) || (upper(ops[0].0) && lower(ops[1].0));
        if !ok {
            return Err(err(
                path,
                "numeric takes at most one lower bound (> or >=) and one upper bound (< or <=)",
            ));
        }
    }
    Ok(Matcher::Numeric(ops))
}

fn cidr(s: &str, path: &str) -> Result<Matcher, PatternError> {
    let bad = || {
        err(
            path,
            format!("{s:?} is not a CIDR block such as 10.0.0.0/24"),
        )
    };
    let (ip, bits) = s.split_once('/').ok_or_else(bad)?;
    let ip: IpAddr = ip.parse().map_err(|_| bad())?;
    let bits: u8 = bits.parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if bits > max {
        return Err(bad());
    }
    Ok(Matcher::Cidr(ip, bits))
}

fn wildcard(s: &str, path: &str) -> Result<Vec<WildPart>, PatternError> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = s.chars().peekable();
    let mut last_star = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('*' | '\\')) => {
                    text.push(e);
                    last_star = false;
                }
                _ => {
                    return Err(err(
                        path,
                        format!("wildcard {s:?}: only \\* and \\\\ are valid escapes"),
                    ))
                }
            },
            '*' => {
                if last_star {
                    return Err(err(
                        path,
                        format!("wildcard {s:?}: consecutive * are not allowed"),
                    ));
                }
                if !text.is_empty() {
                    parts.push(WildPart::Text(std::mem::take(&mut text)));
                }
                parts.push(WildPart::Star);
                last_star = true;
            }
            c => {
                text.push(c);
                last_star = false;
            }
        }
    }
    if !text.is_empty() {
        parts.push(WildPart::Text(text));
    }
    Ok(parts)
}

fn wildcard_matches(parts: &[WildPart], s: &str) -> bool {
    match parts.split_first() {
        None => s.is_empty(),
        Some((WildPart::Text(t), rest)) => s
            .strip_prefix(t.as_str())
            .is_some_and(|r| wildcard_matches(rest, r)),
        Some((WildPart::Star, rest)) => {
            if rest.is_empty() {
                return true;
            }
            s.char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(s.len()))
                .any(|i| wildcard_matches(rest, &s[i..]))
        }
    }
}

fn leaf_matches(matchers: &[Matcher], field: Option<&Value>) -> bool {
    matchers.iter().any(|m| match (m, field) {
        (Matcher::Exists(want), f) => *want == f.is_some_and(|v| !v.is_object()),
        (_, None) | (_, Some(Value::Object(_))) => false,
        (m, Some(Value::Array(items))) => {
            items.iter().any(|i| !i.is_array() && scalar_matches(m, i))
        }
        (m, Some(v)) => scalar_matches(m, v),
    })
}

fn literal_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // Exact number matching compares the JSON text (300 is not 300.0), as EventBridge does.
        (Value::Number(x), Value::Number(y)) => x.to_string() == y.to_string(),
        _ => a == b,
    }
}

fn text_prefix(t: &Text, s: &str) -> bool {
    match t {
        Text::Exact(p) => s.starts_with(p.as_str()),
        Text::IgnoreCase(p) => s.to_lowercase().starts_with(p.as_str()),
    }
}

fn text_suffix(t: &Text, s: &str) -> bool {
    match t {
        Text::Exact(p) => s.ends_with(p.as_str()),
        Text::IgnoreCase(p) => s.to_lowercase().ends_with(p.as_str()),
    }
}

fn scalar_matches(m: &Matcher, v: &Value) -> bool {
    let s = v.as_str();
    match m {
        Matcher::Literal(lit) => literal_eq(lit, v),
        Matcher::Prefix(t) => s.is_some_and(|s| text_prefix(t, s)),
        Matcher::Suffix(t) => s.is_some_and(|s| text_suffix(t, s)),
        Matcher::EqualsIgnoreCase(t) => s.is_some_and(|s| s.to_lowercase() == *t),
        Matcher::Wildcard(parts) => s.is_some_and(|s| wildcard_matches(parts, s)),
        Matcher::Numeric(ops) => v.as_f64().is_some_and(|n| {
            ops.iter().all(|(op, x)| match op {
                NumOp::Eq => n == *x,
                NumOp::Lt => n < *x,
                NumOp::Le => n <= *x,
                NumOp::Gt => n > *x,
                NumOp::Ge => n >= *x,
            })
        }),
        Matcher::Cidr(net, bits) => s
            .and_then(|s| s.parse::<IpAddr>().ok())
            .is_some_and(|ip| in_cidr(ip, *net, *bits)),
        Matcher::Exists(_) => unreachable!("handled by leaf_matches"),
        Matcher::AnythingBut(ab) => match ab {
            AnythingBut::Values(values) => !values.iter().any(|x| literal_eq(x, v)) && !v.is_null(),
            AnythingBut::Prefix(ps) => {
                s.is_some_and(|s| !ps.iter().any(|p| s.starts_with(p.as_str())))
            }
            AnythingBut::Suffix(ps) => {
                s.is_some_and(|s| !ps.iter().any(|p| s.ends_with(p.as_str())))
            }
            AnythingBut::EqualsIgnoreCase(ps) => s.is_some_and(|s| !ps.contains(&s.to_lowercase())),
            AnythingBut::Wildcard(ws) => {
                s.is_some_and(|s| !ws.iter().any(|w| wildcard_matches(w, s)))
            }
        },
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}
