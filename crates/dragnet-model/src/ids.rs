//! Stable, deterministic identifiers (decisions.md §6, §12).
//!
//! Finding ids, job ids for ad-hoc scans and event ids are hashes of what identifies the
//! thing, so a retried run or another shard produces the same ids and consumers can
//! de-duplicate.

use sha2::{Digest, Sha256};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

fn digest(parts: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().into()
}

/// 32 lowercase hex characters derived from `parts` (the format of Macie's job and finding ids).
pub fn stable_hex_id(parts: &[&str]) -> String {
    hex(&digest(parts)[..16])
}

/// A UUID-formatted (RFC 9562 version 8, "custom") id derived from `parts`.
pub fn stable_uuid(parts: &[&str]) -> String {
    let mut b: [u8; 16] = digest(parts)[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A number in `[0, 1)` derived from `parts`, for reproducible sampling and sharding.
pub fn stable_unit_interval(parts: &[&str]) -> f64 {
    let d = digest(parts);
    let n = u64::from_le_bytes(d[..8].try_into().expect("8 bytes")) >> 11;
    n as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_shaped() {
        let a = stable_hex_id(&["job", "bucket", "key"]);
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(a, stable_hex_id(&["job", "bucket", "key"]));
        // Boundaries between parts matter.
        assert_ne!(stable_hex_id(&["ab", "c"]), stable_hex_id(&["a", "bc"]));
        let u = stable_uuid(&["x"]);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "8");
        let x = stable_unit_interval(&["seed", "k"]);
        assert!((0.0..1.0).contains(&x));
    }
}
