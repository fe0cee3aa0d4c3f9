//! Allow lists (macie.md §8): text an allow list matches is never counted or reported.

use std::collections::HashSet;

use regex::bytes::Regex;

use crate::dialect::compile_macie_regex;
use crate::engine::EngineError;

/// An allow list whose words, if any, have been read already (reading is I/O and happens at
/// the edges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowSource {
    /// Matched text that this regex matches in full is allowed.
    Regex {
        /// Allow list id, for error messages.
        id: String,
        /// The pattern, in Macie's dialect.
        pattern: String,
    },
    /// Matched text equal to one of these literals is allowed.
    Words {
        /// Allow list id, for error messages.
        id: String,
        /// One literal per entry.
        words: Vec<String>,
    },
}

/// The compiled allow lists of a job.
#[derive(Debug, Default)]
pub struct AllowMatcher {
    regexes: Vec<Regex>,
    words: HashSet<Vec<u8>>,
}

impl AllowMatcher {
    /// Compiles allow lists; a bad regex is an error naming its list.
    pub fn new(sources: &[AllowSource]) -> Result<Self, EngineError> {
        let mut m = AllowMatcher::default();
        for s in sources {
            match s {
                AllowSource::Regex { id, pattern } => {
                    // Validate the dialect on the pattern as written, then anchor it.
                    compile_macie_regex(pattern).map_err(|source| EngineError::AllowListRegex {
                        id: id.clone(),
                        source,
                    })?;
                    let anchored =
                        compile_macie_regex(&format!("^(?:{pattern})$")).map_err(|source| {
                            EngineError::AllowListRegex {
                                id: id.clone(),
                                source,
                            }
                        })?;
                    m.regexes.push(anchored);
                }
                AllowSource::Words { words, .. } => {
                    for w in words {
                        let w = w.trim();
                        if !w.is_empty() {
                            m.words.insert(w.to_lowercase().into_bytes());
                        }
                    }
                }
            }
        }
        Ok(m)
    }

    /// Whether `value` (one matched piece of text) is allowed. Word lists compare without
    /// regard to case, as Macie does; regexes must match the whole value.
    pub fn allows(&self, value: &[u8]) -> bool {
        if !self.words.is_empty() {
            let lower: Vec<u8> = value.to_ascii_lowercase();
            let lower = match std::str::from_utf8(&lower) {
                Ok(s) => s.to_lowercase().into_bytes(),
                Err(_) => lower,
            };
            if self.words.contains(&lower) {
                return true;
            }
        }
        self.regexes.iter().any(|r| r.is_match(value))
    }
}
