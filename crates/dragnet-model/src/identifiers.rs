//! Custom data identifier and allow list files (decisions.md §4, §5): JSON arrays of objects
//! shaped like Macie's `CreateCustomDataIdentifier` and `CreateAllowList` requests, plus `id`.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::{from_json_str, JsonPath, SpecError};
use crate::finding::SeverityLevel;

/// A custom data identifier as a user keeps it in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomDataIdentifier {
    /// The id a job spec's `customDataIdentifierIds` refers to (Macie uses UUIDs).
    pub id: String,
    /// Display name (≤128 chars); findings carry it in `customDataIdentifiers.detections[].name`.
    pub name: String,
    /// The pattern (≤512 chars, Macie's PCRE subset).
    pub regex: String,
    /// Free text (≤512 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Up to 50 keywords of 3–90 chars, case-insensitive; one must precede a match.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Up to 10 words of 4–90 chars, case-sensitive; a match containing one is dropped.
    #[serde(default)]
    pub ignore_words: Vec<String>,
    /// Characters from the end of a keyword to the end of a match (1–300, default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_match_distance: Option<i64>,
    /// Occurrence thresholds per severity; absent means Medium for any match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_levels: Option<Vec<SeverityThreshold>>,
    /// Accepted for compatibility with `CreateCustomDataIdentifier`; unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// Accepted for compatibility with `CreateCustomDataIdentifier`; unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// One `severityLevels` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeverityThreshold {
    /// Minimum number of occurrences for this severity.
    pub occurrences_threshold: i64,
    /// `LOW`, `MEDIUM` or `HIGH`.
    pub severity: SeverityLevel,
}

/// Macie's default `maximumMatchDistance`.
pub const DEFAULT_MAX_MATCH_DISTANCE: usize = 50;

impl CustomDataIdentifier {
    /// The distance in force (default 50).
    pub fn max_match_distance(&self) -> usize {
        self.maximum_match_distance
            .map_or(DEFAULT_MAX_MATCH_DISTANCE, |d| d as usize)
    }

    /// Checks Macie's limits (macie.md §3.1); the regex itself is checked by the engine.
    pub fn validate(&self, path: &JsonPath) -> Result<(), SpecError> {
        let len = |p: JsonPath, s: &str, min: usize, max: usize| {
            let n = s.chars().count();
            if n < min || n > max {
                Err(p.error(format!(
                    "length {n} is out of range (allowed: {min} to {max} characters)"
                )))
            } else {
                Ok(())
            }
        };
        len(path.field("id"), &self.id, 1, 128)?;
        len(path.field("name"), &self.name, 1, 128)?;
        len(path.field("regex"), &self.regex, 1, 512)?;
        if let Some(d) = &self.description {
            len(path.field("description"), d, 0, 512)?;
        }
        if self.keywords.len() > 50 {
            return Err(path
                .field("keywords")
                .error("at most 50 keywords are allowed"));
        }
        for (i, k) in self.keywords.iter().enumerate() {
            len(path.field("keywords").index(i), k, 3, 90)?;
        }
        if self.ignore_words.len() > 10 {
            return Err(path
                .field("ignoreWords")
                .error("at most 10 ignore words are allowed"));
        }
        for (i, w) in self.ignore_words.iter().enumerate() {
            len(path.field("ignoreWords").index(i), w, 4, 90)?;
        }
        if let Some(d) = self.maximum_match_distance {
            if !(1..=300).contains(&d) {
                return Err(path
                    .field("maximumMatchDistance")
                    .error(format!("{d} is out of range (allowed: 1 to 300)")));
            }
        }
        if let Some(levels) = &self.severity_levels {
            let p = path.field("severityLevels");
            if levels.is_empty() || levels.len() > 3 {
                return Err(p.error("give 1 to 3 levels, at most one per severity"));
            }
            let mut seen = HashSet::new();
            for (i, l) in levels.iter().enumerate() {
                if !seen.insert(l.severity) {
                    return Err(p.index(i).field("severity").error(format!(
                        "{} appears twice; give at most one threshold per severity",
                        l.severity.as_upper()
                    )));
                }
                if l.occurrences_threshold < 1 {
                    return Err(p
                        .index(i)
                        .field("occurrencesThreshold")
                        .error("must be at least 1"));
                }
            }
            let mut sorted = levels.clone();
            sorted.sort_by_key(|l| l.severity);
            if sorted
                .windows(2)
                .any(|w| w[0].occurrences_threshold >= w[1].occurrences_threshold)
            {
                return Err(
                    p.error("occurrence thresholds must increase from LOW to MEDIUM to HIGH")
                );
            }
        }
        Ok(())
    }
}

