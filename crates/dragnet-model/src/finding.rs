//! The sensitive-data finding (macie.md §5.2–§5.3) and the discovery result record (§7).
//!
//! Field names, order and null-vs-absent follow real Macie output: members Macie prints as
//! `null` are `Option`s serialized as `null`; the unused occurrence arrays are left out, as in
//! the real 2024 finding.

use serde::{Deserialize, Serialize};

use crate::timestamp::Timestamp;

/// LOW < MEDIUM < HIGH. Spelled `LOW|MEDIUM|HIGH` in `severityLevels`, and
/// `{"description": "Low", "score": 1}` in findings ([`Severity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeverityLevel {
    /// Score 1.
    Low,
    /// Score 2.
    Medium,
    /// Score 3.
    High,
}

impl SeverityLevel {
    /// `LOW`, `MEDIUM`, `HIGH`.
    pub fn as_upper(self) -> &'static str {
        match self {
            SeverityLevel::Low => "LOW",
            SeverityLevel::Medium => "MEDIUM",
            SeverityLevel::High => "HIGH",
        }
    }
    /// `Low`, `Medium`, `High` (the finding's `severity.description`).
    pub fn description(self) -> &'static str {
        match self {
            SeverityLevel::Low => "Low",
            SeverityLevel::Medium => "Medium",
            SeverityLevel::High => "High",
        }
    }
    /// 1, 2, 3.
    pub fn score(self) -> u8 {
        self as u8 + 1
    }
}

/// A finding's severity: `{"description": "High", "score": 3}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Severity(pub SeverityLevel);

impl Serialize for Severity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Severity", 2)?;
        st.serialize_field("description", self.0.description())?;
        st.serialize_field("score", &self.0.score())?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Severity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            description: String,
        }
        let raw = Raw::deserialize(d)?;
        let level = match raw.description.as_str() {
            "Low" => SeverityLevel::Low,
            "Medium" => SeverityLevel::Medium,
            "High" => SeverityLevel::High,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "unknown severity {other:?} (expected Low, Medium or High)"
                )))
            }
        };
        Ok(Severity(level))
    }
}

/// Managed identifier categories (`SensitiveDataItemCategory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Category {
    /// Credentials and secrets.
    Credentials,
    /// Financial information.
    FinancialInformation,
    /// PII and PHI.
    PersonalInformation,
    /// Custom identifiers.
    CustomIdentifier,
}

impl Category {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Credentials => "CREDENTIALS",
            Category::FinancialInformation => "FINANCIAL_INFORMATION",
            Category::PersonalInformation => "PERSONAL_INFORMATION",
            Category::CustomIdentifier => "CUSTOM_IDENTIFIER",
        }
    }
}

/// Sensitive-data finding types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FindingType {
    /// Personal information only.
    #[serde(rename = "SensitiveData:S3Object/Personal")]
    Personal,
    /// Financial information only.
    #[serde(rename = "SensitiveData:S3Object/Financial")]
    Financial,
    /// Credentials only.
    #[serde(rename = "SensitiveData:S3Object/Credentials")]
    Credentials,
    /// Custom identifier matches only.
    #[serde(rename = "SensitiveData:S3Object/CustomIdentifier")]
    CustomIdentifier,
    /// More than one category.
    #[serde(rename = "SensitiveData:S3Object/Multiple")]
    Multiple,
}

