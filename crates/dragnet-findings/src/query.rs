//! ListFindings, GetFindings and GetFindingStatistics over a set of findings.
//!
//! Choices where Macie's documentation is silent, written down here:
//! * ListFindings without `sortCriteria` returns the newest findings first (`createdAt`
//!   descending); ties are broken by finding id so pages never overlap.
//! * Any finding field may be a sort attribute (Macie lists eight); values compare as numbers
//!   when both are numbers or times, as text otherwise, and findings without the field sort last.
//! * `nextToken` is opaque: it encodes the offset and a fingerprint of the criteria and sort,
//!   and a token presented with a different query is refused rather than silently misapplied.
//! * GetFindingStatistics also groups by `createdAt` (one group per UTC day, `YYYY-MM-DD`),
//!   for findings over time.

use std::cmp::Ordering;

use dragnet_model::ids::stable_hex_id;
use dragnet_model::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::criteria::{as_number, as_text, field_path, values_at, FindingCriteria};
use crate::QueryError;

/// Macie's `maxResults` default and ceiling for ListFindings.
pub const MAX_RESULTS: usize = 50;
/// Macie's ceiling on `findingIds` in one GetFindings request.
pub const MAX_DESCRIBE: usize = 50;

/// `sortCriteria`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SortCriteria {
    /// The finding field to sort by.
    pub attribute_name: String,
    /// `ASC` or `DESC` (default `ASC`, as Macie).
    #[serde(default)]
    pub order_by: Option<String>,
}

impl SortCriteria {
    fn descending(&self) -> Result<bool, QueryError> {
        match self.order_by.as_deref() {
            None | Some("ASC") => Ok(false),
            Some("DESC") => Ok(true),
            Some(_) => Err(QueryError::new(
                "sortCriteria.orderBy",
                "expected ASC or DESC",
            )),
        }
    }
}

/// A ListFindings request body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListRequest {
    /// `findingCriteria`.
    #[serde(default)]
    pub finding_criteria: Value,
    /// `sortCriteria`.
    #[serde(default)]
    pub sort_criteria: Option<SortCriteria>,
    /// Page size, 1–50 (default 50).
    #[serde(default)]
    pub max_results: Option<usize>,
    /// The previous page's `nextToken`.
    #[serde(default)]
    pub next_token: Option<String>,
}

/// One page of ListFindings: the ids, the token of the next page, and the findings themselves
/// (the API answers ids as Macie does; the console and the CLI show the findings).
#[derive(Debug, Clone, PartialEq)]
pub struct FindingPage {
    /// Finding ids of this page, in order.
    pub finding_ids: Vec<String>,
    /// Token of the next page, when there is one.
    pub next_token: Option<String>,
    /// The findings of this page, in order.
    pub findings: Vec<Value>,
    /// Findings matching the criteria, over all pages.
    pub total: usize,
}

impl FindingPage {
    /// The page in ListFindings' response shape (`findingIds`, `nextToken`).
    pub fn to_response(&self) -> Value {
        json!({"findingIds": self.finding_ids, "nextToken": self.next_token})
    }
}

fn sort_key<'v>(finding: &'v Value, path: &[String]) -> Option<&'v Value> {
    values_at(finding, path).into_iter().next()
}

fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => match (as_number(a), as_number(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => as_text(a).cmp(&as_text(b)),
        },
    }
}

fn id_of(finding: &Value) -> &str {
    finding.get("id").and_then(Value::as_str).unwrap_or("")
}

/// Sorts `findings` by `sort` (default: newest first), ties by id.
fn sort_findings(findings: &mut [&Value], sort: Option<&SortCriteria>) -> Result<(), QueryError> {
    let (path, descending) = match sort {
        Some(s) => {
            if s.attribute_name.trim().is_empty() {
                return Err(QueryError::new(
                    "sortCriteria.attributeName",
                    "names no field; e.g. createdAt, severity.score, type",
                ));
            }
            (field_path(&s.attribute_name), s.descending()?)
        }
        None => (vec!["createdAt".to_string()], true),
    };
    findings.sort_by(|a, b| {
        let primary = compare_values(sort_key(a, &path), sort_key(b, &path));
        let primary = if descending {
            // Missing values still sort last.
            match (sort_key(a, &path).is_some(), sort_key(b, &path).is_some()) {
                (true, true) => primary.reverse(),
                _ => primary,
            }
        } else {
            primary
        };
        primary.then_with(|| id_of(a).cmp(id_of(b)))
    });
    Ok(())
}

