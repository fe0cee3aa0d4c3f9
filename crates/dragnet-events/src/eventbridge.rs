//! Publishing finding events to Amazon EventBridge with `PutEvents`, so rules written for
//! Macie (`source`, `detail-type` = `Macie Finding`, `detail` = the finding) match ours.
//!
//! What is sent is the event the local bus sees, field for field: `Source`, `DetailType`,
//! `Detail` (the `detail` object as a JSON string), `Resources` and `Time` come from the
//! event; EventBridge assigns `id`, `account` and `region`. Requests hold at most 10 entries
//! and 256 KiB, counted as EventBridge documents it (`Time` 14 bytes, plus the UTF-8 bytes of
//! `Source`, `DetailType`, `Detail` and each resource). Entries EventBridge reports as failed
//! (`FailedEntryCount`, e.g. throttling) and whole requests that fail are retried with
//! backoff; what still fails is returned to the caller, who dead-letters it. Nothing is
//! dropped silently.
//!
//! A finding too large for one event (many detection types, long JSON paths or column names)
//! is sent trimmed, as issue #6 asks, rather than failing: occurrence locations are dropped
//! and `classificationDetails.result.additionalOccurrences` is set to `true`, Macie's own flag
//! for "more locations exist than shown"; counts, types and severity are kept, and the full
//! finding stays in the job's findings file. Only an event still over the limit after that is
//! dead-lettered.

use serde_json::Value;

use crate::aws::{connect, AwsOptions, SetupError};
use crate::bus::RetryPolicy;

/// EventBridge's limit on entries per `PutEvents` request.
pub const MAX_ENTRIES: usize = 10;
/// EventBridge's limit on the size of a `PutEvents` request, and so of one entry.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// One `PutEvents` entry, taken from an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `Source`.
    pub source: String,
    /// `DetailType`.
    pub detail_type: String,
    /// `Detail`, a JSON object as a string.
    pub detail: String,
    /// `Resources`.
    pub resources: Vec<String>,
    /// `Time` as RFC 3339, when the event has one.
    pub time: Option<String>,
}

impl Entry {
    /// The entry for `event` (an EventBridge-shaped event: `source`, `detail-type`,
    /// `detail`, optionally `resources` and `time`). Names the missing field when there is
    /// one, since EventBridge rejects such an entry.
    pub fn from_event(event: &Value) -> Result<Entry, String> {
        let text = |field: &str| {
            event[field]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("the event has no `{field}` string"))
        };
        let detail = &event["detail"];
        if !detail.is_object() {
            return Err("the event's `detail` is not a JSON object".into());
        }
        let detail_type = text("detail-type")?;
        if detail_type.len() > 128 {
            return Err("the event's `detail-type` is longer than 128 characters".into());
        }
        Ok(Entry {
            source: text("source")?,
            detail_type,
            detail: detail.to_string(),
            resources: event["resources"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|r| r.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            time: event["time"].as_str().map(str::to_string),
        })
    }

    /// Makes the entry fit EventBridge's size limit by trimming the finding in `detail` (see
    /// the module doc); `true` when it was trimmed. An entry that fits is left alone.
    pub fn fit_to_limit(&mut self) -> bool {
        if self.size() <= MAX_REQUEST_BYTES {
            return false;
        }
        let Ok(mut detail) = serde_json::from_str::<Value>(&self.detail) else {
            return false;
        };
        if !trim_occurrences(&mut detail) {
            return false;
        }
        self.detail = detail.to_string();
        true
    }

    /// The entry's size as EventBridge counts it against the request limit.
    pub fn size(&self) -> usize {
        self.time.as_ref().map_or(0, |_| 14)
            + self.source.len()
            + self.detail_type.len()
            + self.detail.len()
            + self.resources.iter().map(String::len).sum::<usize>()
    }
}

/// Drops the occurrence locations of every detection of the finding and flags
/// `additionalOccurrences`; `false` when the value holds no finding result to trim.
fn trim_occurrences(finding: &mut Value) -> bool {
    let Some(result) = finding
        .pointer_mut("/classificationDetails/result")
        .and_then(Value::as_object_mut)
    else {
        return false;
    };
    let drop_locations = |detections: Option<&mut Value>| {
        for detection in detections
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(d) = detection.as_object_mut() {
                d.remove("occurrences");
            }
        }
    };
    if let Some(categories) = result
        .get_mut("sensitiveData")
        .and_then(Value::as_array_mut)
    {
        for category in categories {
            drop_locations(category.get_mut("detections"));
        }
    }
    drop_locations(
        result
            .get_mut("customDataIdentifiers")
            .and_then(|c| c.get_mut("detections")),
    );
    result.insert("additionalOccurrences".into(), Value::Bool(true));
    true
}