impl FindingType {
    /// The wire spelling, e.g. `SensitiveData:S3Object/Multiple`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingType::Personal => "SensitiveData:S3Object/Personal",
            FindingType::Financial => "SensitiveData:S3Object/Financial",
            FindingType::Credentials => "SensitiveData:S3Object/Credentials",
            FindingType::CustomIdentifier => "SensitiveData:S3Object/CustomIdentifier",
            FindingType::Multiple => "SensitiveData:S3Object/Multiple",
        }
    }

    /// The type for a set of categories present in one object (macie.md §5.2 choice rule);
    /// `None` when no category is present.
    pub fn for_categories(categories: &[Category]) -> Option<Self> {
        let mut distinct: Vec<Category> = categories.to_vec();
        distinct.sort();
        distinct.dedup();
        match distinct.as_slice() {
            [] => None,
            [Category::Credentials] => Some(FindingType::Credentials),
            [Category::FinancialInformation] => Some(FindingType::Financial),
            [Category::PersonalInformation] => Some(FindingType::Personal),
            [Category::CustomIdentifier] => Some(FindingType::CustomIdentifier),
            _ => Some(FindingType::Multiple),
        }
    }

    /// The title Macie gives findings of this type.
    pub fn title(self) -> &'static str {
        match self {
            FindingType::Personal => "The S3 object contains personal information",
            // Financial and Credentials titles were not captured verbatim (macie.md §5.2 gap);
            // these follow the pattern of the captured ones.
            FindingType::Financial => "The S3 object contains financial information",
            FindingType::Credentials => "The S3 object contains credentials data",
            FindingType::CustomIdentifier => {
                "The S3 object contains text that matches custom data identifier criteria"
            }
            FindingType::Multiple => "The S3 object contains multiple categories of sensitive data",
        }
    }

    /// The description Macie gives findings of this type.
    pub fn description(self) -> &'static str {
        match self {
            FindingType::Personal => "The object contains personal information such as first or last names, addresses, or identification numbers.",
            FindingType::Financial => "The object contains financial information such as bank account numbers or credit card numbers.",
            FindingType::Credentials => "The object contains credentials data such as private keys or AWS secret access keys.",
            FindingType::CustomIdentifier => "The S3 object contains text that matches the criteria of one or more custom data identifiers. The object might contain multiple types of sensitive data.",
            FindingType::Multiple => "The S3 object contains more than one category of sensitive data.",
        }
    }
}

/// A sensitive-data finding, as `GetFindings` returns it and as the EventBridge event's `detail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Always `"1.0"`.
    pub schema_version: String,
    /// Deterministic 32-hex id (decisions.md §6).
    pub id: String,
    /// Account that owns the bucket.
    pub account_id: String,
    /// `aws`.
    pub partition: String,
    /// Region.
    pub region: String,
    /// Finding type.
    #[serde(rename = "type")]
    pub finding_type: FindingType,
    /// Per-type title.
    pub title: String,
    /// Per-type description.
    pub description: String,
    /// The highest severity among the detections.
    pub severity: Severity,
    /// When the finding was created.
    pub created_at: Timestamp,
    /// Equal to `createdAt` for sensitive-data findings.
    pub updated_at: Timestamp,
    /// Always 1 for sensitive-data findings.
    pub count: u64,
    /// `CLASSIFICATION`.
    pub category: String,
    /// True when suppressed by a findings filter.
    pub archived: bool,
    /// True for sample findings.
    pub sample: bool,
    /// The bucket and object.
    pub resources_affected: ResourcesAffected,
    /// What was found and where.
    pub classification_details: ClassificationDetails,
    /// Null for sensitive-data findings.
    pub policy_details: Option<serde_json::Value>,
}

/// `resourcesAffected`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesAffected {
    /// The bucket.
    pub s3_bucket: S3Bucket,
    /// The object.
    pub s3_object: S3Object,
}

/// `resourcesAffected.s3Bucket`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Bucket {
    /// `TRUE`, `FALSE` or `UNKNOWN`.
    pub allows_unencrypted_object_uploads: String,
    /// `arn:aws:s3:::<bucket>`.
    pub arn: String,
    /// Bucket creation time, when known.
    pub created_at: Option<Timestamp>,
    /// Default encryption.
    pub default_server_side_encryption: ServerSideEncryption,
    /// Bucket name.
    pub name: String,
    /// Bucket owner.
    pub owner: Option<BucketOwner>,
    /// Public access summary.
    pub public_access: Option<BucketPublicAccess>,
    /// Bucket tags.
    pub tags: Vec<KeyValuePair>,
}

/// Encryption settings (`encryptionType`: `NONE|AES256|aws:kms|UNKNOWN|aws:kms:dsse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerSideEncryption {
    /// Encryption type.
    pub encryption_type: String,
    /// KMS key, when `aws:kms`.
    pub kms_master_key_id: Option<String>,
}

