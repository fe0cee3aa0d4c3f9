//! Running every managed identifier's own examples through the engine, as
//! `dragnet identifiers check` and the unit tests do: each positive example must yield a
//! detection of its identifier and each negative one must not, with the whole catalog loaded
//! (so overlaps between identifiers count).

use crate::catalog::{ManagedIdentifier, MANAGED};
use crate::engine::{Engine, Qualification};
use crate::AllowMatcher;

/// The fewest positive and negative examples an identifier must carry.
pub const MIN_EXAMPLES: usize = 3;

/// One example that did not behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    /// The identifier.
    pub id: &'static str,
    /// What went wrong (the example text is the catalog's own, never user data).
    pub problem: String,
}

/// The result for one identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierCheck {
    /// The identifier.
    pub id: &'static str,
    /// Examples run (positive + negative).
    pub examples: usize,
    /// What failed.
    pub failures: Vec<ExampleFailure>,
}

fn ids_found(engine: &Engine, text: &str) -> Vec<String> {
    let mut hits = Vec::new();
    engine.scan(text.as_bytes(), &Qualification::default(), 0, &mut hits);
    hits.iter()
        .map(|h| engine.info(h.identifier).id.clone())
        .collect()
}

/// Checks every identifier of the catalog.
pub fn check_catalog() -> Vec<IdentifierCheck> {
    let all: Vec<&ManagedIdentifier> = MANAGED.iter().collect();
    let engine = Engine::new(&all, &[], AllowMatcher::default())
        .expect("the managed catalog compiles (a unit test checks it)");
    MANAGED
        .iter()
        .map(|m| {
            let mut failures = Vec::new();
            let mut fail = |problem: String| failures.push(ExampleFailure { id: m.id, problem });
            if m.examples.len() < MIN_EXAMPLES || m.negative_examples.len() < MIN_EXAMPLES {
                fail(format!(
                    "has {} positive and {} negative examples; needs {MIN_EXAMPLES} of each",
                    m.examples.len(),
                    m.negative_examples.len()
                ));
            }
            for ex in m.examples {
                if !ids_found(&engine, ex).iter().any(|id| id == m.id) {
                    fail(format!("positive example {ex:?} is not detected"));
                }
            }
            for ex in m.negative_examples {
                if ids_found(&engine, ex).iter().any(|id| id == m.id) {
                    fail(format!("negative example {ex:?} is detected"));
                }
            }
            IdentifierCheck {
                id: m.id,
                examples: m.examples.len() + m.negative_examples.len(),
                failures,
            }
        })
        .collect()
}
