//! `on-cloudtrail`: EventBridge "AWS API Call via CloudTrail" -> intake -> the detect use case (fetch
//! exactly the state the triggered rules need, concurrently; evaluate; publish each finding).
//!
//! - An ignored event (read-only call, unknown detail-type...) returns `Ok` and is logged once.
//! - A bad event is logged with its id and returns [`HandlerError::BadEvent`] (not retryable).
//! - A transient AWS failure (state fetch or publish) returns a retryable error: the Lambda runtime
//!   reports it, the asynchronous invocation is retried and finally sent to the dead-letter queue.
//! - State that cannot be read for a permanent reason (access denied) does not withhold the alert: the
//!   change is judged from its payload and the findings say "state not confirmed".
//! - A rule that fails is logged with its id; the other rules' findings are still published, and the
//!   invocation emits the `RuleErrors` metric ([`crate::metrics`]).

use std::collections::BTreeSet;

use serde::Serialize;

use crate::app::detect::{detect, detect_tracked};
use crate::app::lifecycle::{Tracked, Tracker};
use crate::app::publish::FindingRef;
use crate::app::{DetectorConfig, HandlerError};
use crate::sdk::securityhub::ImportFindings;
use crate::store::{FindingsStore, NoStore};
use crate::{IamRead, Publish, S3Read};
use tripline_core::intake::Intake;
use tripline_core::rules::RuleError;
use tripline_core::state::StateNeed;
use tripline_core::Envelope;

/// What one invocation did (the Lambda response; also logged).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Ignored {
        event_id: String,
        reason: String,
    },
    Evaluated {
        event_id: String,
        event_name: String,
        /// The state pieces fetched.
        fetched: BTreeSet<StateNeed>,
        findings: Vec<FindingRef>,
        rule_errors: Vec<RuleError>,
    },
}

/// The on-cloudtrail handler. `event` is the EventBridge event, read once.
pub async fn handle_cloudtrail<D: S3Read + IamRead + Publish + crate::DutiesRead>(
    aws: &D,
    cfg: &DetectorConfig,
    event: &Envelope,
) -> Result<Outcome, HandlerError> {
    handle_cloudtrail_tracked::<D, NoStore, crate::app::lifecycle::NoHub>(aws, cfg, event, None).await
}

/// [`handle_cloudtrail`] with the findings store when one is configured: findings go through the
/// lifecycle and only the notices it calls for are published (`findings` lists those).
pub async fn handle_cloudtrail_tracked<
    D: S3Read + IamRead + Publish + crate::DutiesRead,
    S: FindingsStore,
    H: ImportFindings,
