//! Masking policies: dragnet's own form, and CloudWatch Logs data protection policy documents
//! accepted as they are (macie.md §9).

use std::collections::BTreeSet;

use dragnet_detect::{ManagedIdentifier, MANAGED};
use dragnet_model::Category;
use serde::Deserialize;
use serde_json::Value;

use crate::operators::Operator;

/// Why a policy is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PolicyError {
    /// Where in the policy.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: &str, message: impl Into<String>) -> PolicyError {
    PolicyError {
        path: path.into(),
        message: message.into(),
    }
}

/// Which detections a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// These identifier ids (managed ids or custom identifier ids).
    Identifiers(BTreeSet<String>),
    /// These categories.
    Categories(BTreeSet<Category>),
}

/// A usable policy.
#[derive(Debug, Clone)]
pub struct MaskPolicy {
    /// Managed identifiers to detect.
    pub managed: Vec<&'static ManagedIdentifier>,
    /// Rules, first match wins.
    pub rules: Vec<(Selector, Operator)>,
    /// For detections no rule selects: `None` = each identifier's default operator.
    pub default: Option<Operator>,
    /// The policy's name (CloudWatch documents name their audit findings with it).
    pub name: String,
}

impl MaskPolicy {
    /// dragnet's defaults: every managed identifier, each with its default operator.
    pub fn defaults() -> Self {
        MaskPolicy {
            managed: MANAGED.iter().collect(),
            rules: Vec::new(),
            default: None,
            name: "dragnet-default".into(),
        }
    }

    /// The operator for a detection of `identifier` in `category`.
    pub fn operator_for(&self, identifier: &str, category: Category) -> Operator {
        for (selector, op) in &self.rules {
            let hit = match selector {
                Selector::Identifiers(ids) => ids.contains(identifier),
                Selector::Categories(cats) => cats.contains(&category),
            };
            if hit {
                return op.clone();
            }
        }
        self.default
            .clone()
            .unwrap_or_else(|| Operator::default_for(identifier, category == Category::Credentials))
    }

    /// Parses either form: a document with `Statement` is a CloudWatch Logs data protection
    /// policy, anything else dragnet's form.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| err("(document)", format!("not valid JSON: {e}")))?;
        if doc.get("Statement").is_some() {
            cloudwatch(&doc)
        } else {
            dragnet_form(&doc)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPolicy {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    identifiers: Option<Vec<String>>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    default: Option<Operator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    identifiers: Vec<String>,
    #[serde(default)]
    categories: Vec<Category>,
    operator: Operator,
}

fn managed_ids(ids: &[String], path: &str) -> Result<Vec<&'static ManagedIdentifier>, PolicyError> {
    if ids.iter().any(|i| i == "ALL") {
        return Ok(MANAGED.iter().collect());
    }
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            MANAGED
                .iter()
                .find(|m| m.id == id.as_str() || m.cloudwatch_name == Some(id.as_str()))
                .ok_or_else(|| err(&format!("{path}[{i}]"), format!("unknown identifier {id:?} (dragnet identifiers list shows the ids and CloudWatch names)")))
        })
        .collect()
}

/// dragnet's form:
/// `{"identifiers": ["ALL"], "rules": [{"identifiers": [...], "categories": [...], "operator": ...}], "default": "mask"}`.
fn dragnet_form(doc: &Value) -> Result<MaskPolicy, PolicyError> {
    let raw: RawPolicy =
        serde_json::from_value(doc.clone()).map_err(|e| err("(document)", e.to_string()))?;
    let managed = match &raw.identifiers {
        Some(ids) => managed_ids(ids, "identifiers")?,
        None => MANAGED.iter().collect(),
    };
    let mut rules = Vec::new();
    for (i, r) in raw.rules.into_iter().enumerate() {
        let selector = match (r.identifiers.is_empty(), r.categories.is_empty()) {
            (false, true) => Selector::Identifiers(r.identifiers.into_iter().collect()),
            (true, false) => Selector::Categories(r.categories.into_iter().collect()),
            _ => {
                return Err(err(
                    &format!("rules[{i}]"),
                    "give identifiers or categories (one of them)",
                ))
            }
        };
        rules.push((selector, r.operator));
    }
    Ok(MaskPolicy {
        managed,
        rules,
        default: raw.default,
        name: raw.name.unwrap_or_else(|| "dragnet-policy".into()),
    })
}

const CW_PREFIX: &str = "arn:aws:dataprotection::aws:data-identifier/";

