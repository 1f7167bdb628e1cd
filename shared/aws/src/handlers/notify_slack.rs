//! `notify-slack`: SNS (the alert topic) -> Slack incoming webhook, with the Block Kit rendering.
//!
//! The webhook URL is read from Secrets Manager once at cold start ([`webhook_url_from_secret`]) and never
//! logged. Findings below `TRIPLINE_SLACK_MIN_SEVERITY` are skipped (and logged). Remediation outcomes and
//! sweep summaries get a short text message. A webhook failure after the poster's own retries is returned
//! as an error (retryable for 429/5xx/connection failures), so SNS delivers the message again.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::HandlerError;
use crate::PostWebhook;
use tripline_core::finding::Severity;
use tripline_core::render::slack::payload_for;
use tripline_core::Envelope;
use tripline_core::IntakeError;

/// Configuration of notify-slack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlackConfig {
    pub min_severity: Severity,
}

/// Why the secret does not hold a usable webhook URL. Never contains the secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the slack secret {0}")]
pub struct SecretFormatError(&'static str);

/// The webhook URL from the secret's string: the URL itself, or a JSON object with `webhook_url`,
/// `webhookUrl` or `url`.
pub fn webhook_url_from_secret(secret: &str) -> Result<String, SecretFormatError> {
    let s = secret.trim();
    if s.starts_with('{') {
        let v: Value =
            serde_json::from_str(s).map_err(|_| SecretFormatError("is a json object that does not parse"))?;
        return ["webhook_url", "webhookUrl", "url"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .map(str::to_owned)
            .ok_or(SecretFormatError(
                "json has none of `webhook_url`, `webhookUrl`, `url`",
            ));
    }
    if s.is_empty() {
        return Err(SecretFormatError("is empty"));
    }
    Ok(s.to_owned())
}

#[derive(Debug, Deserialize)]
struct SnsEvent {
    #[serde(rename = "Records")]
    records: Vec<SnsRecord>,
}

#[derive(Debug, Deserialize)]
struct SnsRecord {
    #[serde(rename = "Sns")]
    sns: SnsBody,
}

#[derive(Debug, Deserialize)]
struct SnsBody {
    #[serde(rename = "MessageId", default)]
    message_id: String,
    #[serde(rename = "Subject", default)]
    subject: Option<String>,
    #[serde(rename = "Message")]
    message: String,
    #[serde(rename = "MessageAttributes", default)]
    attributes: serde_json::Map<String, Value>,
}

impl SnsBody {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .get(name)
            .and_then(|a| a.get("Value"))
            .and_then(Value::as_str)
    }
}

/// What happened to one SNS record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub message_id: String,
    pub kind: String,
    /// `posted` or `skipped: <why>`.
    pub result: String,
}

