//! The EventBridge envelope of a finding event (decisions.md §1, macie.md §6.1).

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::ids::stable_uuid;
use crate::timestamp::Timestamp;

/// The `detail-type` of every finding event.
pub const FINDING_DETAIL_TYPE: &str = "Macie Finding";
/// dragnet's default event source (EventBridge refuses custom `aws.*` sources).
pub const DEFAULT_SOURCE: &str = "dragnet";

/// A finding event as EventBridge delivers it to rules and targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingEvent {
    /// Always `"0"`.
    pub version: String,
    /// Event id (a UUID; deterministic per finding and source here).
    pub id: String,
    /// `Macie Finding`.
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// `dragnet` by default (configurable).
    pub source: String,
    /// Account id.
    pub account: String,
    /// Event time (second precision, as EventBridge prints it).
    pub time: String,
    /// Region.
    pub region: String,
    /// `[<object ARN>]`.
    pub resources: Vec<String>,
    /// The finding, exactly as GetFindings returns it.
    pub detail: Finding,
}

impl FindingEvent {
    /// Wraps a finding in the envelope, with `source` as configured.
    pub fn new(finding: Finding, source: &str, time: Timestamp) -> Self {
        let object = &finding.resources_affected.s3_object;
        let resource = format!("arn:aws:s3:::{}", object.path);
        let mut t = time.to_string();
        // EventBridge prints whole seconds: 2021-04-29T23:12:15Z.
        if let Some(dot) = t.find('.') {
            t.replace_range(dot..t.len() - 1, "");
        }
        FindingEvent {
            version: "0".into(),
            id: stable_uuid(&["event", source, &finding.id]),
            detail_type: FINDING_DETAIL_TYPE.into(),
            source: source.into(),
            account: finding.account_id.clone(),
            time: t,
            region: finding.region.clone(),
            resources: vec![resource],
            detail: finding,
        }
    }
}
