//! Alerts in local mode: each message goes to an outbox (JSON Lines) and to stderr, shaped as
//! an SNS delivery would be: topic, protocol, subject, message.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Longest SMS text (SNS delivers at most 140 bytes per SMS message part).
pub const SMS_MAX_CHARS: usize = 140;

/// `message` cut to an SMS: at most [`SMS_MAX_CHARS`] characters, ending in `…` when cut.
pub fn sms_text(message: &str) -> String {
    if message.chars().count() <= SMS_MAX_CHARS {
        return message.to_string();
    }
    let mut short: String = message.chars().take(SMS_MAX_CHARS - 1).collect();
    short.push('…');
    short
}

/// How a topic delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Long text with a subject.
    Email,
    /// Short text, at most [`SMS_MAX_CHARS`].
    Sms,
}

/// One alert as written to the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// When it was sent.
    pub time: String,
    /// Topic name.
    pub topic: String,
    /// Delivery protocol.
    pub protocol: Protocol,
    /// Subject (email).
    pub subject: String,
    /// The text.
    pub message: String,
    /// The rule that sent it.
    pub rule: String,
}

/// The local outbox.
#[derive(Debug, Clone)]
pub struct Outbox {
    path: PathBuf,
    protocols: BTreeMap<String, Protocol>,
}

impl Outbox {
    /// An outbox at `path`; topics not in `protocols` deliver by email.
    pub fn new(path: PathBuf, protocols: BTreeMap<String, Protocol>) -> Self {
        Outbox { path, protocols }
    }

    /// Where alerts are written.
    pub fn path(&self) -> &PathBuf {
        &self.path
    }

    /// Sends `message` to `topic`: appends it to the outbox and prints it on stderr.
    pub fn send(
        &self,
        topic: &str,
        subject: &str,
        message: &str,
        rule: &str,
    ) -> Result<Alert, String> {
        let protocol = self
            .protocols
            .get(topic)
            .copied()
            .unwrap_or(Protocol::Email);
        let message = match protocol {
            Protocol::Sms => sms_text(message),
            Protocol::Email => message.to_string(),
        };
        let alert = Alert {
            time: dragnet_model::Timestamp::now().to_string(),
            topic: topic.to_string(),
            protocol,
            subject: subject.to_string(),
            message,
            rule: rule.to_string(),
        };
        let line = serde_json::to_string(&alert).map_err(|e| e.to_string())?;
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("creating {}: {e}", parent.display()))?;
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| format!("opening alert outbox {}: {e}", self.path.display()))?;
        writeln!(f, "{line}")
            .map_err(|e| format!("writing alert outbox {}: {e}", self.path.display()))?;
        match protocol {
            Protocol::Sms => eprintln!("alert [{topic}/sms]: {}", alert.message),
            Protocol::Email => eprintln!(
                "alert [{topic}/email]: {} (full text in {})",
                alert.subject,
                self.path.display()
            ),
        }
        Ok(alert)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_is_short_email_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(
            dir.path().join("alerts.jsonl"),
            BTreeMap::from([("sms-topic".to_string(), Protocol::Sms)]),
        );
        let long = "x".repeat(300);
        assert_eq!(
            outbox
                .send("sms-topic", "s", &long, "r")
                .unwrap()
                .message
                .chars()
                .count(),
            SMS_MAX_CHARS
        );
        assert_eq!(
            outbox
                .send("mail-topic", "s", &long, "r")
                .unwrap()
                .message
                .len(),
            300
        );
        let lines = std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap();
        let first: Alert = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
        assert_eq!(first.protocol, Protocol::Sms);
        assert_eq!(lines.lines().count(), 2);
    }
}
