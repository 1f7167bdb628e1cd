//! Use case: assess an account. Lists every bucket (policy, ACL, bucket and account Block Public Access;
//! tags only where a rule fired, for its exemptions), every customer-managed policy (default version) and
//! every role (trust policy), and judges each with the same rules as the change detectors.
//!
//! Everything is paginated; per-resource reads run with bounded concurrency (`buffer_unordered`,
//! `TRIPLINE_SWEEP_CONCURRENCY`, default 16). A resource that cannot be read is listed in the assessment's
//! errors (the assessment goes on); a failure to list at all is an error (retryable when transient).
//!
//! Buckets live in many regions: each bucket's reads go to its own region (ListBuckets' `BucketRegion`,
//! else S3's wrong-region answer; see `crate::sdk::s3`), so a bucket elsewhere is judged like any other.
//!
//! The customer-duty families (account password policy; per enabled region: network ACLs, RDS instances
//! and clusters, patch compliance) are judged by [`super::assess_duties`]; bucket TLS with each bucket.
//!
//! Used by the `sweep` function, on-config's scheduled evaluations and `tripline scan`.
//!
//! A run may be given a cutoff ([`assess_account_until`]): no resource read starts after it, and the
//! resources not read are listed in [`AccountAssessment::unread`] (the sweep then publishes a partial
//! summary instead of being killed by Lambda's timeout with nothing published).

use std::collections::BTreeMap;
use std::time::Instant;

use futures::stream::{self, StreamExt};

mod exposure;

use super::DetectorConfig;
use crate::{AwsError, DutiesRead, ExposureRead, IamRead, S3Read};
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
    /// Resources not read because the cutoff had passed (`bucket `x``, ...); empty when none was given.
    pub unread: Vec<String>,
}

impl AccountAssessment {
    /// Whether the cutoff stopped the run before every resource was read.
    pub fn deadline_hit(&self) -> bool {
        !self.unread.is_empty()
    }
}

impl AccountAssessment {
    /// One resource's outcome: its assessment (counted under `kind`), nothing when it was deleted between
    /// the listing and the reads (`gone`), or an error naming it (`what`).
    fn record(
        &mut self,
        kind: &str,
        what: &str,
        result: Option<Result<Assessed, AwsError>>,
        gone: fn(&AwsError) -> bool,
    ) {
        let Some(result) = result else {
            self.unread.push(what.to_owned());
            return;
        };
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

/// Judges every bucket, customer-managed policy and role of the account, the customer-duty families, and
/// every resource of the swept kinds (snapshots, AMIs, resource policies: `exposure.rs`) in the region.
pub async fn assess_account<D: S3Read + IamRead + DutiesRead + ExposureRead>(
    aws: &D,
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
    concurrency: usize,
) -> Result<AccountAssessment, AwsError> {
    assess_account_until(aws, rules_cfg, ctx, concurrency, None).await
}

/// [`assess_account`], starting no resource read after `cutoff` (the listings always run): what was not
/// read is in [`AccountAssessment::unread`].
pub async fn assess_account_until<D: S3Read + IamRead + DutiesRead + ExposureRead>(
    aws: &D,
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
    concurrency: usize,
    cutoff: Option<Instant>,
) -> Result<AccountAssessment, AwsError> {
    let concurrency = concurrency.max(1);
    let expired = move || cutoff.is_some_and(|c| Instant::now() >= c);
    let (buckets, account_pab, policies, roles) = futures::try_join!(
        aws.list_buckets(),
        aws.account_public_access_block(ctx.account),
        aws.list_local_policies(),
        aws.list_roles(),
    )?;
    let mut out = AccountAssessment::default();
    if aws.reads_account_settings() {
        super::assess_account_state::account_public_access_block(
            rules_cfg,
            ctx,
            account_pab.as_ref(),
            &mut out,
        );
    }
    let account_pab: PublicAccessBlock = account_pab.unwrap_or_default();

    let account_pab = &account_pab;
    let bucket_results: Vec<(String, Option<Result<Evaluation, AwsError>>)> = stream::iter(buckets)
        .map(|b| async move {
            if expired() {
                return (b, None);
            }
            let r = assess_bucket(aws, &b, account_pab, rules_cfg, ctx).await;
            (b, Some(r))
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (b, r) in bucket_results {
        let r = r.map(|r| {
            r.map(|evaluation| Assessed {
                resource_type: "AWS::S3::Bucket",
                resource_id: b.clone(),
                arn: format!("arn:aws:s3:::{b}"),
                evaluation,
            })
        });
        out.record("buckets", &format!("bucket `{b}`"), r, |e| {
            e.has_code("NoSuchBucket")
        });
    }

    let policy_results: Vec<_> = stream::iter(policies)
        .map(|p| async move {
            if expired() {
                return (p, None);
            }
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
            (p, Some(r))
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (p, r) in policy_results {
        let r = r.map(|r| {
            r.map(|evaluation| Assessed {
                resource_type: "AWS::IAM::Policy",
                resource_id: p.id.clone(),
                arn: p.arn.clone(),
                evaluation,
            })
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
            if expired() {
                return (r, None);
            }
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
            (r, Some(res))
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for (r, res) in role_results {
        let res = res.map(|res| {
            res.map(|evaluation| Assessed {
                resource_type: "AWS::IAM::Role",
                resource_id: r.id.clone(),
                arn: r.arn.clone(),
                evaluation,
            })
        });
        out.record(
            "roles",
            &format!("role `{}`", r.name),
            res,
            AwsError::is_not_found,
        );
    }
    super::assess_duties::assess_duties(aws, rules_cfg, ctx, concurrency, cutoff, &mut out).await;
    exposure::assess_swept_kinds(aws, rules_cfg, ctx, concurrency, expired, &mut out).await;
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