/// Groups entry indexes into requests within EventBridge's limits, in order. An entry over
/// the size limit on its own is returned in `too_large` instead: EventBridge would refuse
/// it, so it goes straight to the dead-letter file.
pub fn batches(entries: &[Entry]) -> Batches {
    let mut out = Batches::default();
    let mut current: Vec<usize> = Vec::new();
    let mut bytes = 0;
    for (i, entry) in entries.iter().enumerate() {
        let size = entry.size();
        if size > MAX_REQUEST_BYTES {
            out.too_large.push(i);
            continue;
        }
        if current.len() == MAX_ENTRIES || bytes + size > MAX_REQUEST_BYTES {
            out.requests.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(i);
        bytes += size;
    }
    if !current.is_empty() {
        out.requests.push(current);
    }
    out
}

/// Sends `request` with `put` (one result per index it is given), then sends again only the
/// entries that failed, with backoff, until all are accepted or the tries run out.
fn retry_failed_entries(
    request: &[usize],
    retry: RetryPolicy,
    mut put: impl FnMut(&[usize]) -> Vec<Result<String, String>>,
) -> Vec<(usize, Published)> {
    let attempts = retry.attempts.max(1);
    let mut delay = retry.base_delay;
    let mut pending: Vec<usize> = request.to_vec();
    let mut done = Vec::new();
    for attempt in 1..=attempts {
        let results = put(&pending);
        let mut still = Vec::new();
        for (i, result) in pending.iter().copied().zip(results) {
            match result {
                Ok(event_id) => done.push((
                    i,
                    Published::Accepted {
                        event_id,
                        attempts: attempt,
                    },
                )),
                Err(error) if attempt == attempts => {
                    tracing::error!(attempts, error = %error, "PutEvents entry failed");
                    done.push((i, Published::Rejected { attempts, error }));
                }
                Err(error) => {
                    tracing::warn!(attempt, error = %error, "PutEvents entry failed; retrying");
                    still.push(i);
                }
            }
        }
        if still.is_empty() {
            break;
        }
        pending = still;
        std::thread::sleep(delay);
        delay *= 2;
    }
    done
}

/// The result of [`batches`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Batches {
    /// Entry indexes per request.
    pub requests: Vec<Vec<usize>>,
    /// Entries too large for any request.
    pub too_large: Vec<usize>,
}

/// How publishing one event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    /// Accepted by EventBridge, with the event id it assigned, after this many tries.
    Accepted {
        /// EventBridge's event id.
        event_id: String,
        /// Tries used.
        attempts: u32,
    },
    /// Not accepted; the caller dead-letters the event.
    Rejected {
        /// Tries used (0 when the event could not be turned into an entry).
        attempts: u32,
        /// Why, with EventBridge's error code when it gave one.
        error: String,
    },
}

/// Publishes events to one EventBridge bus. Synchronous, like the rest of the react path:
/// it owns a small runtime and blocks on it.
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    runtime: tokio::runtime::Runtime,
    bus: String,
    retry: RetryPolicy,
}

impl EventBridgePublisher {
    /// A publisher to `bus` (name or ARN; `default` when empty).
    pub fn new(bus: &str, aws: &AwsOptions, retry: RetryPolicy) -> Result<Self, SetupError> {
        let (runtime, config) = connect(aws)?;
        let client = aws_sdk_eventbridge::Client::new(&config);
        let bus = if bus.is_empty() { "default" } else { bus }.to_string();
        Ok(EventBridgePublisher {
            client,
            runtime,
            bus,
            retry,
        })
    }

    /// The bus events go to.
    pub fn bus(&self) -> &str {
        &self.bus
    }

