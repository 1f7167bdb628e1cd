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
//! [`assess_account`] is shared with on-config's scheduled evaluations and `tripline scan`.

use std::collections::BTreeMap;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::Value;

use super::{event_id_hint, publish_findings, DetectorConfig, FindingRef, HandlerError};
use crate::{AwsError, IamRead, Publication, Publish, S3Read};
use tripline_core::error::IntakeError;
use tripline_core::render::sns::SweepSummary;
use tripline_core::rules::{self, Evaluation, SweepContext};
use tripline_core::settings::RuleConfig;
use tripline_core::state::{BucketState, PublicAccessBlock};

/// Configuration of the sweep function.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepConfig {
    pub detector: DetectorConfig,
    /// Per-resource reads in flight at once.
    pub concurrency: usize,
}

/// One judged resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessed {
    /// `AWS::S3::Bucket`, `AWS::IAM::Policy` or `AWS::IAM::Role`.
    pub resource_type: &'static str,
    /// The id AWS Config uses: bucket name, policy id, role id.
    pub resource_id: String,
    pub arn: String,
    pub evaluation: Evaluation,
}

/// Everything one sweep judged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountAssessment {
    pub assessed: Vec<Assessed>,
    /// Resources that could not be read: `<resource>: <error>`.
    pub errors: Vec<String>,
    /// `buckets` / `policies` / `roles` -> how many were judged.
    pub checked: BTreeMap<String, u64>,
}

impl AccountAssessment {
    /// One resource's outcome: its assessment (counted under `kind`), nothing when it was deleted between
    /// the listing and the reads (`gone`), or an error naming it (`what`).
    fn record(
        &mut self,
        kind: &str,
        what: &str,
        result: Result<Assessed, AwsError>,
        gone: fn(&AwsError) -> bool,
    ) {
        match result {
            Ok(assessed) => {
                *self.checked.entry(kind.into()).or_default() += 1;
                self.assessed.push(assessed);
            }
            Err(e) if gone(&e) => {}
            Err(e) => self.errors.push(format!("{what}: {e}")),
        }
    }
}

/// The bucket's policy, ACL and Block Public Access; tags are left empty (see [`assess_bucket`]).
async fn bucket_state<D: S3Read>(aws: &D, bucket: &str) -> Result<BucketState, AwsError> {
    let (policy, acl, public_access_block) = futures::try_join!(
        aws.bucket_policy(bucket),
        aws.bucket_acl(bucket),
        aws.bucket_public_access_block(bucket),
    )?;
    Ok(BucketState {
        policy,
        acl: Some(acl),
        public_access_block,
        tags: BTreeMap::new(),
    })
}

/// Reads and judges one bucket. Tags only decide exemptions of findings the rules raise (they cannot raise
/// one), so they are read only when the tag-less assessment has a finding, and the bucket is then judged
/// again with them: the result is the same as judging with the tags from the start.
async fn assess_bucket<D: S3Read>(
    aws: &D,
    bucket: &str,
    account_pab: &PublicAccessBlock,
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
) -> Result<Evaluation, AwsError> {
    let mut state = bucket_state(aws, bucket).await?;
    let evaluation = rules::assess_bucket(ctx, bucket, &state, Some(account_pab), rules_cfg);
    if evaluation.findings.is_empty() {
        return Ok(evaluation);
    }
    state.tags = aws.bucket_tags(bucket).await?;
    Ok(rules::assess_bucket(
        ctx,
        bucket,
        &state,
        Some(account_pab),
        rules_cfg,
    ))
}

fn has_open_findings(e: &Evaluation) -> bool {
    e.findings.iter().any(|f| f.suppressed.is_none())
}

