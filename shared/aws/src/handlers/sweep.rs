//! `sweep`: the scheduled baseline. Lists every bucket (policy, ACL, bucket and account Block Public
//! Access; tags only where a rule fired, for its exemptions), every customer-managed policy (default
//! version) and every role (trust policy); judges each with the same rules as the change detectors;
//! publishes the findings and one summary.
//!
//! Everything is paginated; per-resource reads run with bounded concurrency (`buffer_unordered`,
//! `TRIPLINE_SWEEP_CONCURRENCY`, default 16): 1,000 buckets at 3 reads each (plus tags where a rule fired)
//! and ~50 ms per read take a few seconds, far inside Lambda's 15 minutes. A resource that cannot be read
//! is listed in the summary's errors (the sweep goes on); a failure to list at all fails the invocation
//! (retryable when transient).
//!
//! Buckets live in many regions while the sweep runs in one: each bucket's reads go to its own region
//! (ListBuckets' `BucketRegion`, else S3's wrong-region answer; see `aws::s3`), so a bucket elsewhere is
//! judged like any other instead of ending in the summary's errors.
//!
//! The assessment itself is the application layer's [`crate::app::assess`].
//!
//! Deadline: given the invocation's deadline ([`handle_sweep_until`]; the binary passes Lambda's), no
//! resource read starts once less than [`deadline_margin`] remains; the findings so far and a summary marked
//! incomplete, listing what was not read, are published in that margin, and `SweepIncomplete` is 1
//! ([`crate::metrics`]). Every run emits `SweepIncomplete` (0 when every resource was read).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::app::assess::{assess_account_until, SweepConfig};
use crate::app::lifecycle::{sweep_tracked, Tracker};
use crate::app::publish::{publish_findings, FindingRef};
use crate::app::HandlerError;
use crate::metrics::{self, Completeness};
use crate::sdk::securityhub::ImportFindings;
use crate::store::{FindingsStore, NoStore};
use crate::{ExposureRead, IamRead, Publish, S3Read};
use tripline_core::render::sns::SweepSummary;
use tripline_core::rules::SweepContext;
use tripline_core::Envelope;
use tripline_core::IntakeError;

/// What one sweep did (the Lambda response; also logged).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepOutcome {
    pub account: String,
    pub checked: BTreeMap<String, u64>,
    pub findings: Vec<FindingRef>,
    pub errors: Vec<String>,
    pub duration_ms: u64,
    pub summary_message_id: String,
    /// `deadline` or `unread` when not every resource was judged (see [`Completeness`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    /// Resources not read because the deadline came first.
    pub unread: Vec<String>,
}

/// Time kept for publishing the findings and the summary after the last read starts: 10% of the time
/// left when the sweep starts, at least 20 s.
pub fn deadline_margin(remaining: Duration) -> Duration {
    (remaining / 10).max(Duration::from_secs(20))
}

/// The instant after which no read starts, for an invocation ending at `deadline`.
pub fn read_cutoff(deadline: Instant, now: Instant) -> Instant {
    let remaining = deadline.saturating_duration_since(now);
    now + remaining.saturating_sub(deadline_margin(remaining))
}

/// The sweep handler without a deadline (tests, local runs): see [`handle_sweep_until`].
pub async fn handle_sweep<D: S3Read + IamRead + ExposureRead + Publish + crate::DutiesRead>(
    aws: &D,
    cfg: &SweepConfig,
    event: &Envelope,
) -> Result<SweepOutcome, HandlerError> {
    handle_sweep_until(aws, cfg, event, None).await
}

/// The sweep handler. `event` is the EventBridge scheduled event (`account`, `region`, `time`), read once;
/// `deadline` is when the invocation ends (Lambda's deadline), if any.
pub async fn handle_sweep_until<D: S3Read + IamRead + ExposureRead + Publish + crate::DutiesRead>(
    aws: &D,
    cfg: &SweepConfig,
    event: &Envelope,
    deadline: Option<Instant>,
) -> Result<SweepOutcome, HandlerError> {
    handle_sweep_tracked::<D, NoStore, crate::app::lifecycle::NoHub>(aws, cfg, event, deadline, None).await
}

/// [`handle_sweep_until`] with the findings store when one is configured: the sweep publishes its
/// transitions only (new, reopened, resolved...; see [`crate::app::lifecycle`]) and one summary that counts
/// them (`transitions`), never every known finding again.
pub async fn handle_sweep_tracked<
    D: S3Read + IamRead + crate::ExposureRead + Publish + crate::DutiesRead,
    S: FindingsStore,
    H: ImportFindings,
