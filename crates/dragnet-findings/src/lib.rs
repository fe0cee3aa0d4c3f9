//! Queries over stored findings, as Macie's findings APIs answer them, and who may ask.
//!
//! * [`criteria`]: `findingCriteria` (`eq`, `neq`, `eqExactMatch`, `gt`, `gte`, `lt`, `lte`,
//!   plus dragnet's `prefix`) evaluated against finding JSON by Macie's field names.
//! * [`query`]: ListFindings (sorted, paged with an opaque `nextToken`), GetFindings and
//!   GetFindingStatistics over a set of findings.
//! * [`roles`]: the API's roles and what each may do.
//! * [`investigations`]: named, parameterised queries ("runbooks") kept in the config.
//!
//! Pure logic: the caller loads the findings and passes the current time, so every answer is
//! reproducible in a unit test.
#![warn(missing_docs)]

pub mod criteria;
pub mod investigations;
pub mod query;
pub mod roles;

pub use criteria::FindingCriteria;
pub use investigations::{Investigation, InvestigationKind, Source};
pub use query::{
    get_findings, list_findings, statistics, FindingPage, ListRequest, SortCriteria,
    StatisticsRequest,
};
pub use roles::{Action, Role};

/// Why a query was refused; the message names the request field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct QueryError {
    /// The request field, as a dotted path (`findingCriteria.criterion.severity.description.eq`).
    pub field: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl QueryError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        QueryError {
            field: field.into(),
            message: message.into(),
        }
    }
}
