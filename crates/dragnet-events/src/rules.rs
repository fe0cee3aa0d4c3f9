//! Rules files: a JSON array of rules shaped like EventBridge `PutRule` + `PutTargets`
//! (ARCHITECTURE.md "Rules file"), so a rule from a CloudFormation template needs only its
//! target ARNs mapped.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::pattern::EventPattern;
use crate::transform::{InputTransformer, JsonPath};

/// What a target does, from its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `dragnet:quarantine:<bucket>[:<key-prefix>]`: move the object to the isolation bucket.
    Quarantine {
        /// Isolation bucket.
        bucket: String,
        /// Key prefix inside it.
        prefix: String,
    },
    /// `dragnet:tag:<key>=<value>`: tag the object in place (a middle tier below quarantine).
    Tag {
        /// Tag key.
        key: String,
        /// Tag value.
        value: String,
    },
    /// `dragnet:alert:<topic>` or an SNS topic ARN: send the input as an alert.
    Alert {
        /// Topic name.
        topic: String,
    },
    /// `dragnet:log`: print the input on stderr.
    Log,
}

impl Target {
    /// Parses a target ARN.
    pub fn from_arn(arn: &str) -> Result<Self, String> {
        let hint = "use dragnet:quarantine:<bucket>[:<prefix>], dragnet:tag:<key>=<value>, dragnet:alert:<topic>, dragnet:log, or an SNS topic ARN";
        if let Some(rest) = arn.strip_prefix("dragnet:quarantine:") {
            let (bucket, prefix) = rest.split_once(':').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!("{arn:?} names no isolation bucket"));
            }
            return Ok(Target::Quarantine {
                bucket: bucket.into(),
                prefix: prefix.into(),
            });
        }
        if let Some(rest) = arn.strip_prefix("dragnet:tag:") {
            return match rest.split_once('=') {
                Some((k, v)) if !k.is_empty() => Ok(Target::Tag {
                    key: k.into(),
                    value: v.into(),
                }),
                _ => Err(format!("{arn:?}: expected dragnet:tag:<key>=<value>")),
            };
        }
        if let Some(topic) = arn.strip_prefix("dragnet:alert:") {
            if topic.is_empty() {
                return Err(format!("{arn:?} names no topic"));
            }
            return Ok(Target::Alert {
                topic: topic.into(),
            });
        }
        if arn == "dragnet:log" {
            return Ok(Target::Log);
        }
        let parts: Vec<&str> = arn.split(':').collect();
        if parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns" && !parts[5].is_empty() {
            return Ok(Target::Alert {
                topic: parts[5].into(),
            });
        }
        Err(format!("target ARN {arn:?} is not a local target; {hint}"))
    }
}

/// What the target receives.
#[derive(Debug, Clone, PartialEq)]
pub enum InputSpec {
    /// The whole event (no Input, InputPath or InputTransformer).
    Event,
    /// `Input`: constant JSON.
    Constant(Value),
    /// `InputPath`: part of the event.
    Path(JsonPath),
    /// `InputTransformer`.
    Transformer(InputTransformer),
}

/// One target of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleTarget {
    /// `Id`.
    pub id: String,
    /// `Arn` as written.
    pub arn: String,
    /// What the ARN means locally.
    pub target: Target,
    /// What it receives.
    pub input: InputSpec,
}

