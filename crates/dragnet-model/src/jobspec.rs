//! The `CreateClassificationJob` request (macie.md §1.1), exactly as
//! `aws macie2 create-classification-job --cli-input-json` takes it, and its validation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{from_json_str, JsonPath, SpecError};
use crate::timestamp::Timestamp;

/// A classification job definition (Macie `CreateClassificationJob` request body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobSpec {
    /// Idempotency token; generated when absent (decisions.md §11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// Job name (≤500 chars); from `--name` or the file name when absent (decisions.md §11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text (≤200 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `ONE_TIME` or `SCHEDULED`.
    pub job_type: JobType,
    /// Required for `SCHEDULED`, forbidden for `ONE_TIME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_frequency: Option<JobScheduleFrequency>,
    /// Recurring jobs: analyse existing objects on the first run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_run: Option<bool>,
    /// Percentage (1–100) of eligible objects to analyse, picked at random.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_percentage: Option<i64>,
    /// Which managed identifiers run; `RECOMMENDED` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_data_identifier_selector: Option<ManagedDataIdentifierSelector>,
    /// Ids for `INCLUDE`/`EXCLUDE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_data_identifier_ids: Option<Vec<String>>,
    /// Custom identifiers (≤30), by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_data_identifier_ids: Option<Vec<String>>,
    /// Allow lists (≤10), by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_list_ids: Option<Vec<String>>,
    /// Buckets and object scoping.
    pub s3_job_definition: S3JobDefinition,
    /// Resource tags (≤50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// `ONE_TIME` runs once; `SCHEDULED` runs on its schedule, incrementally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobType {
    /// Runs once and ends `COMPLETE`.
    OneTime,
    /// Runs daily, weekly or monthly.
    Scheduled,
}

/// Exactly one of the three schedule shapes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobScheduleFrequency {
    /// Every day (`{}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_schedule: Option<DailySchedule>,
    /// Once a week on `dayOfWeek`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly_schedule: Option<WeeklySchedule>,
    /// Once a month on `dayOfMonth` (months without that day are skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_schedule: Option<MonthlySchedule>,
}

/// The empty daily schedule object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailySchedule {}

/// A weekly schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WeeklySchedule {
    /// `SUNDAY` .. `SATURDAY`.
    pub day_of_week: DayOfWeek,
}

/// A monthly schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MonthlySchedule {
    /// 1–31.
    pub day_of_month: i64,
}

/// Day of the week as Macie spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum DayOfWeek {
    Sunday,
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
}

/// `managedDataIdentifierSelector` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ManagedDataIdentifierSelector {
    /// Every managed identifier.
    All,
    /// All but the listed ids.
    Exclude,
    /// Only the listed ids.
    Include,
    /// No managed identifier (custom only).
    None,
    /// The recommended set.
    Recommended,
}

/// Which buckets a job looks at, and which objects in them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3JobDefinition {
    /// Static bucket list (exclusive with `bucketCriteria`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_definitions: Option<Vec<S3BucketDefinitionForJob>>,
    /// Bucket criteria, evaluated when a run starts (exclusive with `bucketDefinitions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_criteria: Option<S3BucketCriteriaForJob>,
    /// Object includes/excludes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoping: Option<Scoping>,
}

/// An account and some of its buckets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3BucketDefinitionForJob {
    /// 12-digit AWS account id.
    pub account_id: String,
    /// Bucket names (values may be `ssm:/...` references, resolved before the job runs).
    pub buckets: Vec<String>,
}

/// Bucket includes and excludes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3BucketCriteriaForJob {
    /// Buckets must match all of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub includes: Option<CriteriaBlockForJob>,
    /// Buckets matching all of these are left out (excludes beat includes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excludes: Option<CriteriaBlockForJob>,
}

/// AND of bucket criteria.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriteriaBlockForJob {
    /// The criteria, all of which must hold.
    #[serde(default)]
    pub and: Vec<CriteriaForJob>,
}

