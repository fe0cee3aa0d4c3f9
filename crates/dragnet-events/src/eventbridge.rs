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

use serde_json::Value;

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

    /// The entry's size as EventBridge counts it against the request limit.
    pub fn size(&self) -> usize {
        self.time.as_ref().map_or(0, |_| 14)
            + self.source.len()
            + self.detail_type.len()
            + self.detail.len()
            + self.resources.iter().map(String::len).sum::<usize>()
    }
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

/// Where to publish.
#[derive(Debug, Clone, Default)]
pub struct EventBridgeOptions {
    /// Event bus name or ARN (`default` when empty).
    pub bus: String,
    /// Region (else the standard chain's).
    pub region: Option<String>,
    /// A custom endpoint (a local emulator); the standard `AWS_ENDPOINT_URL` also works.
    pub endpoint_url: Option<String>,
}

/// Could not set up the EventBridge client.
#[derive(Debug, thiserror::Error)]
#[error("starting the EventBridge client: {0}")]
pub struct SetupError(#[from] std::io::Error);

/// Publishes events to one EventBridge bus. Synchronous, like the rest of the react path:
/// it owns a small runtime and blocks on it.
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    runtime: tokio::runtime::Runtime,
    bus: String,
    retry: RetryPolicy,
}

impl EventBridgePublisher {
    /// A publisher for `options.bus`, credentials from the standard AWS chain.
    pub fn new(options: &EventBridgeOptions, retry: RetryPolicy) -> Result<Self, SetupError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let client = runtime.block_on(async {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(region) = &options.region {
                loader = loader.region(aws_config::Region::new(region.clone()));
            }
            if let Some(url) = &options.endpoint_url {
                loader = loader.endpoint_url(url);
            }
            aws_sdk_eventbridge::Client::new(&loader.load().await)
        });
        let bus = if options.bus.is_empty() {
            "default".to_string()
        } else {
            options.bus.clone()
        };
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
                Ok(e) => {
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
        let attempts = self.retry.attempts.max(1);
        let mut delay = self.retry.base_delay;
        let mut pending: Vec<usize> = request.to_vec();
        let mut done = Vec::new();
        for attempt in 1..=attempts {
            let results = self.put_once(entries, &pending);
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
                        tracing::error!(bus = %self.bus, attempts, error = %error, "PutEvents entry failed");
                        done.push((i, Published::Rejected { attempts, error }));
                    }
                    Err(error) => {
                        tracing::warn!(bus = %self.bus, attempt, error = %error, "PutEvents entry failed; retrying");
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

    #[test]
    fn no_entries_no_requests() {
        assert_eq!(batches(&[]), Batches::default());
    }
}
