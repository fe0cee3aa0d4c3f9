//! Property tests: no validator and no scan panics on any input, and each check-digit
//! scheme behaves as its standard says (one check character completes a body; a single
//! changed digit is caught).

use std::ops::Range;

use proptest::prelude::*;

use crate::validators::Validator;
use crate::{
    national, validators, AllowMatcher, Engine, ManagedIdentifier, Qualification, MANAGED,
};

/// The range `a..b` of `len` bytes from two arbitrary numbers, ordered and clamped.
fn range(len: usize, a: usize, b: usize) -> Range<usize> {
    let (a, b) = (a % (len + 1), b % (len + 1));
    a.min(b)..a.max(b)
}

/// The values `body + c` that `v` accepts, for every check character `c` in `alphabet`.
fn completions(v: Validator, body: &str, alphabet: &str) -> Vec<String> {
    alphabet
        .chars()
        .map(|c| format!("{body}{c}"))
        .filter(|s| v(s.as_bytes(), 0..s.len()))
        .collect()
}

/// `value` with the digit at `at` (counted among digits) replaced by `(d + delta) % 10`.
fn change_digit(value: &str, at: usize, delta: u8) -> String {
    let positions: Vec<usize> = value
        .bytes()
        .enumerate()
        .filter(|(_, b)| b.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    let i = positions[at % positions.len()];
    let mut bytes = value.as_bytes().to_vec();
    bytes[i] = b'0' + (bytes[i] - b'0' + delta) % 10;
    String::from_utf8(bytes).expect("ASCII")
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n)
        .prop_map(|d| d.iter().map(|x| (b'0' + x) as char).collect())
}

/// A named check-digit scheme: its validator and how a random body is shaped for it.
type Scheme = (&'static str, Validator, fn(&str) -> String);

/// Schemes whose single decimal check digit is a function of the body: Luhn, Verhoeff;
/// with the body shapes their validators require.
fn single_check_digit() -> Vec<Scheme> {
    vec![
        ("Canadian SIN", validators::canada_sin, |b| {
            format!("1{}", &b[..7])
        }),
        ("NPI", national::npi, |b| format!("1{}", &b[..8])),
        ("SUBE", national::sube, |b| format!("6061{}", &b[..11])),
        ("Aadhaar", national::aadhaar, |b| format!("2{}", &b[..10])),
        (
            "Swedish personal number",
            national::sweden_personal_number,
            |b| format!("811218{}", &b[..3]),
        ),
        (
            "Ontario health number",
            national::canada_health_number,
            |b| format!("1{}", &b[..8]),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_validator_panics_on_any_input(
        bytes in proptest::collection::vec(any::<u8>(), 0..48),
        a in any::<usize>(),
        b in any::<usize>(),
    ) {
        let r = range(bytes.len(), a, b);
        for m in MANAGED {
            if let Some(v) = m.validator {
                let _ = v(&bytes, r.clone());
            }
        }
    }

    #[test]
    fn exactly_one_check_digit_completes_a_body(body in digits(16)) {
        for (name, v, shape) in single_check_digit() {
            let body = shape(&body);
            let ok = completions(v, &body, "0123456789");
            // A body whose digits are all one repeated digit may be refused outright.
            prop_assert!(ok.len() <= 1, "{name}: {ok:?}");
            if body.bytes().filter(u8::is_ascii_digit).any(|d| d != body.bytes().rfind(u8::is_ascii_digit).unwrap_or(b'0')) {
                prop_assert_eq!(ok.len(), 1, "{}: body {}", name, body);
            }
        }
    }

    #[test]
    fn a_single_changed_digit_is_caught(body in digits(16), at in any::<usize>(), delta in 1u8..10) {
        let mut schemes = single_check_digit();
        schemes.push(("UK NHS", validators::uk_nhs, |b| b[..9].to_string()));
        schemes.push(("German tax id", national::germany_tax_id, |b| format!("1{}", &b[..9])));
        // A CUIT body may have no check digit (remainder 10), so it is only here.
        schemes.push(("Argentine CUIT", national::argentina_cuit_person, |b| format!("20{}", &b[..8])));
        // Not the Brazilian CPF: its mod-11 digits map remainders 0 and 1 to the same digit,
        // and the second one's weights make a change of the first digit a multiple of 11, so
        // some single changes pass by design of the scheme (e.g. 04015892003 -> 14015892003).
        for (name, v, shape) in schemes {
            for valid in completions(v, &shape(&body), "0123456789") {
                let changed = change_digit(&valid, at, delta);
                prop_assert!(!v(changed.as_bytes(), 0..changed.len()), "{}: {} -> {}", name, valid, changed);
            }
        }
    }

    #[test]
    fn iban_check_digits_catch_a_changed_digit(bban in digits(18), at in any::<usize>(), delta in 1u8..10) {
        // Compute DE's check digits by ISO 7064 mod 97-10, then change one BBAN digit.
        let moved = format!("{bban}131400");
        let rem = moved.bytes().fold(0u64, |r, d| (r * 10 + u64::from(d - b'0')) % 97);
        let iban = format!("DE{:02}{bban}", 98 - rem);
        prop_assert!(validators::iban(iban.as_bytes(), 0..iban.len()), "{}", iban);
        let changed = format!("DE{}", change_digit(&iban[2..], at, delta));
        prop_assert!(!validators::iban(changed.as_bytes(), 0..changed.len()), "{}", changed);
    }

    #[test]
    fn spanish_letters_are_one_per_number(n in 0u32..100_000_000) {
        let body = format!("{n:08}");
        let ok = completions(national::spain_dni, &body, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        prop_assert_eq!(ok.len(), usize::from(n != 0));
    }

    #[test]
    fn scanning_never_panics(text in proptest::collection::vec(any::<u8>(), 0..200), column in "[A-Za-z_ ]{0,12}") {
        let engine = engine();
        let mut hits = Vec::new();
        engine.scan(&text, &Qualification::default(), 0, &mut hits);
        engine.scan(&text, &engine.qualify(&[column.as_str()]), 0, &mut hits);
        for h in &hits {
            prop_assert!(h.start <= h.end && h.end <= text.len());
        }
        // The second scan of each unit comes from the per-thread memo and must agree.
        let mut again = Vec::new();
        engine.scan(&text, &Qualification::default(), 0, &mut again);
        engine.scan(&text, &engine.qualify(&[column.as_str()]), 0, &mut again);
        prop_assert_eq!(hits, again);
    }
}

fn engine() -> &'static Engine {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| {
        let all: Vec<&ManagedIdentifier> = MANAGED.iter().collect();
        Engine::new(&all, &[], AllowMatcher::default()).expect("the catalog compiles")
    })
}
