//! The detection engine: runs every selected identifier over a unit of text (a CSV cell, a
//! text line, a JSON value) and reports where each one matched.
//!
//! Pure and synchronous: no I/O, no async, no allocation per unit beyond the output.
//! Each column or path gets a plan once: one multi-pattern pass over a unit runs every pattern
//! that needs no keyword there; keyword-gated identifiers run only when an Aho-Corasick pass
//! finds one of their keywords in the unit; only the patterns that matched run their own
//! regex, keyword distance check and validator. Short units seen before under the same plan
//! take their detections from a per-thread memo (see `memo`): column data repeats itself.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use dragnet_model::identifiers::SeverityThreshold;
use dragnet_model::{Category, CustomDataIdentifier, SeverityLevel};
use regex::bytes::{Regex, RegexBuilder};
use regex_automata::{meta, Input, PatternSet};

use crate::allow::AllowMatcher;
use crate::catalog::{ManagedIdentifier, PatternKind, MANAGED_KEYWORD_DISTANCE};
use crate::dialect::{
    ascii_builtin_pattern, compile_macie_regex, first_pass_pattern, DialectError,
};
use crate::keywords::{char_count, fold, name_holds_keyword, name_tokens};
use crate::memo::{Recall, UnitMemo};
use crate::validators::Validator;

/// What kind of identifier a detection comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentifierKind {
    /// A managed identifier of this category.
    Managed {
        /// Macie category.
        category: Category,
        /// Overlap priority.
        priority: u8,
    },
    /// A custom identifier with its severity thresholds.
    Custom {
        /// `severityLevels`, if given.
        severity_levels: Option<Vec<SeverityThreshold>>,
    },
}

/// Public facts about one compiled identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierInfo {
    /// Managed id or custom identifier id.
    pub id: String,
    /// Display name (the id for managed identifiers).
    pub name: String,
    /// Managed or custom.
    pub kind: IdentifierKind,
}

impl IdentifierInfo {
    /// The category detections of this identifier belong to.
    pub fn category(&self) -> Category {
        match self.kind {
            IdentifierKind::Managed { category, .. } => category,
            IdentifierKind::Custom { .. } => Category::CustomIdentifier,
        }
    }
}

#[derive(Debug)]
struct CompiledPattern {
    /// The pattern as the engine runs it (a built-in one after [`ascii_builtin_pattern`]).
    source: String,
    /// Compiled on first use: most identifiers never match in a given data set, and compiling
    /// every one of the catalog's regexes up front was half of an engine's start (a unit test
    /// compiles them all, so a bad built-in pattern cannot wait for a user's data).
    regex: OnceLock<Regex>,
    kind: PatternKind,
    requires: Option<u8>,
}

impl CompiledPattern {
    /// The pattern's own regex, compiled the first time it is needed.
    fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            RegexBuilder::new(&self.source)
                .build()
                .unwrap_or_else(|e| panic!("invalid built-in regex {:?}: {e}", self.source))
        })
    }
}

#[derive(Debug)]
struct CompiledIdentifier {
    info: IdentifierInfo,
    patterns: Vec<CompiledPattern>,
    folded_keywords: Vec<String>,
    distance: usize,
    /// Custom identifiers measure to the end of the match, managed ones to its start.
    distance_to_end: bool,
    validator: Option<Validator>,
    ignore_words: Vec<Vec<u8>>,
}

/// A detection in a unit: which identifier, and the byte range in the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index of the identifier in the engine ([`Engine::info`]).
    pub identifier: usize,
    /// Byte range of the match in the unit.
    pub start: usize,
    /// End of the byte range.
    pub end: usize,
}

/// Why an engine could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A custom identifier's regex is not in Macie's dialect.
    #[error("custom data identifier {id:?} ({name}): {source}")]
    CustomRegex {
        /// Identifier id.
        id: String,
        /// Identifier name.
        name: String,
        /// What is wrong with the regex.
        source: DialectError,
    },
    /// An allow list regex is not valid.
    #[error("allow list {id:?}: {source}")]
    AllowListRegex {
        /// Allow list id.
        id: String,
        /// What is wrong with the regex.
        source: DialectError,
    },
    /// The combined patterns are too large to compile together.
    #[error("the selected identifiers could not be compiled together: {0}")]
    TooLarge(String),
}

