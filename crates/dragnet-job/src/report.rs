//! Turning a classified object into Macie's finding and discovery result shapes.

use std::collections::BTreeMap;

use dragnet_detect::{Engine, FINDING_LOCATION_CAP, RESULT_LOCATION_CAP};
use dragnet_model::finding::{
    BucketOwner, BucketPublicAccess, ClassificationDetails, ClassificationResult,
    ClassificationResultStatus, DiscoveryResult, KeyValuePair, ResourcesAffected, S3Bucket,
    S3Object, ServerSideEncryption,
};
use dragnet_model::ids::stable_hex_id;
use dragnet_model::{Finding, Severity, Timestamp};
use dragnet_store::security::{self, BucketSecurity};
use dragnet_store::{BucketInfo, Encryption, ObjectDetails, ObjectMeta};

use crate::scan::ObjectOutcome;

/// Who and where: the facts every finding and result of a run shares.
#[derive(Debug, Clone)]
pub struct RunIdentity {
    /// Job id (32 hex).
    pub job_id: String,
    /// Region for ARNs.
    pub region: String,
}

impl RunIdentity {
    /// `arn:aws:macie2:<region>:<account>:classification-job/<jobId>`.
    pub fn job_arn(&self, account: &str) -> String {
        format!(
            "arn:aws:macie2:{}:{account}:classification-job/{}",
            self.region, self.job_id
        )
    }
}

/// One object in the terms a report needs.
#[derive(Debug, Clone, Copy)]
pub struct ObjectRef<'a> {
    /// Owning account.
    pub account_id: &'a str,
    /// Its bucket.
    pub bucket: &'a BucketInfo,
    /// Listing metadata.
    pub meta: &'a ObjectMeta,
    /// Tags, encryption and version as the store reports them.
    pub details: &'a ObjectDetails,
}