/// One bucket criterion: exactly one of its two members.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CriteriaForJob {
    /// A property criterion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simple_criterion: Option<SimpleCriterionForJob>,
    /// A bucket tag criterion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_criterion: Option<TagCriterionForJob>,
}

/// `{comparator, key, values}` over a bucket property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimpleCriterionForJob {
    /// `EQ` or `NE` for buckets.
    pub comparator: JobComparator,
    /// The bucket property.
    pub key: SimpleCriterionKeyForJob,
    /// Values, OR-ed.
    pub values: Vec<String>,
}

/// Bucket properties a criterion can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum SimpleCriterionKeyForJob {
    AccountId,
    S3BucketName,
    S3BucketEffectivePermission,
    S3BucketSharedAccess,
}

/// A bucket tag criterion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagCriterionForJob {
    /// `EQ` or `NE`.
    pub comparator: JobComparator,
    /// Tag pairs, OR-ed; an empty key or value matches any.
    pub tag_values: Vec<TagCriterionPairForJob>,
}

/// A tag key and/or value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagCriterionPairForJob {
    /// Tag key ("" = any).
    #[serde(default)]
    pub key: String,
    /// Tag value ("" = any).
    #[serde(default)]
    pub value: String,
}

/// Comparators of the Macie model (`JobComparator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum JobComparator {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
    Ne,
    Contains,
    StartsWith,
}

impl JobComparator {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobComparator::Eq => "EQ",
            JobComparator::Gt => "GT",
            JobComparator::Gte => "GTE",
            JobComparator::Lt => "LT",
            JobComparator::Lte => "LTE",
            JobComparator::Ne => "NE",
            JobComparator::Contains => "CONTAINS",
            JobComparator::StartsWith => "STARTS_WITH",
        }
    }
}

/// Object includes and excludes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scoping {
    /// Objects must match all of these terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub includes: Option<JobScopingBlock>,
    /// Objects matching all of these terms are left out (excludes beat includes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excludes: Option<JobScopingBlock>,
}

/// AND of scope terms.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobScopingBlock {
    /// The terms, all of which must hold.
    #[serde(default)]
    pub and: Vec<JobScopeTerm>,
}

/// One scope term: exactly one of its two members.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobScopeTerm {
    /// A term over object properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simple_scope_term: Option<SimpleScopeTerm>,
    /// A term over object tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_scope_term: Option<TagScopeTerm>,
}

/// `{comparator, key, values}` over an object property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimpleScopeTerm {
    /// Allowed comparators depend on `key` (see [`ScopeFilterKey::allowed_comparators`]).
    pub comparator: JobComparator,
    /// The object property.
    pub key: ScopeFilterKey,
    /// Values: several are OR-ed for extension and key; exactly one for size and date.
    pub values: Vec<String>,
}

/// Object properties a scope term can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScopeFilterKey {
    /// File-name extension without the dot, case sensitive.
    ObjectExtension,
    /// S3 Last-Modified.
    ObjectLastModifiedDate,
    /// Size in bytes.
    ObjectSize,
    /// Key prefix, case sensitive, from the first character of the key.
    ObjectKey,
}

impl ScopeFilterKey {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeFilterKey::ObjectExtension => "OBJECT_EXTENSION",
            ScopeFilterKey::ObjectLastModifiedDate => "OBJECT_LAST_MODIFIED_DATE",
            ScopeFilterKey::ObjectSize => "OBJECT_SIZE",
            ScopeFilterKey::ObjectKey => "OBJECT_KEY",
        }
    }

    /// The comparators Macie accepts with this key (macie.md §1.1).
    pub fn allowed_comparators(self) -> &'static [JobComparator] {
        use JobComparator::*;
        match self {
            ScopeFilterKey::ObjectExtension => &[Eq, Ne],
            ScopeFilterKey::ObjectKey => &[StartsWith],
            ScopeFilterKey::ObjectLastModifiedDate | ScopeFilterKey::ObjectSize => {
                &[Eq, Gt, Gte, Lt, Lte, Ne]
            }
        }
    }
}

