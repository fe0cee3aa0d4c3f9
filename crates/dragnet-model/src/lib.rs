//! Wire types shared by every dragnet crate, with Macie's field names: job specs, custom data
//! identifiers, allow lists, findings, discovery results and finding events.
//!
//! No I/O here: parsing functions take text and return values or a [`SpecError`] that names
//! the JSON path that is wrong and what would be accepted.
#![warn(missing_docs)]

pub mod error;
pub mod event;
pub mod finding;
pub mod identifiers;
pub mod ids;
pub mod jobspec;
pub mod timestamp;

pub use error::{JsonPath, SpecError};
pub use event::FindingEvent;
pub use finding::{Category, Finding, FindingType, Severity, SeverityLevel};
pub use identifiers::{AllowList, CustomDataIdentifier};
pub use jobspec::JobSpec;
pub use timestamp::Timestamp;
