//! Person-name evidence without a language model: a dictionary of common given names.
//!
//! The list is data, `catalog/given-names.txt`, with its sources in its header.

use std::collections::HashSet;
use std::sync::OnceLock;

/// The given-name list, shipped as data (`catalog/given-names.txt`, its sources in its header).
const GIVEN_NAMES: &str = include_str!("../catalog/given-names.txt");

fn given_names() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        GIVEN_NAMES
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Whether `word` (any case, accents kept, trailing digits ignored as in Synthea's generated
/// names like `Tomas436`) is a known given name.
pub fn is_given_name(word: &str) -> bool {
    let w = word.trim_end_matches(|c: char| c.is_ascii_digit());
    if w.is_empty() || w.len() > 20 {
        return false;
    }
    let lower = w.to_lowercase();
    given_names().contains(lower.as_str())
        || given_names().contains(crate::keywords::strip_accents(&lower).as_str())
}

/// Words that mark an organisation, place or thing rather than a person.
const NOT_PERSON_WORDS: &[&str] = &[
    "inc",
    "llc",
    "ltd",
    "corp",
    "co",
    "company",
    "hospital",
    "hospitals",
    "center",
    "centre",
    "clinic",
    "health",
    "medical",
    "care",
    "group",
    "services",
    "associates",
    "university",
    "school",
    "street",
    "avenue",
    "road",
    "county",
    "city",
    "state",
    "bank",
    "insurance",
    "parish",
    "township",
    "borough",
    "village",
    "island",
    "islands",
    "province",
    "district",
    "republic",
    "kingdom",
    "saint",
    "eligible",
];

/// The `NAME` validator: a full name that is a word of its own, not glued to a preceding
/// hyphen, slash, dot or apostrophe (so the "Ray Image" of "X-Ray Image" is not a name).
pub fn full_name(text: &[u8], m: std::ops::Range<usize>) -> bool {
    let glued =
        m.start > 0 && matches!(text[m.start - 1], b'-' | b'/' | b'.' | b'\'' | b'_' | b'@');
    !glued && is_full_name(&String::from_utf8_lossy(&text[m]))
}

/// Full-name check for a candidate: a known given name first, then one to three name words,
/// none of which marks an organisation.
pub fn is_full_name(candidate: &str) -> bool {
    let words: Vec<&str> = candidate
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    if !(2..=4).contains(&words.len()) {
        return false;
    }
    let first = words[0].trim_end_matches('.');
    let start = if matches!(
        first.to_ascii_lowercase().as_str(),
        "mr" | "mrs" | "ms" | "dr" | "miss" | "prof"
    ) {
        1
    } else {
        0
    };
    if words.len() - start < 2 || !is_given_name(words[start]) {
        return false;
    }
    !words.iter().any(|w| {
        let lw = w
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ',')
            .to_lowercase();
        NOT_PERSON_WORDS.contains(&lw.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_names_and_full_names() {
        assert!(is_given_name("Maria"));
        assert!(is_given_name("Tomas436"));
        assert!(is_given_name("José"));
        assert!(!is_given_name("Hospital"));
        assert!(is_full_name("John Smith"));
        assert!(is_full_name("Dr. Jane Doe"));
        assert!(is_full_name("Tomas436 Sauer652"));
        assert!(!is_full_name("Dual Eligible"));
        assert!(!is_full_name("John"));
        assert!(!is_full_name("Mary Health Center"));
    }
}