>(
    aws: &D,
    cfg: &DetectorConfig,
    event: &Envelope,
    tracker: Option<&Tracker<'_, S, H>>,
) -> Result<Outcome, HandlerError> {
    let started = std::time::Instant::now();
    let intake = event.intake().map_err(|source| {
        let event_id = event.event_id.clone();
        tracing::error!(event_id = %event_id, error = %source, "bad event");
        HandlerError::BadEvent { event_id, source }
    })?;
    match intake {
        Intake::Ignored { reason } => {
            let event_id = event.event_id.clone();
            tracing::info!(event_id = %event_id, reason = %reason, "event ignored");
            Ok(Outcome::Ignored { event_id, reason })
        }
        Intake::FetchOversized { .. } => {
            let event_id = event.event_id.clone();
            let message =
                "oversized configuration items are handled by on-config, not on-cloudtrail".to_owned();
            tracing::error!(event_id = %event_id, error = %message, "unsupported event");
            Err(HandlerError::Unsupported { event_id, message })
        }
        Intake::Change(change) => {
            let (evaluation, fetched, findings) = match tracker {
                None => detect(aws, cfg, &change).await?,
                Some(tr) => {
                    let (evaluation, fetched, tracked) = detect_tracked(aws, cfg, tr, &change).await?;
                    let suppressed = |t: &Tracked| {
                        evaluation.findings.iter().any(|f| {
                            f.rule == t.rule && f.resource.arn == t.resource && f.suppressed.is_some()
                        })
                    };
                    let refs = tracked
                        .iter()
                        .filter_map(|t| t.finding_ref(suppressed(t)))
                        .collect();
                    (evaluation, fetched, refs)
                }
            };
            crate::metrics::emit_rule_errors(evaluation.errors.iter().map(|e| e.rule.as_str()));
            tracing::info!(
                event_id = %change.event_id,
                event_name = %change.event_name,
                findings = findings.len(),
                rule_errors = evaluation.errors.len(),
                // The handler's own time (intake, state reads, rules, publishing), for BENCHMARKS.md section 3.
                elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "event evaluated"
            );
            Ok(Outcome::Evaluated {
                event_id: change.event_id.clone(),
                event_name: change.event_name.clone(),
                fetched,
                findings,
                rule_errors: evaluation.errors,
            })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::fakes::{FakeAws, FakeBucket};
    use crate::ErrorKind;
    use serde_json::{json, Value};
    use tripline_core::intake::intake;
    use tripline_core::rules;
    use tripline_core::settings::RuleConfig;
    use tripline_core::Envelope;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:tripline-alerts";

    fn cfg() -> DetectorConfig {
        DetectorConfig {
            alert_topic_arn: TOPIC.into(),
            rules: RuleConfig::default(),
        }
    }

    use crate::block_on;
    /// The finding JSON of the first message published (the `default` part of the SNS message).
    fn first_published_finding(aws: &FakeAws) -> Value {
        let (_, msg) = &aws.published()[0];
        let doc: Value = serde_json::from_str(&msg.message).unwrap();
        serde_json::from_str(doc["default"].as_str().unwrap()).unwrap()
    }

    fn sample(name: &str) -> Vec<u8> {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn bucket_of(event: &[u8]) -> String {
        let v: Value = serde_json::from_slice(event).unwrap();
        v["detail"]["requestParameters"]["bucketName"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Issue 14: the findings one event raises on one resource share one read of the store (a `Query` of
    /// the resource's items), never a `GetItem` each; a second event about the same exposure records each
    /// as `unchanged` from that read too.
    #[test]
    fn findings_on_one_resource_share_one_store_read() {
        use crate::app::lifecycle::Tracker;
        use crate::fakes::FakeStore;
        use tripline_core::lifecycle::Transition;
        let raw = sample("cloudtrail-iam-put-role-policy.json");
        let with_id = |n: u32| {
            let mut v: Value = serde_json::from_slice(&raw).unwrap();
            v["id"] = json!(format!("event-{n}"));
            v["detail"]["eventID"] = json!(format!("event-{n}"));
            serde_json::to_vec(&v).unwrap()
        };
        let aws = FakeAws::new();
        let store = FakeStore::default();
        let run = |n: u32| {
            let tracker = Tracker::new(&store, tripline_core::lifecycle::Policy::default());
            let Intake::Change(change) = intake(&with_id(n)).unwrap() else {
                panic!("not a change")
            };
            block_on(crate::app::detect::detect_tracked(
                &aws,
                &cfg(),
                &tracker,
                &change,
            ))
            .unwrap()
            .2
        };
        let first = run(1);
        let resources: BTreeSet<&str> = first.iter().map(|t| t.resource.as_str()).collect();
        assert!(first.len() >= 2 && resources.len() == 1, "{first:?}");
        assert!(
            first.iter().all(|t| t.transition == Some(Transition::New)),
            "{first:?}"
        );
        let second = run(2);
        assert_eq!(second.len(), first.len());
        assert!(
            second
                .iter()
                .all(|t| t.transition == Some(Transition::Unchanged) && t.first_seen.is_some()),
            "{second:?}"
        );
        assert_eq!(*store.gets.lock().unwrap(), 0, "no finding read its item alone");
        assert!(*store.queries.lock().unwrap() >= 2, "one shared read per event");
    }

    #[test]
    fn public_bucket_policy_fetches_exactly_its_needs_and_publishes() {
        let event = sample("cloudtrail-s3-put-bucket-policy-public.json");
        let bucket = bucket_of(&event);
        let aws = FakeAws::new();
        aws.add_bucket(&bucket, FakeBucket::default());
        let out = block_on(handle_cloudtrail(&aws, &cfg(), &Envelope::read(&event))).unwrap();
        let Outcome::Evaluated {
            fetched, findings, ..
        } = out
        else {
            panic!("not evaluated")
        };
        let change = match intake(&event).unwrap() {
            Intake::Change(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(fetched, rules::needs(&change));
        assert!(
            findings.iter().any(|f| f.rule == "s3-bucket-policy-public"),
            "{findings:?}"
        );
        let published = aws.published();
        assert_eq!(published.len(), findings.len());
        assert!(published
            .iter()
            .all(|(t, m)| t == TOPIC && m.attributes["kind"] == "finding"));
        // Only reads of the needed state, no writes, and nothing about other resources.
        let calls = aws.world().calls.clone();
        for call in &calls {
            assert!(
                call.starts_with("s3:Get") || call.starts_with("sns:Publish"),
                "{call}"
            );
        }
        assert!(aws.writes().is_empty());
    }

    #[test]
    fn ignored_bad_and_failures() {
        let aws = FakeAws::new();
        // An event of another kind is ignored: Ok, logged, nothing fetched or published.
        let other =
            br#"{"version": "0", "id": "eb-2", "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2", "account": "111122223333", "time": "2026-01-01T00:00:00Z",
            "region": "us-east-1", "resources": [], "detail": {"state": "running"}}"#;
        let out = block_on(handle_cloudtrail(&aws, &cfg(), &Envelope::read(other))).unwrap();
        assert!(matches!(out, Outcome::Ignored { .. }), "{out:?}");
        // A read-only call triggers no rule: evaluated, nothing fetched or published.
        let ro = sample("cloudtrail-s3-get-bucket-policy-read-only.json");
        let out = block_on(handle_cloudtrail(&aws, &cfg(), &Envelope::read(&ro))).unwrap();
        let Outcome::Evaluated {
            fetched, findings, ..
        } = out
        else {
            panic!("{out:?}")
        };
        assert!(fetched.is_empty() && findings.is_empty());
        assert!(aws.world().calls.is_empty());

        // Malformed payloads: a non-retryable BadEvent naming the event id when there is one.
        let cases: &[(&[u8], &str)] = &[
            (b"{not json", "unknown"),
            (
                br#"{"id": "eb-9", "detail-type": "AWS API Call via CloudTrail", "source": "aws.s3"}"#,
                "eb-9",
            ),
        ];
        for (payload, id) in cases {
            let e = block_on(handle_cloudtrail(&aws, &cfg(), &Envelope::read(payload))).unwrap_err();
            assert!(!e.is_retryable(), "{e}");
            assert_eq!(e.error_type(), "BadEvent");
            assert!(e.to_string().contains(id), "{e}");
        }

        // Throttled state read or failed publish: retryable, so the event is delivered again.
        let event = sample("cloudtrail-s3-put-bucket-policy-public.json");
        aws.add_bucket(&bucket_of(&event), FakeBucket::default());
        for op in ["s3:GetAccountPublicAccessBlock", "sns:Publish"] {
            aws.clear_failures();
            aws.fail(op, ErrorKind::Throttling);
            let e = block_on(handle_cloudtrail(&aws, &cfg(), &Envelope::read(&event))).unwrap_err();
            assert!(e.is_retryable(), "{op}: {e}");
            assert_eq!(e.error_type(), "Retryable");
        }
        aws.fail("sns:Publish", ErrorKind::AccessDenied);
        let e = block_on(handle_cloudtrail(&aws, &cfg(), &Envelope::read(&event))).unwrap_err();
        assert!(!e.is_retryable());

        // State denied (a missing read permission): the alert still goes out, unconfirmed.
        aws.clear_failures();
        aws.world().published.clear();
        aws.fail("s3:GetBucketTagging", ErrorKind::AccessDenied);
        let out = block_on(handle_cloudtrail(&aws, &cfg(), &Envelope::read(&event))).unwrap();
        let Outcome::Evaluated { findings, .. } = out else {
            panic!()
        };
        assert!(findings.iter().any(|f| f.rule == "s3-bucket-policy-public"));
        let finding = first_published_finding(&aws);
        assert_eq!(finding["state_confirmed"], json!(false), "{finding}");
    }

    #[test]
    fn missing_bucket_is_judged_from_the_payload() {
        let event = sample("cloudtrail-s3-put-bucket-policy-public.json");
        let aws = FakeAws::new(); // the bucket no longer exists
        let out = block_on(handle_cloudtrail(&aws, &cfg(), &Envelope::read(&event))).unwrap();
        let Outcome::Evaluated { findings, .. } = out else {
            panic!()
        };
        assert!(findings.iter().any(|f| f.rule == "s3-bucket-policy-public"));
        let finding = first_published_finding(&aws);
        assert_eq!(finding["state_confirmed"], json!(false), "{finding}");
    }
}
