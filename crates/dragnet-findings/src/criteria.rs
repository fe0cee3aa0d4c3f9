//! Macie's `findingCriteria`: conditions on finding fields, all of which must hold.
//!
//! Field names are the finding JSON's own dotted paths (`severity.description`,
//! `resourcesAffected.s3Bucket.name`, `classificationDetails.jobId`, `type`, `createdAt`, ...).
//! A path that crosses an array looks at every element, so
//! `classificationDetails.result.sensitiveData.detections.type` holds every detection type of
//! the finding. Macie's console abbreviations `sensitiveData.*` and `customDataIdentifiers.*`
//! are accepted for the same fields under `classificationDetails.result`.
//!
//! Operators, as Macie defines them: `eq` (any listed value is present), `neq` (none is),
//! `eqExactMatch` (every listed value is present), `gt`/`gte`/`lt`/`lte` (numbers, or times as
//! epoch milliseconds). Extensions, documented here because Macie has no equivalent:
//! `prefix` (any value starts with any listed prefix, for key prefixes), and times written as
//! ISO 8601 strings or relative to the query time (`now`, `now-24h`, `now-7d`, `now-30m`).

use dragnet_model::Timestamp;
use serde_json::Value;

use crate::QueryError;

/// One field's condition.
#[derive(Debug, Clone, PartialEq)]
struct Condition {
    field: String,
    path: Vec<String>,
    eq: Vec<String>,
    neq: Vec<String>,
    eq_exact: Vec<String>,
    prefix: Vec<String>,
    bounds: Vec<(Bound, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// Parsed `findingCriteria`: a finding matches when every condition holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindingCriteria {
    conditions: Vec<Condition>,
}

/// The finding path a criterion field names (expanding Macie's console abbreviations).
pub fn field_path(field: &str) -> Vec<String> {
    let full = if field.starts_with("sensitiveData.") || field.starts_with("customDataIdentifiers.")
    {
        format!("classificationDetails.result.{field}")
    } else {
        field.to_string()
    };
    full.split('.').map(str::to_string).collect()
}

/// Every value at `path` in `value`, looking into each element of the arrays on the way.
pub fn values_at<'v>(value: &'v Value, path: &[String]) -> Vec<&'v Value> {
    let mut current = vec![value];
    for step in path {
        let mut next = Vec::new();
        for v in current {
            collect_field(v, step, &mut next);
        }
        current = next;
    }
    // A path ending at an array means its elements.
    let mut out = Vec::new();
    for v in current {
        match v {
            Value::Array(items) => out.extend(items.iter()),
            Value::Null => {}
            other => out.push(other),
        }
    }
    out
}

fn collect_field<'v>(v: &'v Value, step: &str, out: &mut Vec<&'v Value>) {
    match v {
        Value::Object(map) => {
            if let Some(x) = map.get(step) {
                out.push(x);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_field(item, step, out);
            }
        }
        _ => {}
    }
}

/// A value as the text `eq` compares: strings as they are, numbers and booleans as JSON.
pub fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A value as the number range operators compare: numbers, or times in epoch milliseconds.
pub fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s
            .parse::<f64>()
            .ok()
            .or_else(|| Timestamp::parse(s).ok().map(|t| t.millis() as f64)),
        _ => None,
    }
}