/// Judges every bucket, customer-managed policy and role of the account.
pub async fn assess_account<D: S3Read + IamRead>(
    aws: &D,
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
    concurrency: usize,
) -> Result<AccountAssessment, AwsError> {
    let concurrency = concurrency.max(1);
    let (buckets, account_pab, policies, roles) = futures::try_join!(
        aws.list_buckets(),
        aws.account_public_access_block(ctx.account),
        aws.list_local_policies(),
        aws.list_roles(),
    )?;
    let account_pab: PublicAccessBlock = account_pab.unwrap_or_default();
    let mut out = AccountAssessment::default();

    let account_pab = &account_pab;
    let bucket_results: Vec<(String, Result<Evaluation, AwsError>)> = stream::iter(buckets)
        .map(|b| async move {
            let r = assess_bucket(aws, &b, account_pab, rules_cfg, ctx).await;
            (b, r)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (b, r) in bucket_results {
        let r = r.map(|evaluation| Assessed {
            resource_type: "AWS::S3::Bucket",
            resource_id: b.clone(),
            arn: format!("arn:aws:s3:::{b}"),
            evaluation,
        });
        out.record("buckets", &format!("bucket `{b}`"), r, |e| {
            e.has_code("NoSuchBucket")
        });
    }

    let policy_results: Vec<_> = stream::iter(policies)
        .map(|p| async move {
            let r = async {
                let doc = aws.policy_version_document(&p.arn, &p.default_version_id).await?;
                let mut evaluation = rules::assess_managed_policy(ctx, &p.arn, &doc, rules_cfg);
                // Tags only matter for exemptions: read them only when something fired.
                if has_open_findings(&evaluation) {
                    let tags = aws.policy_tags(&p.arn).await?;
                    if tags.contains_key(&rules_cfg.exempt_tag_key) {
                        apply_tag_exemptions(&mut evaluation, &tags, rules_cfg, ctx);
                    }
                }
                Ok::<_, AwsError>(evaluation)
            }
            .await;
            (p, r)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (p, r) in policy_results {
        let r = r.map(|evaluation| Assessed {
            resource_type: "AWS::IAM::Policy",
            resource_id: p.id.clone(),
            arn: p.arn.clone(),
            evaluation,
        });
        out.record(
            "policies",
            &format!("policy `{}`", p.arn),
            r,
            AwsError::is_not_found,
        );
    }

    let role_results: Vec<_> = stream::iter(roles)
        .map(|r| async move {
            let res = async {
                let Some(trust) = r.trust_policy.as_ref() else {
                    return Ok(Evaluation::default());
                };
                let mut evaluation = rules::assess_role_trust(ctx, &r.arn, trust, None, rules_cfg);
                if has_open_findings(&evaluation) {
                    let tags = aws.role_tags(&r.name).await?;
                    evaluation = rules::assess_role_trust(ctx, &r.arn, trust, Some(&tags), rules_cfg);
                }
                Ok::<_, AwsError>(evaluation)
            }
            .await;
            (r, res)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (r, res) in role_results {
        let res = res.map(|evaluation| Assessed {
            resource_type: "AWS::IAM::Role",
            resource_id: r.id.clone(),
            arn: r.arn.clone(),
            evaluation,
        });
        out.record(
            "roles",
            &format!("role `{}`", r.name),
            res,
            AwsError::is_not_found,
        );
    }
    out.assessed
        .sort_by(|a, b| (a.resource_type, &a.arn).cmp(&(b.resource_type, &b.arn)));
    Ok(out)
}

/// Managed-policy assessments take no tags: apply the tag exemptions with the same checker the rules use.
fn apply_tag_exemptions(
    evaluation: &mut Evaluation,
    tags: &BTreeMap<String, String>,
    cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
) {
    for f in &mut evaluation.findings {
        if f.suppressed.is_some() {
            continue;
        }
        let check = tripline_core::exempt::check(
            &f.rule,
            &f.resource.arn,
            Some(tags),
            cfg,
            tripline_core::exempt::date_of(ctx.time),
        );
        f.suppressed = check.suppressed;
        f.notes.extend(check.notes);
    }
}

/// What one sweep did (the Lambda response; also logged).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepOutcome {
    pub account: String,
    pub checked: BTreeMap<String, u64>,
    pub findings: Vec<FindingRef>,
    pub errors: Vec<String>,
    pub duration_ms: u64,
    pub summary_message_id: String,
}

/// The sweep handler. `event` is the EventBridge scheduled event (`account`, `region`, `time`).
pub async fn handle_sweep<D: S3Read + IamRead + Publish>(
    aws: &D,
    cfg: &SweepConfig,
    event: &[u8],
) -> Result<SweepOutcome, HandlerError> {
    let started = Instant::now();
    let event_id = event_id_hint(event);
    let v: Value = serde_json::from_slice(event).map_err(|e| HandlerError::BadEvent {
        event_id: event_id.clone(),
        source: IntakeError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string().to_lowercase(),
        },
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
    let assessment = assess_account(aws, &cfg.detector.rules, &ctx, cfg.concurrency)
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
        ..SweepSummary::default()
    };
    let mut findings = Vec::new();
    for a in &assessment.assessed {
        for e in &a.evaluation.errors {
            tracing::error!(event_id = %event_id, rule = %e.rule, resource = %a.arn, error = %e.message, "rule failed");
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
    let refs = publish_findings(aws, &cfg.detector.alert_topic_arn, &event_id, &findings).await?;
    summary.duration_ms = started.elapsed().as_millis() as u64;
    let msg: Publication = tripline_core::render::sns::summary(&summary).into();
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
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::fakes::{FakeAws, FakeBucket};
    use crate::ErrorKind;
    use serde_json::json;

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
        let out = block_on(handle_sweep(&aws, &cfg(), &scheduled())).unwrap();
        assert_eq!(out.checked.get("buckets"), Some(&1200));
        assert_eq!(
            out.findings
                .iter()
                .filter(|f| f.rule == "s3-bucket-policy-public")
                .count(),
            12
        );
        let calls = aws.world().calls.len();
        assert_eq!(
            calls,
            1 + 1 + 1 + 1 + 1200 * 3 + 12 + out.findings.len() + 1,
            "list x3 + account + 3 per bucket + tags of the 12 public ones + publishes"
        );
    }

    #[test]
    fn bucket_tags_are_read_only_where_a_rule_fired_and_still_exempt() {
        /// (bucket, public policy, tags, tags read, `s3-bucket-policy-public` finding suppressed)
        type Case<'a> = (&'a str, bool, &'a [(&'a str, &'a str)], bool, Option<bool>);
        let cases: &[Case] = &[
            ("private-untagged", false, &[], false, None),
            (
                "private-exempt",
                false,
                &[("tripline:exempt", "s3-bucket-policy-public")],
                false,
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
        let out = block_on(handle_sweep(&aws, &cfg(), &scheduled())).unwrap();
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
        let out = block_on(handle_sweep(&aws, &cfg(), &scheduled())).unwrap();
        assert_eq!(out.errors.len(), 3, "{:?}", out.errors);
        assert_eq!(out.checked.get("buckets"), Some(&2));
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
        let out = block_on(handle_sweep(&aws, &cfg(), &scheduled())).unwrap();
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
        let out = block_on(handle_sweep(&aws, &cfg(), &scheduled())).unwrap();
        assert_eq!(out.errors.len(), 12, "{:?}", out.errors);
        aws.fail("s3:ListBuckets", ErrorKind::Throttling);
        let e = block_on(handle_sweep(&aws, &cfg(), &scheduled())).unwrap_err();
        assert!(e.is_retryable());
        let e = block_on(handle_sweep(&aws, &cfg(), b"{}")).unwrap_err();
        assert_eq!(e.error_type(), "BadEvent");
    }
}
