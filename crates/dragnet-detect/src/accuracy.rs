//! Precision and recall of the engine on a labelled corpus: each case is a unit of free text
//! or a CSV cell under a column name, with the identifiers that must be found in it. An
//! identifier found where it is not labelled is a false positive; one labelled and not found,
//! a false negative. The corpus is data (`sample-data/accuracy/corpus.jsonl`, and its
//! generator); `dragnet identifiers accuracy` scores it.

use std::collections::BTreeMap;

use crate::engine::{Engine, Qualification};

/// One labelled unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The CSV column the text is a cell of, or `None` for free text.
    pub column: Option<String>,
    /// The unit.
    pub text: String,
    /// Identifier ids that must be found in it (and no others).
    pub labels: Vec<String>,
}

/// One identifier's counts over a corpus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Score {
    /// Cases labelled with the identifier in which it was found.
    pub true_positives: u64,
    /// Cases not labelled with it in which it was found.
    pub false_positives: u64,
    /// Cases labelled with it in which it was not found.
    pub false_negatives: u64,
}

impl Score {
    /// Share of its detections that were right (1 when it detected nothing).
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Share of its labelled cases it found (1 when none were labelled).
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    fn add(&mut self, other: &Score) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// The identifier ids the engine finds in one case, sorted and without repeats.
fn found_ids<'e>(engine: &'e Engine, case: &Case, hits: &mut Vec<crate::Hit>) -> Vec<&'e str> {
    let qualification = match &case.column {
        Some(column) => engine.qualify(&[column.as_str()]),
        None => Qualification::default(),
    };
    hits.clear();
    engine.scan(case.text.as_bytes(), &qualification, 0, hits);
    let mut found: Vec<&str> = hits
        .iter()
        .map(|h| engine.info(h.identifier).id.as_str())
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

/// What scoring a corpus found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// Scores per identifier id (every id labelled or detected at least once).
    pub scores: BTreeMap<String, Score>,
    /// The total over all identifiers (micro-averaged).
    pub total: Score,
    /// The cases judged differently from their labels, in corpus order.
    pub misjudged: Vec<Misjudged>,
}

/// A case the engine judged differently from its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misjudged {
    /// Index of the case in the corpus.
    pub index: usize,
    /// Labelled identifiers not found.
    pub missed: Vec<String>,
    /// Identifiers found but not labelled.
    pub unexpected: Vec<String>,
}

/// Scans every case once and scores what the engine found against the labels.
pub fn evaluate(engine: &Engine, cases: &[Case]) -> Evaluation {
    let mut eval = Evaluation::default();
    let mut hits = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let found = found_ids(engine, case, &mut hits);
        let mut unexpected = Vec::new();
        for id in &found {
            let score = eval.scores.entry(id.to_string()).or_default();
            if case.labels.iter().any(|l| l == id) {
                score.true_positives += 1;
            } else {
                score.false_positives += 1;
                unexpected.push(id.to_string());
            }
        }
        let mut missed = Vec::new();
        for label in &case.labels {
            if !found.contains(&label.as_str()) {
                eval.scores
                    .entry(label.clone())
                    .or_default()
                    .false_negatives += 1;
                missed.push(label.clone());
            }
        }
        if !missed.is_empty() || !unexpected.is_empty() {
            eval.misjudged.push(Misjudged {
                index,
                missed,
                unexpected,
            });
        }
    }
    for score in eval.scores.values() {
        eval.total.add(score);
    }
    eval
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AllowMatcher, ManagedIdentifier, MANAGED};

    fn case(column: Option<&str>, text: &str, labels: &[&str]) -> Case {
        Case {
            column: column.map(str::to_string),
            text: text.to_string(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn counts_hits_misses_and_false_alarms() {
        let all: Vec<&ManagedIdentifier> = MANAGED.iter().collect();
        let engine = Engine::new(&all, &[], AllowMatcher::default()).unwrap();
        let cases = [
            case(None, "SSN: 536-22-1234", &["USA_SOCIAL_SECURITY_NUMBER"]),
            case(Some("ssn"), "536-22-1235", &["USA_SOCIAL_SECURITY_NUMBER"]),
            // Labelled, but 000 is never an area number: a miss.
            case(None, "SSN: 000-22-1234", &["USA_SOCIAL_SECURITY_NUMBER"]),
            // Found, but labelled as nothing: a false alarm.
            case(None, "SSN: 536-22-1236", &[]),
        ];
        let Evaluation {
            scores,
            total,
            misjudged: wrong,
        } = evaluate(&engine, &cases);
        let ssn = &scores["USA_SOCIAL_SECURITY_NUMBER"];
        assert_eq!(
            (ssn.true_positives, ssn.false_positives, ssn.false_negatives),
            (2, 1, 1)
        );
        assert!((ssn.precision() - 2.0 / 3.0).abs() < 1e-9);
        assert!((ssn.recall() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(total, *ssn);
        assert_eq!(Score::default().precision(), 1.0);
        assert_eq!(
            wrong.iter().map(|w| w.index).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert_eq!(wrong[0].missed, vec!["USA_SOCIAL_SECURITY_NUMBER"]);
        assert_eq!(wrong[1].unexpected, vec!["USA_SOCIAL_SECURITY_NUMBER"]);
    }
}