/// A range operand: a number (epoch milliseconds for times), an ISO 8601 time, or a time
/// relative to `now` (`now`, `now-24h`, `now-7d`, `now-30m`, `now-45s`).
fn operand(v: &Value, now: Timestamp, field: &str) -> Result<f64, QueryError> {
    let bad = || {
        QueryError::new(
            field,
            "expected a number, epoch milliseconds, an ISO 8601 time, or now-<n>[smhd]",
        )
    };
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(bad),
        Value::String(s) => {
            let s = s.trim();
            if let Some(rest) = s.strip_prefix("now") {
                return relative(rest, now).ok_or_else(bad);
            }
            s.parse::<f64>()
                .ok()
                .or_else(|| Timestamp::parse(s).ok().map(|t| t.millis() as f64))
                .ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

fn relative(rest: &str, now: Timestamp) -> Option<f64> {
    let now = now.millis() as f64;
    if rest.is_empty() {
        return Some(now);
    }
    let (sign, rest) = match rest.as_bytes()[0] {
        b'-' => (-1.0, &rest[1..]),
        b'+' => (1.0, &rest[1..]),
        _ => return None,
    };
    let unit = rest.chars().last()?;
    let n: u32 = rest[..rest.len() - unit.len_utf8()].parse().ok()?;
    let ms = match unit {
        's' => 1_000.0,
        'm' => 60_000.0,
        'h' => 3_600_000.0,
        'd' => 86_400_000.0,
        _ => return None,
    };
    Some(now + sign * f64::from(n) * ms)
}

fn strings(v: &Value, field: &str) -> Result<Vec<String>, QueryError> {
    let items = v
        .as_array()
        .ok_or_else(|| QueryError::new(field, "expected a list of values"))?;
    items
        .iter()
        .map(|x| {
            as_text(x)
                .ok_or_else(|| QueryError::new(field, "expected strings, numbers or booleans"))
        })
        .collect()
}

impl FindingCriteria {
    /// Parses `findingCriteria` (`{"criterion": {...}}`, or the criterion map itself),
    /// resolving relative times against `now`.
    pub fn parse(value: &Value, now: Timestamp) -> Result<Self, QueryError> {
        let base = "findingCriteria.criterion";
        let map = match value {
            Value::Null => return Ok(FindingCriteria::default()),
            Value::Object(o) => match o.get("criterion") {
                Some(Value::Object(c)) => c,
                Some(Value::Null) => return Ok(FindingCriteria::default()),
                Some(_) => return Err(QueryError::new(base, "expected an object")),
                None if o.is_empty() => return Ok(FindingCriteria::default()),
                None => o,
            },
            _ => return Err(QueryError::new("findingCriteria", "expected an object")),
        };
        let mut conditions = Vec::new();
        for (field, ops) in map {
            let at = format!("{base}.{field}");
            let ops = ops.as_object().ok_or_else(|| {
                QueryError::new(&at, "expected an object of operators (eq, neq, gt, ...)")
            })?;
            if ops.is_empty() {
                return Err(QueryError::new(
                    &at,
                    "names no operator; use eq, neq, eqExactMatch, gt, gte, lt, lte or prefix",
                ));
            }
            let mut c = Condition {
                field: field.clone(),
                path: field_path(field),
                eq: Vec::new(),
                neq: Vec::new(),
                eq_exact: Vec::new(),
                prefix: Vec::new(),
                bounds: Vec::new(),
            };
            for (op, v) in ops {
                let at = format!("{at}.{op}");
                match op.as_str() {
                    "eq" => c.eq = strings(v, &at)?,
                    "neq" => c.neq = strings(v, &at)?,
                    "eqExactMatch" => c.eq_exact = strings(v, &at)?,
                    "prefix" => c.prefix = strings(v, &at)?,
                    "gt" => c.bounds.push((Bound::Gt, operand(v, now, &at)?)),
                    "gte" => c.bounds.push((Bound::Gte, operand(v, now, &at)?)),
                    "lt" => c.bounds.push((Bound::Lt, operand(v, now, &at)?)),
                    "lte" => c.bounds.push((Bound::Lte, operand(v, now, &at)?)),
                    _ => return Err(QueryError::new(
                        &at,
                        "unknown operator; use eq, neq, eqExactMatch, gt, gte, lt, lte or prefix",
                    )),
                }
            }
            conditions.push(c);
        }
        Ok(FindingCriteria { conditions })
    }

    /// Whether `finding` meets every condition.
    pub fn matches(&self, finding: &Value) -> bool {
        self.conditions.iter().all(|c| c.matches(finding))
    }

    /// The fields the criteria look at, for messages and logs.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.conditions.iter().map(|c| c.field.as_str())
    }
}

impl Condition {
    fn matches(&self, finding: &Value) -> bool {
        let values = values_at(finding, &self.path);
        let texts: Vec<String> = values.iter().filter_map(|v| as_text(v)).collect();
        if !self.eq.is_empty() && !self.eq.iter().any(|e| texts.contains(e)) {
            return false;
        }
        if self.neq.iter().any(|e| texts.contains(e)) {
            return false;
        }
        if !self.eq_exact.iter().all(|e| texts.contains(e)) {
            return false;
        }
        if !self.prefix.is_empty()
            && !texts
                .iter()
                .any(|t| self.prefix.iter().any(|p| t.starts_with(p.as_str())))
        {
            return false;
        }
        if !self.bounds.is_empty() {
            let numbers: Vec<f64> = values.iter().filter_map(|v| as_number(v)).collect();
            let within = |x: f64| {
                self.bounds.iter().all(|&(b, limit)| match b {
                    Bound::Gt => x > limit,
                    Bound::Gte => x >= limit,
                    Bound::Lt => x < limit,
                    Bound::Lte => x <= limit,
                })
            };
            if !numbers.into_iter().any(within) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding() -> Value {
        json!({
            "id": "f1",
            "type": "SensitiveData:S3Object/Multiple",
            "createdAt": "2026-11-20T10:00:00.000Z",
            "severity": {"description": "High", "score": 3},
            "resourcesAffected": {
                "s3Bucket": {"name": "lake"},
                "s3Object": {"key": "exports/2026/patients.csv", "size": 1200}
            },
            "classificationDetails": {
                "jobId": "j1",
                "result": {
                    "sensitiveData": [
                        {"category": "PERSONAL_INFORMATION", "detections": [{"type": "USA_SOCIAL_SECURITY_NUMBER", "count": 3}, {"type": "NAME", "count": 9}]},
                        {"category": "FINANCIAL_INFORMATION", "detections": [{"type": "CREDIT_CARD_NUMBER", "count": 1}]}
                    ],
                    "customDataIdentifiers": {"detections": [{"name": "Employee id", "count": 2}], "totalCount": 2}
                }
            }
        })
    }

    fn now() -> Timestamp {
        Timestamp::parse("2026-11-21T09:00:00Z").unwrap()
    }

    fn check(criteria: Value) -> bool {
        FindingCriteria::parse(&json!({ "criterion": criteria }), now())
            .unwrap()
            .matches(&finding())
    }

    #[test]
    fn eq_matches_any_listed_value_and_neq_none() {
        assert!(check(
            json!({"severity.description": {"eq": ["Medium", "High"]}})
        ));
        assert!(!check(json!({"severity.description": {"eq": ["Low"]}})));
        assert!(check(json!({"severity.description": {"neq": ["Low"]}})));
        assert!(!check(json!({"severity.description": {"neq": ["High"]}})));
    }

    #[test]
    fn paths_through_arrays_see_every_detection() {
        let field = "classificationDetails.result.sensitiveData.detections.type";
        assert!(check(json!({field: {"eq": ["CREDIT_CARD_NUMBER"]}})));
        assert!(check(
            json!({"sensitiveData.detections.type": {"eqExactMatch": ["NAME", "USA_SOCIAL_SECURITY_NUMBER"]}})
        ));
        assert!(!check(
            json!({"sensitiveData.detections.type": {"eqExactMatch": ["NAME", "USA_PASSPORT_NUMBER"]}})
        ));
        assert!(check(
            json!({"customDataIdentifiers.detections.name": {"eq": ["Employee id"]}})
        ));
    }

    #[test]
    fn range_operators_compare_numbers_and_times() {
        assert!(check(json!({"severity.score": {"gte": 3}})));
        assert!(!check(json!({"severity.score": {"gt": 3}})));
        assert!(check(
            json!({"resourcesAffected.s3Object.size": {"gt": 1000, "lt": 2000}})
        ));
        assert!(!check(
            json!({"resourcesAffected.s3Object.size": {"gt": 1000, "lt": 1100}})
        ));
        let created = Timestamp::parse("2026-11-20T10:00:00Z").unwrap().millis();
        assert!(check(json!({"createdAt": {"gte": created}})));
        assert!(!check(json!({"createdAt": {"gt": created}})));
        assert!(check(json!({"createdAt": {"gte": "2026-11-20"}})));
        assert!(check(json!({"createdAt": {"gte": "now-24h"}})));
        assert!(!check(json!({"createdAt": {"gte": "now-12h"}})));
        assert!(check(json!({"createdAt": {"lt": "now"}})));
    }

    #[test]
    fn prefix_matches_key_prefixes() {
        assert!(check(
            json!({"resourcesAffected.s3Object.key": {"prefix": ["exports/"]}})
        ));
        assert!(!check(
            json!({"resourcesAffected.s3Object.key": {"prefix": ["raw/"]}})
        ));
    }

    #[test]
    fn all_conditions_must_hold() {
        assert!(check(
            json!({"type": {"eq": ["SensitiveData:S3Object/Multiple"]}, "resourcesAffected.s3Bucket.name": {"eq": ["lake"]}})
        ));
        assert!(!check(
            json!({"type": {"eq": ["SensitiveData:S3Object/Multiple"]}, "resourcesAffected.s3Bucket.name": {"eq": ["other"]}})
        ));
        // A field the finding does not have satisfies no eq.
        assert!(!check(json!({"archivedBy": {"eq": ["x"]}})));
    }

    #[test]
    fn empty_criteria_match_everything() {
        for c in [json!(null), json!({}), json!({"criterion": {}})] {
            assert!(FindingCriteria::parse(&c, now())
                .unwrap()
                .matches(&finding()));
        }
    }

    #[test]
    fn bad_criteria_name_the_field() {
        let err = |c: Value| FindingCriteria::parse(&json!({ "criterion": c }), now()).unwrap_err();
        assert_eq!(
            err(json!({"type": {"like": ["x"]}})).field,
            "findingCriteria.criterion.type.like"
        );
        assert_eq!(
            err(json!({"type": {"eq": "x"}})).field,
            "findingCriteria.criterion.type.eq"
        );
        assert!(err(json!({"createdAt": {"gt": "yesterday"}}))
            .message
            .contains("now-<n>"));
        assert!(err(json!({"type": {}})).message.contains("no operator"));
        assert!(err(json!({"type": ["x"]})).message.contains("operators"));
    }
}