/// Which identifiers a column or field name qualifies (its keywords are in the name), and
/// the scan plan that follows from it, decided once per column or path.
#[derive(Debug, Clone, Default)]
pub struct Qualification {
    qualified: Arc<[bool]>,
    plan: Option<Arc<ScanPlan>>,
}

impl Qualification {
    /// Whether identifier `i` is qualified.
    pub fn contains(&self, i: usize) -> bool {
        self.qualified.get(i).copied().unwrap_or(false)
    }
}

/// What runs over the units of one column or path.
#[derive(Debug)]
struct ScanPlan {
    /// Unique among every plan of the process: the key of the per-thread search caches of
    /// `set` (an address could be reused by a later plan).
    id: u64,
    /// One multi-pattern pass over the unit: every pattern that needs no keyword in the unit
    /// (always-on patterns, and keyword patterns whose keyword is in the column name).
    set: Option<meta::Regex>,
    /// `(identifier, pattern)` of each pattern of `set`, by pattern id.
    set_owner: Vec<(usize, usize)>,
    /// Whole-value patterns of qualified identifiers.
    whole_value: Vec<(usize, usize)>,
    /// Identifiers whose keyword patterns run only when one of their keywords is in the unit.
    gated: Vec<usize>,
    /// Shortest unit any pattern of `set` can match (shorter units skip the pass).
    min_len: usize,
    /// Patterns that run alone, only on units holding their required byte.
    /// Grouped by that byte, so a unit is searched once per distinct byte (the six
    /// international phone patterns all need `+`).
    byte_gated: Vec<(u8, Vec<(usize, usize)>)>,
}

/// The compiled set of identifiers a job runs.
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    identifiers: Vec<CompiledIdentifier>,
    keyword_ac: Option<AhoCorasick>,
    /// For each keyword of the automaton (by pattern id): the identifiers it belongs to (one
    /// keyword may serve several, e.g. `passport`) and its text.
    keyword_owner: Vec<(Vec<usize>, Vec<u8>)>,
    allow: AllowMatcher,
    /// The plan for free text (nothing qualified).
    default_plan: Arc<ScanPlan>,
    /// Plans by qualification, built on first use.
    plans: Mutex<HashMap<Arc<[bool]>, Arc<ScanPlan>>>,
    /// Qualifications by column name or path, computed on first use.
    qualifications: Mutex<HashMap<Vec<String>, Qualification>>,
}

/// How many distinct column names or paths an engine remembers the qualification of.
const MAX_CACHED_QUALIFICATIONS: usize = 4096;

/// Source of [`ScanPlan::id`].
static NEXT_PLAN_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Plans whose search caches one thread keeps; past this the caches are dropped and rebuilt
/// on use (a run with this many distinct column qualifications is rare).
const MAX_THREAD_CACHES: usize = 256;

