//! Use case: publish findings to the alert topic.

use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::HandlerError;
use crate::{AwsError, Publish};
use tripline_core::finding::{Finding, Severity};

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
            let msg = tripline_core::render::sns::message(f);
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
    use tripline_core::render::sns::SnsMessage;
    use tripline_core::settings::RuleConfig;

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
        async fn publish(&self, _topic_arn: &str, message: &SnsMessage) -> Result<String, AwsError> {
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
}