/// A term over object tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagScopeTerm {
    /// `EQ` or `NE`.
    pub comparator: JobComparator,
    /// Always `TAG`.
    pub key: String,
    /// Pairs, OR-ed; `value: ""` matches the key alone.
    pub tag_values: Vec<TagValuePair>,
    /// Always `S3_OBJECT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// A tag key and value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagValuePair {
    /// Tag key.
    #[serde(default)]
    pub key: String,
    /// Tag value ("" = any value of that key).
    #[serde(default)]
    pub value: String,
}

impl JobSpec {
    /// Parses and validates a job spec; errors name the JSON path and the allowed values.
    pub fn from_json(text: &str) -> Result<Self, SpecError> {
        let spec: JobSpec = from_json_str(text)?;
        spec.validate()?;
        Ok(spec)
    }

    /// The managed identifier selector in force (`RECOMMENDED` when absent, as in Macie).
    pub fn selector(&self) -> ManagedDataIdentifierSelector {
        self.managed_data_identifier_selector
            .unwrap_or(ManagedDataIdentifierSelector::Recommended)
    }

    /// The account id of the first bucket definition, used for ARNs (decisions.md §8).
    pub fn account_id(&self) -> Option<&str> {
        self.s3_job_definition
            .bucket_definitions
            .as_ref()?
            .first()
            .map(|d| d.account_id.as_str())
    }

    /// Checks the rules Macie enforces beyond the JSON shape (macie.md §1.1).
    pub fn validate(&self) -> Result<(), SpecError> {
        let root = JsonPath::root();
        if let Some(name) = &self.name {
            check_len(&root.field("name"), name, 1, 500)?;
        }
        if let Some(d) = &self.description {
            check_len(&root.field("description"), d, 0, 200)?;
        }
        match (self.job_type, &self.schedule_frequency) {
            (JobType::OneTime, Some(_)) => {
                return Err(root.field("scheduleFrequency").error(
                    "not allowed for a ONE_TIME job (remove it, or set jobType to SCHEDULED)",
                ))
            }
            (JobType::Scheduled, None) => {
                return Err(root.field("scheduleFrequency").error(
                    "required for a SCHEDULED job: one of dailySchedule, weeklySchedule, monthlySchedule",
                ))
            }
            (JobType::Scheduled, Some(f)) => f.validate(&root.field("scheduleFrequency"))?,
            (JobType::OneTime, None) => {}
        }
        if let Some(p) = self.sampling_percentage {
            if !(1..=100).contains(&p) {
                return Err(root
                    .field("samplingPercentage")
                    .error(format!("{p} is out of range (allowed: 1 to 100)")));
            }
        }
        self.validate_identifiers(&root)?;
        if let Some(tags) = &self.tags {
            if tags.len() > 50 {
                return Err(root.field("tags").error("at most 50 tags are allowed"));
            }
            for (k, v) in tags {
                check_len(&root.field("tags").field(k), k, 1, 128)?;
                check_len(&root.field("tags").field(k), v, 0, 256)?;
            }
        }
        self.s3_job_definition
            .validate(&root.field("s3JobDefinition"))
    }