>(
    aws: &D,
    cfg: &SweepConfig,
    event: &Envelope,
    deadline: Option<Instant>,
    tracker: Option<&Tracker<'_, S, H>>,
) -> Result<SweepOutcome, HandlerError> {
    let started = Instant::now();
    let cutoff = deadline.map(|d| read_cutoff(d, started));
    let event_id = event.event_id.clone();
    let v: &Value = event.value().map_err(|e| HandlerError::BadEvent {
        event_id: event_id.clone(),
        source: e.clone(),
    })?;
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(account), Some(region), Some(time)) = (field("account"), field("region"), field("time")) else {
        let source = IntakeError::MissingField {
            field: "account`, `region` or `time".to_owned(),
            context: "the scheduled event".to_owned(),
        };
        tracing::error!(event_id = %event_id, error = %source, "bad event");
        return Err(HandlerError::BadEvent { event_id, source });
    };
    let ctx = SweepContext {
        account: &account,
        region: &region,
        time: &time,
    };
    let assessment = assess_account_until(aws, &cfg.detector.rules, &ctx, cfg.concurrency, cutoff)
        .await
        .map_err(|e| {
            tracing::error!(event_id = %event_id, retryable = e.is_retryable(), error = %e, "sweep listing failed");
            HandlerError::aws(&event_id, e)
        })?;
    let mut summary = SweepSummary {
        account: account.clone(),
        region: region.clone(),
        time: time.clone(),
        checked: assessment.checked.clone(),
        errors: assessment.errors.clone(),
        unread: assessment.unread.clone(),
        ..SweepSummary::default()
    };
    let completeness = if assessment.deadline_hit() {
        Completeness::Deadline
    } else if !assessment.errors.is_empty() {
        Completeness::Unread
    } else {
        Completeness::Complete
    };
    if completeness != Completeness::Complete {
        summary.incomplete = Some(completeness.as_str().to_owned());
        tracing::warn!(
            event_id = %event_id,
            reason = completeness.as_str(),
            unread = assessment.unread.len(),
            errors = assessment.errors.len(),
            "sweep incomplete"
        );
    }
    let mut rule_errors: Vec<&str> = Vec::new();
    let mut findings = Vec::new();
    for a in &assessment.assessed {
        for e in &a.evaluation.errors {
            tracing::error!(event_id = %event_id, rule = %e.rule, resource = %a.arn, error = %e.message, "rule failed");
            rule_errors.push(&e.rule);
            summary
                .errors
                .push(format!("rule `{}` on `{}`: {}", e.rule, a.arn, e.message));
        }
        for f in &a.evaluation.findings {
            match f.suppressed {
                Some(_) => summary.suppressed += 1,
                None => *summary.findings.entry(f.severity).or_default() += 1,
            }
            findings.push(f.clone());
        }
    }
    for e in &assessment.errors {
        tracing::warn!(event_id = %event_id, error = %e, "resource not checked");
    }
    metrics::emit_rule_errors(rule_errors);
    metrics::emit_sweep(
        completeness,
        (assessment.unread.len() + assessment.errors.len()) as u64,
    );
    let refs = match tracker {
        None => publish_findings(aws, &cfg.detector.alert_topic_arn, &event_id, &findings).await?,
        Some(tr) => {
            // Boxed: a large future (every record, publish and import of the run).
            let lc = Box::pin(sweep_tracked(
                aws,
                tr,
                &cfg.detector.alert_topic_arn,
                &event_id,
                &account,
                &time,
                &assessment,
                completeness == Completeness::Complete,
                crate::app::lifecycle::GoneScope::Account,
            ))
            .await?;
            summary.transitions = lc.counts;
            let suppressed: std::collections::BTreeSet<(&str, &str)> = findings
                .iter()
                .filter(|f| f.suppressed.is_some())
                .map(|f| (f.rule.as_str(), f.resource.arn.as_str()))
                .collect();
            lc.tracked
                .iter()
                .filter_map(|t| t.finding_ref(suppressed.contains(&(t.rule.as_str(), t.resource.as_str()))))
                .collect()
        }
    };
    summary.duration_ms = started.elapsed().as_millis() as u64;
    let msg = tripline_core::render::sns::summary(&summary);
    let summary_message_id = aws
        .publish(&cfg.detector.alert_topic_arn, &msg)
        .await
        .map_err(|e| HandlerError::aws(&event_id, e))?;
    tracing::info!(
        event_id = %event_id,
        findings = refs.len(),
        errors = summary.errors.len(),
        duration_ms = summary.duration_ms,
        "sweep done"
    );
    Ok(SweepOutcome {
        account,
        checked: summary.checked,
        findings: refs,
        errors: summary.errors,
        duration_ms: summary.duration_ms,
        summary_message_id,
        incomplete: summary.incomplete,
        unread: summary.unread,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::app::DetectorConfig;
    use crate::fakes::{FakeAws, FakeBucket};
    use crate::ErrorKind;
    use serde_json::json;
    use tripline_core::settings::RuleConfig;
    use tripline_core::Envelope;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:tripline-alerts";

    fn cfg() -> SweepConfig {
        SweepConfig {
            detector: DetectorConfig {
                alert_topic_arn: TOPIC.into(),
                rules: RuleConfig::default(),
            },
            concurrency: 4,
        }
    }

    use crate::block_on;
    fn scheduled() -> Vec<u8> {
        serde_json::to_vec(
            &json!({"version": "0", "id": "sched-1", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "111122223333", "time": "2026-11-29T00:00:00Z",
            "region": "us-east-1", "resources": [], "detail": {}}),
        )
        .unwrap()
    }

    fn public_policy(bucket: &str) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "Public", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]})
    }

    #[test]
    fn sweep_covers_1200_buckets() {
        // Issue 5: 1,000+ buckets inside Lambda's 15 minutes. In memory this checks there is no per-bucket
        // cost beyond the three reads, plus tags for buckets where a rule fired (no quadratic work, one
        // account-level read).
        let aws = FakeAws::new();
        for i in 0..1200 {
            let name = format!("bulk-{i:04}");
            let policy = (i % 100 == 0).then(|| public_policy(&name));
            aws.add_bucket(
                &name,
                FakeBucket {
                    policy,
                    ..FakeBucket::default()
                },
            );
        }
        let out = block_on(handle_sweep(&aws, &cfg(), &Envelope::read(&scheduled()))).unwrap();
        assert_eq!(out.checked.get("buckets"), Some(&1200));
        assert_eq!(
            out.findings
                .iter()
                .filter(|f| f.rule == "s3-bucket-policy-public")
                .count(),
            12
        );
        let calls = aws.world().calls.len();
        // Every bucket here lacks the TLS requirement (a low finding, issue 18), so every bucket's tags are
        // read for exemptions; the duty families add the password policy, the regions and one region's four
        // listings (the fake has no regions: the sweep's own).
        assert_eq!(
            calls,
            1 + 1
                + 1
                + 1
                + 1200 * 3
                + 1200
                + 6
                // The account-level state (issue 16): five reads in the one region.
                + 5
                // The swept kinds list the enabled regions themselves (issue 16's multi-region sweep).
                + 1
                + out.findings.len()
                + 1
                + tripline_core::rules::external::SWEPT_KINDS.len(),
            "list x3 + account + 3 per bucket + tags + duties + publishes + one empty listing per swept kind"
        );
    }

    #[test]
    fn bucket_tags_are_read_only_where_a_rule_fired_and_still_exempt() {
        /// (bucket, public policy, tags, tags read, `s3-bucket-policy-public` finding suppressed)
        type Case<'a> = (&'a str, bool, &'a [(&'a str, &'a str)], bool, Option<bool>);
        let cases: &[Case] = &[
            // Tags are read for every bucket here: each lacks the TLS requirement (a low finding).
            ("private-untagged", false, &[], true, None),
            (
                "private-exempt",
                false,
                &[("tripline:exempt", "s3-bucket-policy-public")],
                true,
                None,
            ),
            ("public-untagged", true, &[], true, Some(false)),
            ("public-other-tag", true, &[("team", "data")], true, Some(false)),
            (
                "public-exempt",
                true,
                &[("tripline:exempt", "s3-bucket-policy-public")],
                true,
                Some(true),
            ),
        ];
        let aws = FakeAws::new();
        for (name, public, tags, _, _) in cases {
            aws.add_bucket(
                name,
                FakeBucket {
                    policy: public.then(|| public_policy(name)),
                    tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                    ..FakeBucket::default()
                },
            );
        }
        let out = block_on(handle_sweep(&aws, &cfg(), &Envelope::read(&scheduled()))).unwrap();
        let calls = aws.world().calls.clone();
        for (name, _, _, tags_read, suppressed) in cases {
            let read = calls.iter().any(|c| *c == format!("s3:GetBucketTagging {name}"));
            assert_eq!(read, *tags_read, "{name}: {calls:?}");
            let arn = format!("arn:aws:s3:::{name}");
            let got = out
                .findings
                .iter()
                .find(|f| f.rule == "s3-bucket-policy-public" && f.resource == arn)
                .map(|f| f.suppressed);
            assert_eq!(got, *suppressed, "{name}");
        }

        // A tag read that fails is reported like any other unreadable bucket.
        aws.fail("s3:GetBucketTagging", ErrorKind::Throttling);
        let out = block_on(handle_sweep(&aws, &cfg(), &Envelope::read(&scheduled()))).unwrap();
        assert_eq!(out.errors.len(), 5, "{:?}", out.errors);
        assert_eq!(out.checked.get("buckets"), None);
    }

    #[test]
    fn a_near_deadline_publishes_a_partial_summary_listing_what_was_not_read() {
        let aws = FakeAws::new();
        for i in 0..5 {
            let name = format!("late-{i}");
            aws.add_bucket(
                &name,
                FakeBucket {
                    policy: Some(public_policy(&name)),
                    ..FakeBucket::default()
                },
            );
        }
        // Account-level Block Public Access on (judged from the listing-phase read, issue 16).
        aws.world().account_public_access_block.insert(
            "111122223333".into(),
            tripline_core::state::PublicAccessBlock::ALL_ON,
        );
        // 15 s left: under the 20 s margin, so no read starts; the summary is still published.
        let deadline = Instant::now() + Duration::from_secs(15);
        let out = block_on(handle_sweep_until(
            &aws,
            &cfg(),
            &Envelope::read(&scheduled()),
            Some(deadline),
        ))
        .unwrap();
        assert_eq!(out.incomplete.as_deref(), Some("deadline"));
        // 5 buckets, the password policy, the regional duty resources and the regional account state.
        assert_eq!(out.unread.len(), 8, "{:?}", out.unread);
        assert!(out.unread.contains(&"bucket `late-3`".to_owned()));
        assert!(out.findings.is_empty(), "{:?}", out.findings);
        let calls = aws.world().calls.clone();
        assert!(
            !calls.iter().any(|c| c.starts_with("s3:GetBucketPolicy")),
            "{calls:?}"
        );
        let published = aws.published();
        assert_eq!(published.len(), 1);
        let (_, summary) = &published[0];
        assert_eq!(summary.attributes["kind"], "summary");
        assert!(summary.subject.contains("incomplete"), "{}", summary.subject);
        assert!(summary.message.contains("late-3"), "{}", summary.message);

        // Far from the deadline: complete, nothing unread.
        let deadline = Instant::now() + Duration::from_secs(900);
        let out = block_on(handle_sweep_until(
            &aws,
            &cfg(),
            &Envelope::read(&scheduled()),
            Some(deadline),
        ))
        .unwrap();
        assert_eq!(out.incomplete, None);
        assert!(out.unread.is_empty());
        assert_eq!(out.checked.get("buckets"), Some(&5));
    }

    #[test]
    fn margins() {
        let now = Instant::now();
        assert_eq!(deadline_margin(Duration::from_secs(900)), Duration::from_secs(90));
        assert_eq!(deadline_margin(Duration::from_secs(60)), Duration::from_secs(20));
        assert_eq!(
            read_cutoff(now + Duration::from_secs(900), now),
            now + Duration::from_secs(810)
        );
        assert_eq!(read_cutoff(now + Duration::from_secs(10), now), now);
        assert_eq!(
            read_cutoff(now, now + Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }

    #[test]
    fn sweep_reports_public_buckets_summary_and_unreadable_ones() {
        let aws = FakeAws::new();
        for i in 0..12 {
            let name = format!("b-{i:02}");
            let policy = (i % 4 == 0).then(|| public_policy(&name));
            aws.add_bucket(
                &name,
                FakeBucket {
                    policy,
                    ..FakeBucket::default()
                },
            );
        }
        let out = block_on(handle_sweep(&aws, &cfg(), &Envelope::read(&scheduled()))).unwrap();
        assert_eq!(out.checked.get("buckets"), Some(&12));
        let mut public: Vec<&str> = out
            .findings
            .iter()
            .filter(|f| f.rule == "s3-bucket-policy-public")
            .map(|f| f.resource.as_str())
            .collect();
        public.sort();
        assert_eq!(
            public,
            ["arn:aws:s3:::b-00", "arn:aws:s3:::b-04", "arn:aws:s3:::b-08"]
        );
        let published = aws.published();
        assert_eq!(published.len(), out.findings.len() + 1);
        let (_, last) = published.last().unwrap();
        assert_eq!(last.attributes["kind"], "summary");
        assert_eq!(last.attributes["remediation"], "none");
        // One read of the account setting, not one per bucket.
        let calls = aws.world().calls.clone();
        assert_eq!(
            calls
                .iter()
                .filter(|c| c.starts_with("s3:GetAccountPublicAccessBlock"))
                .count(),
            1
        );

        // A throttled bucket read is listed in the summary; a throttled listing fails the invocation.
        aws.fail("s3:GetBucketAcl", ErrorKind::Throttling);
        let out = block_on(handle_sweep(&aws, &cfg(), &Envelope::read(&scheduled()))).unwrap();
        assert_eq!(out.errors.len(), 12, "{:?}", out.errors);
        aws.fail("s3:ListBuckets", ErrorKind::Throttling);
        let e = block_on(handle_sweep(&aws, &cfg(), &Envelope::read(&scheduled()))).unwrap_err();
        assert!(e.is_retryable());
        let e = block_on(handle_sweep(&aws, &cfg(), &Envelope::read(b"{}"))).unwrap_err();
        assert_eq!(e.error_type(), "BadEvent");
    }
}
