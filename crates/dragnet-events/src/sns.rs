//! Alerts published to Amazon SNS topics.
//!
//! One `Publish` per alert with `MessageStructure: json`, so each subscriber gets the text
//! for its protocol: email (and `default`, which SQS, HTTP and Lambda subscribers get) the
//! whole text, SMS the short one ([`sms_text`]). The subject is made acceptable to SNS
//! (ASCII, one line, under 100 characters). Message attributes (`severity`, `findingType`)
//! let subscription filter policies pick alerts without parsing the text.

use serde_json::json;

use crate::alerts::sms_text;
use crate::aws::{connect, AwsOptions, SetupError};

/// SNS's limit on a subject: fewer than 100 characters.
pub const MAX_SUBJECT_CHARS: usize = 99;

/// The `Message` for `MessageStructure: json`: the whole text for every protocol but SMS.
pub fn structured_message(message: &str) -> String {
    json!({
        "default": message,
        "email": message,
        "email-json": message,
        "sms": sms_text(message),
    })
    .to_string()
}

/// `subject` as SNS accepts it: printable ASCII on one line, fewer than 100 characters
/// (other characters become `?`, line breaks spaces).
pub fn sns_subject(subject: &str) -> String {
    let mut out: String = subject
        .chars()
        .map(|c| match c {
            '\r' | '\n' | '\t' => ' ',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '?',
        })
        .take(MAX_SUBJECT_CHARS)
        .collect();
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    if out.trim().is_empty() {
        "dragnet alert".to_string()
    } else {
        out
    }
}

/// Publishes alerts to SNS topics. Synchronous, like the rest of the react path.
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    runtime: tokio::runtime::Runtime,
}

impl SnsPublisher {
    /// A publisher reaching SNS as `aws` says.
    pub fn new(aws: &AwsOptions) -> Result<Self, SetupError> {
        let (runtime, config) = connect(aws)?;
        Ok(SnsPublisher {
            client: aws_sdk_sns::Client::new(&config),
            runtime,
        })
    }

    /// Publishes one alert to `topic_arn`, with `attributes` as string message attributes
    /// (empty values are left out, as SNS refuses them); SNS's message id, or why it failed.
    pub fn publish(
        &self,
        topic_arn: &str,
        subject: &str,
        message: &str,
        attributes: &[(&str, &str)],
    ) -> Result<String, String> {
        let mut call = self
            .client
            .publish()
            .topic_arn(topic_arn)
            .subject(sns_subject(subject))
            .message_structure("json")
            .message(structured_message(message));
        for (name, value) in attributes.iter().filter(|(_, v)| !v.is_empty()) {
            let value = aws_sdk_sns::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(*value)
                .build()
                .map_err(|e| format!("message attribute {name}: {e}"))?;
            call = call.message_attributes(*name, value);
        }
        match self.runtime.block_on(call.send()) {
            Ok(out) => Ok(out.message_id().unwrap_or_default().to_string()),
            Err(e) => Err(format!(
                "publishing to SNS topic {topic_arn}: {}",
                aws_sdk_sns::error::DisplayErrorContext(&e)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::SMS_MAX_CHARS;
    use serde_json::Value;

    #[test]
    fn email_subscribers_get_the_whole_text_sms_the_short_one() {
        let long = format!("Finding for s3://bucket/{}", "k".repeat(300));
        let m: Value = serde_json::from_str(&structured_message(&long)).unwrap();
        assert_eq!(m["default"], long.as_str());
        assert_eq!(m["email"], long.as_str());
        let sms = m["sms"].as_str().unwrap();
        assert_eq!(sms.chars().count(), SMS_MAX_CHARS);
        assert!(sms.ends_with('…') && long.starts_with(sms.trim_end_matches('…')));
        let short: Value = serde_json::from_str(&structured_message("High finding")).unwrap();
        assert_eq!(short["sms"], "High finding");
    }

    #[test]
    fn subjects_are_one_ascii_line_under_100_characters() {
        assert_eq!(
            sns_subject("dragnet: High finding"),
            "dragnet: High finding"
        );
        assert_eq!(sns_subject("a\nb\tc"), "a b c");
        assert_eq!(sns_subject("naïve"), "na?ve");
        assert_eq!(sns_subject(&"s".repeat(500)).len(), MAX_SUBJECT_CHARS);
        assert_eq!(sns_subject("\n\n"), "dragnet alert");
    }
}