/// A CloudWatch Logs data protection policy, validated with CloudWatch's rules: exactly two
/// statements, an `Audit` operation with a `FindingsDestination` object first, then a
/// `Deidentify` operation whose `MaskConfig` is `{}`, both with the same `DataIdentifier` list.
/// Detected values become asterisks, as in CloudWatch Logs.
fn cloudwatch(doc: &Value) -> Result<MaskPolicy, PolicyError> {
    let statements = doc["Statement"]
        .as_array()
        .ok_or_else(|| err("Statement", "must be an array of two statements"))?;
    if statements.len() != 2 {
        return Err(err("Statement", format!("{} statements given; a data protection policy has exactly two (Audit, then Deidentify)", statements.len())));
    }
    let ids = |i: usize| -> Result<Vec<String>, PolicyError> {
        let p = format!("Statement[{i}].DataIdentifier");
        let list = statements[i]["DataIdentifier"]
            .as_array()
            .ok_or_else(|| err(&p, "must be an array of data identifier ARNs"))?;
        if list.is_empty() {
            return Err(err(&p, "must name at least one data identifier"));
        }
        list.iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| err(&p, "must hold strings"))
            })
            .collect()
    };
    let (audit_ids, mask_ids) = (ids(0)?, ids(1)?);
    if !statements[0]["Operation"]["Audit"]["FindingsDestination"].is_object() {
        return Err(err("Statement[0].Operation.Audit.FindingsDestination", "the first statement must be an Audit operation with a FindingsDestination object (it may be {})"));
    }
    match statements[1]["Operation"]["Deidentify"]["MaskConfig"].as_object() {
        Some(m) if m.is_empty() => {}
        Some(_) => {
            return Err(err(
                "Statement[1].Operation.Deidentify.MaskConfig",
                "must be {} in CloudWatch Logs",
            ))
        }
        None => {
            return Err(err(
                "Statement[1].Operation.Deidentify.MaskConfig",
                "the second statement must be a Deidentify operation with MaskConfig {}",
            ))
        }
    }
    if audit_ids != mask_ids {
        return Err(err(
            "Statement[1].DataIdentifier",
            "must list exactly the same data identifiers as the Audit statement",
        ));
    }
    let mut names = Vec::new();
    for (i, arn) in mask_ids.iter().enumerate() {
        let name = arn.strip_prefix(CW_PREFIX).ok_or_else(|| {
            err(
                &format!("Statement[1].DataIdentifier[{i}]"),
                format!("{arn:?} is not a managed data identifier ARN ({CW_PREFIX}<Name>)"),
            )
        })?;
        names.push(name.to_string());
    }
    let managed = managed_ids(&names, "Statement[1].DataIdentifier")?;
    Ok(MaskPolicy {
        managed,
        rules: Vec::new(),
        default: Some(Operator::Mask),
        name: doc["Name"]
            .as_str()
            .unwrap_or("data-protection-policy")
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cw(audit: &[&str], mask: &[&str], mask_config: &str) -> String {
        let list = |ids: &[&str]| {
            ids.iter()
                .map(|i| format!("\"{CW_PREFIX}{i}\""))
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            r#"{{"Name":"p","Version":"2021-06-01","Statement":[{{"Sid":"audit","DataIdentifier":[{}],"Operation":{{"Audit":{{"FindingsDestination":{{}}}}}}}},{{"Sid":"redact","DataIdentifier":[{}],"Operation":{{"Deidentify":{{"MaskConfig":{mask_config}}}}}}}]}}"#,
            list(audit),
            list(mask)
        )
    }

    #[test]
    fn cloudwatch_documents_are_checked_like_cloudwatch() {
        let p = MaskPolicy::parse(&cw(
            &["EmailAddress", "Name"],
            &["EmailAddress", "Name"],
            "{}",
        ))
        .unwrap();
        let ids: Vec<&str> = p.managed.iter().map(|m| m.id).collect();
        assert_eq!(ids, vec!["EMAIL_ADDRESS", "NAME"]);
        assert_eq!(
            p.operator_for("EMAIL_ADDRESS", Category::PersonalInformation),
            Operator::Mask
        );
        assert!(MaskPolicy::parse(&cw(&["EmailAddress"], &["Name"], "{}"))
            .unwrap_err()
            .message
            .contains("exactly the same"));
        assert!(
            MaskPolicy::parse(&cw(&["EmailAddress"], &["EmailAddress"], r#"{"x":1}"#))
                .unwrap_err()
                .message
                .contains("must be {}")
        );
        assert!(
            MaskPolicy::parse(&cw(&["NoSuchThing"], &["NoSuchThing"], "{}"))
                .unwrap_err()
                .message
                .contains("unknown identifier \"NoSuchThing\"")
        );
        assert!(MaskPolicy::parse(r#"{"Statement":[]}"#)
            .unwrap_err()
            .message
            .contains("exactly two"));
    }

    #[test]
    fn dragnet_form_rules_and_defaults() {
        let p = MaskPolicy::parse(r#"{"identifiers":["ALL"],"rules":[{"identifiers":["EMAIL_ADDRESS"],"operator":"emailDomain"},{"categories":["CREDENTIALS"],"operator":{"redact":{"label":"SECRET"}}}],"default":"mask"}"#).unwrap();
        assert_eq!(
            p.operator_for("EMAIL_ADDRESS", Category::PersonalInformation),
            Operator::EmailDomain
        );
        assert_eq!(
            p.operator_for("AWS_ACCESS_KEY_ID", Category::Credentials),
            Operator::Redact {
                label: Some("SECRET".into())
            }
        );
        assert_eq!(
            p.operator_for("NAME", Category::PersonalInformation),
            Operator::Mask
        );
        let d = MaskPolicy::defaults();
        assert_eq!(
            d.operator_for("USA_SOCIAL_SECURITY_NUMBER", Category::PersonalInformation),
            Operator::Partial {
                keep_first: 0,
                keep_last: 4
            }
        );
        assert!(MaskPolicy::parse(r#"{"rules":[{"operator":"mask"}]}"#)
            .unwrap_err()
            .path
            .starts_with("rules[0]"));
        assert!(MaskPolicy::parse(r#"{"identifiers":["SSN"]}"#)
            .unwrap_err()
            .message
            .contains("unknown identifier"));
        assert!(MaskPolicy::parse(r#"{"colour":1}"#).is_err());
    }
}