    fn validate_identifiers(&self, root: &JsonPath) -> Result<(), SpecError> {
        use ManagedDataIdentifierSelector as S;
        let ids = self.managed_data_identifier_ids.as_deref().unwrap_or(&[]);
        let selector = self.selector();
        match selector {
            S::Include | S::Exclude if ids.is_empty() => {
                return Err(root.field("managedDataIdentifierIds").error(format!(
                    "required (at least one id) when managedDataIdentifierSelector is {}",
                    selector_name(selector)
                )))
            }
            S::All | S::None | S::Recommended if !ids.is_empty() => {
                return Err(root.field("managedDataIdentifierIds").error(format!(
                    "must be empty when managedDataIdentifierSelector is {} (ids are used only with INCLUDE or EXCLUDE)",
                    selector_name(selector)
                )))
            }
            _ => {}
        }
        let custom = self.custom_data_identifier_ids.as_deref().unwrap_or(&[]);
        if selector == S::None && custom.is_empty() {
            return Err(root.field("customDataIdentifierIds").error(
                "at least one custom data identifier is required when managedDataIdentifierSelector is NONE",
            ));
        }
        if custom.len() > 30 {
            return Err(root.field("customDataIdentifierIds").error(format!(
                "{} ids given; a job may use at most 30",
                custom.len()
            )));
        }
        let allow = self.allow_list_ids.as_deref().unwrap_or(&[]);
        if allow.len() > 10 {
            return Err(root.field("allowListIds").error(format!(
                "{} ids given; a job may use at most 10",
                allow.len()
            )));
        }
        Ok(())
    }
}

fn selector_name(s: ManagedDataIdentifierSelector) -> &'static str {
    match s {
        ManagedDataIdentifierSelector::All => "ALL",
        ManagedDataIdentifierSelector::Exclude => "EXCLUDE",
        ManagedDataIdentifierSelector::Include => "INCLUDE",
        ManagedDataIdentifierSelector::None => "NONE",
        ManagedDataIdentifierSelector::Recommended => "RECOMMENDED",
    }
}

fn check_len(path: &JsonPath, s: &str, min: usize, max: usize) -> Result<(), SpecError> {
    let n = s.chars().count();
    if n < min || n > max {
        return Err(path.error(format!(
            "length {n} is out of range (allowed: {min} to {max} characters)"
        )));
    }
    Ok(())
}

