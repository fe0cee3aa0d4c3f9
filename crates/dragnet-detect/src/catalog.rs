//! Managed data identifiers (macie.md §4, decisions.md §3), kept as reviewable data in
//! `catalog/*.toml` (one file per family: credentials, financial, IBAN, personal, national,
//! health, phones, driver's licences) and turned into [`MANAGED`] by the build script.
//!
//! Adding an identifier means adding an entry to a catalog file and, where the data type has
//! one, a validator in [`crate::validators`], [`crate::national`], [`crate::secrets`] or
//! [`crate::names`] (named in the entry as `module::function`). Every entry carries positive
//! and negative examples that the unit tests (and `dragnet identifiers check`) run. Ids,
//! categories, keywords and RECOMMENDED membership are Macie's; identifiers Macie lacks are
//! marked as extensions, and a `note` says where dragnet's rule deliberately differs.
//!
//! An entry's fields: `id`, `category` (Macie's enum), `recommended`, `extension`, `keywords`
//! (case-insensitive), `validator`, `priority` (which of two overlapping detections is kept),
//! `cloudwatch` (the CloudWatch Logs data-protection name), `note`, `examples`,
//! `negative_examples`, and one or more `[[identifier.pattern]]` tables with `regex`, `kind`
//! (`always`, `needs_keyword`, `whole_value_in_keyword_column`) and `requires` (a byte every
//! match contains). A file's `[fragments]` are regex pieces its patterns use as `{{name}}`.

use dragnet_model::Category;

use crate::validators::Validator;

/// How one pattern of an identifier decides that a match counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    /// Every match counts (no keyword needed).
    Always,
    /// A keyword must be in the column name / field path, or precede the match within the
    /// distance in the same value.
    NeedsKeyword,
    /// Only in columns or fields whose name holds a keyword, and the regex must match the
    /// whole (trimmed) value; used for names and street lines in structured data.
    WholeValueInKeywordColumn,
}

/// One regex of a managed identifier.
#[derive(Debug, Clone, Copy)]
pub struct PatternDef {
    /// The pattern (Rust `regex` syntax, Unicode-aware).
    pub regex: &'static str,
    /// When a match of it counts.
    pub kind: PatternKind,
    /// A byte no match can do without (`@` for emails): units without it skip the pattern,
    /// which then runs outside the shared multi-pattern pass.
    pub requires: Option<u8>,
}

/// A managed data identifier.
#[derive(Debug, Clone, Copy)]
pub struct ManagedIdentifier {
    /// Macie's id, e.g. `USA_SOCIAL_SECURITY_NUMBER`.
    pub id: &'static str,
    /// Macie's category.
    pub category: Category,
    /// In Macie's RECOMMENDED set for jobs.
    pub recommended: bool,
    /// Not a Macie identifier (decisions.md §3): in ALL, never in RECOMMENDED.
    pub extension: bool,
    /// Keywords (case-insensitive).
    pub keywords: &'static [&'static str],
    /// The patterns; a value matched by any counts once.
    pub patterns: &'static [PatternDef],
    /// Check on each candidate match.
    pub validator: Option<Validator>,
    /// Which of two overlapping managed detections is kept (higher wins).
    pub priority: u8,
    /// The CloudWatch Logs data-protection name, where one exists.
    pub cloudwatch_name: Option<&'static str>,
    /// Why dragnet's rule differs from Macie's, or what a reviewer should know.
    pub note: Option<&'static str>,
    /// Texts that must yield a detection of this identifier.
    pub examples: &'static [&'static str],
    /// Texts that must not.
    pub negative_examples: &'static [&'static str],
}

impl ManagedIdentifier {
    /// True when every pattern needs a keyword (what `identifiers list` shows).
    pub fn keyword_required(&self) -> bool {
        self.patterns.iter().all(|p| p.kind != PatternKind::Always)
    }
}

/// Keyword distance for managed identifiers: characters between the end of the keyword and
/// the start of the match, inclusive (macie.md §2.5).
pub const MANAGED_KEYWORD_DISTANCE: usize = 30;

include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

/// Looks up a managed identifier by Macie id.
pub fn managed(id: &str) -> Option<&'static ManagedIdentifier> {
    MANAGED.iter().find(|m| m.id == id)
}
