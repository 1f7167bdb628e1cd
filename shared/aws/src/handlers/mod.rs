//! The functions' handler logic, generic over the capability traits so unit tests run it on
//! [`crate::fakes::FakeAws`] and the function binaries on [`crate::AwsClients`].
//!
//! Each `functions/<name>/src/main.rs` only sets up logging, reads and validates its configuration at cold
//! start, builds the clients once, and calls one handler per invocation:
//!
//! | function | handler |
//! |---|---|
//! | on-cloudtrail | [`cloudtrail::handle_cloudtrail`] |
//! | on-config | [`config::handle_config`] |
//! | sweep | [`sweep::handle_sweep`] |
//! | remediate | [`remediate::handle_remediate`] |
//! | notify-slack | [`slack::handle_slack`] |
//!
//! Errors: [`HandlerError::is_retryable`] separates transient failures (the Lambda runtime reports an
//! error, the event source retries and finally dead-letters the event: nothing is lost) from bad input
//! (logged with its id; the error type `BadEvent` tells operators that a retry will not help).

pub mod cloudtrail;
pub mod config;
pub mod remediate;
pub mod slack;
pub mod state;
pub mod sweep;

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use super::env::{self, EnvError};
use super::{AwsError, Publication, Publish, WebhookError};
use tripline_core::error::IntakeError;
use tripline_core::finding::{Finding, Severity};
use tripline_core::render::sns::SnsMessage;
use tripline_core::settings::{RuleConfig, SettingsError};

/// Why an invocation failed.
#[derive(Debug, Error)]
pub enum HandlerError {
    /// The payload cannot be understood; retrying will not help.
    #[error("bad event `{event_id}`: {source}")]
    BadEvent { event_id: String, source: IntakeError },
    /// An AWS call failed (retryable or not, see [`AwsError::is_retryable`]).
    #[error("event `{event_id}`: {source}")]
    Aws { event_id: String, source: AwsError },
    /// The Slack webhook failed.
    #[error("event `{event_id}`: {source}")]
    Webhook { event_id: String, source: WebhookError },
    /// The payload is valid JSON but not what this function handles.
    #[error("event `{event_id}`: {message}")]
    Unsupported { event_id: String, message: String },
}

impl HandlerError {
    pub fn aws(event_id: &str, source: AwsError) -> Self {
        Self::Aws {
            event_id: event_id.to_owned(),
            source,
        }
    }

    /// Whether the event source should deliver the event again.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::BadEvent { .. } | Self::Unsupported { .. } => false,
            Self::Aws { source, .. } => source.is_retryable(),
            Self::Webhook { source, .. } => source.retryable,
        }
    }

    /// The Lambda `errorType`: `Retryable`, `BadEvent` or `Failed` (a permanent AWS failure, e.g. access
    /// denied: retries dead-letter the event for an operator).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::BadEvent { .. } | Self::Unsupported { .. } => "BadEvent",
            _ if self.is_retryable() => "Retryable",
            _ => "Failed",
        }
    }
}

/// Configuration of the detectors (on-cloudtrail, on-config, sweep) and remediate.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    pub alert_topic_arn: String,
    pub rules: RuleConfig,
}

/// A configuration error at cold start; names the variable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

impl DetectorConfig {
    pub fn from_env_map(vars: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        Ok(Self {
            alert_topic_arn: env::alert_topic_arn(vars)?,
            rules: RuleConfig::from_env_map(vars)?,
        })
    }
}

impl From<SnsMessage> for Publication {
    fn from(m: SnsMessage) -> Self {
        Publication {
            subject: m.subject,
            message: m.message,
            message_structure: Some(m.message_structure),
            attributes: m.attributes,
        }
    }
}

/// A short reference to a published finding, for handler outcomes and logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRef {
    pub id: String,
    pub rule: String,
    pub severity: Severity,
    pub resource: String,
    pub suppressed: bool,
    /// The SNS message id.
    pub message_id: String,
}

