//! Masking operators: what replaces a sensitive value.

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// How a detected value is replaced. In policy files: a name (`"mask"`, `"emailDomain"`,
/// `"truncateIp"`, `"redact"`, `"hash"`, `"formatPreserving"`) or an object for the operators
/// with settings (`{"partial": {"keepFirst": 0, "keepLast": 4}}`, `{"redact": {"label": "X"}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    /// Every character becomes `*`; the length is kept (CloudWatch Logs' masking).
    Mask,
    /// Letters and digits become `*` except the first and last few; separators stay
    /// (`***-**-1234`).
    Partial {
        /// Letters and digits kept at the start.
        keep_first: usize,
        /// Letters and digits kept at the end.
        keep_last: usize,
    },
    /// The local part of an email becomes `*`; the domain stays (`****@example.com`).
    EmailDomain,
    /// IPv4 keeps its first two octets (`192.168.xxx.xxx`); IPv6 its first four groups.
    TruncateIp,
    /// The value is replaced by a label, `[<IDENTIFIER>]` by default.
    Redact {
        /// The label, instead of the identifier's id.
        label: Option<String>,
    },
    /// A stable token, `tok_` and 16 hex digits of HMAC-SHA256 with the masking key: equal
    /// values give equal tokens, so masked data still joins.
    Hash,
    /// Letters stay letters and digits stay digits (case kept, separators kept), chosen by the
    /// keyed hash: stable, and the format survives validation.
    FormatPreserving,
}

impl<'de> Deserialize<'de> for Operator {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        enum Tagged {
            Partial {
                #[serde(default, rename = "keepFirst")]
                keep_first: usize,
                #[serde(default, rename = "keepLast")]
                keep_last: usize,
            },
            Redact {
                #[serde(default)]
                label: Option<String>,
            },
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Tagged(Tagged),
        }
        let allowed = "mask, emailDomain, truncateIp, redact, hash, formatPreserving, {partial: {keepFirst, keepLast}}, {redact: {label}}";
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom(format!("not an operator (allowed: {allowed})"))
        })? {
            Raw::Name(n) => match n.as_str() {
                "mask" => Ok(Operator::Mask),
                "emailDomain" => Ok(Operator::EmailDomain),
                "truncateIp" => Ok(Operator::TruncateIp),
                "redact" => Ok(Operator::Redact { label: None }),
                "hash" => Ok(Operator::Hash),
                "formatPreserving" => Ok(Operator::FormatPreserving),
                "partial" => Ok(Operator::Partial {
                    keep_first: 0,
                    keep_last: 4,
                }),
                other => Err(serde::de::Error::custom(format!(
                    "unknown operator {other:?} (allowed: {allowed})"
                ))),
            },
            Raw::Tagged(Tagged::Partial {
                keep_first,
                keep_last,
            }) => Ok(Operator::Partial {
                keep_first,
                keep_last,
            }),
            Raw::Tagged(Tagged::Redact { label }) => Ok(Operator::Redact { label }),
        }
    }
}

impl Operator {
    /// The default operator for a managed identifier: partial for numbers people recognise by
    /// their last digits, domain for emails, truncation for IPs, redaction for credentials,
    /// full masking otherwise.
    pub fn default_for(identifier: &str, credentials: bool) -> Operator {
        match identifier {
            _ if credentials => Operator::Redact { label: None },
            "USA_SOCIAL_SECURITY_NUMBER" | "CREDIT_CARD_NUMBER" => Operator::Partial {
                keep_first: 0,
                keep_last: 4,
            },
            "EMAIL_ADDRESS" => Operator::EmailDomain,
            "IP_ADDRESS" => Operator::TruncateIp,
            _ => Operator::Mask,
        }
    }

    /// Whether applying needs the masking key.
    pub fn needs_key(&self) -> bool {
        matches!(self, Operator::Hash | Operator::FormatPreserving)
    }

