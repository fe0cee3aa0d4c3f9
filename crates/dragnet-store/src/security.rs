//! Security facts of buckets and objects, as findings report them in
//! `resourcesAffected.s3Bucket` and `s3Object`: encryption, owner, public access.
//!
//! The store reads the raw settings (S3 does; a folder store has none); the judgements
//! (is the bucket public, does its policy require encryption) are pure functions here so they
//! are tested without a network. `None` always means "could not be read" (for example access
//! denied), which findings report as `UNKNOWN`, never as a guess.

use serde_json::Value;

/// Server-side encryption of an object, or a bucket's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encryption {
    /// `AES256`, `aws:kms` or `aws:kms:dsse` (Macie's `encryptionType` values).
    pub kind: String,
    /// The KMS key, for the KMS kinds.
    pub kms_key_id: Option<String>,
}

/// A bucket's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Canonical user id.
    pub id: Option<String>,
    /// Display name (S3 returns it in some regions only).
    pub display_name: Option<String>,
}

/// The bucket's S3 Block Public Access settings (all `false` when none are configured).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockPublicAccess {
    /// Reject requests that add public ACLs.
    pub block_public_acls: bool,
    /// Ignore public ACLs.
    pub ignore_public_acls: bool,
    /// Reject public bucket policies.
    pub block_public_policy: bool,
    /// Restrict access under a public policy to AWS principals of the account.
    pub restrict_public_buckets: bool,
}

/// Whether something grants everyone read or write access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PublicGrants {
    /// Anyone may read (get or list) objects.
    pub read: bool,
    /// Anyone may write (put or delete) objects.
    pub write: bool,
}

impl PublicGrants {
    /// Either kind of access.
    pub fn any(self) -> bool {
        self.read || self.write
    }
}

/// What a bucket policy says, as far as findings care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PolicyFacts {
    /// Access the policy grants to anyone, without conditions.
    pub public: PublicGrants,
    /// The policy denies uploads without server-side encryption.
    pub requires_encryption: bool,
}

/// Security facts of a bucket; `None` fields could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BucketSecurity {
    /// Default encryption: `Some(None)` when none is configured.
    pub default_encryption: Option<Option<Encryption>>,
    /// The owner.
    pub owner: Option<Owner>,
    /// Block Public Access settings of the bucket.
    pub block_public_access: Option<BlockPublicAccess>,
    /// What the ACL grants everyone.
    pub acl: Option<PublicGrants>,
    /// What the bucket policy says (`Some(default)` when the bucket has none).
    pub policy: Option<PolicyFacts>,
}

/// Macie's `effectivePermission`: `PUBLIC` when an ACL or policy grants everyone access and
/// Block Public Access does not neutralise it, `NOT_PUBLIC` when nothing does, `UNKNOWN` when
/// a setting that matters could not be read. Account-level Block Public Access (S3 Control)
/// is not read, so a bucket it protects may be reported `PUBLIC`: the conservative side.
pub fn effective_permission(security: &BucketSecurity) -> &'static str {
    let Some(block) = security.block_public_access else {
        return "UNKNOWN";
    };
    let acl = if block.ignore_public_acls {
        Some(false)
    } else {
        security.acl.map(PublicGrants::any)
    };
    let policy = if block.restrict_public_buckets {
        Some(false)
    } else {
        security.policy.map(|p| p.public.any())
    };
    match (acl, policy) {
        (Some(true), _) | (_, Some(true)) => "PUBLIC",
        (Some(false), Some(false)) => "NOT_PUBLIC",
        _ => "UNKNOWN",
    }
}

/// Macie's `allowsUnencryptedObjectUploads`: `FALSE` when the bucket policy denies uploads
/// without server-side encryption, `TRUE` when it does not (or there is no policy),
/// `UNKNOWN` when the policy could not be read.
pub fn allows_unencrypted_uploads(security: &BucketSecurity) -> &'static str {
    match security.policy {
        None => "UNKNOWN",
        Some(p) if p.requires_encryption => "FALSE",
        Some(_) => "TRUE",
    }
}

/// What ACL grants to these grantee group URIs allow.
pub fn acl_grants<'a>(grants: impl IntoIterator<Item = (&'a str, &'a str)>) -> PublicGrants {
    let mut out = PublicGrants::default();
    for (grantee_uri, permission) in grants {
        if !grantee_uri.ends_with("/global/AllUsers")
            && !grantee_uri.ends_with("/global/AuthenticatedUsers")
        {
            continue;
        }
        match permission {
            "READ" => out.read = true,
            "WRITE" => out.write = true,
            "FULL_CONTROL" => {
                out.read = true;
                out.write = true;
            }
            _ => {}
        }
    }
    out
}

fn as_list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn strings(value: &Value) -> Vec<&str> {
    as_list(value)
        .into_iter()
        .filter_map(Value::as_str)
        .collect()
}

