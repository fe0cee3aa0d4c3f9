//! `dragnet quarantine --queue-url`: the quarantine mover fed by an SQS queue that an
//! EventBridge rule sends finding events to (the alternative to the Lambda handler).
//!
//! Messages are long-polled; each body is the EventBridge event (or an SNS notification
//! wrapping one, or a bare finding). A message is deleted only after its object is moved or
//! found already moved; a message that fails stays on the queue, to be received again after
//! its visibility timeout and, with a redrive policy, to end in the queue's dead-letter queue.
//! One JSON line per message goes to stdout.

use std::collections::HashSet;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use dragnet_quarantine::{quarantine_event, Isolation};
use dragnet_store::ObjectStore;
use serde_json::{json, Value};

use crate::config::Config;
use crate::Exit;

/// The finding event in a message body: the body itself, or the `Message` of an SNS
/// notification that carries it.
pub fn event_of_body(body: &str) -> Result<Value, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the message body is not JSON: {e}"))?;
    if value["Type"] == "Notification" {
        if let Some(inner) = value["Message"].as_str() {
            return serde_json::from_str(inner)
                .map_err(|e| format!("the SNS notification's Message is not JSON: {e}"));
        }
    }
    Ok(value)
}

/// Moves the object of one message's finding.
fn handle(store: &dyn ObjectStore, iso: &Isolation, body: &str) -> Result<Value, String> {
    let event = event_of_body(body)?;
    quarantine_event(store, &event, iso, "dragnet quarantine --queue-url")
        .map(|outcome| outcome.summary())
        .map_err(|e| e.to_string())
}

/// Polls `queue_url` and moves what its messages name: until the queue has nothing new when
/// `once`, else until SIGTERM or SIGINT. With `once`, exits 1 when any message failed.
pub fn run(
    config: &Config,
    store: &dyn ObjectStore,
    iso: &Isolation,
    queue_url: &str,
    once: bool,
) -> Result<ExitCode, Exit> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .context("installing the signal handler")?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the SQS client runtime")?;
    // The endpoint comes from the standard variables (`AWS_ENDPOINT_URL_SQS`) for emulators.
    let client = runtime.block_on(async {
        let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(config.region.clone()))
            .load()
            .await;
        aws_sdk_sqs::Client::new(&shared)
    });
    let mut seen = HashSet::new();
    let mut failed = 0usize;
    let mut stdout = std::io::stdout().lock();
    while !stop.load(Ordering::SeqCst) {
        let received = runtime
            .block_on(
                client
                    .receive_message()
                    .queue_url(queue_url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(if once { 1 } else { 20 })
                    .send(),
            )
            .map_err(|e| {
                Exit::failed(anyhow::anyhow!(
                    "receiving from SQS queue {queue_url}: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(&e)
                ))
            })?;
        let messages: Vec<_> = received
            .messages()
            .iter()
            .filter(|m| seen.insert(m.message_id().unwrap_or_default().to_string()))
            .cloned()
            .collect();
        if messages.is_empty() && once {
            break;
        }
        for message in messages {
            let id = message.message_id().unwrap_or_default();
            let line = match handle(store, iso, message.body().unwrap_or_default()) {
                Ok(mut done) => {
                    if let Some(receipt) = message.receipt_handle() {
                        runtime
                            .block_on(
                                client
                                    .delete_message()
                                    .queue_url(queue_url)
                                    .receipt_handle(receipt)
                                    .send(),
                            )
                            .map_err(|e| {
                                Exit::failed(anyhow::anyhow!(
                                    "deleting message {id} from {queue_url} (its object was moved; the message will be received again and found already moved): {}",
                                    aws_sdk_sqs::error::DisplayErrorContext(&e)
                                ))
                            })?;
                    }
                    done["messageId"] = json!(id);
                    done
                }
                Err(error) => {
                    failed += 1;
                    tracing::error!(message = %id, error = %error, "message not handled; left on the queue");
                    json!({"messageId": id, "status": "FAILED", "error": error})
                }
            };
            writeln!(stdout, "{line}").map_err(anyhow::Error::from)?;
        }
    }
    if failed > 0 && once {
        return Err(Exit::failed(anyhow::anyhow!(
            "{failed} message(s) could not be handled and were left on {queue_url}"
        )));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_events_or_sns_notifications_of_events() {
        let event = json!({"detail-type": "Macie Finding", "detail": {"id": "f"}});
        assert_eq!(event_of_body(&event.to_string()).unwrap(), event);
        let wrapped = json!({"Type": "Notification", "Message": event.to_string()});
        assert_eq!(event_of_body(&wrapped.to_string()).unwrap(), event);
        assert!(event_of_body("not json").unwrap_err().contains("not JSON"));
        let bad = json!({"Type": "Notification", "Message": "text"});
        assert!(event_of_body(&bad.to_string())
            .unwrap_err()
            .contains("Message is not JSON"));
    }
}