/// Best-effort event id of a payload for logs of bad events: EventBridge `id`, CloudTrail `eventID`,
/// SNS `MessageId`, Config `resultToken` prefix; `unknown` otherwise. Never fails.
pub fn event_id_hint(bytes: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
        return "unknown".to_owned();
    };
    let candidates = [
        v.get("id"),
        v.get("detail").and_then(|d| d.get("eventID")),
        v.get("eventID"),
        v.get("Records")
            .and_then(|r| r.get(0))
            .and_then(|r| r.get("Sns"))
            .and_then(|s| s.get("MessageId")),
        v.get("MessageId"),
    ];
    if let Some(id) = candidates.into_iter().flatten().find_map(Value::as_str) {
        return id.chars().take(128).collect();
    }
    if let Some(t) = v.get("resultToken").and_then(Value::as_str) {
        return format!("config-rule:{}", t.chars().take(16).collect::<String>());
    }
    "unknown".to_owned()
}

/// SNS publishes in flight at once for one event (an event rarely has more findings than this; a sweep
/// may have many, and SNS's per-topic publish quota is far above it).
const PUBLISH_CONCURRENCY: usize = 8;

/// Publishes every finding to the alert topic, logging each with its rule and resource. Publishes run
/// concurrently (at most [`PUBLISH_CONCURRENCY`] at once) so an event with several findings costs about one
/// SNS round trip, not one per finding. All findings are attempted; the returned references are in finding
/// order, and on failure the first failing finding's error (in finding order) is returned after every
/// attempt has finished (the event is then retried: duplicates carry the same stable finding id, so
/// subscribers can de-duplicate; nothing is lost).
pub async fn publish_findings<P: Publish>(
    aws: &P,
    topic_arn: &str,
    event_id: &str,
    findings: &[Finding],
) -> Result<Vec<FindingRef>, HandlerError> {
    // `buffered` (not `buffer_unordered`) yields results in input order: refs and the reported error are
    // deterministic whatever order SNS answers in.
    let results: Vec<Result<String, AwsError>> = stream::iter(findings)
        .map(|f| async move {
            let msg: Publication = tripline_core::render::sns::message(f).into();
            aws.publish(topic_arn, &msg).await
        })
        .buffered(PUBLISH_CONCURRENCY)
        .collect()
        .await;
    let mut refs = Vec::with_capacity(findings.len());
    let mut first_err = None;
    for (f, result) in findings.iter().zip(results) {
        match result {
            Ok(message_id) => {
                tracing::info!(
                    event_id,
                    finding_id = %f.id,
                    rule = %f.rule,
                    resource = %f.resource.arn,
                    severity = f.severity.as_str(),
                    suppressed = f.suppressed.is_some(),
                    message_id = %message_id,
                    "finding published"
                );
                refs.push(FindingRef {
                    id: f.id.clone(),
                    rule: f.rule.clone(),
                    severity: f.severity,
                    resource: f.resource.arn.clone(),
                    suppressed: f.suppressed.is_some(),
                    message_id,
                });
            }
            Err(e) => {
                tracing::error!(
                    event_id,
                    finding_id = %f.id,
                    rule = %f.rule,
                    resource = %f.resource.arn,
                    retryable = e.is_retryable(),
                    error = %e,
                    "publishing a finding failed"
                );
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        Some(e) => Err(HandlerError::aws(event_id, e)),
        None => Ok(refs),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn event_id_hints() {
        let cases: &[(&str, &str)] = &[
            (r#"{"id": "eb-1", "detail": {"eventID": "ct-1"}}"#, "eb-1"),
            (r#"{"detail": {"eventID": "ct-1"}}"#, "ct-1"),
            (r#"{"Records": [{"Sns": {"MessageId": "sns-1"}}]}"#, "sns-1"),
            (
                r#"{"resultToken": "abcdefghijklmnopqrstuvwxyz"}"#,
                "config-rule:abcdefghijklmnop",
            ),
            (r#"{"id": 5}"#, "unknown"),
            ("not json", "unknown"),
            ("", "unknown"),
        ];
        for (input, want) in cases {
            assert_eq!(event_id_hint(input.as_bytes()), *want, "{input}");
        }
    }

    /// A publisher that fails (transiently) for messages about one resource, records every attempt and
    /// the most publishes it saw in flight at once.
    #[derive(Default)]
    struct FlakySns {
        fail_for: String,
        attempts: std::sync::Mutex<Vec<String>>,
        in_flight: std::sync::atomic::AtomicUsize,
        max_in_flight: std::sync::atomic::AtomicUsize,
    }

    impl Publish for FlakySns {
        async fn publish(&self, _topic_arn: &str, message: &Publication) -> Result<String, AwsError> {
            use std::sync::atomic::Ordering::SeqCst;
            let now = self.in_flight.fetch_add(1, SeqCst) + 1;
            self.max_in_flight.fetch_max(now, SeqCst);
            let n = {
                let mut a = self.attempts.lock().unwrap();
                a.push(message.message.clone());
                a.len()
            };
            // Let the other publishes start before this one answers.
            tokio::task::yield_now().await;
            self.in_flight.fetch_sub(1, SeqCst);
            if message.message.contains(&self.fail_for) {
                return Err(AwsError::new("sns:Publish", ErrorKind::Throttling, "injected"));
            }
            Ok(format!("m-{n}"))
        }
    }

    fn three_findings() -> Vec<Finding> {
        let ctx = tripline_core::rules::SweepContext {
            account: "111122223333",
            region: "us-east-1",
            time: "2026-11-29T00:00:00Z",
        };
        ["flaky-1", "flaky-2", "flaky-3"]
            .iter()
            .map(|b| {
                let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": "*", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{b}/*")}]});
                let state = tripline_core::state::BucketState {
                    policy: Some(policy),
                    ..tripline_core::state::BucketState::default()
                };
                let e = tripline_core::rules::assess_bucket(&ctx, b, &state, None, &RuleConfig::default());
                e.findings
                    .into_iter()
                    .find(|f| f.rule == "s3-bucket-policy-public")
                    .unwrap()
            })
            .collect()
    }

    use crate::block_on;
    #[test]
    fn publishes_concurrently_attempts_all_and_fails_retryably() {
        let findings = three_findings();
        // The second publish fails transiently: all three are attempted, the error is retryable.
        let sns = FlakySns {
            fail_for: "arn:aws:s3:::flaky-2".into(),
            ..FlakySns::default()
        };
        let e = block_on(publish_findings(&sns, "topic", "ev-1", &findings)).unwrap_err();
        assert!(e.is_retryable(), "{e}");
        assert_eq!(e.error_type(), "Retryable");
        let attempts = sns.attempts.lock().unwrap().clone();
        assert_eq!(attempts.len(), 3);
        for f in &findings {
            assert!(
                attempts.iter().any(|m| m.contains(&f.resource.arn)),
                "{}",
                f.resource.arn
            );
        }
        assert_eq!(sns.max_in_flight.load(std::sync::atomic::Ordering::SeqCst), 3);

        // No failure: one reference per finding, in finding order.
        let sns = FlakySns {
            fail_for: "no-such-resource".into(),
            ..FlakySns::default()
        };
        let refs = block_on(publish_findings(&sns, "topic", "ev-1", &findings)).unwrap();
        let got: Vec<&str> = refs.iter().map(|r| r.resource.as_str()).collect();
        let want: Vec<&str> = findings.iter().map(|f| f.resource.arn.as_str()).collect();
        assert_eq!(got, want);
        assert!(refs.iter().zip(&findings).all(|(r, f)| r.id == f.id));
    }

    #[test]
    fn error_types() {
        let bad = HandlerError::BadEvent {
            event_id: "e".into(),
            source: IntakeError::TooLarge { size: 2, limit: 1 },
        };
        let throttled = HandlerError::aws("e", AwsError::new("sns:Publish", ErrorKind::Throttling, "x"));
        let denied = HandlerError::aws("e", AwsError::new("sns:Publish", ErrorKind::AccessDenied, "x"));
        let cases = [
            (bad, false, "BadEvent"),
            (throttled, true, "Retryable"),
            (denied, false, "Failed"),
        ];
        for (e, retryable, ty) in cases {
            assert_eq!(e.is_retryable(), retryable, "{e}");
            assert_eq!(e.error_type(), ty, "{e}");
        }
    }
}
