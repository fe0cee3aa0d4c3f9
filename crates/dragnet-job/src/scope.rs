//! Object scoping and bucket criteria (macie.md §1.1): values OR-ed inside a term, terms
//! AND-ed inside a block, and excludes beat includes. Pure functions over listing facts.

use std::collections::BTreeMap;

use dragnet_model::jobspec::{
    CriteriaForJob, JobComparator, JobScopeTerm, S3BucketCriteriaForJob, ScopeFilterKey, Scoping,
    SimpleCriterionKeyForJob,
};
use dragnet_model::Timestamp;

/// What scoping looks at for one object.
#[derive(Debug, Clone, Copy)]
pub struct ObjectFacts<'a> {
    /// The key.
    pub key: &'a str,
    /// Extension without the dot (`""` if none).
    pub extension: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// Last-Modified.
    pub last_modified: Timestamp,
    /// Tags (only needed when a tag term is present).
    pub tags: &'a BTreeMap<String, String>,
}

/// Whether the scoping rules keep this object.
pub fn in_scope(scoping: Option<&Scoping>, facts: &ObjectFacts<'_>) -> bool {
    let Some(scoping) = scoping else { return true };
    let included = scoping
        .includes
        .as_ref()
        .is_none_or(|b| b.and.iter().all(|t| term_matches(t, facts)));
    let excluded = scoping
        .excludes
        .as_ref()
        .is_some_and(|b| !b.and.is_empty() && b.and.iter().all(|t| term_matches(t, facts)));
    included && !excluded
}

/// Whether any scope term looks at tags (so the planner must fetch them).
pub fn needs_tags(scoping: Option<&Scoping>) -> bool {
    scoping.is_some_and(|s| {
        [&s.includes, &s.excludes]
            .iter()
            .filter_map(|b| b.as_ref())
            .any(|b| b.and.iter().any(|t| t.tag_scope_term.is_some()))
    })
}

fn compare<T: PartialOrd>(cmp: JobComparator, actual: T, expected: T) -> bool {
    match cmp {
        JobComparator::Eq => actual == expected,
        JobComparator::Ne => actual != expected,
        JobComparator::Gt => actual > expected,
        JobComparator::Gte => actual >= expected,
        JobComparator::Lt => actual < expected,
        JobComparator::Lte => actual <= expected,
        JobComparator::Contains | JobComparator::StartsWith => false,
    }
}

fn term_matches(term: &JobScopeTerm, facts: &ObjectFacts<'_>) -> bool {
    if let Some(s) = &term.simple_scope_term {
        let any = |f: &dyn Fn(&str) -> bool| s.values.iter().any(|v| f(v));
        return match s.key {
            ScopeFilterKey::ObjectExtension => {
                let hit = any(&|v| v == facts.extension);
                if s.comparator == JobComparator::Ne {
                    !hit
                } else {
                    hit
                }
            }
            ScopeFilterKey::ObjectKey => any(&|v| facts.key.starts_with(v)),
            ScopeFilterKey::ObjectSize => s.values[0]
                .parse::<u64>()
                .is_ok_and(|v| compare(s.comparator, facts.size, v)),
            ScopeFilterKey::ObjectLastModifiedDate => {
                Timestamp::parse(&s.values[0]).is_ok_and(|v| {
                    // S3's Last-Modified has second precision; compare at that precision.
                    compare(
                        s.comparator,
                        facts.last_modified.millis() / 1000,
                        v.millis() / 1000,
                    )
                })
            }
        };
    }
    if let Some(t) = &term.tag_scope_term {
        let hit = t
            .tag_values
            .iter()
            .any(|pair| tag_pair_matches(facts.tags, &pair.key, &pair.value));
        return if t.comparator == JobComparator::Ne {
            !hit
        } else {
            hit
        };
    }
    false
}

fn tag_pair_matches(tags: &BTreeMap<String, String>, key: &str, value: &str) -> bool {
    tags.iter()
        .any(|(k, v)| (key.is_empty() || k == key) && (value.is_empty() || v == value))
}