/// Bucket owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketOwner {
    /// Display name, when known.
    pub display_name: Option<String>,
    /// Canonical id or account id.
    pub id: Option<String>,
}

/// Bucket public access summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketPublicAccess {
    /// `PUBLIC|NOT_PUBLIC|UNKNOWN`.
    pub effective_permission: String,
    /// Detailed settings, when read from AWS.
    pub permission_configuration: Option<serde_json::Value>,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeyValuePair {
    /// Tag key.
    pub key: String,
    /// Tag value.
    pub value: String,
}

/// `resourcesAffected.s3Object`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Object {
    /// `arn:aws:s3:::<bucket>`.
    pub bucket_arn: String,
    /// ETag (MD5 of the content for single-part objects), without quotes.
    pub e_tag: String,
    /// Extension without the dot, `""` if none.
    pub extension: String,
    /// Object key.
    pub key: String,
    /// S3 Last-Modified.
    pub last_modified: Timestamp,
    /// `<bucket>/<key>`.
    pub path: String,
    /// Whether the object is public, when known.
    pub public_access: Option<bool>,
    /// Object encryption.
    pub server_side_encryption: ServerSideEncryption,
    /// Size in bytes.
    pub size: u64,
    /// Storage class, e.g. `STANDARD`.
    pub storage_class: String,
    /// Object tags.
    pub tags: Vec<KeyValuePair>,
    /// Version id, `""` when unversioned.
    pub version_id: String,
}

/// `classificationDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassificationDetails {
    /// Where the object's discovery result is.
    pub detailed_results_location: String,
    /// The job's ARN.
    pub job_arn: String,
    /// The job id.
    pub job_id: String,
    /// `SENSITIVE_DATA_DISCOVERY_JOB`.
    pub origin_type: String,
    /// What was found.
    pub result: ClassificationResult,
}

/// `classificationDetails.result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassificationResult {
    /// True when more locations exist than are reported.
    pub additional_occurrences: bool,
    /// Custom identifier detections.
    pub custom_data_identifiers: CustomDataIdentifiers,
    /// MIME type of the object, e.g. `text/csv`.
    pub mime_type: String,
    /// Managed identifier detections, grouped by category.
    pub sensitive_data: Vec<SensitiveDataItem>,
    /// Bytes analysed.
    pub size_classified: u64,
    /// `COMPLETE`, `PARTIAL` or `SKIPPED`, with a reason.
    pub status: ClassificationResultStatus,
}

/// Custom identifier detections and their total.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomDataIdentifiers {
    /// One entry per identifier that matched.
    pub detections: Vec<CustomDetection>,
    /// Sum of the counts.
    pub total_count: u64,
}

/// One custom identifier's detections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomDetection {
    /// The identifier's id (Macie puts the id, not an ARN, here; macie.md §0.13).
    pub arn: String,
    /// Exact number of matches.
    pub count: u64,
    /// The identifier's name.
    pub name: String,
    /// Up to the cap of locations.
    pub occurrences: Occurrences,
}

/// One category's managed detections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SensitiveDataItem {
    /// The category.
    pub category: Category,
    /// One entry per identifier type that matched.
    pub detections: Vec<DefaultDetection>,
    /// Sum of the counts.
    pub total_count: u64,
}

/// One managed identifier's detections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultDetection {
    /// Exact number of matches.
    pub count: u64,
    /// Up to the cap of locations.
    pub occurrences: Occurrences,
    /// The managed identifier id, e.g. `USA_SOCIAL_SECURITY_NUMBER`.
    #[serde(rename = "type")]
    pub detection_type: String,
}

/// Where the detections are; only the member that fits the format is present.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Occurrences {
    /// CSV/TSV/Excel cells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells: Option<Vec<Cell>>,
    /// Text lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_ranges: Option<Vec<Range>>,
    /// Reserved by Macie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_ranges: Option<Vec<Range>>,
    /// PDF pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<Vec<serde_json::Value>>,
    /// JSON/JSONL/Avro/Parquet records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<Record>>,
}

