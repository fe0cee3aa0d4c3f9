//! Tokens: made from 32 random bytes, shown once, stored as SHA-256 hashes; and the caller a
//! request's token stands for.

use sha2::{Digest, Sha256};

use dragnet_findings::Role;
use dragnet_job::TokenRecord;
use dragnet_model::ids::hex;
use dragnet_model::Timestamp;

/// Prefix of token secrets, so secret scanners (and dragnet itself) can recognise them.
pub const TOKEN_PREFIX: &str = "dgn_";
/// Name of the console's session cookie (holding the token, HttpOnly, SameSite=Strict).
pub const COOKIE: &str = "dragnet_token";

/// A token just created: the record to store and the secret to show once.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The record (with the secret's hash, never the secret).
    pub record: TokenRecord,
    /// The secret, for the caller to keep.
    pub secret: String,
}

/// Hex SHA-256 of a token secret, as stored and looked up.
pub fn hash_token(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Creates a token for `name` with `role`; fails only if the OS has no randomness.
pub fn new_token(
    name: &str,
    role: Role,
    reads_isolation: bool,
    now: Timestamp,
) -> Result<NewToken, getrandom::Error> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)?;
    let mut id = [0u8; 8];
    getrandom::fill(&mut id)?;
    let secret = format!("{TOKEN_PREFIX}{}", hex(&secret));
    Ok(NewToken {
        record: TokenRecord {
            token_id: format!("tok_{}", hex(&id)),
            name: name.to_string(),
            role: role.as_str().to_string(),
            hash: hash_token(&secret),
            created_at: now,
            revoked_at: None,
            reads_isolation,
        },
        secret,
    })
}

/// Who is calling: a valid, unrevoked token and its role.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's record.
    pub token: TokenRecord,
    /// Its role.
    pub role: Role,
}

/// The token secret a request presents: `Authorization: Bearer ...`, or the console's cookie.
pub fn presented_secret(headers: &axum::http::HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, token) = v.trim().split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string())
            .filter(|t| !t.is_empty());
    }
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|t| !t.is_empty())
}

/// The caller a stored token stands for, unless it is revoked or its role unknown.
pub fn caller(token: Option<TokenRecord>) -> Option<Caller> {
    let token = token.filter(|t| t.revoked_at.is_none())?;
    let role = token.role.parse().ok()?;
    Some(Caller { token, role })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let now = Timestamp::from_millis(0);
        let a = new_token("ci", Role::Viewer, false, now).unwrap();
        let b = new_token("ci", Role::Viewer, false, now).unwrap();
        assert_ne!(a.secret, b.secret);
        assert_ne!(a.record.token_id, b.record.token_id);
        assert!(a.secret.starts_with(TOKEN_PREFIX) && a.secret.len() == 68);
        assert_eq!(a.record.hash, hash_token(&a.secret));
        assert!(!a.record.hash.contains(&a.secret[4..]));
    }

    #[test]
    fn the_secret_comes_from_the_bearer_header_or_the_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_secret(&h), None);
        h.insert(
            "cookie",
            HeaderValue::from_static("a=b; dragnet_token=dgn_c"),
        );
        assert_eq!(presented_secret(&h).as_deref(), Some("dgn_c"));
        h.insert("authorization", HeaderValue::from_static("Bearer dgn_x"));
        assert_eq!(presented_secret(&h).as_deref(), Some("dgn_x"));
        h.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert_eq!(
            presented_secret(&h),
            None,
            "a non-bearer header is not a token"
        );
    }

    #[test]
    fn revoked_tokens_and_unknown_roles_are_no_caller() {
        let now = Timestamp::from_millis(0);
        let mut t = new_token("x", Role::Admin, false, now).unwrap().record;
        assert_eq!(caller(Some(t.clone())).unwrap().role, Role::Admin);
        t.role = "root".into();
        assert!(caller(Some(t.clone())).is_none());
        t.role = "admin".into();
        t.revoked_at = Some(now);
        assert!(caller(Some(t)).is_none());
        assert!(caller(None).is_none());
    }
}
