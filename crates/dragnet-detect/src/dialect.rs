//! Macie's regex dialect for custom identifiers and allow lists (macie.md §3.2).
//!
//! Macie accepts a PCRE subset: no backreferences, no capturing groups, no look-around, no
//! conditionals, no recursion, at most 512 characters, and no huge bounded repeats. Patterns
//! are compiled for Rust's `regex` crate with PCRE's meaning kept where the two differ: `\d`,
//! `\w`, `\s` and `\b` are ASCII-only in PCRE (without the UTF flag) but Unicode-aware in
//! Rust, so they are rewritten to their ASCII classes before compiling.

use regex::bytes::{Regex, RegexBuilder};
use regex_syntax::ast::{self, Ast, ClassPerlKind, ClassSetItem, Visitor};

/// Longest pattern Macie accepts.
pub const MAX_REGEX_LEN: usize = 512;
/// Largest counted repetition accepted (`x{n,m}` with `m` above this is refused, as Macie
/// refuses `\d{100,1000}`).
pub const MAX_COUNTED_REPEAT: u32 = 200;

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("regex {pattern:?} is not accepted: {reason}")]
pub struct DialectError {
    /// The pattern as given.
    pub pattern: String,
    /// What Macie's dialect does not allow, and what to write instead.
    pub reason: String,
}

/// Checks `pattern` against Macie's dialect and compiles it with PCRE semantics.
pub fn compile_macie_regex(pattern: &str) -> Result<Regex, DialectError> {
    let fail = |reason: String| DialectError {
        pattern: pattern.to_string(),
        reason,
    };
    if pattern.chars().count() > MAX_REGEX_LEN {
        return Err(fail(format!(
            "it is longer than {MAX_REGEX_LEN} characters"
        )));
    }
    if pattern.is_empty() {
        return Err(fail("it is empty".into()));
    }
    let parsed = ast::parse::Parser::new().parse(pattern).map_err(|e| {
        let kind = e.kind().to_string();
        let reason = if kind.contains("look-around") {
            "look-ahead and look-behind ((?=, (?!, (?<=, (?<!) are not supported".to_string()
        } else if kind.contains("backreferences") {
            "backreferences are not supported".to_string()
        } else {
            format!("{kind} (at character {})", e.span().start.offset + 1)
        };
        fail(reason)
    })?;
    let rewrites = ast::visit(&parsed, DialectCheck::default()).map_err(fail)?;
    let rewritten = apply_rewrites(pattern, rewrites);
    RegexBuilder::new(&rewritten)
        .size_limit(8 * (1 << 20))
        .dfa_size_limit(8 * (1 << 20))
        .build()
        .map_err(|e| fail(first_line(&e.to_string())))
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

#[derive(Default)]
struct DialectCheck {
    rewrites: Vec<Rewrite>,
}

fn perl_ascii(kind: &ClassPerlKind, negated: bool, in_bracket: bool) -> &'static str {
    match (kind, negated, in_bracket) {
        (ClassPerlKind::Digit, false, false) => "[0-9]",
        (ClassPerlKind::Digit, true, false) => "[^0-9]",
        (ClassPerlKind::Digit, false, true) => "0-9",
        (ClassPerlKind::Digit, true, true) => "[^0-9]",
        (ClassPerlKind::Word, false, false) => "[0-9A-Za-z_]",
        (ClassPerlKind::Word, true, false) => "[^0-9A-Za-z_]",
        (ClassPerlKind::Word, false, true) => "0-9A-Za-z_",
        (ClassPerlKind::Word, true, true) => "[^0-9A-Za-z_]",
        (ClassPerlKind::Space, false, false) => r"[\t\n\x0B\x0C\r ]",
        (ClassPerlKind::Space, true, false) => r"[^\t\n\x0B\x0C\r ]",
        (ClassPerlKind::Space, false, true) => r"\t\n\x0B\x0C\r ",
        (ClassPerlKind::Space, true, true) => r"[^\t\n\x0B\x0C\r ]",
    }
}

impl Visitor for DialectCheck {
    type Output = Vec<Rewrite>;
    type Err = String;