/// Parses a custom identifier file (a JSON array, or a single object).
pub fn parse_custom_identifiers(text: &str) -> Result<Vec<CustomDataIdentifier>, SpecError> {
    let list: Vec<CustomDataIdentifier> = one_or_many(text)?;
    let mut ids = HashSet::new();
    for (i, cdi) in list.iter().enumerate() {
        let p = JsonPath::root().index(i);
        cdi.validate(&p)?;
        if !ids.insert(cdi.id.as_str()) {
            return Err(p.field("id").error(format!("duplicate id {:?}", cdi.id)));
        }
    }
    Ok(list)
}

/// An allow list: text it matches is never reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowList {
    /// The id a job spec's `allowListIds` refers to.
    pub id: String,
    /// Display name (1–128 chars).
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What the list allows.
    pub criteria: AllowListCriteria,
    /// Accepted for compatibility with `CreateAllowList`; unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// Accepted for compatibility with `CreateAllowList`; unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// Exactly one of a regex, an S3 word list, or (locally) a words file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowListCriteria {
    /// Matched text that this regex matches in full is ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// A text object in a bucket, one literal per line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_words_list: Option<S3WordsList>,
    /// A local text file, one literal per line (relative to the allow list file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words_file: Option<String>,
}

/// Where an S3 word list lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3WordsList {
    /// Bucket name.
    pub bucket_name: String,
    /// Object key.
    pub object_key: String,
}

/// Parses an allow list file (a JSON array, or a single object).
pub fn parse_allow_lists(text: &str) -> Result<Vec<AllowList>, SpecError> {
    let list: Vec<AllowList> = one_or_many(text)?;
    let mut ids = HashSet::new();
    for (i, al) in list.iter().enumerate() {
        let p = JsonPath::root().index(i);
        let c = &al.criteria;
        let set = [
            c.regex.is_some(),
            c.s3_words_list.is_some(),
            c.words_file.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if set != 1 {
            return Err(p
                .field("criteria")
                .error("exactly one of regex, s3WordsList or wordsFile is required"));
        }
        if let Some(r) = &c.regex {
            let n = r.chars().count();
            if !(1..=512).contains(&n) {
                return Err(p.field("criteria").field("regex").error(format!(
                    "length {n} is out of range (allowed: 1 to 512 characters)"
                )));
            }
        }
        if !ids.insert(al.id.as_str()) {
            return Err(p.field("id").error(format!("duplicate id {:?}", al.id)));
        }
    }
    Ok(list)
}

/// A JSON array of `T`, or a single `T` object, with error paths kept either way.
fn one_or_many<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, SpecError> {
    if text.trim_start().starts_with('[') {
        from_json_str(text)
    } else {
        from_json_str(text).map(|one| vec![one])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_walkthrough_identifiers() {
        let text = r#"[{"id":"patient-id","name":"Patient ID","regex":"[a-z,0-9]{8}-[a-z,0-9]{4}-[a-z,0-9]{4}-[a-z,0-9]{4}-[a-z,0-9]{12}","keywords":["PATIENT"]}]"#;
        let ids = parse_custom_identifiers(text).unwrap();
        assert_eq!(ids[0].max_match_distance(), 50);
    }

    #[test]
    fn limits_are_enforced_with_paths() {
        let e =
            parse_custom_identifiers(r#"[{"id":"a","name":"n","regex":"x","keywords":["ab"]}]"#)
                .unwrap_err()
                .to_string();
        assert_eq!(
            e,
            "[0].keywords[0]: length 2 is out of range (allowed: 3 to 90 characters)"
        );
        let e = parse_custom_identifiers(
            r#"[{"id":"a","name":"n","regex":"x","ignoreWords":["abc"]}]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("[0].ignoreWords[0]"), "{e}");
        let e = parse_custom_identifiers(
            r#"[{"id":"a","name":"n","regex":"x","maximumMatchDistance":301}]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("[0].maximumMatchDistance: 301"), "{e}");
        let e = parse_custom_identifiers(&format!(
            r#"[{{"id":"a","name":"n","regex":"{}"}}]"#,
            "a".repeat(513)
        ))
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("[0].regex: length 513"), "{e}");
        let e = parse_custom_identifiers(r#"[{"id":"a","name":"n","regex":"x","severityLevels":[{"occurrencesThreshold":10,"severity":"LOW"},{"occurrencesThreshold":5,"severity":"HIGH"}]}]"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("must increase"), "{e}");
        let e = parse_custom_identifiers(
            r#"[{"id":"a","name":"n","regex":"x"},{"id":"a","name":"m","regex":"y"}]"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("[1].id: duplicate"), "{e}");
        let e = parse_custom_identifiers(r#"[{"id":"a","name":"n","regex":"x","color":"red"}]"#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("[0].color: unknown field"), "{e}");
    }

    #[test]
    fn allow_lists_need_exactly_one_criterion() {
        assert!(
            parse_allow_lists(r#"[{"id":"a","name":"n","criteria":{"regex":"test-.*"}}]"#).is_ok()
        );
        let e = parse_allow_lists(r#"[{"id":"a","name":"n","criteria":{}}]"#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("[0].criteria: exactly one"), "{e}");
    }
}