impl JobScheduleFrequency {
    fn validate(&self, path: &JsonPath) -> Result<(), SpecError> {
        let set = [
            self.daily_schedule.is_some(),
            self.weekly_schedule.is_some(),
            self.monthly_schedule.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if set != 1 {
            return Err(path.error(
                "exactly one of dailySchedule, weeklySchedule, monthlySchedule is required",
            ));
        }
        if let Some(m) = &self.monthly_schedule {
            if !(1..=31).contains(&m.day_of_month) {
                return Err(path
                    .field("monthlySchedule")
                    .field("dayOfMonth")
                    .error(format!(
                        "{} is out of range (allowed: 1 to 31)",
                        m.day_of_month
                    )));
            }
        }
        Ok(())
    }
}

impl S3JobDefinition {
    fn validate(&self, path: &JsonPath) -> Result<(), SpecError> {
        match (&self.bucket_definitions, &self.bucket_criteria) {
            (Some(_), Some(_)) => {
                return Err(path
                    .error("bucketDefinitions and bucketCriteria are mutually exclusive; use one"))
            }
            (None, None) => {
                return Err(path.error("one of bucketDefinitions or bucketCriteria is required"))
            }
            (Some(defs), None) => {
                let p = path.field("bucketDefinitions");
                if defs.is_empty() {
                    return Err(p.error("at least one bucket definition is required"));
                }
                let mut total = 0;
                for (i, d) in defs.iter().enumerate() {
                    let p = p.index(i);
                    if d.account_id.len() != 12 || !d.account_id.bytes().all(|b| b.is_ascii_digit())
                    {
                        return Err(p.field("accountId").error(format!(
                            "{:?} is not a 12-digit AWS account id",
                            d.account_id
                        )));
                    }
                    if d.buckets.is_empty() {
                        return Err(p
                            .field("buckets")
                            .error("at least one bucket name is required"));
                    }
                    for (j, b) in d.buckets.iter().enumerate() {
                        if b.is_empty() {
                            return Err(p.field("buckets").index(j).error("bucket name is empty"));
                        }
                    }
                    total += d.buckets.len();
                }
                if total > 1000 {
                    return Err(
                        p.error(format!("{total} buckets listed; at most 1,000 are allowed"))
                    );
                }
            }
            (None, Some(c)) => {
                let p = path.field("bucketCriteria");
                for (name, block) in [("includes", &c.includes), ("excludes", &c.excludes)] {
                    if let Some(block) = block {
                        for (i, crit) in block.and.iter().enumerate() {
                            crit.validate(&p.field(name).field("and").index(i))?;
                        }
                    }
                }
            }
        }
        if let Some(scoping) = &self.scoping {
            let p = path.field("scoping");
            for (name, block) in [
                ("includes", &scoping.includes),
                ("excludes", &scoping.excludes),
            ] {
                if let Some(block) = block {
                    for (i, term) in block.and.iter().enumerate() {
                        term.validate(&p.field(name).field("and").index(i))?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl CriteriaForJob {
    fn validate(&self, path: &JsonPath) -> Result<(), SpecError> {
        match (&self.simple_criterion, &self.tag_criterion) {
            (Some(s), None) => {
                let p = path.field("simpleCriterion");
                check_eq_ne(&p.field("comparator"), s.comparator, "bucket criteria")?;
                if s.values.is_empty() {
                    return Err(p.field("values").error("at least one value is required"));
                }
                let allowed: &[&str] = match s.key {
                    SimpleCriterionKeyForJob::S3BucketEffectivePermission => {
                        &["PUBLIC", "NOT_PUBLIC", "UNKNOWN"]
                    }
                    SimpleCriterionKeyForJob::S3BucketSharedAccess => {
                        &["EXTERNAL", "INTERNAL", "NOT_SHARED", "UNKNOWN"]
                    }
                    _ => &[],
                };
                if !allowed.is_empty() {
                    for (i, v) in s.values.iter().enumerate() {
                        if !allowed.contains(&v.as_str()) {
                            return Err(p.field("values").index(i).error(format!(
                                "{v:?} is not allowed (allowed: {})",
                                allowed.join(", ")
                            )));
                        }
                    }
                }
                Ok(())
            }
            (None, Some(t)) => {
                let p = path.field("tagCriterion");
                check_eq_ne(&p.field("comparator"), t.comparator, "tag criteria")?;
                check_tag_pairs(
                    &p.field("tagValues"),
                    t.tag_values.iter().map(|v| (&v.key, &v.value)),
                )
            }
            _ => Err(path.error("exactly one of simpleCriterion or tagCriterion is required")),
        }
    }
}

impl JobScopeTerm {
    fn validate(&self, path: &JsonPath) -> Result<(), SpecError> {
        match (&self.simple_scope_term, &self.tag_scope_term) {
            (Some(s), None) => s.validate(&path.field("simpleScopeTerm")),
            (None, Some(t)) => {
                let p = path.field("tagScopeTerm");
                check_eq_ne(&p.field("comparator"), t.comparator, "tagScopeTerm")?;
                if t.key != "TAG" {
                    return Err(p
                        .field("key")
                        .error(format!("{:?} is not allowed (allowed: TAG)", t.key)));
                }
                if let Some(target) = &t.target {
                    if target != "S3_OBJECT" {
                        return Err(p
                            .field("target")
                            .error(format!("{target:?} is not allowed (allowed: S3_OBJECT)")));
                    }
                }
                check_tag_pairs(
                    &p.field("tagValues"),
                    t.tag_values.iter().map(|v| (&v.key, &v.value)),
                )
            }
            _ => Err(path.error("exactly one of simpleScopeTerm or tagScopeTerm is required")),
        }
    }
}

impl SimpleScopeTerm {
    fn validate(&self, path: &JsonPath) -> Result<(), SpecError> {
        let allowed = self.key.allowed_comparators();
        if !allowed.contains(&self.comparator) {
            let names: Vec<_> = allowed.iter().map(|c| c.as_str()).collect();
            return Err(path.field("comparator").error(format!(
                "{:?} is not allowed for {} (allowed: {})",
                self.comparator.as_str(),
                self.key.as_str(),
                names.join(", ")
            )));
        }
        let values = path.field("values");
        if self.values.is_empty() {
            return Err(values.error("at least one value is required"));
        }
        match self.key {
            ScopeFilterKey::ObjectSize | ScopeFilterKey::ObjectLastModifiedDate
                if self.values.len() != 1 =>
            {
                Err(values.error(format!(
                    "{} takes exactly one value ({} given)",
                    self.key.as_str(),
                    self.values.len()
                )))
            }
            ScopeFilterKey::ObjectSize => self.values[0].parse::<u64>().map(|_| ()).map_err(|_| {
                values.index(0).error(format!(
                    "{:?} is not a size in bytes (a whole number, e.g. 1048576)",
                    self.values[0]
                ))
            }),
            ScopeFilterKey::ObjectLastModifiedDate => Timestamp::parse(&self.values[0])
                .map(|_| ())
                .map_err(|e| values.index(0).error(e.to_string())),
            ScopeFilterKey::ObjectExtension => {
                for (i, v) in self.values.iter().enumerate() {
                    if v.is_empty() || v.starts_with('.') {
                        return Err(values.index(i).error(format!(
                            "{v:?} is not a file-name extension (give it without the dot, e.g. \"csv\")"
                        )));
                    }
                }
                Ok(())
            }
            ScopeFilterKey::ObjectKey => Ok(()),
        }
    }
}

fn check_eq_ne(path: &JsonPath, c: JobComparator, what: &str) -> Result<(), SpecError> {
    if matches!(c, JobComparator::Eq | JobComparator::Ne) {
        Ok(())
    } else {
        Err(path.error(format!(
            "{:?} is not allowed for {what} (allowed: EQ, NE)",
            c.as_str()
        )))
    }
}

fn check_tag_pairs<'a>(
    path: &JsonPath,
    pairs: impl ExactSizeIterator<Item = (&'a String, &'a String)>,
) -> Result<(), SpecError> {
    if pairs.len() == 0 {
        return Err(path.error("at least one tag key or value is required"));
    }
    for (i, (k, v)) in pairs.enumerate() {
        if k.is_empty() && v.is_empty() {
            return Err(path
                .index(i)
                .error("a tag key, a value, or both are required"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WALKTHROUGH: &str = r#"{
      "jobType": "ONE_TIME",
      "managedDataIdentifierSelector": "ALL",
      "customDataIdentifierIds": ["a", "b", "c"],
      "s3JobDefinition": {
        "bucketDefinitions": [{"accountId": "111222333444", "buckets": ["synthea-data-111222333444-us-east-1"]}],
        "scoping": {"includes": {"and": [{"simpleScopeTerm": {"comparator": "EQ", "key": "OBJECT_EXTENSION", "values": ["csv"]}}]}}
      },
      "tags": {"KeyName": "Project", "KeyValue": "Synthea"}
    }"#;

    fn err(text: &str) -> String {
        JobSpec::from_json(text).unwrap_err().to_string()
    }

    fn with_term(term: &str) -> String {
        format!(
            r#"{{"jobType":"ONE_TIME","s3JobDefinition":{{"bucketDefinitions":[{{"accountId":"111222333444","buckets":["b"]}}],"scoping":{{"includes":{{"and":[{term}]}}}}}}}}"#
        )
    }

    #[test]
    fn parses_the_walkthrough_spec() {
        let spec = JobSpec::from_json(WALKTHROUGH).unwrap();
        assert_eq!(spec.job_type, JobType::OneTime);
        assert_eq!(spec.selector(), ManagedDataIdentifierSelector::All);
        assert_eq!(spec.account_id(), Some("111222333444"));
        assert_eq!(spec.tags.unwrap()["KeyName"], "Project");
    }

    #[test]
    fn selector_defaults_to_recommended() {
        let spec = JobSpec::from_json(&with_term(
            r#"{"simpleScopeTerm":{"comparator":"STARTS_WITH","key":"OBJECT_KEY","values":["a/"]}}"#,
        ))
        .unwrap();
        assert_eq!(spec.selector(), ManagedDataIdentifierSelector::Recommended);
    }

    #[test]
    fn disallowed_comparator_names_path_and_allowed_values() {
        let e = err(&with_term(
            r#"{"simpleScopeTerm":{"comparator":"GT","key":"OBJECT_EXTENSION","values":["csv"]}}"#,
        ));
        assert_eq!(
            e,
            r#"s3JobDefinition.scoping.includes.and[0].simpleScopeTerm.comparator: "GT" is not allowed for OBJECT_EXTENSION (allowed: EQ, NE)"#
        );
        let e = err(&with_term(
            r#"{"simpleScopeTerm":{"comparator":"EQ","key":"OBJECT_KEY","values":["a"]}}"#,
        ));
        assert!(e.contains("allowed: STARTS_WITH"), "{e}");
        let e = err(&with_term(
            r#"{"simpleScopeTerm":{"comparator":"STARTS_WITH","key":"OBJECT_SIZE","values":["1"]}}"#,
        ));
        assert!(e.contains("allowed: EQ, GT, GTE, LT, LTE, NE"), "{e}");
    }

    #[test]
    fn every_key_accepts_its_comparators() {
        for key in [
            "OBJECT_EXTENSION",
            "OBJECT_KEY",
            "OBJECT_SIZE",
            "OBJECT_LAST_MODIFIED_DATE",
        ] {
            for cmp in [
                "EQ",
                "GT",
                "GTE",
                "LT",
                "LTE",
                "NE",
                "CONTAINS",
                "STARTS_WITH",
            ] {
                let value = match key {
                    "OBJECT_SIZE" => "10",
                    "OBJECT_LAST_MODIFIED_DATE" => "2023-09-24T14:31:13Z",
                    _ => "csv",
                };
                let text = with_term(&format!(
                    r#"{{"simpleScopeTerm":{{"comparator":"{cmp}","key":"{key}","values":["{value}"]}}}}"#
                ));
                let ok = JobSpec::from_json(&text).is_ok();
                let expected = match key {
                    "OBJECT_EXTENSION" => matches!(cmp, "EQ" | "NE"),
                    "OBJECT_KEY" => cmp == "STARTS_WITH",
                    _ => !matches!(cmp, "CONTAINS" | "STARTS_WITH"),
                };
                assert_eq!(ok, expected, "{key} {cmp}");
            }
        }
    }

    #[test]
    fn unknown_fields_and_wrong_types_name_the_path() {
        let e = err(
            r#"{"jobType":"ONE_TIME","s3JobDefinition":{"bucketDefinitions":[]},"sampling":5}"#,
        );
        assert!(e.starts_with("sampling: unknown field `sampling`"), "{e}");
        let e = err(r#"{"jobType":"ONCE","s3JobDefinition":{}}"#);
        assert!(
            e.starts_with("jobType: unknown variant `ONCE`, expected `ONE_TIME` or `SCHEDULED`"),
            "{e}"
        );
        let e = err(r#"{"jobType":"ONE_TIME","samplingPercentage":"ten","s3JobDefinition":{}}"#);
        assert!(e.starts_with("samplingPercentage: invalid type"), "{e}");
        let e = err(
            r#"{"jobType":"ONE_TIME","s3JobDefinition":{"bucketDefinitions":[{"accountId":"1","buckets":["b"]}]}}"#,
        );
        assert!(
            e.starts_with("s3JobDefinition.bucketDefinitions[0].accountId:"),
            "{e}"
        );
        let e = err(r#"{"jobType":"ONE_TIME","#);
        assert!(e.starts_with("not valid JSON at line 1"), "{e}");
        let e = err(r#"{"s3JobDefinition":{}}"#);
        assert!(e.contains("missing field `jobType`"), "{e}");
    }

    #[test]
    fn semantic_rules() {
        let base = |extra: &str| {
            format!(
                r#"{{"jobType":"ONE_TIME",{extra}"s3JobDefinition":{{"bucketDefinitions":[{{"accountId":"111222333444","buckets":["b"]}}]}}}}"#
            )
        };
        assert!(err(&base(r#""samplingPercentage":0,"#))
            .starts_with("samplingPercentage: 0 is out of range"));
        assert!(err(&base(r#""samplingPercentage":101,"#)).contains("allowed: 1 to 100"));
        assert!(err(&base(r#""scheduleFrequency":{"dailySchedule":{}},"#))
            .starts_with("scheduleFrequency: not allowed"));
        assert!(err(&base(r#""managedDataIdentifierSelector":"INCLUDE","#))
            .starts_with("managedDataIdentifierIds: required"));
        assert!(err(&base(
            r#""managedDataIdentifierSelector":"ALL","managedDataIdentifierIds":["NAME"],"#
        ))
        .contains("must be empty"));
        assert!(err(&base(r#""managedDataIdentifierSelector":"NONE","#))
            .starts_with("customDataIdentifierIds:"));
        let sched = r#"{"jobType":"SCHEDULED","s3JobDefinition":{"bucketDefinitions":[{"accountId":"111222333444","buckets":["b"]}]}}"#;
        assert!(err(sched).starts_with("scheduleFrequency: required"));
        let monthly = sched.replace(
            r#""jobType":"SCHEDULED","#,
            r#""jobType":"SCHEDULED","scheduleFrequency":{"monthlySchedule":{"dayOfMonth":32}},"#,
        );
        assert!(err(&monthly).starts_with("scheduleFrequency.monthlySchedule.dayOfMonth: 32"));
        let both = r#"{"jobType":"ONE_TIME","s3JobDefinition":{"bucketDefinitions":[{"accountId":"111222333444","buckets":["b"]}],"bucketCriteria":{}}}"#;
        assert!(err(both).contains("mutually exclusive"));
        let e = err(&with_term(
            r#"{"simpleScopeTerm":{"comparator":"EQ","key":"OBJECT_SIZE","values":["1","2"]}}"#,
        ));
        assert!(e.contains("exactly one value"), "{e}");
        let e = err(&with_term(
            r#"{"simpleScopeTerm":{"comparator":"EQ","key":"OBJECT_SIZE","values":["big"]}}"#,
        ));
        assert!(
            e.starts_with("s3JobDefinition.scoping.includes.and[0].simpleScopeTerm.values[0]:"),
            "{e}"
        );
        let e = err(&with_term(
            r#"{"simpleScopeTerm":{"comparator":"GT","key":"OBJECT_LAST_MODIFIED_DATE","values":["last week"]}}"#,
        ));
        assert!(e.contains("not an ISO-8601"), "{e}");
        let e = err(&with_term(
            r#"{"tagScopeTerm":{"comparator":"GT","key":"TAG","tagValues":[{"key":"a","value":""}],"target":"S3_OBJECT"}}"#,
        ));
        assert!(e.contains("tagScopeTerm.comparator"), "{e}");
        let e = err(&with_term(r#"{}"#));
        assert!(
            e.contains("exactly one of simpleScopeTerm or tagScopeTerm"),
            "{e}"
        );
    }

    #[test]
    fn round_trips_through_serde() {
        let spec = JobSpec::from_json(WALKTHROUGH).unwrap();
        let text = serde_json::to_string(&spec).unwrap();
        assert_eq!(JobSpec::from_json(&text).unwrap(), spec);
    }
}