    fn finish(self) -> Result<Self::Output, String> {
        Ok(self.rewrites)
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), String> {
        match ast {
            Ast::Group(g) if matches!(g.kind, ast::GroupKind::CaptureIndex(_) | ast::GroupKind::CaptureName { .. }) => {
                Err(format!(
                    "capturing groups are not supported (at character {}); write (?:...) instead of (...)",
                    g.span.start.offset + 1
                ))
            }
            Ast::ClassPerl(_) | Ast::Assertion(_) => {
                self.rewrites.extend(ascii_rewrite(ast));
                Ok(())
            }
            Ast::Repetition(r) => {
                if let ast::RepetitionKind::Range(range) = &r.op.kind {
                    let max = match range {
                        ast::RepetitionRange::Exactly(n) | ast::RepetitionRange::AtLeast(n) => *n,
                        ast::RepetitionRange::Bounded(_, m) => *m,
                    };
                    if max > MAX_COUNTED_REPEAT {
                        return Err(format!(
                            "the repetition {{..{max}}} is too large (at most {MAX_COUNTED_REPEAT})"
                        ));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), String> {
        self.rewrites.extend(ascii_class_item_rewrite(item));
        Ok(())
    }
}

/// The PCRE (ASCII) spelling of a Perl class or word-boundary assertion outside brackets.
fn ascii_rewrite(ast: &Ast) -> Option<Rewrite> {
    match ast {
        Ast::ClassPerl(c) => Some((
            c.span.start.offset..c.span.end.offset,
            perl_ascii(&c.kind, c.negated, false),
        )),
        Ast::Assertion(a) => match a.kind {
            ast::AssertionKind::WordBoundary => {
                Some((a.span.start.offset..a.span.end.offset, r"(?-u:\b)"))
            }
            ast::AssertionKind::NotWordBoundary => {
                Some((a.span.start.offset..a.span.end.offset, r"(?-u:\B)"))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The PCRE (ASCII) spelling of a Perl class inside brackets.
fn ascii_class_item_rewrite(item: &ClassSetItem) -> Option<Rewrite> {
    match item {
        ClassSetItem::Perl(c) => Some((
            c.span.start.offset..c.span.end.offset,
            perl_ascii(&c.kind, c.negated, true),
        )),
        _ => None,
    }
}

/// A replacement for one span of a pattern.
type Rewrite = (std::ops::Range<usize>, &'static str);

/// Collects the rewrites two functions ask for, over every node and class item of a pattern.
struct Rewrites<'f> {
    node: &'f dyn Fn(&Ast) -> Option<Rewrite>,
    item: &'f dyn Fn(&ClassSetItem) -> Option<Rewrite>,
    found: Vec<Rewrite>,
}

impl Visitor for Rewrites<'_> {
    type Output = Vec<Rewrite>;
    type Err = std::convert::Infallible;

    fn finish(self) -> Result<Self::Output, Self::Err> {
        Ok(self.found)
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), Self::Err> {
        self.found.extend((self.node)(ast));
        Ok(())
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), Self::Err> {
        self.found.extend((self.item)(item));
        Ok(())
    }
}

/// `pattern` with the rewrites `node` and `item` ask for applied, or unchanged when it does
/// not parse (the compiler then reports it).
fn rewrite(
    pattern: &str,
    node: &dyn Fn(&Ast) -> Option<Rewrite>,
    item: &dyn Fn(&ClassSetItem) -> Option<Rewrite>,
) -> String {
    let Ok(parsed) = ast::parse::Parser::new().parse(pattern) else {
        return pattern.to_string();
    };
    let visitor = Rewrites {
        node,
        item,
        found: Vec::new(),
    };
    match ast::visit(&parsed, visitor) {
        Ok(found) => apply_rewrites(pattern, found),
        Err(never) => match never {},
    }
}

/// A built-in pattern written in ASCII (no `\p{..}` class, no non-ASCII literal) with its
/// `\d`, `\w`, `\s` and `\b` made ASCII, as in Macie's dialect. Its meaning on the values the
/// validators accept is unchanged (they read ASCII digits and letters), and the automata get
/// far smaller: Unicode `\d` alone is dozens of byte ranges, and each of the catalog's
/// hundreds of patterns repeats it. Patterns that use Unicode classes keep Unicode semantics
/// (a name's `\b` must see `É` as a letter), as does one that does not parse.
pub fn ascii_builtin_pattern(pattern: &str) -> String {
    if !pattern.is_ascii() || pattern.contains(r"\p") || pattern.contains(r"\P") {
        return pattern.to_string();
    }
    rewrite(pattern, &ascii_rewrite, &ascii_class_item_rewrite)
}

fn apply_rewrites(pattern: &str, mut rewrites: Vec<Rewrite>) -> String {
    rewrites.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(pattern.len() + rewrites.len() * 8);
    let mut at = 0;
    for (range, replacement) in rewrites {
        out.push_str(&pattern[at..range.start]);
        out.push_str(replacement);
        at = range.end;
    }
    out.push_str(&pattern[at..]);
    out
}

/// A pattern for the shared first pass that finds at least everything `pattern` finds: a
/// built-in pattern that kept Unicode semantics (see [`ascii_builtin_pattern`]) loses its
/// word-boundary assertions, which the lazy DFA cannot evaluate on non-ASCII text. With them,
/// one accented letter in a unit sent the whole multi-pattern pass to the PikeVM, whose
/// per-thread cache grows with the square of the pattern count (18 MB per thread for the
/// catalog). The identifier's own regex, which keeps them, still decides every match.
pub fn first_pass_pattern(pattern: &str) -> String {
    if pattern.contains(r"(?-u:\b)") || pattern.contains(r"(?-u:\B)") {
        return pattern.to_string();
    }
    let word_boundary = |ast: &Ast| match ast {
        Ast::Assertion(a)
            if matches!(
                a.kind,
                ast::AssertionKind::WordBoundary | ast::AssertionKind::NotWordBoundary
            ) =>
        {
            Some((a.span.start.offset..a.span.end.offset, ""))
        }
        _ => None,
    };
    rewrite(pattern, &word_boundary, &|_| None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_walkthrough_patterns() {
        for p in [
            "[a-z,0-9]{8}-[a-z,0-9]{4}-[a-z,0-9]{4}-[a-z,0-9]{4}-[a-z,0-9]{12}",
            r"[S]{1}\d{8}",
            r"[X]{1}\d{8}[X]{1}",
            r"(?i)emp-(?:\d{4})",
        ] {
            compile_macie_regex(p).unwrap();
        }
    }

    #[test]
    fn refuses_what_macie_refuses() {
        let reason = |p: &str| compile_macie_regex(p).unwrap_err().reason;
        assert!(reason(r"(\d{3})-\d{2}").contains("capturing groups are not supported"));
        assert!(reason(r"(?P<x>\d)").contains("capturing groups"));
        assert!(reason(r"\d(?=x)").contains("look-ahead"));
        assert!(reason(r"(?<!x)\d").contains("look-ahead and look-behind"));
        assert!(reason(r"(?:a)\1").contains("backreferences"));
        assert!(reason(r"\d{100,1000}").contains("too large"));
        assert!(reason(&"a".repeat(513)).contains("longer than 512"));
        assert!(reason("[a-").contains("at character"));
        assert!(reason("").contains("empty"));
    }

    #[test]
    fn builtin_ascii_patterns_get_ascii_classes_and_unicode_ones_do_not() {
        assert_eq!(
            ascii_builtin_pattern(r"\b[A-Z]{2}\d{2}[\d ]\b"),
            r"(?-u:\b)[A-Z]{2}[0-9]{2}[0-9 ](?-u:\b)"
        );
        assert_eq!(ascii_builtin_pattern(r"\b\p{Lu}\d"), r"\b\p{Lu}\d");
        assert_eq!(ascii_builtin_pattern(r"numéro \d"), r"numéro \d");
    }

    #[test]
    fn first_pass_patterns_drop_only_unicode_word_boundaries() {
        assert_eq!(first_pass_pattern(r"\b\p{Lu}\p{Ll}+\b"), r"\p{Lu}\p{Ll}+");
        let ascii = ascii_builtin_pattern(r"\b\d{3}\b");
        assert_eq!(first_pass_pattern(&ascii), ascii);
    }

    #[test]
    fn perl_classes_are_ascii_as_in_pcre() {
        let d = compile_macie_regex(r"^\d+$").unwrap();
        assert!(d.is_match(b"0123"));
        assert!(
            !d.is_match("١٢٣".as_bytes()),
            "Arabic-Indic digits are not \\d in PCRE"
        );
        let w = compile_macie_regex(r"^[\w-]+$").unwrap();
        assert!(w.is_match(b"ab_c-1"));
        assert!(!w.is_match("é".as_bytes()));
        let b = compile_macie_regex(r"\bid\b").unwrap();
        assert!(b.is_match(b"an id here"));
        let s = compile_macie_regex(r"a\sb\S").unwrap();
        assert!(s.is_match(b"a bc"));
        // Literal non-ASCII characters still match.
        assert!(compile_macie_regex("numéro")
            .unwrap()
            .is_match("le numéro".as_bytes()));
    }
}