    /// Publishes `events`; one outcome per event, in order.
    pub fn publish(&self, events: &[Value]) -> Vec<Published> {
        let mut outcomes: Vec<Option<Published>> = vec![None; events.len()];
        let mut entries = Vec::new();
        let mut index_of = Vec::new();
        for (i, event) in events.iter().enumerate() {
            match Entry::from_event(event) {
                Ok(mut e) => {
                    if e.fit_to_limit() {
                        tracing::warn!(bus = %self.bus, "finding too large for one event; sent without occurrence locations");
                    }
                    entries.push(e);
                    index_of.push(i);
                }
                Err(error) => outcomes[i] = Some(Published::Rejected { attempts: 0, error }),
            }
        }
        let plan = batches(&entries);
        for i in plan.too_large {
            outcomes[index_of[i]] = Some(Published::Rejected {
                attempts: 0,
                error: format!(
                    "the event is {} bytes, over EventBridge's {MAX_REQUEST_BYTES}-byte limit",
                    entries[i].size()
                ),
            });
        }
        for request in plan.requests {
            for (i, outcome) in self.put_with_retries(&entries, &request) {
                outcomes[index_of[i]] = Some(outcome);
            }
        }
        outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or(Published::Rejected {
                    attempts: 0,
                    error: "internal: event was not published".into(),
                })
            })
            .collect()
    }

    /// Sends one request's entries, retrying the ones that fail.
    fn put_with_retries(&self, entries: &[Entry], request: &[usize]) -> Vec<(usize, Published)> {
        retry_failed_entries(request, self.retry, |which| self.put_once(entries, which))
    }

    /// One `PutEvents` call; one result per entry in `which`.
    fn put_once(&self, entries: &[Entry], which: &[usize]) -> Vec<Result<String, String>> {
        let mut call = self.client.put_events();
        for &i in which {
            call = call.entries(self.request_entry(&entries[i]));
        }
        match self.runtime.block_on(call.send()) {
            Err(e) => {
                let error = format!(
                    "PutEvents to bus {}: {}",
                    self.bus,
                    aws_sdk_eventbridge::error::DisplayErrorContext(&e)
                );
                which.iter().map(|_| Err(error.clone())).collect()
            }
            Ok(out) => {
                let results = out.entries();
                which
                    .iter()
                    .enumerate()
                    .map(|(n, _)| match results.get(n) {
                        Some(r) if r.error_code().is_none() => r
                            .event_id()
                            .map(str::to_string)
                            .ok_or_else(|| "EventBridge returned no event id".to_string()),
                        Some(r) => Err(format!(
                            "{}: {}",
                            r.error_code().unwrap_or_default(),
                            r.error_message().unwrap_or_default()
                        )),
                        None => Err("EventBridge returned fewer results than entries".into()),
                    })
                    .collect()
            }
        }
    }

    fn request_entry(&self, entry: &Entry) -> aws_sdk_eventbridge::types::PutEventsRequestEntry {
        let time = entry.time.as_deref().and_then(|t| {
            aws_sdk_eventbridge::primitives::DateTime::from_str(
                t,
                aws_sdk_eventbridge::primitives::DateTimeFormat::DateTime,
            )
            .ok()
        });
        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(&entry.source)
            .detail_type(&entry.detail_type)
            .detail(&entry.detail)
            .set_resources(Some(entry.resources.clone()))
            .set_time(time)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(detail_bytes: usize) -> Value {
        json!({
            "source": "dragnet",
            "detail-type": "Macie Finding",
            "time": "2026-11-23T10:00:00Z",
            "resources": ["arn:aws:s3:::bucket"],
            "detail": {"pad": "x".repeat(detail_bytes)},
        })
    }

    #[test]
    fn an_entry_carries_the_event_fields() {
        let e = Entry::from_event(&event(3)).unwrap();
        assert_eq!(e.source, "dragnet");
        assert_eq!(e.detail_type, "Macie Finding");
        assert_eq!(e.detail, r#"{"pad":"xxx"}"#);
        assert_eq!(e.resources, vec!["arn:aws:s3:::bucket".to_string()]);
        assert_eq!(e.time.as_deref(), Some("2026-11-23T10:00:00Z"));
        assert_eq!(e.size(), 14 + 7 + 13 + 13 + 19);
    }

    #[test]
    fn entries_without_required_fields_are_refused_by_name() {
        let mut e = event(1);
        e["detail"] = json!("text");
        assert!(Entry::from_event(&e).unwrap_err().contains("`detail`"));
        let mut e = event(1);
        e.as_object_mut().unwrap().remove("source");
        assert!(Entry::from_event(&e).unwrap_err().contains("`source`"));
        let mut e = event(1);
        e["detail-type"] = json!("x".repeat(129));
        assert!(Entry::from_event(&e).unwrap_err().contains("128"));
    }

    #[test]
    fn requests_hold_at_most_ten_entries() {
        let entries: Vec<Entry> = (0..23)
            .map(|_| Entry::from_event(&event(10)).unwrap())
            .collect();
        let b = batches(&entries);
        let sizes: Vec<usize> = b.requests.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 3]);
        assert!(b.too_large.is_empty());
        let order: Vec<usize> = b.requests.concat();
        assert_eq!(order, (0..23).collect::<Vec<_>>());
    }

    #[test]
    fn requests_stay_under_the_size_limit_and_oversized_entries_are_set_aside() {
        let entries = vec![
            Entry::from_event(&event(100 * 1024)).unwrap(),
            Entry::from_event(&event(100 * 1024)).unwrap(),
            Entry::from_event(&event(300 * 1024)).unwrap(),
            Entry::from_event(&event(100 * 1024)).unwrap(),
        ];
        let b = batches(&entries);
        assert_eq!(b.requests, vec![vec![0, 1], vec![3]]);
        assert_eq!(b.too_large, vec![2]);
        for r in &b.requests {
            let total: usize = r.iter().map(|&i| entries[i].size()).sum();
            assert!(total <= MAX_REQUEST_BYTES);
        }
    }

    fn big_finding() -> Value {
        let cells: Vec<Value> = (0..15)
            .map(|row| json!({"row": row, "column": 1, "columnName": "c".repeat(2000)}))
            .collect();
        let detections: Vec<Value> = (0..10)
            .map(|n| json!({"type": format!("T{n}"), "count": 40, "occurrences": {"cells": cells}}))
            .collect();
        json!({
            "source": "dragnet",
            "detail-type": "Macie Finding",
            "detail": {
                "severity": {"description": "High"},
                "classificationDetails": {"result": {
                    "additionalOccurrences": false,
                    "sensitiveData": [{"category": "PERSONAL_INFORMATION", "totalCount": 400, "detections": detections}],
                    "customDataIdentifiers": {"totalCount": 1, "detections": [{"name": "x", "count": 1, "occurrences": {"cells": cells}}]}
                }}
            }
        })
    }

    #[test]
    fn an_oversized_finding_is_sent_without_locations_and_flagged() {
        let mut e = Entry::from_event(&big_finding()).unwrap();
        assert!(e.size() > MAX_REQUEST_BYTES);
        assert!(e.fit_to_limit());
        assert!(e.size() <= MAX_REQUEST_BYTES);
        let detail: Value = serde_json::from_str(&e.detail).unwrap();
        let result = &detail["classificationDetails"]["result"];
        assert_eq!(result["additionalOccurrences"], true);
        assert_eq!(result["sensitiveData"][0]["detections"][3]["count"], 40);
        assert!(result["sensitiveData"][0]["detections"][3]
            .get("occurrences")
            .is_none());
        assert!(result["customDataIdentifiers"]["detections"][0]
            .get("occurrences")
            .is_none());
        assert_eq!(detail["severity"]["description"], "High");
    }

    #[test]
    fn a_finding_that_fits_is_sent_whole() {
        let mut e = Entry::from_event(&event(1000)).unwrap();
        let before = e.clone();
        assert!(!e.fit_to_limit());
        assert_eq!(e, before);
        // Too large, but no finding to trim: left for the dead-letter file.
        let mut e = Entry::from_event(&event(300 * 1024)).unwrap();
        assert!(!e.fit_to_limit());
        assert!(e.size() > MAX_REQUEST_BYTES);
    }

    #[test]
    fn only_the_entries_of_a_partial_failure_are_sent_again() {
        let retry = RetryPolicy {
            attempts: 3,
            base_delay: std::time::Duration::ZERO,
        };
        let mut calls: Vec<Vec<usize>> = Vec::new();
        let done = retry_failed_entries(&[0, 1, 2, 3], retry, |which| {
            calls.push(which.to_vec());
            which
                .iter()
                .map(|&i| match (i, calls.len()) {
                    (1, 1) | (3, 1) | (3, 2) => Err("ThrottlingException: slow down".into()),
                    _ => Ok(format!("id-{i}")),
                })
                .collect()
        });
        assert_eq!(calls, vec![vec![0, 1, 2, 3], vec![1, 3], vec![3]]);
        let mut done = done;
        done.sort_by_key(|(i, _)| *i);
        let attempts: Vec<u32> = done
            .iter()
            .map(|(_, p)| match p {
                Published::Accepted { attempts, .. } => *attempts,
                Published::Rejected { .. } => 0,
            })
            .collect();
        assert_eq!(attempts, vec![1, 2, 1, 3]);
    }

    #[test]
    fn entries_still_failing_after_the_last_try_are_rejected_with_the_error() {
        let retry = RetryPolicy {
            attempts: 2,
            base_delay: std::time::Duration::ZERO,
        };
        let done = retry_failed_entries(&[5], retry, |which| {
            which
                .iter()
                .map(|_| Err("InternalFailure: boom".into()))
                .collect()
        });
        assert_eq!(
            done,
            vec![(
                5,
                Published::Rejected {
                    attempts: 2,
                    error: "InternalFailure: boom".into()
                }
            )]
        );
    }

    #[test]
    fn no_entries_no_requests() {
        assert_eq!(batches(&[]), Batches::default());
    }
}
