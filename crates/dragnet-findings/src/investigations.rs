//! Saved investigations ("runbooks"): named, parameterised finding queries kept in the config
//! (`[[investigations]]`) and run from the API, the console and `dragnet findings query NAME`.
//!
//! An investigation is ListFindings criteria (or, with `group_by`, GetFindingStatistics), in
//! which `{param}` placeholders are filled from the caller's parameters or the defaults. A
//! parameter whose default is empty is required. A few built-in investigations are always
//! available; one in the config with the same name replaces the built-in.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::query::{ListRequest, SortCriteria, StatisticsRequest};
use crate::QueryError;

/// What an investigation looks through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Stored findings (Macie finding JSON).
    #[default]
    Findings,
    /// Quarantine deliveries that failed and were dead-lettered: records with `id` (the
    /// finding id), `time`, `rule`, `error`, `attempts`, `bucket`, `key`, `severity`.
    QuarantineFailures,
}

/// A saved investigation, as written in the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Investigation {
    /// Name, used in URLs and on the command line.
    pub name: String,
    /// What it answers, shown in the console and in listings.
    #[serde(default)]
    pub description: String,
    /// The `criterion` map of `findingCriteria`; strings may hold `{param}` placeholders.
    #[serde(default)]
    pub criteria: Value,
    /// Sort of a finding list.
    #[serde(default)]
    pub sort: Option<SortCriteria>,
    /// Counts by this field instead of a finding list (GetFindingStatistics' `groupBy`).
    #[serde(default)]
    pub group_by: Option<String>,
    /// Parameters and their defaults; an empty default makes the parameter required.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// What it looks through (default: findings).
    #[serde(default)]
    pub source: Source,
}

/// What running an investigation asks for.
#[derive(Debug, Clone)]
pub enum InvestigationKind {
    /// A finding list.
    List(ListRequest),
    /// Counts by group.
    Statistics(StatisticsRequest),
}

impl Investigation {
    /// Name, description, parameters, kind (`findings` or `statistics`) and source, for
    /// listings.
    pub fn summary(&self) -> Value {
        json!({
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
            "kind": if self.group_by.is_some() { "statistics" } else { "findings" },
            "source": match self.source {
                Source::Findings => "findings",
                Source::QuarantineFailures => "quarantine-failures",
            },
        })
    }