/// The notify-slack handler: posts every record of an SNS event.
pub async fn handle_slack<W: PostWebhook>(
    webhook: &W,
    cfg: &SlackConfig,
    event: &Envelope,
) -> Result<Vec<Delivery>, HandlerError> {
    let bad = |source: IntakeError| {
        let event_id = event.event_id.clone();
        tracing::error!(event_id = %event_id, error = %source, "bad event");
        HandlerError::BadEvent { event_id, source }
    };
    let value = event.value().map_err(|e| bad(e.clone()))?;
    let parsed = SnsEvent::deserialize(value).map_err(|e| {
        bad(IntakeError::Json {
            line: e.line(),
            column: e.column(),
            message: format!("not an sns event: {e}").to_lowercase(),
        })
    })?;
    let mut out = Vec::new();
    for r in parsed.records {
        let sns = r.sns;
        let kind = sns.attribute("kind").map(str::to_owned);
        let rule = sns.attribute("rule").unwrap_or_default().to_owned();
        let result = match payload_for(
            kind.as_deref(),
            sns.subject.as_deref(),
            &sns.message,
            cfg.min_severity,
        ) {
            Err(why) => {
                tracing::info!(event_id = %sns.message_id, rule = %rule, reason = %why, "not posted to slack");
                format!("skipped: {why}")
            }
            Ok(body) => {
                webhook.post_json(&body).await.map_err(|source| {
                    tracing::error!(event_id = %sns.message_id, rule = %rule, retryable = source.retryable, error = %source, "slack post failed");
                    HandlerError::Webhook {
                        event_id: sns.message_id.clone(),
                        source,
                    }
                })?;
                tracing::info!(event_id = %sns.message_id, rule = %rule, "posted to slack");
                "posted".to_owned()
            }
        };
        out.push(Delivery {
            message_id: sns.message_id,
            kind: kind.unwrap_or_else(|| "unknown".to_owned()),
            result,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::fakes::FakeAws;
    use crate::ErrorKind;
    use serde_json::json;
    use tripline_core::Envelope;

    #[test]
    fn secret_formats() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            (
                "https://hooks.slack.com/services/T/B/X",
                Ok("https://hooks.slack.com/services/T/B/X"),
            ),
            (
                "  https://hooks.slack.com/services/T/B/X\n",
                Ok("https://hooks.slack.com/services/T/B/X"),
            ),
            (r#"{"webhook_url": "https://h/1"}"#, Ok("https://h/1")),
            (r#"{"webhookUrl": "https://h/2"}"#, Ok("https://h/2")),
            (r#"{"url": "https://h/3"}"#, Ok("https://h/3")),
            (
                r#"{"token": "SECRET"}"#,
                Err("the slack secret json has none of `webhook_url`, `webhookUrl`, `url`"),
            ),
            (
                r#"{"SECRET"#,
                Err("the slack secret is a json object that does not parse"),
            ),
            ("", Err("the slack secret is empty")),
        ];
        for (secret, want) in cases {
            let got = webhook_url_from_secret(secret).map_err(|e| e.to_string());
            assert_eq!(got, want.map(str::to_owned).map_err(str::to_owned), "{secret}");
        }
    }

    fn sns_event(kind: &str, message: &Value) -> Vec<u8> {
        serde_json::to_vec(&json!({"Records": [{"EventSource": "aws:sns", "Sns": {
            "MessageId": "m-1", "Subject": "[HIGH] x", "Message": message.to_string(),
            "MessageAttributes": {"kind": {"Type": "String", "Value": kind}}
        }}]}))
        .unwrap()
    }

    use crate::block_on;
    fn finding(sev: Severity) -> Value {
        // A finding as the detectors publish it: evaluate a sample event.
        let event = std::fs::read(format!(
            "{}/../../events/cloudtrail-s3-put-bucket-policy-public.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let tripline_core::intake::Intake::Change(c) = tripline_core::intake::intake(&event).unwrap() else {
            panic!()
        };
        let mut f = tripline_core::rules::evaluate(&c, None, &tripline_core::settings::RuleConfig::default())
            .findings
            .remove(0);
        f.severity = sev;
        serde_json::to_value(f).unwrap()
    }

    #[test]
    fn posts_findings_at_or_above_the_minimum_and_reports_failures() {
        let cfg = SlackConfig {
            min_severity: Severity::High,
        };
        let aws = FakeAws::new();
        // (severity, posted?)
        let cases = [
            (Severity::Critical, true),
            (Severity::High, true),
            (Severity::Medium, false),
        ];
        for (sev, posted) in cases {
            let out = block_on(handle_slack(
                &aws,
                &cfg,
                &Envelope::read(&sns_event("finding", &finding(sev))),
            ))
            .unwrap();
            assert_eq!(out[0].result == "posted", posted, "{sev:?}: {out:?}");
        }
        let posts = aws.world().webhook_posts.clone();
        assert_eq!(posts.len(), 2);
        assert!(posts[0]["blocks"].as_array().is_some_and(|b| !b.is_empty()));

        // Other kinds get a text message.
        let summary = json!({"account": "111122223333", "region": "us-east-1", "time": "t", "checked": {},
            "findings": {"high": 2}, "suppressed": 1, "errors": [], "duration_ms": 5});
        block_on(handle_slack(
            &aws,
            &cfg,
            &Envelope::read(&sns_event("summary", &summary)),
        ))
        .unwrap();
        let last = aws.world().webhook_posts.last().cloned().unwrap();
        assert!(last["text"].as_str().unwrap().contains("2 finding(s)"), "{last}");

        // A webhook failure is the invocation's error, retryable as the poster says.
        aws.fail("slack:Post", ErrorKind::Throttling);
        let e = block_on(handle_slack(
            &aws,
            &cfg,
            &Envelope::read(&sns_event("finding", &finding(Severity::Critical))),
        ))
        .unwrap_err();
        assert!(e.is_retryable());
        // Not an SNS event: bad event, not retryable.
        let e = block_on(handle_slack(&aws, &cfg, &Envelope::read(b"{\"detail\": {}}"))).unwrap_err();
        assert_eq!(e.error_type(), "BadEvent");
    }
}
