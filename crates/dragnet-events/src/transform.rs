//! What a target receives (macie.md §10.2): the whole event, a constant `Input`, the value at
//! an `InputPath`, or an `InputTransformer` (paths into the event substituted into a
//! template, with EventBridge's quoting rules).

use std::collections::BTreeMap;

use serde_json::Value;

/// What a rule hands to a target.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetInput {
    /// A JSON value (the event, a constant, a path's value, or a JSON template's result).
    Json(Value),
    /// Text (a template that is a JSON string, e.g. an alert sentence).
    Text(String),
}

impl TargetInput {
    /// The input as text: text as is, JSON serialized.
    pub fn to_text(&self) -> String {
        match self {
            TargetInput::Text(t) => t.clone(),
            TargetInput::Json(Value::String(s)) => s.clone(),
            TargetInput::Json(v) => v.to_string(),
        }
    }
}

/// A JSONPath of EventBridge's simple form: `$`, `$.a.b`, `$.a[0]`, `$['a-b']`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(Vec<Step>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

impl JsonPath {
    /// Parses a path; the error says what is wrong.
    pub fn parse(path: &str) -> Result<Self, String> {
        let rest = path
            .strip_prefix('$')
            .ok_or_else(|| format!("{path:?} must start with $"))?;
        let mut steps = Vec::new();
        let b = rest.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'.' => {
                    let start = i + 1;
                    let mut end = start;
                    while end < b.len() && b[end] != b'.' && b[end] != b'[' {
                        end += 1;
                    }
                    if end == start {
                        return Err(format!("{path:?}: empty field name"));
                    }
                    steps.push(Step::Key(rest[start..end].to_string()));
                    i = end;
                }
                b'[' => {
                    let close = rest[i..]
                        .find(']')
                        .ok_or_else(|| format!("{path:?}: missing ]"))?
                        + i;
                    let inner = &rest[i + 1..close];
                    if let Some(q) = inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
                        steps.push(Step::Key(q.to_string()));
                    } else {
                        let n = inner.parse().map_err(|_| {
                            format!("{path:?}: [{inner}] is not an index or a quoted name")
                        })?;
                        steps.push(Step::Index(n));
                    }
                    i = close + 1;
                }
                _ => return Err(format!("{path:?}: expected . or [ at character {}", i + 2)),
            }
        }
        Ok(JsonPath(steps))
    }

    /// The value at this path, if present.
    pub fn get<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.0.iter().try_fold(root, |v, step| match step {
            Step::Key(k) => v.get(k),
            Step::Index(i) => v.get(i),
        })
    }
}

/// A compiled `InputTransformer`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputTransformer {
    paths: BTreeMap<String, JsonPath>,
    template: String,
}

/// Facts about the rule for the reserved `<aws.events.*>` variables.
#[derive(Debug, Clone)]
pub struct RuleContext<'a> {
    /// Rule name.
    pub name: &'a str,
    /// Rule ARN.
    pub arn: String,
    /// When the bus received the event (ISO-8601).
    pub ingestion_time: String,
}

impl InputTransformer {
    /// Checks `InputPathsMap` (≤100 keys of `[A-Za-z0-9_-]`, not `aws.*`; valid paths) and the
    /// template (1–8,192 characters).
    pub fn new(paths: &BTreeMap<String, String>, template: &str) -> Result<Self, String> {
        if paths.len() > 100 {
            return Err("InputPathsMap: at most 100 entries are allowed".into());
        }
        let mut compiled = BTreeMap::new();
        for (k, p) in paths {
            if k.is_empty()
                || k.len() > 256
                || !k
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            {
                return Err(format!(
                    "InputPathsMap: key {k:?} must be 1-256 characters of A-Z a-z 0-9 _ -"
                ));
            }
            if k.starts_with("aws.") {
                return Err(format!("InputPathsMap: key {k:?} may not start with aws."));
            }
            compiled.insert(
                k.clone(),
                JsonPath::parse(p).map_err(|e| format!("InputPathsMap.{k}: {e}"))?,
            );
        }
        let n = template.chars().count();
        if !(1..=8192).contains(&n) {
            return Err(format!(
                "InputTemplate: length {n} is out of range (1 to 8,192)"
            ));
        }
        Ok(InputTransformer {
            paths: compiled,
            template: template.to_string(),
        })
    }

    /// Renders the template for `event`.
    ///
    /// A placeholder inside a quoted JSON string inserts the raw value (strings without quotes,
    /// and, as EventBridge does, without escaping); outside strings it inserts the JSON value.
    /// A path that does not resolve inserts nothing inside a string and `null` outside (so a
    /// JSON template stays JSON; EventBridge's documentation only says the value is absent).
    /// `<name>` that is neither a key nor a reserved variable is left as text.
    pub fn render(&self, event: &Value, rule: &RuleContext<'_>) -> Result<TargetInput, String> {
        let mut out = String::with_capacity(self.template.len());
        let mut in_string = false;
        let mut escaped = false;
        let mut rest = self.template.as_str();
        while let Some(c) = rest.chars().next() {
            if c == '<' {
                if let Some(end) = rest.find('>') {
                    let name = &rest[1..end];
                    if let Some(value) = self.variable(name, event, rule) {
                        match (value, in_string) {
                            (Some(Value::String(s)), true) => out.push_str(&s),
                            (Some(v), true) => out.push_str(&v.to_string()),
                            (None, true) => {}
                            (Some(v), false) => out.push_str(&v.to_string()),
                            (None, false) => out.push_str("null"),
                        }
                        rest = &rest[end + 1..];
                        continue;
                    }
                }
            }
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            } else if c == '"' {
                in_string = true;
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        let trimmed = out.trim();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            return serde_json::from_str(trimmed)
                .map(TargetInput::Json)
                .map_err(|e| format!("the InputTemplate did not produce valid JSON ({e})"));
        }
        if trimmed.starts_with('"') && trimmed.ends_with('"') && trimmed.len() >= 2 {
            // A template that is one JSON string: the text inside it, unescaped where it can be.
            let inner = &trimmed[1..trimmed.len() - 1];
            return Ok(TargetInput::Text(
                serde_json::from_str::<String>(trimmed).unwrap_or_else(|_| inner.to_string()),
            ));
        }
        Ok(TargetInput::Text(out))
    }

