//! Finding events and what reacts to them: EventBridge pattern matching, input
//! transformers, rules files, the local event bus with retries and a dead-letter file, and
//! local alert delivery.
#![warn(missing_docs)]

pub mod alerts;
#[cfg(any(feature = "eventbridge", feature = "sns"))]
pub mod aws;
pub mod bus;
#[cfg(feature = "eventbridge")]
pub mod eventbridge;
pub mod pattern;
pub mod rules;
#[cfg(feature = "sns")]
pub mod sns;
pub mod transform;

pub use alerts::{Alert, Outbox, Protocol};
pub use bus::{
    append_dead_letter, DeadLetterError, Delivery, LocalBus, Outcome, RetryPolicy, TargetHandler,
};
pub use pattern::{EventPattern, PatternError};
pub use rules::{parse_rules, InputSpec, Rule, RuleTarget, Target};
pub use transform::{InputTransformer, JsonPath, TargetInput};

#[cfg(test)]
mod bus_tests;
#[cfg(test)]
mod pattern_tests;
