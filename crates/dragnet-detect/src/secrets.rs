//! Validators of credentials beyond Macie's: they drop the placeholders and documented
//! example values that fill READMEs and config templates, so a finding means a real secret.

use std::ops::Range;

/// Whole values that stand for a secret without being one.
const PLACEHOLDER_WORDS: &[&str] = &[
    "password",
    "passwd",
    "changeme",
    "change_me",
    "secret",
    "placeholder",
    "redacted",
    "mypassword",
    "none",
    "null",
    "undefined",
    "true",
    "false",
    "required",
    "optional",
];

/// Values that stand for a secret without being one.
fn placeholder(value: &[u8]) -> bool {
    let v = String::from_utf8_lossy(value).to_ascii_lowercase();
    let v = v.trim_matches(|c: char| c == '"' || c == '\'' || c == '`');
    v.is_empty()
        || v.starts_with("${")
        || v.starts_with("{{")
        || v.starts_with('<')
        || v.starts_with('%')
        || v.starts_with('$')
        || v.chars()
            .all(|c| c == '*' || c == 'x' || c == '.' || c == '#')
        || PLACEHOLDER_WORDS.contains(&v)
        || ["example", "your_", "your-", "xxxx"]
            .iter()
            .any(|p| v.contains(p))
}

/// A database or broker URL with a password in its user-info part
/// (`postgres://user:secret@host`), unless the password is a placeholder.
pub fn connection_string(text: &[u8], m: Range<usize>) -> bool {
    let url = &text[m];
    let Some(scheme_end) = url.windows(3).position(|w| w == b"://") else {
        return false;
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.iter().rposition(|&b| b == b'@') else {
        return false;
    };
    let user_info = &rest[..at];
    match user_info.iter().position(|&b| b == b':') {
        Some(colon) => !placeholder(&user_info[colon + 1..]),
        None => false,
    }
}

/// The value of a `password = ...` / `secret: ...` assignment: right after `=` or `:` (and
/// an optional quote) that follows the keyword, at least eight characters of at least two
/// kinds (letters, digits, symbols), not a placeholder, and not a code reference such as
/// `os.environ` or `config.password`.
pub fn password_assignment(text: &[u8], m: Range<usize>) -> bool {
    let value = &text[m.clone()];
    let mut i = m.start;
    while i > 0 && matches!(text[i - 1], b'"' | b'\'' | b' ' | b'\t') {
        i -= 1;
    }
    if i == 0 || !matches!(text[i - 1], b'=' | b':') {
        return false;
    }
    let kinds = [
        value.iter().any(u8::is_ascii_alphabetic),
        value.iter().any(u8::is_ascii_digit),
        value.iter().any(|b| b.is_ascii_punctuation()),
    ]
    .iter()
    .filter(|k| **k)
    .count();
    let code = value.contains(&b'(')
        || value.starts_with(b"os.")
        || value.starts_with(b"process.env")
        || value.starts_with(b"config.")
        || value.starts_with(b"self.");
    kinds >= 2 && !code && !placeholder(value)
}

/// Google's documented example API keys, which appear in every tutorial.
const GCP_EXAMPLE_KEYS: &[&str] = &["AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"];

/// A Google Cloud API key that is not Google's documented example.
pub fn gcp_api_key(text: &[u8], m: Range<usize>) -> bool {
    let key = &text[m];
    !GCP_EXAMPLE_KEYS.iter().any(|k| k.as_bytes() == key)
}

/// A vendor token whose body (after its literal prefix) is not one character repeated and
/// mixes letters and digits, as generated keys do, and that does not run on into more token
/// characters (a longer string is something else); placeholders such as `SK000…` or
/// `GOCSPX-AAAA…` are not reported.
pub fn varied_token(text: &[u8], m: Range<usize>) -> bool {
    let runs_on = text
        .get(m.end)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let token = &text[m];
    if runs_on {
        return false;
    }
    let body: Vec<u8> = token
        .iter()
        .skip_while(|b| b.is_ascii_uppercase())
        .copied()
        .filter(u8::is_ascii_alphanumeric)
        .collect();
    body.iter().any(u8::is_ascii_digit)
        && body.iter().any(u8::is_ascii_alphabetic)
        && !body.iter().all(|&b| b == body[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(f: fn(&[u8], Range<usize>) -> bool, s: &str) -> bool {
        f(s.as_bytes(), 0..s.len())
    }

    #[test]
    fn vendor_tokens_must_look_generated() {
        assert!(whole(varied_token, "SKa4c123b1612dd272d1371c17149d4395"));
        assert!(!whole(varied_token, "SK00000000000000000000000000000000"));
        assert!(whole(varied_token, "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"));
        assert!(!whole(varied_token, "GOCSPX-AAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    }

    #[test]
    fn connection_strings_need_a_real_password() {
        assert!(whole(
            connection_string,
            "postgres://app:Xk92!pLq@db.internal:5432/prod"
        ));
        assert!(!whole(
            connection_string,
            "postgres://app:${DB_PASSWORD}@db/prod"
        ));
        assert!(!whole(
            connection_string,
            "postgres://app:password@localhost/prod"
        ));
        assert!(!whole(
            connection_string,
            "postgres://db.internal:5432/prod"
        ));
    }

    #[test]
    fn password_values_follow_an_assignment_and_are_not_placeholders() {
        let line = b"db_password = \"Tr0ub4dor&3\"";
        assert!(password_assignment(line, 15..26));
        let line = b"password: changeme";
        assert!(!password_assignment(line, 10..18));
        let line = b"password = os.environ[\"DB\"]";
        assert!(!password_assignment(line, 11..27));
        let line = b"the password policy is strict";
        assert!(!password_assignment(line, 13..19));
    }
}