/// A cell location: `row` counts the header as row 1; `column` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cell {
    /// Excel-style reference; null for CSV/TSV.
    pub cell_reference: Option<String>,
    /// 1-based column.
    pub column: u64,
    /// The column's header.
    pub column_name: String,
    /// 1-based row, header included.
    pub row: u64,
    /// dragnet extension, in discovery results only: the archive member holding this
    /// location (Macie's findings omit member locations, and so do dragnet's).
    #[serde(default, rename = "fileName", skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

/// A line range: 1-based lines, 1-based start column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Range {
    /// End line.
    pub end: u64,
    /// Start line.
    pub start: u64,
    /// 1-based character offset on the start line.
    pub start_column: u64,
    /// dragnet extension, in discovery results only: the archive member (see [`Cell`]).
    #[serde(default, rename = "fileName", skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

/// A record location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// JSONPath of the field.
    pub json_path: Option<String>,
    /// 0-based record (JSON Lines: line; JSON: 0).
    pub record_index: u64,
    /// dragnet extension, in discovery results only: the archive member (see [`Cell`]).
    #[serde(default, rename = "fileName", skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

/// `result.status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassificationResultStatus {
    /// `COMPLETE`, `PARTIAL` or `SKIPPED`.
    pub code: String,
    /// Why not `COMPLETE` (macie.md §5.2 reasons), else null.
    pub reason: Option<String>,
}

/// One object's sensitive data discovery result (macie.md §7): written for every object a job
/// considered, with or without findings, with up to 1,000 locations per type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveryResult {
    /// Always `"1.0"`.
    pub schema_version: String,
    /// Account that owns the bucket.
    pub account_id: String,
    /// `aws`.
    pub partition: String,
    /// Region.
    pub region: String,
    /// When the object was analysed.
    pub created_at: Timestamp,
    /// The finding made from this result, if any.
    pub finding_id: Option<String>,
    /// The finding's type, if any.
    #[serde(rename = "type")]
    pub finding_type: Option<FindingType>,
    /// The finding's severity, if any.
    pub severity: Option<Severity>,
    /// The bucket and object.
    pub resources_affected: ResourcesAffected,
    /// What was found and where.
    pub classification_details: ClassificationDetails,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_wire_forms() {
        assert_eq!(
            serde_json::to_string(&Severity(SeverityLevel::Medium)).unwrap(),
            r#"{"description":"Medium","score":2}"#
        );
        assert_eq!(
            serde_json::to_string(&SeverityLevel::High).unwrap(),
            r#""HIGH""#
        );
        let s: Severity = serde_json::from_str(r#"{"description":"High","score":3}"#).unwrap();
        assert_eq!(s.0, SeverityLevel::High);
    }

    #[test]
    fn finding_type_choice() {
        use Category::*;
        assert_eq!(FindingType::for_categories(&[]), None);
        assert_eq!(
            FindingType::for_categories(&[PersonalInformation, PersonalInformation]),
            Some(FindingType::Personal)
        );
        assert_eq!(
            FindingType::for_categories(&[CustomIdentifier]),
            Some(FindingType::CustomIdentifier)
        );
        assert_eq!(
            FindingType::for_categories(&[Credentials]),
            Some(FindingType::Credentials)
        );
        assert_eq!(
            FindingType::for_categories(&[FinancialInformation]),
            Some(FindingType::Financial)
        );
        assert_eq!(
            FindingType::for_categories(&[CustomIdentifier, PersonalInformation]),
            Some(FindingType::Multiple)
        );
        assert_eq!(
            FindingType::for_categories(&[Credentials, FinancialInformation]),
            Some(FindingType::Multiple)
        );
        assert_eq!(
            serde_json::to_string(&FindingType::Multiple).unwrap(),
            r#""SensitiveData:S3Object/Multiple""#
        );
    }

    #[test]
    fn occurrences_omit_unused_members() {
        let o = Occurrences {
            cells: Some(vec![Cell {
                cell_reference: None,
                column: 1,
                column_name: "EmpID".into(),
                row: 2,
                file_name: None,
            }]),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"cells":[{"cellReference":null,"column":1,"columnName":"EmpID","row":2}]}"#
        );
    }
}
