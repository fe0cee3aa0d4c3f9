//! De-identification with the detection engine: masking operators (asterisks, partial,
//! email domain, IP truncation, redaction, keyed hash, format-preserving), masking policies
//! (dragnet's form and CloudWatch Logs data protection documents), and maskers for text and
//! logs, CSV/TSV and JSON/JSON Lines that change nothing but the sensitive values.
#![warn(missing_docs)]

pub mod masker;
pub mod operators;
pub mod policy;

pub use masker::{MaskFormat, MaskSummary, Masker};
pub use operators::{hmac_sha256, Operator};
pub use policy::{MaskPolicy, PolicyError, Selector};

#[cfg(test)]
mod tests;
