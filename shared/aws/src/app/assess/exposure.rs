//! The swept kinds' part of the account assessment (issue 19): for every row of
//! `tripline_core::rules::external::SWEPT_KINDS`, list the region's resources through [`ExposureRead`], read
//! each one's share attributes or resource policy (bounded concurrency, the same cutoff), and judge it with
//! the kind's public rule and its cross-account rule (`rules::external::assess_swept`). Tags are read only
//! when a rule fired and the listing did not return them (exemptions), as for buckets.
//!
//! A kind whose listing fails is reported in the assessment's errors and the others go on (a member role
//! without `ec2:DescribeSnapshots` must not hide the buckets); a resource deleted between the listing and the
//! read is skipped.

use futures::stream::{self, StreamExt};

use super::{has_open_findings, AccountAssessment, Assessed};
use crate::exposure::{ExposureRead, Listed};
use crate::AwsError;
use tripline_core::rules::external::{assess_swept, SweptKind, SweptResource, SWEPT_KINDS};
use tripline_core::rules::{Evaluation, SweepContext};
use tripline_core::settings::RuleConfig;

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
    let exposure = aws.read_exposure(kind.id, &listed.id).await?;
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
    res.tags = Some(aws.swept_tags(kind.id, &listed.id).await?);
    Ok(assess_swept(ctx, kind, &res, rules_cfg))
}

/// Lists, reads and judges every swept kind into `out`.
pub(super) async fn assess_swept_kinds<D: ExposureRead>(
    aws: &D,
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
    concurrency: usize,
    expired: impl Fn() -> bool + Copy,
    out: &mut AccountAssessment,
) {
    for kind in SWEPT_KINDS {
        let listed = match aws.list_swept(kind.id).await {
            Ok(l) => l,
            Err(e) => {
                out.errors.push(format!("{} listing: {e}", kind.what));
                continue;
            }
        };
        // Nothing listed still counts the kind as checked (zero).
        out.checked.entry(counted_as(kind).into()).or_default();
        let results: Vec<(Listed, Option<Result<Evaluation, AwsError>>)> = stream::iter(listed)
            .map(|l| async move {
                if expired() {
                    return (l, None);
                }
                let r = assess_one(aws, kind, &l, rules_cfg, ctx).await;
                (l, Some(r))
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
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
                &format!("{} `{}`", kind.what, l.name),
                r,
                AwsError::is_not_found,
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::collections::BTreeMap;

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
}
