//! dragnet's detection engine: Macie's managed data identifiers and custom identifiers,
//! validators, keyword proximity (in text and through column names), allow lists, overlap
//! resolution, occurrence capping and severity.
//!
//! Synchronous and CPU-only: no I/O, no async. Readers in `dragnet-formats` hand it units of
//! text with their context; the job engine tallies what it reports.
#![warn(missing_docs)]

pub mod accuracy;
pub mod allow;
pub mod catalog;
pub mod check;
pub mod dialect;
pub mod engine;
pub mod judge;
pub mod keywords;
mod memo;
pub mod names;
pub mod national;
pub mod secrets;
pub mod selection;
pub mod validators;

#[cfg(test)]
mod proptests;

pub use allow::{AllowMatcher, AllowSource};
pub use catalog::{ManagedIdentifier, MANAGED};
pub use check::{check_catalog, IdentifierCheck};
pub use engine::{Engine, EngineError, Hit, IdentifierInfo, IdentifierKind, Qualification};
pub use judge::{
    Judgement, Location, ObjectDetections, Place, FINDING_LOCATION_CAP, RESULT_LOCATION_CAP,
};
pub use selection::select_managed;

#[cfg(test)]
mod tests;