fn query_fingerprint(req: &ListRequest) -> String {
    let sort = serde_json::to_string(&req.sort_criteria).unwrap_or_default();
    stable_hex_id(&[&req.finding_criteria.to_string(), &sort])[..12].to_string()
}

fn decode_token(token: &str, fingerprint: &str) -> Result<usize, QueryError> {
    let refused = || {
        QueryError::new(
            "nextToken",
            "not a token this query returned; repeat the query without nextToken",
        )
    };
    let (offset, print) = token.split_once('.').ok_or_else(refused)?;
    if print != fingerprint {
        return Err(refused());
    }
    offset.parse().map_err(|_| refused())
}

/// ListFindings: the findings meeting the request's criteria, sorted, one page at a time.
pub fn list_findings(
    findings: &[Value],
    req: &ListRequest,
    now: Timestamp,
) -> Result<FindingPage, QueryError> {
    let criteria = FindingCriteria::parse(&req.finding_criteria, now)?;
    let size = match req.max_results {
        None | Some(0) => MAX_RESULTS,
        Some(n) if n <= MAX_RESULTS => n,
        Some(_) => {
            return Err(QueryError::new(
                "maxResults",
                format!("at most {MAX_RESULTS}"),
            ))
        }
    };
    let fingerprint = query_fingerprint(req);
    let offset = match &req.next_token {
        Some(t) if !t.is_empty() => decode_token(t, &fingerprint)?,
        _ => 0,
    };
    let selected = select(findings, &criteria, req.sort_criteria.as_ref())?;
    let total = selected.len();
    let page: Vec<&Value> = selected.into_iter().skip(offset).take(size).collect();
    let end = offset + page.len();
    Ok(FindingPage {
        finding_ids: page.iter().map(|f| id_of(f).to_string()).collect(),
        next_token: (end < total).then(|| format!("{end}.{fingerprint}")),
        findings: page.into_iter().cloned().collect(),
        total,
    })
}

fn select<'f>(
    findings: &'f [Value],
    criteria: &FindingCriteria,
    sort: Option<&SortCriteria>,
) -> Result<Vec<&'f Value>, QueryError> {
    let mut selected: Vec<&Value> = findings.iter().filter(|f| criteria.matches(f)).collect();
    sort_findings(&mut selected, sort)?;
    Ok(selected)
}

/// Every finding meeting the request's criteria, sorted, without paging (`maxResults` and
/// `nextToken` are ignored): for the command line and exports.
pub fn list_all(
    findings: &[Value],
    req: &ListRequest,
    now: Timestamp,
) -> Result<Vec<Value>, QueryError> {
    let criteria = FindingCriteria::parse(&req.finding_criteria, now)?;
    Ok(select(findings, &criteria, req.sort_criteria.as_ref())?
        .into_iter()
        .cloned()
        .collect())
}

/// GetFindings: the findings with `ids` (at most 50), in the order of `sort` or of `ids`.
/// Unknown ids are left out, as Macie does.
pub fn get_findings(
    findings: &[Value],
    ids: &[String],
    sort: Option<&SortCriteria>,
) -> Result<Vec<Value>, QueryError> {
    if ids.is_empty() || ids.len() > MAX_DESCRIBE {
        return Err(QueryError::new(
            "findingIds",
            format!("give 1 to {MAX_DESCRIBE} finding ids"),
        ));
    }
    let mut found: Vec<&Value> = ids
        .iter()
        .filter_map(|id| findings.iter().find(|f| id_of(f) == id))
        .collect();
    if sort.is_some() {
        sort_findings(&mut found, sort)?;
    }
    Ok(found.into_iter().cloned().collect())
}

