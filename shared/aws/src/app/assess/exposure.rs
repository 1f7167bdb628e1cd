//! The swept kinds' part of the account assessment (issues 19 and 16): for every enabled region of the
//! account's partition and every row of `tripline_core::rules::external::SWEPT_KINDS`, list the region's
//! resources through [`ExposureRead`], read each one's share attributes or resource policy (bounded
//! concurrency, the same cutoff), and judge it with the kind's public rule and its cross-account rule
//! (`rules::external::assess_swept`, in the resource's region). Tags are read only when a rule fired and the
//! listing did not return them (exemptions), as for buckets.
//!
//! Regions: [`DutiesRead::enabled_regions`] (`ec2:DescribeRegions`, the enabled regions only), kept to the
//! partition of the assessment's region, as the customer-duty sweep does; none listed (an organization
//! shard, which reads its own region) or the listing refused: the assessment's region only (the refusal is
//! an error). [`REGIONS_AT_ONCE`] regions are read at a time, each with its share of the concurrency.
//!
//! A kind whose listing fails is reported in the assessment's errors and the others go on (a member role
//! without `ec2:DescribeSnapshots` must not hide the buckets); in a region other than the assessment's, a
//! region where every listing fails (not enabled for a service, blocked by an SCP) is one error; a
//! resource deleted between the listing and the read is skipped.

use futures::stream::{self, StreamExt};

use super::{has_open_findings, AccountAssessment, Assessed};
use crate::exposure::{ExposureRead, Listed};
use crate::{AwsError, DutiesRead};
use tripline_core::rules::external::{assess_swept, SweptKind, SweptResource, SWEPT_KINDS};
use tripline_core::rules::{Evaluation, SweepContext};
use tripline_core::settings::RuleConfig;

/// How many regions are read at once.
pub const REGIONS_AT_ONCE: usize = 4;

/// How a kind is counted in `checked`: its CloudFormation type.
fn counted_as(kind: &SweptKind) -> &'static str {
    kind.resource_type
}

async fn assess_one<D: ExposureRead>(
    aws: &D,
    kind: &SweptKind,
    listed: &Listed,
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
) -> Result<Evaluation, AwsError> {
    let exposure = aws.read_exposure(kind.id, ctx.region, &listed.id).await?;
    let mut res = SweptResource {
        id: listed.id.clone(),
        arn: listed.arn.clone(),
        name: listed.name.clone(),
        exposure,
        tags: listed.tags.clone(),
    };
    let evaluation = assess_swept(ctx, kind, &res, rules_cfg);
    if res.tags.is_some() || !has_open_findings(&evaluation) {
        return Ok(evaluation);
    }
    res.tags = Some(aws.swept_tags(kind.id, ctx.region, &listed.id).await?);
    Ok(assess_swept(ctx, kind, &res, rules_cfg))
}

/// The regions to read: the enabled regions of the assessment region's partition, else its region alone.
async fn regions<D: DutiesRead>(aws: &D, ctx: &SweepContext<'_>, out: &mut AccountAssessment) -> Vec<String> {
    match aws.enabled_regions().await {
        Ok(r) if !r.is_empty() => {
            let own = tripline_core::resource_kind::partition(ctx.region);
            let mut r: Vec<String> = r
                .into_iter()
                .filter(|region| tripline_core::resource_kind::partition(region) == own)
                .collect();
            // The assessment's own region first (its errors keep their historical form), then the others.
            r.sort_by_key(|region| region.as_str() != ctx.region);
            if !r.iter().any(|region| region.as_str() == ctx.region) {
                r.insert(0, ctx.region.to_owned());
            }
            r
        }
        Ok(_) => vec![ctx.region.to_owned()],
        Err(e) => {
            out.errors.push(format!(
                "enabled regions: {e} (swept kinds judged in `{}` only)",
                ctx.region
            ));
            vec![ctx.region.to_owned()]
        }
    }
}

/// One kind's listing in a region and, when it listed, each resource's judgement (`None`: not read, the
/// cutoff passed).
type KindReads = (
    &'static SweptKind,
    Result<Vec<(Listed, Option<Result<Evaluation, AwsError>>)>, AwsError>,
);