    /// Applies the operator to `value`, detected by `identifier`.
    pub fn apply(&self, value: &str, identifier: &str, key: &[u8]) -> String {
        match self {
            Operator::Mask => "*".repeat(value.chars().count()),
            Operator::Partial {
                keep_first,
                keep_last,
            } => {
                let total = value.chars().filter(|c| c.is_alphanumeric()).count();
                let mut seen = 0;
                value
                    .chars()
                    .map(|c| {
                        if !c.is_alphanumeric() {
                            return c;
                        }
                        seen += 1;
                        if seen <= *keep_first || seen > total.saturating_sub(*keep_last) {
                            c
                        } else {
                            '*'
                        }
                    })
                    .collect()
            }
            Operator::EmailDomain => match value.rfind('@') {
                Some(at) => format!(
                    "{}{}",
                    "*".repeat(value[..at].chars().count()),
                    &value[at..]
                ),
                None => "*".repeat(value.chars().count()),
            },
            Operator::TruncateIp => {
                if value.contains(':') {
                    let groups: Vec<&str> = value.split(':').collect();
                    groups
                        .iter()
                        .enumerate()
                        .map(|(i, g)| if i < 4 { g.to_string() } else { "xxxx".into() })
                        .collect::<Vec<_>>()
                        .join(":")
                } else {
                    value
                        .split('.')
                        .enumerate()
                        .map(|(i, o)| if i < 2 { o } else { "xxx" })
                        .collect::<Vec<_>>()
                        .join(".")
                }
            }
            Operator::Redact { label } => format!("[{}]", label.as_deref().unwrap_or(identifier)),
            Operator::Hash => {
                let mac = hmac_sha256(key, value.as_bytes());
                format!("tok_{}", dragnet_model::ids::hex(&mac[..8]))
            }
            Operator::FormatPreserving => {
                let mut stream = Vec::new();
                let mut counter = 0u32;
                let mut next = || {
                    if stream.is_empty() {
                        let mut msg = value.as_bytes().to_vec();
                        msg.extend_from_slice(&counter.to_le_bytes());
                        counter += 1;
                        stream = hmac_sha256(key, &msg).to_vec();
                    }
                    stream.pop().unwrap_or(0)
                };
                value
                    .chars()
                    .map(|c| match c {
                        '0'..='9' => char::from(b'0' + next() % 10),
                        'a'..='z' => char::from(b'a' + next() % 26),
                        'A'..='Z' => char::from(b'A' + next() % 26),
                        other => other,
                    })
                    .collect()
            }
        }
    }
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators() {
        let k = b"key";
        assert_eq!(Operator::Mask.apply("Jane Doe", "NAME", k), "********");
        assert_eq!(
            Operator::Partial {
                keep_first: 0,
                keep_last: 4
            }
            .apply("536-22-1234", "SSN", k),
            "***-**-1234"
        );
        assert_eq!(
            Operator::Partial {
                keep_first: 0,
                keep_last: 4
            }
            .apply("4556 7375 8689 9855", "CC", k),
            "**** **** **** 9855"
        );
        assert_eq!(
            Operator::EmailDomain.apply("jane.doe@example.com", "EMAIL_ADDRESS", k),
            "********@example.com"
        );
        assert_eq!(
            Operator::TruncateIp.apply("192.168.10.20", "IP_ADDRESS", k),
            "192.168.xxx.xxx"
        );
        assert_eq!(
            Operator::TruncateIp.apply("2001:db8:85a3:0:0:8a2e:370:7334", "IP_ADDRESS", k),
            "2001:db8:85a3:0:xxxx:xxxx:xxxx:xxxx"
        );
        assert_eq!(
            Operator::Redact { label: None }.apply("x", "USA_SOCIAL_SECURITY_NUMBER", k),
            "[USA_SOCIAL_SECURITY_NUMBER]"
        );
        let a = Operator::Hash.apply("jane@example.com", "E", k);
        assert_eq!(
            a,
            Operator::Hash.apply("jane@example.com", "E", k),
            "stable for joins"
        );
        assert_ne!(
            a,
            Operator::Hash.apply("jane@example.com", "E", b"other key")
        );
        assert!(a.starts_with("tok_") && a.len() == 20);
        let f = Operator::FormatPreserving.apply("AB-1234-cd", "X", k);
        assert_eq!(f.len(), 10);
        assert!(f
            .chars()
            .zip("AB-1234-cd".chars())
            .all(|(a, b)| a.is_ascii_uppercase() == b.is_ascii_uppercase()
                && a.is_ascii_digit() == b.is_ascii_digit()
                && (a == '-') == (b == '-')));
        assert_ne!(f, "AB-1234-cd");
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            dragnet_model::ids::hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