/// A GetFindingStatistics request body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatisticsRequest {
    /// `findingCriteria`.
    #[serde(default)]
    pub finding_criteria: Value,
    /// `classificationDetails.jobId`, `resourcesAffected.s3Bucket.name`, `severity.description`,
    /// `type` (Macie's four), or `createdAt` (per UTC day; dragnet's extension).
    pub group_by: String,
    /// Largest number of groups to return (default all).
    #[serde(default)]
    pub size: Option<usize>,
    /// `{attributeName: groupKey|count, orderBy}` (default: count, descending).
    #[serde(default)]
    pub sort_criteria: Option<SortCriteria>,
}

const GROUP_BY: [&str; 5] = [
    "classificationDetails.jobId",
    "resourcesAffected.s3Bucket.name",
    "severity.description",
    "type",
    "createdAt",
];

/// GetFindingStatistics: counts of the findings meeting the criteria, by group
/// (`{"countsByGroup": [{"groupKey", "count"}]}`).
pub fn statistics(
    findings: &[Value],
    req: &StatisticsRequest,
    now: Timestamp,
) -> Result<Value, QueryError> {
    if !GROUP_BY.contains(&req.group_by.as_str()) {
        return Err(QueryError::new(
            "groupBy",
            format!("expected one of {}", GROUP_BY.join(", ")),
        ));
    }
    let criteria = FindingCriteria::parse(&req.finding_criteria, now)?;
    let path = field_path(&req.group_by);
    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
    for f in findings.iter().filter(|f| criteria.matches(f)) {
        let Some(v) = values_at(f, &path).into_iter().next() else {
            continue;
        };
        let key = match (req.group_by.as_str(), as_text(v)) {
            ("createdAt", Some(t)) => match Timestamp::parse(&t) {
                Ok(ts) => {
                    let (y, m, d) = ts.date();
                    format!("{y:04}-{m:02}-{d:02}")
                }
                Err(_) => continue,
            },
            (_, Some(t)) => t,
            (_, None) => continue,
        };
        *counts.entry(key).or_default() += 1;
    }
    let mut groups: Vec<(String, u64)> = counts.into_iter().collect();
    let (by_key, descending) = match &req.sort_criteria {
        None => (false, true),
        Some(s) => {
            let by_key = match s.attribute_name.as_str() {
                "groupKey" => true,
                "count" => false,
                _ => {
                    return Err(QueryError::new(
                        "sortCriteria.attributeName",
                        "expected groupKey or count",
                    ))
                }
            };
            (by_key, s.descending()?)
        }
    };
    groups.sort_by(|a, b| {
        let o = if by_key {
            a.0.cmp(&b.0)
        } else {
            a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0))
        };
        if descending {
            o.reverse()
        } else {
            o
        }
    });
    if let Some(n) = req.size.filter(|&n| n > 0) {
        groups.truncate(n);
    }
    Ok(json!({
        "countsByGroup": groups
            .into_iter()
            .map(|(k, c)| json!({"groupKey": k, "count": c}))
            .collect::<Vec<_>>()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: &str, severity: &str, score: u8, bucket: &str, created: &str) -> Value {
        json!({
            "id": id,
            "type": if score == 3 { "SensitiveData:S3Object/Credentials" } else { "SensitiveData:S3Object/Personal" },
            "createdAt": created,
            "severity": {"description": severity, "score": score},
            "resourcesAffected": {"s3Bucket": {"name": bucket}, "s3Object": {"key": format!("{id}.csv")}},
            "classificationDetails": {"jobId": "j1"}
        })
    }

    fn sample() -> Vec<Value> {
        vec![
            finding("a", "Low", 1, "lake", "2026-11-20T10:00:00.000Z"),
            finding("b", "High", 3, "lake", "2026-11-21T10:00:00.000Z"),
            finding("c", "Medium", 2, "raw", "2026-11-19T10:00:00.000Z"),
            finding("d", "High", 3, "raw", "2026-11-21T10:00:00.000Z"),
            finding("e", "Low", 1, "raw", "2026-11-18T10:00:00.000Z"),
        ]
    }

    fn now() -> Timestamp {
        Timestamp::parse("2026-11-22T00:00:00Z").unwrap()
    }

    fn request(body: Value) -> ListRequest {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn default_order_is_newest_first_with_ties_by_id() {
        let page = list_findings(&sample(), &ListRequest::default(), now()).unwrap();
        assert_eq!(page.finding_ids, ["b", "d", "a", "c", "e"]);
        assert_eq!(page.next_token, None);
        assert_eq!(page.total, 5);
    }

    #[test]
    fn pages_cover_every_finding_once() {
        let all = sample();
        let mut req = request(
            json!({"maxResults": 2, "sortCriteria": {"attributeName": "severity.score", "orderBy": "DESC"}}),
        );
        let mut seen = Vec::new();
        loop {
            let page = list_findings(&all, &req, now()).unwrap();
            assert!(page.finding_ids.len() <= 2);
            seen.extend(page.finding_ids.clone());
            match page.next_token {
                Some(t) => req.next_token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen, ["b", "d", "c", "a", "e"]);
    }

    #[test]
    fn criteria_filter_before_paging() {
        let req = request(
            json!({"findingCriteria": {"criterion": {"resourcesAffected.s3Bucket.name": {"eq": ["raw"]}, "createdAt": {"gte": "now-3d"}}}}),
        );
        let page = list_findings(&sample(), &req, now()).unwrap();
        assert_eq!(page.finding_ids, ["d", "c"]);
    }

    #[test]
    fn a_token_from_another_query_is_refused() {
        let first = list_findings(&sample(), &request(json!({"maxResults": 1})), now()).unwrap();
        let token = first.next_token.unwrap();
        let other = request(
            json!({"maxResults": 1, "nextToken": token, "findingCriteria": {"criterion": {"type": {"neq": ["x"]}}}}),
        );
        assert_eq!(
            list_findings(&sample(), &other, now()).unwrap_err().field,
            "nextToken"
        );
        let forged = request(json!({"nextToken": "garbage"}));
        assert!(list_findings(&sample(), &forged, now()).is_err());
    }

    #[test]
    fn bad_requests_name_the_field() {
        let err = |b: Value| {
            list_findings(&sample(), &request(b), now())
                .unwrap_err()
                .field
        };
        assert_eq!(err(json!({"maxResults": 51})), "maxResults");
        assert_eq!(
            err(json!({"sortCriteria": {"attributeName": "type", "orderBy": "UP"}})),
            "sortCriteria.orderBy"
        );
        assert!(serde_json::from_value::<ListRequest>(json!({"maxResult": 5})).is_err());
    }

    #[test]
    fn get_findings_keeps_the_requested_order_and_drops_unknown_ids() {
        let ids = ["d".to_string(), "zz".to_string(), "a".to_string()];
        let got = get_findings(&sample(), &ids, None).unwrap();
        let got: Vec<&str> = got.iter().map(id_of).collect();
        assert_eq!(got, ["d", "a"]);
        assert!(get_findings(&sample(), &[], None).is_err());
        let many: Vec<String> = (0..51).map(|i| i.to_string()).collect();
        assert_eq!(
            get_findings(&sample(), &many, None).unwrap_err().field,
            "findingIds"
        );
    }

    #[test]
    fn statistics_count_by_group() {
        let stats =
            |b: Value| statistics(&sample(), &serde_json::from_value(b).unwrap(), now()).unwrap();
        assert_eq!(
            stats(json!({"groupBy": "resourcesAffected.s3Bucket.name"})),
            json!({"countsByGroup": [{"groupKey": "raw", "count": 3}, {"groupKey": "lake", "count": 2}]})
        );
        assert_eq!(
            stats(
                json!({"groupBy": "severity.description", "findingCriteria": {"criterion": {"resourcesAffected.s3Bucket.name": {"eq": ["raw"]}}}, "sortCriteria": {"attributeName": "groupKey"}})
            ),
            json!({"countsByGroup": [{"groupKey": "High", "count": 1}, {"groupKey": "Low", "count": 1}, {"groupKey": "Medium", "count": 1}]})
        );
        assert_eq!(
            stats(json!({"groupBy": "createdAt", "size": 1})),
            json!({"countsByGroup": [{"groupKey": "2026-11-21", "count": 2}]})
        );
        let bad: StatisticsRequest =
            serde_json::from_value(json!({"groupBy": "resourcesAffected.s3Object.key"})).unwrap();
        assert_eq!(
            statistics(&sample(), &bad, now()).unwrap_err().field,
            "groupBy"
        );
    }
}