async fn read_region<D: ExposureRead>(
    aws: &D,
    region: &str,
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
    concurrency: usize,
    expired: impl Fn() -> bool + Copy,
) -> Vec<KindReads> {
    let here = SweepContext {
        account: ctx.account,
        region,
        time: ctx.time,
    };
    let here = &here;
    let mut out = Vec::with_capacity(SWEPT_KINDS.len());
    for kind in SWEPT_KINDS {
        let listed = match aws.list_swept(kind.id, region).await {
            Ok(l) => l,
            Err(e) => {
                out.push((kind, Err(e)));
                continue;
            }
        };
        let results: Vec<(Listed, Option<Result<Evaluation, AwsError>>)> = stream::iter(listed)
            .map(|l| async move {
                if expired() {
                    return (l, None);
                }
                let r = assess_one(aws, kind, &l, rules_cfg, here).await;
                (l, Some(r))
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        out.push((kind, Ok(results)));
    }
    out
}

/// Lists, reads and judges every swept kind of every region into `out`.
pub(super) async fn assess_swept_kinds<D: ExposureRead + DutiesRead>(
    aws: &D,
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
    concurrency: usize,
    expired: impl Fn() -> bool + Copy,
    out: &mut AccountAssessment,
) {
    let regions = regions(aws, ctx, out).await;
    let at_once = REGIONS_AT_ONCE.min(regions.len()).max(1);
    let per_region = (concurrency / at_once).max(1);
    let mut results: Vec<(usize, String, Vec<KindReads>)> = stream::iter(regions.into_iter().enumerate())
        .map(|(i, region)| async move {
            let reads = read_region(aws, &region, rules_cfg, ctx, per_region, expired).await;
            (i, region, reads)
        })
        .buffer_unordered(at_once)
        .collect()
        .await;
    results.sort_by_key(|(i, _, _)| *i);
    for (_, region, reads) in results {
        let home = region == ctx.region;
        let failed: Vec<&AwsError> = reads.iter().filter_map(|(_, r)| r.as_ref().err()).collect();
        if !home && !reads.is_empty() && failed.len() == reads.len() {
            let first = failed.first().map(|e| e.to_string()).unwrap_or_default();
            out.errors.push(format!(
                "swept kinds in `{region}`: every listing failed (first: {first})"
            ));
            continue;
        }
        let suffix = if home {
            String::new()
        } else {
            format!(" in `{region}`")
        };
        for (kind, listing) in reads {
            let results = match listing {
                Ok(r) => r,
                Err(e) => {
                    out.errors.push(format!("{} listing{suffix}: {e}", kind.what));
                    continue;
                }
            };
            // Nothing listed still counts the kind as checked (zero).
            out.checked.entry(counted_as(kind).into()).or_default();
            for (l, r) in results {
                let r = r.map(|r| {
                    r.map(|evaluation| Assessed {
                        resource_type: kind.resource_type,
                        resource_id: l.id.clone(),
                        arn: l.arn.clone(),
                        evaluation,
                    })
                });
                out.record(
                    counted_as(kind),
                    &format!("{} `{}`{suffix}", kind.what, l.name),
                    r,
                    AwsError::is_not_found,
                );
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::json;
    use tripline_core::policy::ShareTarget;
    use tripline_core::rules::external::{Exposure, SweptKindId};
    use tripline_core::rules::SweepContext;
    use tripline_core::settings::RuleConfig;

    use crate::app::assess::assess_account;
    use crate::block_on;
    use crate::exposure::Listed;
    use crate::fakes::{FakeAws, FakeSwept};
    use crate::ErrorKind;

    const OWN: &str = "111122223333";
    const OUT: &str = "444455556666";

    fn seed(aws: &FakeAws, kind: SweptKindId, id: &str, exposure: Exposure, tags: Option<&[(&str, &str)]>) {
        let tag_map: BTreeMap<String, String> = tags
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        aws.world().swept.entry(kind).or_default().insert(
            id.to_owned(),
            FakeSwept {
                listed: Listed {
                    id: id.to_owned(),
                    arn: format!("arn:aws:sqs:us-east-1:{OWN}:{id}"),
                    name: id.to_owned(),
                    tags: tags.map(|_| tag_map.clone()),
                },
                exposure,
                tags: tag_map,
            },
        );
    }

    fn policy(account: &str) -> Exposure {
        Exposure::Policy(Some(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": account}, "Action": "sqs:SendMessage", "Resource": "*"}]}),
        ))
    }

    const CTX: SweepContext<'static> = SweepContext {
        account: OWN,
        region: "us-east-1",
        time: "2026-12-06T03:00:00Z",
    };

    #[test]
    fn swept_kinds_are_read_and_judged_tags_only_when_a_rule_fires() {
        let aws = FakeAws::new();
        seed(&aws, SweptKindId::SqsQueue, "q-out", policy(OUT), None);
        seed(&aws, SweptKindId::SqsQueue, "q-own", policy(OWN), None);
        seed(&aws, SweptKindId::SnsTopic, "t-exempt", policy(OUT), None);
        aws.world()
            .swept
            .get_mut(&SweptKindId::SnsTopic)
            .unwrap()
            .get_mut("t-exempt")
            .unwrap()
            .tags
            .insert("tripline:exempt".into(), "sns-topic-cross-account-access".into());
        seed(
            &aws,
            SweptKindId::Ec2Snapshot,
            "snap-1",
            Exposure::Shares(vec![ShareTarget::Account(OUT.into())]),
            Some(&[]),
        );
        let out = block_on(assess_account(&aws, &RuleConfig::default(), &CTX, 4)).unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let found: Vec<(&str, &str, bool)> = out
            .assessed
            .iter()
            .flat_map(|a| a.evaluation.findings.iter())
            // The swept kinds only (the assessment also judges the account's password policy: issue 18).
            // The account-level Block Public Access (issue 16) too: the fake account has none.
            .filter(|f| f.resource.resource_type != "AWS::IAM::AccountPasswordPolicy")
            .filter(|f| f.resource.resource_type != "AWS::S3::AccountPublicAccessBlock")
            .map(|f| {
                (
                    f.rule.as_str(),
                    f.resource.name.as_deref().unwrap(),
                    f.suppressed.is_some(),
                )
            })
            .collect();
        assert_eq!(
            found,
            vec![
                ("ec2-snapshot-cross-account-access", "snap-1", false),
                ("sns-topic-cross-account-access", "t-exempt", true),
                ("sqs-queue-cross-account-access", "q-out", false),
            ]
        );
        let calls = aws.world().calls.clone();
        let tag_reads: Vec<&String> = calls.iter().filter(|c| c.starts_with("sweep:ListTags")).collect();
        // The queue and topic that fired (their listing has no tags); not the quiet queue, not the snapshot.
        assert_eq!(tag_reads, vec!["sweep:ListTags q-out", "sweep:ListTags t-exempt"]);
        assert_eq!(out.checked.get("AWS::SQS::Queue"), Some(&2));
        assert_eq!(out.checked.get("AWS::EC2::Image"), Some(&0));
    }

    #[test]
    fn a_kind_that_cannot_be_listed_is_an_error_and_the_others_go_on() {
        let aws = FakeAws::new();
        aws.fail("ec2:DescribeSnapshots", ErrorKind::AccessDenied);
        seed(&aws, SweptKindId::SqsQueue, "q-out", policy(OUT), None);
        aws.fail("sqs:GetQueueAttributes", ErrorKind::Throttling);
        seed(
            &aws,
            SweptKindId::SecretsManagerSecret,
            "s-out",
            policy(OUT),
            Some(&[]),
        );
        let out = block_on(assess_account(&aws, &RuleConfig::default(), &CTX, 4)).unwrap();
        assert_eq!(out.errors.len(), 2, "{:?}", out.errors);
        assert!(
            out.errors[0].starts_with("EBS snapshot listing:"),
            "{:?}",
            out.errors
        );
        assert!(
            out.errors[1].starts_with("SQS queue `q-out`:"),
            "{:?}",
            out.errors
        );
        let rules: Vec<&str> = out
            .assessed
            .iter()
            .flat_map(|a| a.evaluation.findings.iter().map(|f| f.rule.as_str()))
            .filter(|r| *r != "iam-password-policy-weakened")
            // The fake account has no account-level Block Public Access (issue 16).
            .filter(|r| *r != "s3-account-public-access-block-weakened")
            .collect();
        assert_eq!(rules, vec!["secretsmanager-secret-cross-account-access"]);
        assert!(!out.checked.contains_key("AWS::EC2::Snapshot"));
    }

    /// Every enabled region of the partition is read, each resource judged in its own region; a region
    /// where every listing is refused is one error and the others go on; another partition's region is
    /// not read.
    #[test]
    fn every_enabled_region_is_read_and_a_refused_region_is_one_error() {
        let aws = FakeAws::new();
        aws.world().duties.regions = ["eu-west-1", "us-east-1", "ap-south-1", "cn-north-1"]
            .map(String::from)
            .to_vec();
        aws.world().swept_regions_denied.insert("ap-south-1".into());
        let seed_in = |region: &str, id: &str| {
            aws.world()
                .swept
                .entry(SweptKindId::LambdaFunction)
                .or_default()
                .insert(
                    id.to_owned(),
                    FakeSwept {
                        listed: Listed {
                            id: id.to_owned(),
                            arn: format!("arn:aws:lambda:{region}:{OWN}:function:{id}"),
                            name: id.to_owned(),
                            tags: Some(BTreeMap::new()),
                        },
                        exposure: policy(OUT),
                        tags: BTreeMap::new(),
                    },
                );
        };
        seed_in("us-east-1", "f-home");
        seed_in("eu-west-1", "f-eu");
        seed_in("cn-north-1", "f-china");
        let out = block_on(assess_account(&aws, &RuleConfig::default(), &CTX, 4)).unwrap();
        // Regions are read concurrently: the set, not the order, is the contract.
        let found: BTreeSet<(&str, &str)> = out
            .assessed
            .iter()
            .flat_map(|a| a.evaluation.findings.iter())
            .filter(|f| f.rule == "lambda-function-cross-account-access")
            .map(|f| (f.resource.name.as_deref().unwrap(), f.region.as_str()))
            .collect();
        assert_eq!(
            found,
            BTreeSet::from([("f-home", "us-east-1"), ("f-eu", "eu-west-1")])
        );
        let region_errors: Vec<&String> = out.errors.iter().filter(|e| e.contains("ap-south-1")).collect();
        assert_eq!(region_errors.len(), 1, "{:?}", out.errors);
        assert!(
            region_errors[0].starts_with("swept kinds in `ap-south-1`: every listing failed"),
            "{region_errors:?}"
        );
        assert!(
            !out.errors.iter().any(|e| e.contains("cn-north-1")),
            "{:?}",
            out.errors
        );
        assert_eq!(out.checked.get("AWS::Lambda::Function"), Some(&2));
    }
}