/// Per-thread buffers, so scanning a unit allocates nothing.
///
/// It also holds this thread's search cache of each plan's multi-pattern regex. Without
/// them, every search takes a cache from the regex's shared pool, which is free for the first
/// thread that used the regex but costs a mutex round trip on every unit for any other
/// thread: with two workers, 40% more CPU on Synthea-shaped data.
#[derive(Default)]
struct Scratch {
    set_caches: HashMap<u64, meta::Cache, BuildHasherDefault<PlanIdHasher>>,
    patterns: Option<PatternSet>,
    keyword_ends: Vec<(usize, usize)>,
    ends: Vec<usize>,
    memo: UnitMemo,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Hashes plan ids, which the process hands out one by one, with a multiplication: the
/// search caches are looked up once per unit, and SipHash, the default, cost 3% of a scan.
#[derive(Default)]
struct PlanIdHasher(u64);

impl Hasher for PlanIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

fn build_plan(
    identifiers: &[CompiledIdentifier],
    qualified: &[bool],
) -> Result<ScanPlan, EngineError> {
    let mut plan = ScanPlan {
        id: NEXT_PLAN_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        set: None,
        set_owner: Vec::new(),
        whole_value: Vec::new(),
        gated: Vec::new(),
        min_len: 0,
        byte_gated: Vec::new(),
    };
    let mut patterns = Vec::new();
    for (i, ident) in identifiers.iter().enumerate() {
        let q = qualified.get(i).copied().unwrap_or(false);
        let mut gated = false;
        for (j, p) in ident.patterns.iter().enumerate() {
            match (p.kind, q) {
                (PatternKind::Always, _) | (PatternKind::NeedsKeyword, true)
                    if p.requires.is_some() =>
                {
                    let byte = p.requires.unwrap_or_default();
                    match plan.byte_gated.iter_mut().find(|(b, _)| *b == byte) {
                        Some((_, group)) => group.push((i, j)),
                        None => plan.byte_gated.push((byte, vec![(i, j)])),
                    }
                }
                (PatternKind::Always, _) | (PatternKind::NeedsKeyword, true) => {
                    patterns.push(first_pass_pattern(&p.source));
                    plan.set_owner.push((i, j));
                }
                (PatternKind::NeedsKeyword, false) => gated = true,
                (PatternKind::WholeValueInKeywordColumn, true) => plan.whole_value.push((i, j)),
                (PatternKind::WholeValueInKeywordColumn, false) => {}
            }
        }
        if gated {
            plan.gated.push(i);
        }
    }
    if !patterns.is_empty() {
        let set = meta::Regex::builder()
            .syntax(regex_automata::util::syntax::Config::new().utf8(false))
            .configure(
                meta::Config::new()
                    .match_kind(regex_automata::MatchKind::All)
                    .utf8_empty(false)
                    .nfa_size_limit(Some(64 << 20))
                    .hybrid_cache_capacity(8 << 20),
            )
            .build_many(&patterns)
            .map_err(|e| EngineError::TooLarge(e.to_string()))?;
        plan.min_len = patterns
            .iter()
            .map(|p| {
                regex_syntax::ParserBuilder::new()
                    .utf8(false)
                    .build()
                    .parse(p)
                    .ok()
                    .and_then(|hir| hir.properties().minimum_len())
                    .unwrap_or(0)
            })
            .min()
            .unwrap_or(0);
        plan.set = Some(set);
    }
    Ok(plan)
}

impl Engine {
    /// Builds an engine from managed identifiers, custom identifiers and allow lists.
    pub fn new(
        managed: &[&ManagedIdentifier],
        custom: &[CustomDataIdentifier],
        allow: AllowMatcher,
    ) -> Result<Self, EngineError> {
        let mut identifiers = Vec::new();
        for m in managed {
            let patterns = m
                .patterns
                .iter()
                .map(|p| CompiledPattern {
                    source: ascii_builtin_pattern(p.regex),
                    regex: OnceLock::new(),
                    kind: p.kind,
                    requires: p.requires,
                })
                .collect();
            identifiers.push(CompiledIdentifier {
                info: IdentifierInfo {
                    id: m.id.to_string(),
                    name: m.id.to_string(),
                    kind: IdentifierKind::Managed {
                        category: m.category,
                        priority: m.priority,
                    },
                },
                patterns,
                folded_keywords: m.keywords.iter().map(|k| fold(k)).collect(),
                distance: MANAGED_KEYWORD_DISTANCE,
                distance_to_end: false,
                validator: m.validator,
                ignore_words: Vec::new(),
            });
        }
        for c in custom {
            let regex =
                compile_macie_regex(&c.regex).map_err(|source| EngineError::CustomRegex {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    source,
                })?;
            let kind = if c.keywords.is_empty() {
                PatternKind::Always
            } else {
                PatternKind::NeedsKeyword
            };
            identifiers.push(CompiledIdentifier {
                info: IdentifierInfo {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    kind: IdentifierKind::Custom {
                        severity_levels: c.severity_levels.clone(),
                    },
                },
                patterns: vec![CompiledPattern {
                    source: regex.as_str().to_string(),
                    regex: OnceLock::from(regex),
                    kind,
                    requires: None,
                }],
                folded_keywords: c.keywords.iter().map(|k| fold(k)).collect(),
                distance: c.max_match_distance(),
                distance_to_end: true,
                validator: None,
                ignore_words: c
                    .ignore_words
                    .iter()
                    .map(|w| w.as_bytes().to_vec())
                    .collect(),
            });
        }
        Self::assemble(identifiers, managed, custom, allow)
    }

