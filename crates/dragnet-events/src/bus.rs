//! The local event bus: delivers each event to every enabled rule that matches it, retries a
//! failing target with backoff, and writes what still fails to a dead-letter file with the
//! error. Nothing is dropped silently.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::rules::{InputSpec, Rule, RuleTarget};
use crate::transform::{RuleContext, TargetInput};

/// Retries of a failing target.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all (at least 1).
    pub attempts: u32,
    /// Wait before the second try; doubled for each further one.
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(100),
        }
    }
}

/// Carries out targets. `Ok` holds a short description of what was done; `Err` the reason
/// it failed (the bus retries and then dead-letters).
pub trait TargetHandler {
    /// Delivers `input` (derived from `event`) to `target` of `rule`.
    fn deliver(
        &self,
        rule: &Rule,
        target: &RuleTarget,
        input: &TargetInput,
        event: &Value,
    ) -> Result<String, String>;
}

/// How one delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered after this many tries.
    Delivered {
        /// Tries used.
        attempts: u32,
        /// What the target did.
        detail: String,
    },
    /// Not delivered; written to the dead-letter file.
    Failed {
        /// Tries used.
        attempts: u32,
        /// The last error.
        error: String,
    },
}

/// One rule target's delivery of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Rule name.
    pub rule: String,
    /// Target id.
    pub target_id: String,
    /// Target ARN.
    pub arn: String,
    /// How it ended.
    pub outcome: Outcome,
}

/// A dead-letter file that cannot be written: the only way a delivery could be lost, so it is
/// an error for the caller.
#[derive(Debug, thiserror::Error)]
#[error("writing the dead-letter file {path}: {source}")]
pub struct DeadLetterError {
    /// The file.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// An in-process EventBridge.
#[derive(Debug, Clone)]
pub struct LocalBus {
    rules: Vec<Rule>,
    dead_letter: PathBuf,
    retry: RetryPolicy,
}

impl LocalBus {
    /// A bus with these rules, writing undeliverable events to `dead_letter`.
    pub fn new(rules: Vec<Rule>, dead_letter: PathBuf, retry: RetryPolicy) -> Self {
        LocalBus {
            rules,
            dead_letter,
            retry,
        }
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Delivers `event` to the targets of every enabled matching rule, in file order.
    pub fn publish(
        &self,
        event: &Value,
        handler: &dyn TargetHandler,
    ) -> Result<Vec<Delivery>, DeadLetterError> {
        let mut deliveries = Vec::new();
        for rule in self
            .rules
            .iter()
            .filter(|r| r.enabled && r.pattern.matches(event))
        {
            let ctx = RuleContext {
                name: &rule.name,
                arn: format!(
                    "arn:aws:events:{}:{}:rule/{}",
                    event["region"].as_str().unwrap_or("local"),
                    event["account"].as_str().unwrap_or("000000000000"),
                    rule.name
                ),
                ingestion_time: dragnet_model::Timestamp::now().to_string(),
            };
            for target in &rule.targets {
                let outcome = match input_for(target, event, &ctx) {
                    Err(error) => Outcome::Failed { attempts: 0, error },
                    Ok(input) => self.deliver_with_retries(handler, rule, target, &input, event),
                };
                if let Outcome::Failed { attempts, error } = &outcome {
                    tracing::error!(rule = %rule.name, target = %target.id, attempts, error = %error, "target failed; event written to the dead-letter file");
                    self.dead_letter(rule, target, *attempts, error, event)?;
                }
                deliveries.push(Delivery {
                    rule: rule.name.clone(),
                    target_id: target.id.clone(),
                    arn: target.arn.clone(),
                    outcome,
                });
            }
        }
        Ok(deliveries)
    }

    fn deliver_with_retries(
        &self,
        handler: &dyn TargetHandler,
        rule: &Rule,
        target: &RuleTarget,
        input: &TargetInput,
        event: &Value,
    ) -> Outcome {
        let attempts = self.retry.attempts.max(1);
        let mut delay = self.retry.base_delay;
        let mut last = String::new();
        for attempt in 1..=attempts {
            match handler.deliver(rule, target, input, event) {
                Ok(detail) => {
                    return Outcome::Delivered {
                        attempts: attempt,
                        detail,
                    }
                }
                Err(e) => {
                    tracing::warn!(rule = %rule.name, target = %target.id, attempt, error = %e, "target failed");
                    last = e;
                    if attempt < attempts {
                        std::thread::sleep(delay);
                        delay *= 2;
                    }
                }
            }
        }
        Outcome::Failed {
            attempts,
            error: last,
        }
    }

    fn dead_letter(
        &self,
        rule: &Rule,
        target: &RuleTarget,
        attempts: u32,
        error: &str,
        event: &Value,
    ) -> Result<(), DeadLetterError> {
        let record = json!({
            "time": dragnet_model::Timestamp::now().to_string(),
            "rule": rule.name,
            "targetId": target.id,
            "arn": target.arn,
            "attempts": attempts,
            "error": error,
            "event": event,
        });
        append_dead_letter(&self.dead_letter, &record)
    }
}

/// Appends `record` as one JSON line to the dead-letter file at `path` (creating it and its
/// folder), synced to disk before returning, since it is the last copy of the event.
pub fn append_dead_letter(path: &Path, record: &Value) -> Result<(), DeadLetterError> {
    let fail = |source| DeadLetterError {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(fail)?;
    writeln!(f, "{record}").map_err(fail)?;
    f.sync_data().map_err(fail)
}

fn input_for(
    target: &RuleTarget,
    event: &Value,
    ctx: &RuleContext<'_>,
) -> Result<TargetInput, String> {
    match &target.input {
        InputSpec::Event => Ok(TargetInput::Json(event.clone())),
        InputSpec::Constant(v) => Ok(TargetInput::Json(v.clone())),
        InputSpec::Path(p) => Ok(TargetInput::Json(
            p.get(event).cloned().unwrap_or(Value::Null),
        )),
        InputSpec::Transformer(t) => t.render(event, ctx),
    }
}
