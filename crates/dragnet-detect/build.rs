//! Turns the managed-identifier catalog (`catalog/*.toml`, one file per family of data types)
//! into the `MANAGED` table the engine uses, at build time: the catalog stays reviewable data,
//! the program pays nothing to load it, and a mistake in it (a duplicate id, an unknown
//! category or pattern kind, a validator that does not exist) stops the build with a message
//! naming the file and the identifier.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    /// Named regex pieces, written `{{name}}` in a pattern (and in other fragments).
    #[serde(default)]
    fragments: BTreeMap<String, String>,
    #[serde(default)]
    identifier: Vec<Identifier>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Identifier {
    id: String,
    category: String,
    #[serde(default)]
    recommended: bool,
    #[serde(default)]
    extension: bool,
    #[serde(default)]
    keywords: Vec<String>,
    validator: Option<String>,
    priority: u8,
    cloudwatch: Option<String>,
    note: Option<String>,
    examples: Vec<String>,
    negative_examples: Vec<String>,
    pattern: Vec<Pattern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Pattern {
    regex: String,
    kind: String,
    requires: Option<String>,
}

fn main() {
    let dir =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("catalog");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| fail(&dir, &format!("cannot list the catalog folder: {e}")))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut code = String::from(
        "/// The managed identifiers dragnet ships, generated from `catalog/*.toml`.\n\
         pub static MANAGED: &[ManagedIdentifier] = &[\n",
    );
    let mut seen = HashSet::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| fail(path, &format!("cannot read: {e}")));
        let file: CatalogFile =
            toml::from_str(&text).unwrap_or_else(|e| fail(path, &e.to_string()));
        for ident in &file.identifier {
            if !seen.insert(ident.id.clone()) {
                fail(path, &format!("identifier {} is defined twice", ident.id));
            }
            emit(&mut code, ident, &file.fragments)
                .unwrap_or_else(|e| fail(path, &format!("identifier {}: {e}", ident.id)));
        }
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join("catalog.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| fail(&out, &e.to_string()));
}

fn fail(path: &Path, message: &str) -> ! {
    panic!("managed catalog {}: {message}", path.display())
}

/// Writes one `ManagedIdentifier` literal.
fn emit(
    code: &mut String,
    m: &Identifier,
    fragments: &BTreeMap<String, String>,
) -> Result<(), String> {
    let category = match m.category.as_str() {
        "CREDENTIALS" => "Credentials",
        "FINANCIAL_INFORMATION" => "FinancialInformation",
        "PERSONAL_INFORMATION" => "PersonalInformation",
        other => return Err(format!("unknown category {other:?}")),
    };
    if m.extension && m.recommended {
        return Err("an extension cannot be in Macie's RECOMMENDED set".into());
    }
    if m.pattern.is_empty() {
        return Err("needs at least one [[identifier.pattern]]".into());
    }
    let validator = match &m.validator {
        None => "None".to_string(),
        Some(path) if is_rust_path(path) => format!("Some(crate::{path})"),
        Some(path) => {
            return Err(format!(
                "validator {path:?} is not a path like module::function"
            ))
        }
    };
    let mut patterns = String::new();
    for p in &m.pattern {
        let kind = match p.kind.as_str() {
            "always" => "Always",
            "needs_keyword" => "NeedsKeyword",
            "whole_value_in_keyword_column" => "WholeValueInKeywordColumn",
            other => return Err(format!("unknown pattern kind {other:?}")),
        };
        if kind != "Always" && m.keywords.is_empty() {
            return Err(format!("a {:?} pattern needs keywords", p.kind));
        }
        let requires = match p.requires.as_deref() {
            None => "None".to_string(),
            Some(s) if s.len() == 1 && s.is_ascii() => format!("Some({:?})", s.as_bytes()[0]),
            Some(s) => return Err(format!("requires {s:?} must be one ASCII character")),
        };
        let regex = expand(&p.regex, fragments, 0)?;
        write!(
            patterns,
            "PatternDef {{ regex: {regex:?}, kind: PatternKind::{kind}, requires: {requires} }}, "
        )
        .expect("writing to a String");
    }
    writeln!(
        code,
        "    ManagedIdentifier {{ id: {id:?}, category: Category::{category}, \
         recommended: {rec}, extension: {ext}, keywords: &{kw:?}, patterns: &[{patterns}], \
         validator: {validator}, priority: {prio}, cloudwatch_name: {cw:?}, note: {note:?}, \
         examples: &{ex:?}, negative_examples: &{neg:?} }},",
        id = m.id,
        rec = m.recommended,
        ext = m.extension,
        kw = m.keywords,
        prio = m.priority,
        cw = m.cloudwatch,
        note = m.note,
        ex = m.examples,
        neg = m.negative_examples,
    )
    .expect("writing to a String");
    Ok(())
}

/// A validator path such as `national::uk_nino`: lowercase words joined by `::`.
fn is_rust_path(path: &str) -> bool {
    path.split("::").all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    })
}

/// Replaces each `{{name}}` with its fragment (fragments may use other fragments).
fn expand(
    regex: &str,
    fragments: &BTreeMap<String, String>,
    depth: usize,
) -> Result<String, String> {
    if depth > 8 {
        return Err("fragments nest too deep (a fragment that uses itself?)".into());
    }
    let mut out = String::with_capacity(regex.len());
    let mut rest = regex;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| format!("unclosed {{{{ in {regex:?}"))?;
        let name = &rest[start + 2..start + end];
        let fragment = fragments
            .get(name)
            .ok_or_else(|| format!("unknown fragment {{{{{name}}}}}"))?;
        out.push_str(&rest[..start]);
        out.push_str(&expand(fragment, fragments, depth + 1)?);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