/// Whether an IAM action pattern (`s3:Get*`, `*`, ...) covers `action`.
fn covers(pattern: &str, action: &str) -> bool {
    let (pattern, action) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    match pattern.strip_suffix('*') {
        Some(prefix) => action.starts_with(prefix),
        None => pattern == action,
    }
}

fn any_covers(statement: &Value, actions: &[&str]) -> bool {
    strings(&statement["Action"])
        .iter()
        .any(|p| actions.iter().any(|a| covers(p, a)))
}

fn is_everyone(principal: &Value) -> bool {
    match principal {
        Value::String(s) => s == "*",
        Value::Object(map) => map.get("AWS").is_some_and(|v| strings(v).contains(&"*")),
        _ => false,
    }
}

/// Reads a bucket policy document. Only unconditional `Allow` statements for principal `*`
/// make a bucket public (conditions such as `aws:SourceVpc` or `aws:PrincipalOrgID` restrict
/// it, as AWS's own public-policy test treats them); a `Deny` of `s3:PutObject` conditioned on
/// `s3:x-amz-server-side-encryption` makes encryption required. A policy that is not JSON
/// yields `None` (unknown).
pub fn policy_facts(policy: &str) -> Option<PolicyFacts> {
    let doc: Value = serde_json::from_str(policy).ok()?;
    let mut facts = PolicyFacts::default();
    for statement in as_list(&doc["Statement"]) {
        let effect = statement["Effect"].as_str().unwrap_or_default();
        let conditioned = statement
            .get("Condition")
            .is_some_and(|c| c.as_object().is_some_and(|m| !m.is_empty()));
        if effect == "Allow" && !conditioned && is_everyone(&statement["Principal"]) {
            facts.public.read |= any_covers(statement, &["s3:GetObject", "s3:ListBucket"]);
            facts.public.write |= any_covers(statement, &["s3:PutObject", "s3:DeleteObject"]);
        }
        if effect == "Deny"
            && any_covers(statement, &["s3:PutObject"])
            && statement["Condition"].as_object().is_some_and(|ops| {
                ops.values().any(|keys| {
                    keys.as_object().is_some_and(|k| {
                        k.keys().any(|name| {
                            name.eq_ignore_ascii_case("s3:x-amz-server-side-encryption")
                        })
                    })
                })
            })
        {
            facts.requires_encryption = true;
        }
    }
    Some(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_policies_are_unconditional_allows_for_everyone() {
        let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        let facts = policy_facts(public).unwrap();
        assert!(facts.public.read && !facts.public.write);
        let everyone_writes = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:*"],"Resource":"*"}}"#;
        let facts = policy_facts(everyone_writes).unwrap();
        assert!(facts.public.read && facts.public.write);

        let conditioned = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}]}"#;
        assert!(!policy_facts(conditioned).unwrap().public.any());
        let account = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}]}"#;
        assert!(!policy_facts(account).unwrap().public.any());
        assert_eq!(policy_facts("not json"), None);
    }

    #[test]
    fn encryption_is_required_by_a_deny_on_the_sse_header() {
        let requires = r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}}]}"#;
        assert!(policy_facts(requires).unwrap().requires_encryption);
        let other = r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
        assert!(!policy_facts(other).unwrap().requires_encryption);
    }

    #[test]
    fn acl_grants_to_everyone_groups_count() {
        let all = "http://acs.amazonaws.com/groups/global/AllUsers";
        let logs = "http://acs.amazonaws.com/groups/s3/LogDelivery";
        assert_eq!(acl_grants([(logs, "WRITE")]), PublicGrants::default());
        assert_eq!(
            acl_grants([(all, "READ")]),
            PublicGrants {
                read: true,
                write: false
            }
        );
        assert!(acl_grants([(all, "FULL_CONTROL")]).write);
    }

    #[test]
    fn block_public_access_neutralises_what_it_covers() {
        let open_policy = PolicyFacts {
            public: PublicGrants {
                read: true,
                write: false,
            },
            requires_encryption: false,
        };
        let mut security = BucketSecurity {
            block_public_access: Some(BlockPublicAccess::default()),
            acl: Some(PublicGrants::default()),
            policy: Some(open_policy),
            ..BucketSecurity::default()
        };
        assert_eq!(effective_permission(&security), "PUBLIC");
        security.block_public_access = Some(BlockPublicAccess {
            restrict_public_buckets: true,
            ..BlockPublicAccess::default()
        });
        assert_eq!(effective_permission(&security), "NOT_PUBLIC");
        security.acl = None;
        assert_eq!(effective_permission(&security), "UNKNOWN");
        security.block_public_access = None;
        assert_eq!(effective_permission(&security), "UNKNOWN");
        assert_eq!(allows_unencrypted_uploads(&security), "TRUE");
        security.policy = None;
        assert_eq!(allows_unencrypted_uploads(&security), "UNKNOWN");
    }
}