    fn assemble(
        identifiers: Vec<CompiledIdentifier>,
        managed: &[&ManagedIdentifier],
        custom: &[CustomDataIdentifier],
        allow: AllowMatcher,
    ) -> Result<Self, EngineError> {
        // The plan with every identifier qualified holds every pattern any plan can hold:
        // if it compiles, every plan does. The managed catalog alone is known to (a unit
        // test builds that plan), so only engines with custom identifiers pay for the check
        // at start, which is most of an engine's start-up time.
        if !custom.is_empty() {
            let all: Vec<bool> = vec![true; identifiers.len()];
            build_plan(&identifiers, &all)?;
        }
        let default_plan = Arc::new(build_plan(&identifiers, &[])?);
        // In-unit keywords matter only to identifiers with keyword-gated patterns (NAME's and
        // ADDRESS's keywords only qualify column names). Leftmost-longest matching lets the
        // automaton use its prefilter; where keywords overlap, the longest counts (it ends
        // later, so nothing within the distance is lost).
        let mut keyword_owner: Vec<(Vec<usize>, Vec<u8>)> = Vec::new();
        let mut keyword_index: HashMap<String, usize> = HashMap::new();
        let mut keyword_texts = Vec::new();
        let raw_keywords = managed
            .iter()
            .map(|m| m.keywords.iter().map(|k| k.to_string()).collect::<Vec<_>>())
            .chain(custom.iter().map(|c| c.keywords.clone()));
        for (i, kws) in raw_keywords.enumerate() {
            if !identifiers[i]
                .patterns
                .iter()
                .any(|p| p.kind == PatternKind::NeedsKeyword)
            {
                continue;
            }
            for k in kws {
                for variant in case_variants(&k.to_lowercase()) {
                    // One automaton pattern per distinct keyword: with duplicates, a match would
                    // credit only the first identifier that has it.
                    match keyword_index.get(&variant) {
                        Some(&at) => {
                            let owners: &mut Vec<usize> = &mut keyword_owner[at].0;
                            if !owners.contains(&i) {
                                owners.push(i);
                            }
                        }
                        None => {
                            keyword_index.insert(variant.clone(), keyword_texts.len());
                            keyword_owner.push((vec![i], variant.clone().into_bytes()));
                            keyword_texts.push(variant);
                        }
                    }
                }
            }
        }
        let keyword_ac = if keyword_texts.is_empty() {
            None
        } else {
            Some(keyword_automaton(&keyword_texts)?)
        };
        Ok(Engine {
            inner: Arc::new(Inner {
                identifiers,
                keyword_ac,
                keyword_owner,
                allow,
                default_plan,
                plans: Mutex::new(HashMap::new()),
                qualifications: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Number of identifiers.
    pub fn len(&self) -> usize {
        self.inner.identifiers.len()
    }

    /// True when no identifier is selected.
    pub fn is_empty(&self) -> bool {
        self.inner.identifiers.is_empty()
    }

    /// Facts about identifier `i`.
    pub fn info(&self, i: usize) -> &IdentifierInfo {
        &self.inner.identifiers[i].info
    }

    /// Which identifiers the given names (a column header, or the elements of a JSON path)
    /// qualify: those with a keyword in any of the names. The scan plan for units under these
    /// names is built once here (and cached), not per unit.
    pub fn qualify(&self, names: &[&str]) -> Qualification {
        // Every object of a data set repeats the same headers: the answer is kept per names,
        // up to a bound (hostile JSON can hold any number of distinct paths).
        let key: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let lock = || {
            self.inner
                .qualifications
                .lock()
                .unwrap_or_else(|p| p.into_inner())
        };
        if let Some(known) = lock().get(&key) {
            return known.clone();
        }
        let q = self.qualify_uncached(names);
        let mut cache = lock();
        if cache.len() < MAX_CACHED_QUALIFICATIONS {
            cache.insert(key, q.clone());
        }
        q
    }

    fn qualify_uncached(&self, names: &[&str]) -> Qualification {
        let prepared: Vec<(String, Vec<String>)> =
            names.iter().map(|n| (fold(n), name_tokens(n))).collect();
        let qualified: Arc<[bool]> = self
            .inner
            .identifiers
            .iter()
            .map(|ident| {
                ident.folded_keywords.iter().any(|k| {
                    prepared
                        .iter()
                        .any(|(folded, tokens)| name_holds_keyword(folded, tokens, k))
                })
            })
            .collect();
        if !qualified.iter().any(|q| *q) {
            return Qualification {
                qualified,
                plan: Some(self.inner.default_plan.clone()),
            };
        }
        let mut plans = self.inner.plans.lock().unwrap_or_else(|p| p.into_inner());
        let plan =
            plans
                .entry(qualified.clone())
                .or_insert_with(|| {
                    Arc::new(build_plan(&self.inner.identifiers, &qualified).expect(
                        "a subset of patterns that compiled together at construction compiles",
                    ))
                })
                .clone();
        Qualification {
            qualified,
            plan: Some(plan),
        }
    }

    /// Scans one unit of text and appends its detections to `out`.
    ///
    /// `qualification` comes from [`Engine::qualify`] for the unit's column or path (use the
    /// default for free text). Matches ending at or before `skip_before` are not reported: a
    /// caller that scans a long value in overlapping windows passes the overlap here.
    pub fn scan(
        &self,
        text: &[u8],
        qualification: &Qualification,
        skip_before: usize,
        out: &mut Vec<Hit>,
    ) {
        if text.is_empty() {
            return;
        }
        let plan = qualification
            .plan
            .as_ref()
            .unwrap_or(&self.inner.default_plan);
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            // A window's overlap (skip_before) changes what is reported, so only whole units
            // go through the memo.
            if skip_before > 0 {
                return self.scan_with(plan, text, skip_before, out, &mut scratch);
            }
            match scratch.memo.recall(plan.id, text, out) {
                Recall::Hit => {}
                Recall::TooLong => self.scan_with(plan, text, 0, out, &mut scratch),
                Recall::Miss(slot) => {
                    let first_new = out.len();
                    self.scan_with(plan, text, 0, out, &mut scratch);
                    scratch
                        .memo
                        .remember(slot, plan.id, text, &out[first_new..]);
                }
            }
        });
    }

    fn scan_with(
        &self,
        plan: &ScanPlan,
        text: &[u8],
        skip_before: usize,
        out: &mut Vec<Hit>,
        scratch: &mut Scratch,
    ) {
        let inner = &*self.inner;
        let first_new = out.len();
        // 1. One pass for everything that needs no keyword in the unit.
        if let Some(set) = plan.set.as_ref().filter(|_| text.len() >= plan.min_len) {
            let needed = set.pattern_len();
            let patterns = scratch
                .patterns
                .get_or_insert_with(|| PatternSet::new(needed));
            if patterns.capacity() < needed {
                *patterns = PatternSet::new(needed);
            }
            // Most units match nothing: clearing and walking the set (one flag per pattern,
            // hundreds of patterns) is skipped for them.
            if !patterns.is_empty() {
                patterns.clear();
            }
            if scratch.set_caches.len() >= MAX_THREAD_CACHES
                && !scratch.set_caches.contains_key(&plan.id)
            {
                scratch.set_caches.clear();
            }
            let cache = scratch
                .set_caches
                .entry(plan.id)
                .or_insert_with(|| set.create_cache());
            set.which_overlapping_matches_with(cache, &Input::new(text), patterns);
            for pid in patterns.iter().take(patterns.len()) {
                let (ii, pi) = plan.set_owner[pid.as_usize()];
                self.find_all(ii, pi, text, skip_before, None, out, first_new);
            }
        }
        // 1b. Patterns that cannot match without a byte the unit does not hold are skipped.
        for (byte, group) in &plan.byte_gated {
            if memchr::memchr(*byte, text).is_some() {
                for &(ii, pi) in group {
                    self.find_all(ii, pi, text, skip_before, None, out, first_new);
                }
            }
        }
        // 2. Whole values in qualified columns (names, street lines).
        for &(ii, pi) in &plan.whole_value {
            let range = trimmed(text);
            let ident = &inner.identifiers[ii];
            if range.end > skip_before
                && ident.patterns[pi].regex().is_match(&text[range.clone()])
                && self.accept(ident, text, range.clone())
            {
                push_unique(
                    out,
                    first_new,
                    Hit {
                        identifier: ii,
                        start: range.start,
                        end: range.end,
                    },
                );
            }
        }
        // 3. Keyword-gated identifiers, only when one of their keywords is in the unit: the
        // keywords found are grouped by identifier, so the cost follows the keywords in the
        // unit, not the number of gated identifiers (hundreds with custom ones).
        if !plan.gated.is_empty() {
            self.keyword_ends(text, &mut scratch.keyword_ends);
            scratch.keyword_ends.sort_unstable();
            let mut rest = &scratch.keyword_ends[..];
            while let Some(&(ii, _)) = rest.first() {
                let same = rest.iter().take_while(|(o, _)| *o == ii).count();
                let (group, tail) = rest.split_at(same);
                rest = tail;
                // `gated` is in identifier order.
                if plan.gated.binary_search(&ii).is_err() {
                    continue;
                }
                scratch.ends.clear();
                scratch.ends.extend(group.iter().map(|(_, e)| *e));
                for (pi, p) in inner.identifiers[ii].patterns.iter().enumerate() {
                    if p.kind == PatternKind::NeedsKeyword {
                        self.find_all(
                            ii,
                            pi,
                            text,
                            skip_before,
                            Some(&scratch.ends),
                            out,
                            first_new,
                        );
                    }
                }
            }
        }
        self.resolve_overlaps(out, first_new);
    }

    /// Every accepted match of one pattern. A rejected candidate must not hide an overlapping
    /// one ("Patient John" rejected, "John Smith" accepted), so the search resumes one
    /// character after a rejected match's start, and after the end of an accepted one.
    #[allow(clippy::too_many_arguments)]
    fn find_all(
        &self,
        ii: usize,
        pi: usize,
        text: &[u8],
        skip_before: usize,
        keyword_ends: Option<&[usize]>,
        out: &mut Vec<Hit>,
        first_new: usize,
    ) {
        let ident = &self.inner.identifiers[ii];
        let regex = ident.patterns[pi].regex();
        let mut at = 0;
        while let Some(m) = regex.find_at(text, at) {
            let valid = m.end() > skip_before
                && m.start() < m.end()
                && keyword_ends.is_none_or(|ends| keyword_precedes(text, ends, m.range(), ident))
                && ident.validator.is_none_or(|v| v(text, m.range()));
            if !valid {
                at = next_char_boundary(text, m.start());
            } else {
                // Ignore words and allow lists suppress the whole value, so the search goes
                // on after it rather than inside it.
                if !self.suppressed(ident, &text[m.range()]) {
                    push_unique(
                        out,
                        first_new,
                        Hit {
                            identifier: ii,
                            start: m.start(),
                            end: m.end(),
                        },
                    );
                }
                at = m.end();
            }
            if at >= text.len() {
                break;
            }
        }
    }

    fn accept(&self, ident: &CompiledIdentifier, text: &[u8], m: Range<usize>) -> bool {
        ident.validator.is_none_or(|v| v(text, m.clone())) && !self.suppressed(ident, &text[m])
    }

    /// The value holds one of the identifier's ignore words, or an allow list allows it.
    fn suppressed(&self, ident: &CompiledIdentifier, value: &[u8]) -> bool {
        ident
            .ignore_words
            .iter()
            .any(|w| !w.is_empty() && value.windows(w.len()).any(|x| x == w.as_slice()))
            || self.inner.allow.allows(value)
    }

    /// `(identifier, keyword end)` of every whole-word keyword occurrence in `text`, into `ends`.
    fn keyword_ends(&self, text: &[u8], ends: &mut Vec<(usize, usize)>) {
        ends.clear();
        let Some(ac) = &self.inner.keyword_ac else {
            return;
        };
        for m in ac.find_iter(text) {
            let (owners, kw) = &self.inner.keyword_owner[m.pattern().as_usize()];
            let starts_alnum = kw.first().is_some_and(u8::is_ascii_alphanumeric);
            let ends_alnum = kw.last().is_some_and(u8::is_ascii_alphanumeric);
            let before_ok =
                !starts_alnum || m.start() == 0 || !text[m.start() - 1].is_ascii_alphanumeric();
            let after_ok =
                !ends_alnum || m.end() >= text.len() || !text[m.end()].is_ascii_alphanumeric();
            if before_ok && after_ok {
                ends.extend(owners.iter().map(|&owner| (owner, m.end())));
            }
        }
    }

    /// Among overlapping managed detections of different identifiers, keeps the one with the
    /// higher priority (an email is not also a name; a card number is not also a phone).
    /// Custom identifiers are independent of managed ones and of each other, as in Macie.
    fn resolve_overlaps(&self, out: &mut Vec<Hit>, from: usize) {
        if out.len() - from < 2 {
            return;
        }
        let priority = |h: &Hit| match self.inner.identifiers[h.identifier].info.kind {
            IdentifierKind::Managed { priority, .. } => Some(priority),
            IdentifierKind::Custom { .. } => None,
        };
        let new: Vec<Hit> = out.drain(from..).collect();
        let mut keep = vec![true; new.len()];
        for i in 0..new.len() {
            let Some(pi) = priority(&new[i]) else {
                continue;
            };
            for j in 0..new.len() {
                if i == j || new[i].identifier == new[j].identifier {
                    continue;
                }
                let Some(pj) = priority(&new[j]) else {
                    continue;
                };
                let overlap = new[i].start < new[j].end && new[j].start < new[i].end;
                if overlap && (pj > pi || (pj == pi && new[j].identifier < new[i].identifier)) {
                    keep[i] = false;
                }
            }
        }
        out.extend(
            new.into_iter()
                .zip(keep)
                .filter(|(_, k)| *k)
                .map(|(h, _)| h),
        );
        out[from..].sort_by_key(|h| (h.start, h.identifier));
    }
}

/// The spellings of a lowercase keyword the in-unit search must find: the automaton folds
/// ASCII case only, so each letter outside ASCII with an uppercase form (`ú`/`Ú` in "rol único
/// tributario", `é` in "numéro") is tried both ways. Keywords with up to four such letters get
/// every combination; longer ones (Greek, Cyrillic) get each word lowercase, capitalised or
/// uppercase ("Άδεια οδήγησης", "свидетелство за управление на МПС") while that makes at most
/// [`MAX_WORD_CASE_VARIANTS`] spellings, and otherwise the all-lowercase, sentence-case,
/// title-case and all-uppercase ones.
fn case_variants(keyword: &str) -> Vec<String> {
    let foldable =
        |c: &char| !c.is_ascii() && c.to_uppercase().collect::<String>() != c.to_string();
    let upper = |c: char| c.to_uppercase().next().unwrap_or(c);
    let chars: Vec<char> = keyword.chars().collect();
    let at: Vec<usize> = (0..chars.len()).filter(|&i| foldable(&chars[i])).collect();
    let mut variants: Vec<String> = if at.len() <= 4 {
        (0..1u32 << at.len())
            .map(|mask| {
                let mut out = chars.clone();
                for (bit, &i) in at.iter().enumerate() {
                    if mask & (1 << bit) != 0 {
                        out[i] = upper(out[i]);
                    }
                }
                out.into_iter().collect()
            })
            .collect()
    } else {
        word_case_variants(keyword)
    };
    variants.sort();
    variants.dedup();
    variants
}

/// The most spellings [`case_variants`] makes of one keyword from its words' cases.
const MAX_WORD_CASE_VARIANTS: usize = 81;

/// Each word of `keyword` lowercase, capitalised or uppercase, in every combination when
/// there are at most [`MAX_WORD_CASE_VARIANTS`]; else lowercase, sentence, title and upper case.
fn word_case_variants(keyword: &str) -> Vec<String> {
    let capitalise = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    let words: Vec<&str> = keyword.split(' ').collect();
    let forms: Vec<Vec<String>> = words
        .iter()
        .map(|w| {
            let mut f = vec![w.to_string(), capitalise(w), w.to_uppercase()];
            f.dedup();
            f
        })
        .collect();
    let combinations = forms
        .iter()
        .try_fold(1usize, |n, f| n.checked_mul(f.len()))
        .unwrap_or(usize::MAX);
    if combinations <= MAX_WORD_CASE_VARIANTS {
        let mut out = vec![String::new()];
        for (i, f) in forms.iter().enumerate() {
            out = out
                .iter()
                .flat_map(|prefix| {
                    f.iter().map(move |form| {
                        if i == 0 {
                            form.clone()
                        } else {
                            format!("{prefix} {form}")
                        }
                    })
                })
                .collect();
        }
        return out;
    }
    let title: Vec<String> = words.iter().map(|w| capitalise(w)).collect();
    vec![
        keyword.to_string(),
        capitalise(keyword),
        title.join(" "),
        keyword.to_uppercase(),
    ]
}

/// The in-unit keyword search, run over every unit of every object. A DFA: left to choose,
/// the builder takes a slower NFA past 100 patterns, which the catalog's keywords plus a few
/// custom identifiers' exceed, and each unit then costs several times more (measured: +25%
/// on the Synthea observations with five extra keywords). Only if the DFA would be too large
/// (thousands of custom keywords) does the builder choose.
fn keyword_automaton(keywords: &[String]) -> Result<AhoCorasick, EngineError> {
    let builder = |kind| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(kind)
            .build(keywords)
    };
    builder(Some(AhoCorasickKind::DFA))
        .or_else(|_| builder(None))
        .map_err(|e| EngineError::TooLarge(e.to_string()))
}

fn push_unique(out: &mut Vec<Hit>, from: usize, hit: Hit) {
    // Two patterns of one identifier may match the same value; it counts once.
    if !out[from..]
        .iter()
        .any(|h| h.identifier == hit.identifier && h.start < hit.end && hit.start < h.end)
    {
        out.push(hit);
    }
}

fn next_char_boundary(text: &[u8], from: usize) -> usize {
    let mut i = from + 1;
    while i < text.len() && (text[i] & 0xC0) == 0x80 {
        i += 1;
    }
    i
}

fn trimmed(text: &[u8]) -> Range<usize> {
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    start..end
}

/// A keyword ends before the match starts, and the distance (keyword end to match end for
/// custom identifiers, to match start for managed ones) is within the identifier's maximum.
fn keyword_precedes(
    text: &[u8],
    ends: &[usize],
    m: Range<usize>,
    ident: &CompiledIdentifier,
) -> bool {
    let target = if ident.distance_to_end {
        m.end
    } else {
        m.start
    };
    ends.iter()
        .filter(|&&e| e <= m.start)
        .max()
        .is_some_and(|&e| char_count(&text[e..target]) <= ident.distance)
}

/// Severity of a managed identifier's detections in one object (decisions.md §2):
/// credentials are High; otherwise 1 → Low, 2–99 → Medium, 100+ → High.
pub fn managed_severity(category: Category, count: u64) -> Option<SeverityLevel> {
    match (category, count) {
        (_, 0) => None,
        (Category::Credentials, _) => Some(SeverityLevel::High),
        (_, 1) => Some(SeverityLevel::Low),
        (_, 2..=99) => Some(SeverityLevel::Medium),
        _ => Some(SeverityLevel::High),
    }
}

/// Severity of a custom identifier's detections (macie.md §3.3): Medium when it has no
/// levels; otherwise the highest level whose threshold the count reaches, or none (no
/// detection reported) below the lowest threshold.
pub fn custom_severity(levels: Option<&[SeverityThreshold]>, count: u64) -> Option<SeverityLevel> {
    if count == 0 {
        return None;
    }
    match levels {
        None => Some(SeverityLevel::Medium),
        Some(levels) => levels
            .iter()
            .filter(|l| u64::try_from(l.occurrences_threshold).unwrap_or(u64::MAX) <= count)
            .map(|l| l.severity)
            .max(),
    }
}

#[cfg(test)]
mod plan_tests {
    use super::*;
    use crate::MANAGED;

    #[test]
    fn the_whole_catalog_compiles_as_one_plan() {
        // What Engine::new skips for managed-only engines: every managed pattern qualified at
        // once, the largest plan a column can get.
        let all: Vec<&ManagedIdentifier> = MANAGED.iter().collect();
        let engine = Engine::new(&all, &[], AllowMatcher::default()).unwrap();
        let every = vec![true; engine.inner.identifiers.len()];
        assert!(build_plan(&engine.inner.identifiers, &every).is_ok());
    }
}