/// A compiled rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// `Name`.
    pub name: String,
    /// `State` is `ENABLED`.
    pub enabled: bool,
    /// `EventPattern`.
    pub pattern: EventPattern,
    /// `Targets`.
    pub targets: Vec<RuleTarget>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawRule {
    name: String,
    #[serde(default)]
    description: Option<String>,
    event_pattern: Value,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    event_bus_name: Option<String>,
    #[serde(default)]
    targets: Vec<RawTarget>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawTarget {
    id: String,
    arn: String,
    #[serde(default)]
    input: Option<String>,
    #[serde(default)]
    input_path: Option<String>,
    #[serde(default)]
    input_transformer: Option<RawTransformer>,
    #[serde(default)]
    role_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawTransformer {
    #[serde(default)]
    input_paths_map: BTreeMap<String, String>,
    input_template: String,
}

/// Parses and checks a rules file; errors name the rule and the offending part.
pub fn parse_rules(text: &str) -> Result<Vec<Rule>, String> {
    let raw: Vec<RawRule> = {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            format!(
                "{}: {}",
                if path == "." {
                    "(document)".into()
                } else {
                    path
                },
                e.into_inner()
            )
        })?
    };
    let mut names = std::collections::HashSet::new();
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let _ = (&r.description, &r.event_bus_name);
            let at = format!("rule {:?} ([{i}])", r.name);
            if !names.insert(r.name.clone()) {
                return Err(format!("{at}: the name is used by another rule"));
            }
            let pattern = match &r.event_pattern {
                Value::String(s) => EventPattern::parse(s),
                v => EventPattern::compile(v),
            }
            .map_err(|e| format!("{at}: EventPattern: {e}"))?;
            let enabled = match r.state.as_deref() {
                None | Some("ENABLED") => true,
                Some("DISABLED") => false,
                Some(other) => {
                    return Err(format!("{at}: State {other:?} is not ENABLED or DISABLED"))
                }
            };
            if r.targets.len() > 5 {
                return Err(format!(
                    "{at}: at most 5 targets per rule (EventBridge's limit)"
                ));
            }
            let mut ids = std::collections::HashSet::new();
            let targets = r
                .targets
                .into_iter()
                .map(|t| {
                    let tat = format!("{at}: target {:?}", t.id);
                    let _ = &t.role_arn;
                    if !ids.insert(t.id.clone()) {
                        return Err(format!("{tat}: the Id is used twice"));
                    }
                    let target = Target::from_arn(&t.arn).map_err(|e| format!("{tat}: {e}"))?;
                    let input = match (t.input, t.input_path, t.input_transformer) {
                        (None, None, None) => InputSpec::Event,
                        (Some(text), None, None) => InputSpec::Constant(
                            serde_json::from_str(&text)
                                .map_err(|e| format!("{tat}: Input is not valid JSON ({e})"))?,
                        ),
                        (None, Some(p), None) => InputSpec::Path(
                            JsonPath::parse(&p).map_err(|e| format!("{tat}: InputPath {e}"))?,
                        ),
                        (None, None, Some(tr)) => InputSpec::Transformer(
                            InputTransformer::new(&tr.input_paths_map, &tr.input_template)
                                .map_err(|e| format!("{tat}: InputTransformer.{e}"))?,
                        ),
                        _ => {
                            return Err(format!(
                                "{tat}: give at most one of Input, InputPath, InputTransformer"
                            ))
                        }
                    };
                    Ok(RuleTarget {
                        id: t.id,
                        arn: t.arn,
                        target,
                        input,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Rule {
                name: r.name,
                enabled,
                pattern,
                targets,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_arns() {
        assert_eq!(
            Target::from_arn("dragnet:quarantine:iso").unwrap(),
            Target::Quarantine {
                bucket: "iso".into(),
                prefix: "".into()
            }
        );
        assert_eq!(
            Target::from_arn("dragnet:quarantine:iso:q/").unwrap(),
            Target::Quarantine {
                bucket: "iso".into(),
                prefix: "q/".into()
            }
        );
        assert_eq!(
            Target::from_arn("dragnet:tag:sensitivity=medium").unwrap(),
            Target::Tag {
                key: "sensitivity".into(),
                value: "medium".into()
            }
        );
        assert_eq!(
            Target::from_arn("arn:aws:sns:us-east-1:111:high-sms").unwrap(),
            Target::Alert {
                topic: "high-sms".into()
            }
        );
        assert_eq!(Target::from_arn("dragnet:log").unwrap(), Target::Log);
        assert!(Target::from_arn("arn:aws:lambda:us-east-1:1:function:f")
            .unwrap_err()
            .contains("not a local target"));
        assert!(Target::from_arn("dragnet:tag:novalue").is_err());
    }

    #[test]
    fn rules_files_are_checked_with_names() {
        let ok = r#"[{"Name":"r","EventPattern":"{\"source\":[\"dragnet\"]}","Targets":[{"Id":"t","Arn":"dragnet:log"}]}]"#;
        assert_eq!(
            parse_rules(ok).unwrap()[0].targets[0].input,
            InputSpec::Event
        );
        let bad_pattern =
            r#"[{"Name":"high","EventPattern":{"detail":{"severity":"High"}},"Targets":[]}]"#;
        assert_eq!(
            parse_rules(bad_pattern).unwrap_err(),
            r#"rule "high" ([0]): EventPattern: detail.severity: leaf values must be arrays, e.g. ["High"]"#
        );
        let bad_target = r#"[{"Name":"r","EventPattern":{"source":["x"]},"Targets":[{"Id":"t","Arn":"arn:aws:lambda:us-east-1:1:function:f"}]}]"#;
        assert!(parse_rules(bad_target)
            .unwrap_err()
            .starts_with(r#"rule "r" ([0]): target "t": target ARN"#));
        let two_inputs = r#"[{"Name":"r","EventPattern":{"source":["x"]},"Targets":[{"Id":"t","Arn":"dragnet:log","Input":"{}","InputPath":"$.detail"}]}]"#;
        assert!(parse_rules(two_inputs)
            .unwrap_err()
            .contains("at most one of Input"));
        assert!(parse_rules(r#"[{"Name":"r","EventPatern":{}}]"#)
            .unwrap_err()
            .starts_with("[0].EventPatern: unknown field"));
        let dup =
            r#"[{"Name":"r","EventPattern":{"a":["b"]}},{"Name":"r","EventPattern":{"a":["b"]}}]"#;
        assert!(parse_rules(dup)
            .unwrap_err()
            .contains("used by another rule"));
        let state = r#"[{"Name":"r","EventPattern":{"a":["b"]},"State":"OFF"}]"#;
        assert!(parse_rules(state).unwrap_err().contains("State \"OFF\""));
    }
}