/// Facts about a bucket for `bucketCriteria`.
#[derive(Debug, Clone, Copy)]
pub struct BucketFacts<'a> {
    /// Bucket name.
    pub name: &'a str,
    /// Owning account.
    pub account_id: &'a str,
    /// `PUBLIC`, `NOT_PUBLIC` or `UNKNOWN`.
    pub effective_permission: &'a str,
    /// `EXTERNAL`, `INTERNAL`, `NOT_SHARED` or `UNKNOWN`.
    pub shared_access: &'a str,
    /// Bucket tags.
    pub tags: &'a BTreeMap<String, String>,
}

/// Whether bucket criteria select this bucket.
pub fn bucket_selected(criteria: &S3BucketCriteriaForJob, facts: &BucketFacts<'_>) -> bool {
    let included = criteria
        .includes
        .as_ref()
        .is_none_or(|b| b.and.iter().all(|c| criterion_matches(c, facts)));
    let excluded = criteria
        .excludes
        .as_ref()
        .is_some_and(|b| !b.and.is_empty() && b.and.iter().all(|c| criterion_matches(c, facts)));
    included && !excluded
}

fn criterion_matches(c: &CriteriaForJob, facts: &BucketFacts<'_>) -> bool {
    if let Some(s) = &c.simple_criterion {
        let actual = match s.key {
            SimpleCriterionKeyForJob::AccountId => facts.account_id,
            SimpleCriterionKeyForJob::S3BucketName => facts.name,
            SimpleCriterionKeyForJob::S3BucketEffectivePermission => facts.effective_permission,
            SimpleCriterionKeyForJob::S3BucketSharedAccess => facts.shared_access,
        };
        let hit = s.values.iter().any(|v| v == actual);
        return if s.comparator == JobComparator::Ne {
            !hit
        } else {
            hit
        };
    }
    if let Some(t) = &c.tag_criterion {
        let hit = t
            .tag_values
            .iter()
            .any(|p| tag_pair_matches(facts.tags, &p.key, &p.value));
        return if t.comparator == JobComparator::Ne {
            !hit
        } else {
            hit
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_model::JobSpec;

    fn scoping(includes: &str, excludes: &str) -> Scoping {
        let text = format!(
            r#"{{"jobType":"ONE_TIME","s3JobDefinition":{{"bucketDefinitions":[{{"accountId":"111222333444","buckets":["b"]}}],"scoping":{{"includes":{{"and":[{includes}]}},"excludes":{{"and":[{excludes}]}}}}}}}}"#
        );
        JobSpec::from_json(&text)
            .unwrap()
            .s3_job_definition
            .scoping
            .unwrap()
    }

    fn simple(cmp: &str, key: &str, values: &[&str]) -> String {
        let vals: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        format!(
            r#"{{"simpleScopeTerm":{{"comparator":"{cmp}","key":"{key}","values":[{}]}}}}"#,
            vals.join(",")
        )
    }

    fn facts<'a>(
        key: &'a str,
        size: u64,
        modified: &str,
        tags: &'a BTreeMap<String, String>,
    ) -> ObjectFacts<'a> {
        ObjectFacts {
            key,
            extension: key
                .rsplit('.')
                .next()
                .filter(|_| key.contains('.'))
                .unwrap_or(""),
            size,
            last_modified: Timestamp::parse(modified).unwrap(),
            tags,
        }
    }

    fn keeps(includes: &str, excludes: &str, f: &ObjectFacts<'_>) -> bool {
        in_scope(Some(&scoping(includes, excludes)), f)
    }

    #[test]
    fn extension_eq_ne_or_values_case_sensitive() {
        let none = BTreeMap::new();
        let f = facts("dir/a.csv", 10, "2024-01-01T00:00:00Z", &none);
        assert!(keeps(&simple("EQ", "OBJECT_EXTENSION", &["csv"]), "", &f));
        assert!(keeps(
            &simple("EQ", "OBJECT_EXTENSION", &["tsv", "csv"]),
            "",
            &f
        ));
        assert!(!keeps(&simple("EQ", "OBJECT_EXTENSION", &["CSV"]), "", &f));
        assert!(!keeps(
            &simple("NE", "OBJECT_EXTENSION", &["csv", "tsv"]),
            "",
            &f
        ));
        assert!(keeps(&simple("NE", "OBJECT_EXTENSION", &["json"]), "", &f));
    }

    #[test]
    fn key_prefix_from_first_character() {
        let none = BTreeMap::new();
        let f = facts("AWSLogs/eventlogs/a.log", 10, "2024-01-01T00:00:00Z", &none);
        assert!(keeps(
            &simple(
                "STARTS_WITH",
                "OBJECT_KEY",
                &["other/", "AWSLogs/eventlogs"]
            ),
            "",
            &f
        ));
        assert!(!keeps(
            &simple("STARTS_WITH", "OBJECT_KEY", &["eventlogs"]),
            "",
            &f
        ));
        assert!(!keeps(
            &simple("STARTS_WITH", "OBJECT_KEY", &["awslogs/"]),
            "",
            &f
        ));
    }

    #[test]
    fn size_comparators() {
        let none = BTreeMap::new();
        let f = facts("a.csv", 100, "2024-01-01T00:00:00Z", &none);
        for (cmp, v, expected) in [
            ("EQ", "100", true),
            ("EQ", "99", false),
            ("NE", "99", true),
            ("GT", "99", true),
            ("GT", "100", false),
            ("GTE", "100", true),
            ("LT", "101", true),
            ("LT", "100", false),
            ("LTE", "100", true),
            ("LTE", "99", false),
        ] {
            assert_eq!(
                keeps(&simple(cmp, "OBJECT_SIZE", &[v]), "", &f),
                expected,
                "{cmp} {v}"
            );
        }
    }

    #[test]
    fn date_comparators() {
        let none = BTreeMap::new();
        let f = facts("a.csv", 1, "2023-09-24T14:31:13.400Z", &none);
        for (cmp, v, expected) in [
            ("EQ", "2023-09-24T14:31:13Z", true),
            ("NE", "2023-09-24T14:31:13Z", false),
            ("GT", "2023-09-24T00:00:00Z", true),
            ("GTE", "2023-09-24T14:31:13Z", true),
            ("LT", "2023-09-25T00:00:00Z", true),
            ("LTE", "2023-09-24T14:31:12Z", false),
        ] {
            assert_eq!(
                keeps(&simple(cmp, "OBJECT_LAST_MODIFIED_DATE", &[v]), "", &f),
                expected,
                "{cmp} {v}"
            );
        }
    }

    #[test]
    fn tags_and_excludes_beat_includes() {
        let tags = BTreeMap::from([("Classification".to_string(), "Restricted".to_string())]);
        let f = facts("a.csv", 1, "2024-01-01T00:00:00Z", &tags);
        let tag = |cmp: &str, k: &str, v: &str| {
            format!(
                r#"{{"tagScopeTerm":{{"comparator":"{cmp}","key":"TAG","tagValues":[{{"key":"{k}","value":"{v}"}}],"target":"S3_OBJECT"}}}}"#
            )
        };
        assert!(keeps(&tag("EQ", "Classification", "Restricted"), "", &f));
        assert!(
            keeps(&tag("EQ", "Classification", ""), "", &f),
            "key-only match"
        );
        assert!(!keeps(&tag("EQ", "Classification", "Public"), "", &f));
        assert!(keeps(&tag("NE", "Classification", "Public"), "", &f));
        let ext = simple("EQ", "OBJECT_EXTENSION", &["csv"]);
        assert!(
            !keeps(&ext, &tag("EQ", "Classification", "Restricted"), &f),
            "exclude wins"
        );
        assert!(
            keeps(
                &ext,
                &format!(
                    "{},{}",
                    tag("EQ", "Classification", "Restricted"),
                    simple("GT", "OBJECT_SIZE", &["5"])
                ),
                &f
            ),
            "exclude terms are AND-ed"
        );
        assert!(needs_tags(Some(&scoping(&ext, &tag("EQ", "a", "")))));
        assert!(!needs_tags(Some(&scoping(&ext, ""))));
    }
}