    /// The request this investigation makes with `params` filled in.
    pub fn instantiate(
        &self,
        params: &BTreeMap<String, String>,
    ) -> Result<InvestigationKind, QueryError> {
        for name in params.keys() {
            if !self.parameters.contains_key(name) {
                let known: Vec<&str> = self.parameters.keys().map(String::as_str).collect();
                return Err(QueryError::new(
                    format!("parameters.{name}"),
                    format!(
                        "investigation {:?} takes no such parameter (it takes: {})",
                        self.name,
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
        }
        let mut values = BTreeMap::new();
        for (name, default) in &self.parameters {
            let value = params.get(name).unwrap_or(default);
            if value.is_empty() {
                return Err(QueryError::new(
                    format!("parameters.{name}"),
                    format!("investigation {:?} needs a value for {name}", self.name),
                ));
            }
            values.insert(name.as_str(), value.as_str());
        }
        let criteria = json!({ "criterion": fill(&self.criteria, &values) });
        Ok(match &self.group_by {
            Some(group_by) => InvestigationKind::Statistics(StatisticsRequest {
                finding_criteria: criteria,
                group_by: group_by.clone(),
                size: None,
                sort_criteria: None,
            }),
            None => InvestigationKind::List(ListRequest {
                finding_criteria: criteria,
                sort_criteria: self.sort.clone(),
                max_results: None,
                next_token: None,
            }),
        })
    }
}

fn fill(value: &Value, params: &BTreeMap<&str, &str>) -> Value {
    match value {
        Value::String(s) => {
            let mut out = s.clone();
            for (name, v) in params {
                out = out.replace(&format!("{{{name}}}"), v);
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, params)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill(v, params)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The investigations every deployment has.
pub fn builtin() -> Vec<Investigation> {
    let parse =
        |v: Value| serde_json::from_value::<Investigation>(v).expect("built-in investigation");
    vec![
        parse(json!({
            "name": "high-last-24h",
            "description": "High-severity findings created in the last 24 hours, newest first",
            "criteria": {"severity.description": {"eq": ["High"]}, "createdAt": {"gte": "now-24h"}},
            "sort": {"attributeName": "createdAt", "orderBy": "DESC"}
        })),
        parse(json!({
            "name": "credentials-by-bucket",
            "description": "Objects with credentials, counted by bucket",
            "criteria": {"sensitiveData.category": {"eq": ["CREDENTIALS"]}},
            "group_by": "resourcesAffected.s3Bucket.name"
        })),
        parse(json!({
            "name": "findings-in-bucket",
            "description": "Findings in one bucket, most severe first",
            "criteria": {"resourcesAffected.s3Bucket.name": {"eq": ["{bucket}"]}},
            "sort": {"attributeName": "severity.score", "orderBy": "DESC"},
            "parameters": {"bucket": ""}
        })),
        parse(json!({
            "name": "quarantine-failed",
            "description": "Quarantines that failed (dead-lettered deliveries to the mover), newest first",
            "source": "quarantine-failures",
            "sort": {"attributeName": "time", "orderBy": "DESC"}
        })),
        parse(json!({
            "name": "findings-per-day",
            "description": "Findings per day over the last 30 days",
            "criteria": {"createdAt": {"gte": "now-30d"}},
            "group_by": "createdAt"
        })),
    ]
}

/// The built-in and configured investigations, configured ones replacing built-ins by name.
pub fn merged(configured: &[Investigation]) -> Vec<Investigation> {
    let mut all = builtin();
    for inv in configured {
        match all.iter_mut().find(|b| b.name == inv.name) {
            Some(existing) => *existing = inv.clone(),
            None => all.push(inv.clone()),
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{list_findings, statistics};
    use dragnet_model::Timestamp;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn findings() -> Vec<Value> {
        vec![
            json!({"id": "a", "createdAt": "2026-11-21T20:00:00.000Z", "severity": {"description": "High", "score": 3},
                   "resourcesAffected": {"s3Bucket": {"name": "lake"}},
                   "classificationDetails": {"result": {"sensitiveData": [{"category": "CREDENTIALS"}]}}}),
            json!({"id": "b", "createdAt": "2026-11-19T20:00:00.000Z", "severity": {"description": "High", "score": 3},
                   "resourcesAffected": {"s3Bucket": {"name": "raw"}},
                   "classificationDetails": {"result": {"sensitiveData": [{"category": "CREDENTIALS"}]}}}),
            json!({"id": "c", "createdAt": "2026-11-21T21:00:00.000Z", "severity": {"description": "Low", "score": 1},
                   "resourcesAffected": {"s3Bucket": {"name": "lake"}},
                   "classificationDetails": {"result": {"sensitiveData": [{"category": "PERSONAL_INFORMATION"}]}}}),
        ]
    }

    fn by_name(name: &str) -> Investigation {
        merged(&[]).into_iter().find(|i| i.name == name).unwrap()
    }

    fn now() -> Timestamp {
        Timestamp::parse("2026-11-22T08:00:00Z").unwrap()
    }

    #[test]
    fn builtins_answer_their_questions() {
        let InvestigationKind::List(req) =
            by_name("high-last-24h").instantiate(&params(&[])).unwrap()
        else {
            panic!("a list")
        };
        assert_eq!(
            list_findings(&findings(), &req, now()).unwrap().finding_ids,
            ["a"]
        );
        let InvestigationKind::Statistics(req) = by_name("credentials-by-bucket")
            .instantiate(&params(&[]))
            .unwrap()
        else {
            panic!("statistics")
        };
        assert_eq!(
            statistics(&findings(), &req, now()).unwrap()["countsByGroup"],
            json!([{"groupKey": "lake", "count": 1}, {"groupKey": "raw", "count": 1}])
        );
    }

    #[test]
    fn parameters_are_filled_and_checked() {
        let inv = by_name("findings-in-bucket");
        let InvestigationKind::List(req) = inv.instantiate(&params(&[("bucket", "lake")])).unwrap()
        else {
            panic!("a list")
        };
        assert_eq!(
            list_findings(&findings(), &req, now()).unwrap().finding_ids,
            ["a", "c"]
        );
        let missing = inv.instantiate(&params(&[])).unwrap_err();
        assert_eq!(missing.field, "parameters.bucket");
        let unknown = inv
            .instantiate(&params(&[("bucket", "x"), ("bukket", "y")]))
            .unwrap_err();
        assert!(unknown.message.contains("takes: bucket"), "{unknown}");
    }

    #[test]
    fn configured_investigations_replace_builtins_by_name() {
        let mine: Investigation = serde_json::from_value(json!({
            "name": "high-last-24h",
            "criteria": {"severity.description": {"eq": ["High", "Medium"]}}
        }))
        .unwrap();
        let all = merged(std::slice::from_ref(&mine));
        assert_eq!(all.iter().filter(|i| i.name == "high-last-24h").count(), 1);
        assert!(all.contains(&mine));
        assert!(
            serde_json::from_value::<Investigation>(json!({"name": "x", "criterea": {}})).is_err()
        );
    }
}