fn pairs(tags: &BTreeMap<String, String>) -> Vec<KeyValuePair> {
    tags.iter()
        .map(|(k, v)| KeyValuePair {
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

fn no_encryption() -> ServerSideEncryption {
    ServerSideEncryption {
        encryption_type: "NONE".into(),
        kms_master_key_id: None,
    }
}

fn encryption(e: &Encryption) -> ServerSideEncryption {
    ServerSideEncryption {
        encryption_type: e.kind.clone(),
        kms_master_key_id: e.kms_key_id.clone(),
    }
}

/// `s3Bucket` facts from the store's reading of the bucket's settings. A setting that could
/// not be read is `UNKNOWN`; the account-level Block Public Access settings (an S3 Control
/// call) are not read, so `permissionConfiguration` carries the bucket level only.
fn bucket_facts(
    security: &BucketSecurity,
) -> (
    String,
    ServerSideEncryption,
    Option<BucketOwner>,
    BucketPublicAccess,
) {
    let default_encryption = match &security.default_encryption {
        Some(Some(e)) => encryption(e),
        Some(None) => no_encryption(),
        None => ServerSideEncryption {
            encryption_type: "UNKNOWN".into(),
            kms_master_key_id: None,
        },
    };
    let owner = security.owner.as_ref().map(|o| BucketOwner {
        display_name: o.display_name.clone(),
        id: o.id.clone(),
    });
    let grants = |g: Option<security::PublicGrants>| {
        g.map(|g| serde_json::json!({"allowsPublicReadAccess": g.read, "allowsPublicWriteAccess": g.write}))
    };
    let block = security.block_public_access.map(|b| {
        serde_json::json!({
            "blockPublicAcls": b.block_public_acls,
            "blockPublicPolicy": b.block_public_policy,
            "ignorePublicAcls": b.ignore_public_acls,
            "restrictPublicBuckets": b.restrict_public_buckets,
        })
    });
    let public_access = BucketPublicAccess {
        effective_permission: security::effective_permission(security).into(),
        permission_configuration: Some(serde_json::json!({
            "bucketLevelPermissions": {
                "accessControlList": grants(security.acl),
                "blockPublicAccess": block,
                "bucketPolicy": grants(security.policy.map(|p| p.public)),
            }
        })),
    };
    (
        security::allows_unencrypted_uploads(security).into(),
        default_encryption,
        owner,
        public_access,
    )
}

/// The object's ETag: the store's when it has one, else the MD5 computed while reading.
pub fn etag_of(meta: &ObjectMeta, outcome: &ObjectOutcome) -> String {
    meta.etag
        .clone()
        .or_else(|| outcome.md5.clone())
        .unwrap_or_default()
}

/// The deterministic finding id (decisions.md §6).
pub fn finding_id(job_id: &str, bucket: &str, key: &str, version_or_etag: &str) -> String {
    stable_hex_id(&["finding", job_id, bucket, key, version_or_etag])
}

fn resources(object: ObjectRef<'_>, etag: &str) -> ResourcesAffected {
    let bucket = &object.bucket.name;
    let key = &object.meta.key;
    // A folder store enforces no encryption and is not public; S3 reports its settings.
    let (allows_unencrypted, default_encryption, owner, public_access) =
        match &object.bucket.security {
            Some(security) => bucket_facts(security),
            None => (
                "TRUE".to_string(),
                no_encryption(),
                Some(BucketOwner {
                    display_name: None,
                    id: Some(object.account_id.to_string()),
                }),
                BucketPublicAccess {
                    effective_permission: "NOT_PUBLIC".into(),
                    permission_configuration: None,
                },
            ),
        };
    let object_public = match public_access.effective_permission.as_str() {
        "PUBLIC" => Some(true),
        "NOT_PUBLIC" => Some(false),
        _ => None,
    };
    ResourcesAffected {
        s3_bucket: S3Bucket {
            allows_unencrypted_object_uploads: allows_unencrypted,
            arn: format!("arn:aws:s3:::{bucket}"),
            created_at: object.bucket.created_at,
            default_server_side_encryption: default_encryption,
            name: bucket.clone(),
            owner,
            public_access: Some(public_access),
            tags: pairs(&object.bucket.tags),
        },
        s3_object: S3Object {
            bucket_arn: format!("arn:aws:s3:::{bucket}"),
            e_tag: etag.to_string(),
            extension: dragnet_formats::extension(key).to_string(),
            key: key.clone(),
            last_modified: object.meta.last_modified,
            path: format!("{bucket}/{key}"),
            public_access: object_public,
            server_side_encryption: object
                .details
                .encryption
                .as_ref()
                .map_or_else(no_encryption, encryption),
            size: object.meta.size,
            storage_class: object.meta.storage_class.clone(),
            tags: pairs(&object.details.attributes.tags),
            version_id: version_of(object).unwrap_or_default(),
        },
    }
}

/// The version scanned: the listing's, else the one the store reported with the details.
fn version_of(object: ObjectRef<'_>) -> Option<String> {
    object
        .meta
        .version_id
        .clone()
        .or_else(|| object.details.version_id.clone())
}

/// The finding and the discovery result of one classified object (no finding when nothing
/// was reported).
pub fn report(
    engine: &Engine,
    run: &RunIdentity,
    object: ObjectRef<'_>,
    outcome: &ObjectOutcome,
    results_location: &str,
    now: Timestamp,
) -> (Option<Finding>, DiscoveryResult) {
    let etag = etag_of(object.meta, outcome);
    let version_or_etag = version_of(object).unwrap_or_else(|| etag.clone());
    let id = finding_id(
        &run.job_id,
        &object.bucket.name,
        &object.meta.key,
        &version_or_etag,
    );
    let job_arn = run.job_arn(object.account_id);
    let status = ClassificationResultStatus {
        code: outcome.status.to_string(),
        reason: outcome.reason.clone(),
    };
    let details = |cap: usize| {
        let judged = outcome.detections.as_ref().map(|d| d.judge(engine, cap));
        let result = ClassificationResult {
            additional_occurrences: judged.as_ref().is_some_and(|j| j.additional_occurrences),
            custom_data_identifiers: judged
                .as_ref()
                .map(|j| j.custom_data_identifiers.clone())
                .unwrap_or_default(),
            mime_type: outcome.mime_type.clone(),
            sensitive_data: judged
                .as_ref()
                .map(|j| j.sensitive_data.clone())
                .unwrap_or_default(),
            size_classified: outcome.size_classified,
            status: status.clone(),
        };
        let cd = ClassificationDetails {
            detailed_results_location: results_location.to_string(),
            job_arn: job_arn.clone(),
            job_id: run.job_id.clone(),
            origin_type: "SENSITIVE_DATA_DISCOVERY_JOB".into(),
            result,
        };
        (judged, cd)
    };
    let (judged, finding_details) = details(FINDING_LOCATION_CAP);
    let resources_affected = resources(object, &etag);
    let kind = judged.as_ref().and_then(|j| j.finding_type.zip(j.severity));
    let finding = kind.map(|(finding_type, severity)| Finding {
        schema_version: "1.0".into(),
        id: id.clone(),
        account_id: object.account_id.to_string(),
        partition: "aws".into(),
        region: run.region.clone(),
        finding_type,
        title: finding_type.title().into(),
        description: finding_type.description().into(),
        severity: Severity(severity),
        created_at: now,
        updated_at: now,
        count: 1,
        category: "CLASSIFICATION".into(),
        archived: false,
        sample: false,
        resources_affected: resources_affected.clone(),
        classification_details: finding_details,
        policy_details: None,
    });
    let (_, result_details) = details(RESULT_LOCATION_CAP);
    let result = DiscoveryResult {
        schema_version: "1.0".into(),
        account_id: object.account_id.to_string(),
        partition: "aws".into(),
        region: run.region.clone(),
        created_at: now,
        finding_id: finding.as_ref().map(|f| f.id.clone()),
        finding_type: finding.as_ref().map(|f| f.finding_type),
        severity: finding.as_ref().map(|f| f.severity),
        resources_affected,
        classification_details: result_details,
    };
    (finding, result)
}