    /// `Some(value)` when `name` is a variable (value `None` when its path does not resolve).
    fn variable(&self, name: &str, event: &Value, rule: &RuleContext<'_>) -> Option<Option<Value>> {
        match name {
            "aws.events.rule-arn" => Some(Some(Value::String(rule.arn.clone()))),
            "aws.events.rule-name" => Some(Some(Value::String(rule.name.to_string()))),
            "aws.events.event.ingestion-time" => {
                Some(Some(Value::String(rule.ingestion_time.clone())))
            }
            "aws.events.event" => {
                let mut e = event.clone();
                if let Value::Object(m) = &mut e {
                    m.remove("detail");
                }
                Some(Some(e))
            }
            "aws.events.event.json" => Some(Some(event.clone())),
            key => self.paths.get(key).map(|p| p.get(event).cloned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> RuleContext<'static> {
        RuleContext {
            name: "r1",
            arn: "arn:aws:events:us-east-1:111:rule/r1".into(),
            ingestion_time: "2026-11-23T12:00:00Z".into(),
        }
    }

    fn event() -> Value {
        json!({"account": "111222333444", "resources": ["arn:aws:s3:::b/k"], "detail": {"severity": {"description": "High", "score": 3}, "classificationDetails": {"jobId": "abc"}, "resourcesAffected": {"s3Object": {"key": "patients.csv"}}}})
    }

    fn t(paths: &[(&str, &str)], template: &str) -> InputTransformer {
        let map = paths
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        InputTransformer::new(&map, template).unwrap()
    }

    #[test]
    fn walkthrough_sms_text() {
        let tr = t(
            &[("id", "$.detail.classificationDetails.jobId"), ("account", "$.account"), ("severity", "$.detail.severity.description"), ("file", "$.detail.resourcesAffected.s3Object.key")],
            "\"Sensitive data finding: job <id>, account <account>. Severity <severity> for file '<file>'.\"",
        );
        assert_eq!(
            tr.render(&event(), &ctx()).unwrap(),
            TargetInput::Text("Sensitive data finding: job abc, account 111222333444. Severity High for file 'patients.csv'.".into())
        );
    }

    #[test]
    fn json_templates_quote_by_position() {
        let tr = t(
            &[
                ("sev", "$.detail.severity"),
                ("score", "$.detail.severity.score"),
                ("key", "$.detail.resourcesAffected.s3Object.key"),
                ("r0", "$.resources[0]"),
                ("gone", "$.detail.nothing"),
            ],
            r#"{"severity": <sev>, "score": <score>, "text": "file <key> scored <score>", "arn": <r0>, "rule": "<aws.events.rule-name>", "missing": <gone>, "html": "<b>"}"#,
        );
        assert_eq!(
            tr.render(&event(), &ctx()).unwrap(),
            TargetInput::Json(
                json!({"severity": {"description": "High", "score": 3}, "score": 3, "text": "file patients.csv scored 3", "arn": "arn:aws:s3:::b/k", "rule": "r1", "missing": null, "html": "<b>"})
            )
        );
        let whole = t(&[], r#"{"e": <aws.events.event>}"#)
            .render(&event(), &ctx())
            .unwrap();
        let TargetInput::Json(v) = whole else {
            panic!()
        };
        assert!(v["e"].get("detail").is_none() && v["e"]["account"] == "111222333444");
    }

    #[test]
    fn bad_transformers_are_refused() {
        let map = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert!(InputTransformer::new(&map("aws.x", "$.a"), "x")
            .unwrap_err()
            .contains("aws."));
        assert!(InputTransformer::new(&map("a b", "$.a"), "x").is_err());
        assert!(InputTransformer::new(&map("a", "detail.a"), "x")
            .unwrap_err()
            .contains("must start with $"));
        assert!(InputTransformer::new(&BTreeMap::new(), "").is_err());
        let tr = t(&[("a", "$.account")], r#"{"a": <a>"#);
        assert!(tr
            .render(&event(), &ctx())
            .unwrap_err()
            .contains("valid JSON"));
    }

    #[test]
    fn json_paths() {
        let e = json!({"a": {"b-c": [1, {"d": 2}]}});
        assert_eq!(
            JsonPath::parse("$.a['b-c'][1].d").unwrap().get(&e),
            Some(&json!(2))
        );
        assert_eq!(JsonPath::parse("$").unwrap().get(&e), Some(&e));
        assert_eq!(JsonPath::parse("$.x.y").unwrap().get(&e), None);
        assert!(JsonPath::parse("$.a[x]").is_err());
    }
}
