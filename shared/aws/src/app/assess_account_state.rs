//! The account-level state in the account assessment (issue 16): per enabled region of the partition (the
//! duty sweep's region list, [`super::assess_duties`]) the CloudTrail trails, AWS Config recorders,
//! GuardDuty detectors, EBS encryption by default and security groups; once per account the account-level
//! S3 Block Public Access. Judged by `tripline_core::rules::account_state` with the event rules' ids.
//!
//! A family that cannot be read in a region is named in the assessment's errors (the sweep ends incomplete,
//! `SweepIncomplete`), never judged "disabled"; what is unknown inside an answer is a rule error of the
//! evaluation (see the core module). Regions run with the sweep's bounded concurrency; nothing starts after
//! the cutoff (listed unread).

use std::time::Instant;

use futures::stream::{self, StreamExt};
use serde_json::Value;

use super::assess::{AccountAssessment, Assessed};
use crate::{AccountStateRead, AwsError};
use tripline_core::rules::{self, Judged, SweepContext};
use tripline_core::settings::RuleConfig;
use tripline_core::state::PublicAccessBlock;

/// The families, in the order they are read and reported.
pub const FAMILIES: [&str; 5] = [
    "CloudTrail trails",
    "configuration recorders",
    "GuardDuty detectors",
    "EBS encryption by default",
    "security groups",
];

struct RegionReads {
    trails: Result<Vec<Value>, AwsError>,
    recorders: Result<Vec<Value>, AwsError>,
    detectors: Result<Vec<Value>, AwsError>,
    ebs: Result<Option<bool>, AwsError>,
    groups: Result<Vec<Value>, AwsError>,
}

async fn read_region<D: AccountStateRead>(aws: &D, region: &str) -> RegionReads {
    let (trails, recorders, detectors, ebs, groups) = futures::join!(
        aws.trails(region),
        aws.configuration_recorders(region),
        aws.guardduty_detectors(region),
        aws.ebs_encryption_by_default(region),
        aws.security_groups(region),
    );
    RegionReads {
        trails,
        recorders,
        detectors,
        ebs,
        groups,
    }
}

fn push(out: &mut AccountAssessment, kind: &str, j: Judged) {
    *out.checked.entry(kind.into()).or_default() += 1;
    out.assessed.push(Assessed {
        resource_type: j.resource_type,
        resource_id: j.resource_id,
        arn: j.arn,
        evaluation: j.evaluation,
    });
}

/// Judges account-level Block Public Access (`pab`: S3 Control GetPublicAccessBlock's configuration as the
/// assessment read it, `None`: NoSuchPublicAccessBlockConfiguration).
pub fn account_public_access_block(
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
    pab: Option<&PublicAccessBlock>,
    out: &mut AccountAssessment,
) {
    let j = rules::assess_account_public_access_block(ctx, pab, rules_cfg);
    push(out, "account_public_access_block", j);
}

/// Judges the regional families in `regions` into `out` (see the module docs).
pub async fn assess_regions<D: AccountStateRead>(
    aws: &D,
    rules_cfg: &RuleConfig,
    ctx: &SweepContext<'_>,
    regions: &[String],
    concurrency: usize,
    cutoff: Option<Instant>,
    out: &mut AccountAssessment,
) {
    let expired = move || cutoff.is_some_and(|c| Instant::now() >= c);
    let results: Vec<(String, Option<RegionReads>)> = stream::iter(regions.iter().cloned())
        .map(|region| async move {
            if expired() {
                return (region, None);
            }
            let reads = read_region(aws, &region).await;
            (region, Some(reads))
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for (region, reads) in results {
        let Some(r) = reads else {
            out.unread
                .extend(FAMILIES.iter().map(|f| format!("{f} in `{region}`")));
            continue;
        };
        let failed = |family: &str, e: AwsError, out: &mut AccountAssessment| {
            out.errors.push(format!("{family} in `{region}`: {e}"));
        };
        match r.trails {
            Ok(t) => push(out, "trails", rules::assess_trails(ctx, &region, &t, rules_cfg)),
            Err(e) => failed(FAMILIES[0], e, out),
        }
        match r.recorders {
            Ok(rs) => {
                for j in rules::assess_config_recorders(ctx, &region, &rs, rules_cfg) {
                    push(out, "configuration_recorders", j);
                }
            }
            Err(e) => failed(FAMILIES[1], e, out),
        }
        match r.detectors {
            Ok(ds) => {
                for j in rules::assess_detectors(ctx, &region, &ds, rules_cfg) {
                    push(out, "guardduty_detectors", j);
                }
            }
            Err(e) => failed(FAMILIES[2], e, out),
        }
        match r.ebs {
            Ok(on) => push(
                out,
                "ebs_default_encryption",
                rules::assess_ebs_default_encryption(ctx, &region, on, rules_cfg),
            ),
            Err(e) => failed(FAMILIES[3], e, out),
        }
        match r.groups {
            Ok(gs) => {
                for g in &gs {
                    push(
                        out,
                        "security_groups",
                        rules::assess_security_group(ctx, &region, g, rules_cfg),
                    );
                }
            }
            Err(e) => failed(FAMILIES[4], e, out),
        }
    }
}

/// Whether on-config's scheduled evaluation reports `a` to its AWS Config rule (running in `region`):
/// security groups of its own region (a Config type; id = group id); the region-level and account-level
/// identifiers of the other families are no Config resources. `None`: not one of these families.
pub fn for_config_rule(a: &Assessed, region: &str) -> Option<bool> {
    match a.resource_type {
        "AWS::EC2::SecurityGroup" => Some(a.arn.contains(&format!(":{region}:"))),
        "AWS::CloudTrail::Trail"
        | "AWS::Config::ConfigurationRecorder"
        | "AWS::GuardDuty::Detector"
        | "AWS::EC2::EBSDefaultEncryption"
        | "AWS::S3::AccountPublicAccessBlock" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::super::assess::assess_account;
    use crate::fakes::FakeAws;
    use crate::ErrorKind;
    use tripline_core::rules::SweepContext;
    use tripline_core::settings::RuleConfig;
    use tripline_core::state::PublicAccessBlock;

    const ACCOUNT: &str = "111122223333";
    const CTX: SweepContext<'static> = SweepContext {
        account: ACCOUNT,
        region: "us-east-1",
        time: "2026-12-06T03:00:00Z",
    };

    fn rules_on(out: &super::AccountAssessment, region: &str) -> Vec<String> {
        let mut r: Vec<String> = out
            .assessed
            .iter()
            .flat_map(|a| a.evaluation.findings.iter())
            // The six rules of these families (the duty families judge the fake account too).
            .filter(|f| {
                [
                    "cloudtrail-logging-disabled",
                    "config-recording-stopped",
                    "guardduty-detector-disabled",
                    "ebs-default-encryption-disabled",
                    "s3-account-public-access-block-weakened",
                    "ec2-security-group-open-to-world",
                ]
                .contains(&f.rule.as_str())
            })
            .filter(|f| f.region == region || f.resource.arn.contains(&format!(":{region}:")))
            .map(|f| f.rule.clone())
            .collect();
        r.sort();
        r
    }

    /// One region seeded with every case (no trail, a stopped recorder, a disabled detector, EBS default
    /// encryption off, SSH open to the world), its twin compliant: the findings carry the event rules' ids.
    #[test]
    fn every_account_state_case_is_reported_with_the_event_rule_id() {
        let aws = FakeAws::new();
        {
            let mut w = aws.world();
            w.duties.regions = vec!["us-east-1".into(), "eu-west-1".into()];
            w.account_public_access_block
                .insert(ACCOUNT.into(), PublicAccessBlock::ALL_ON);
            let s = &mut w.account_state;
            s.trails.insert("eu-west-1".into(), vec![]);
            s.recorders.insert(
                "eu-west-1".into(),
                vec![json!({"name": "default", "recording": false})],
            );
            s.detectors.insert(
                "eu-west-1".into(),
                vec![json!({"detectorId": "d1", "status": "DISABLED"})],
            );
            s.ebs_default.insert("eu-west-1".into(), Some(false));
            s.security_groups.insert(
                "eu-west-1".into(),
                vec![
                    json!({"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22,
                    "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}], "Tags": []}),
                ],
            );
        }
        let out = crate::block_on(assess_account(&aws, &RuleConfig::default(), &CTX, 4)).unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(
            rules_on(&out, "eu-west-1"),
            vec![
                "cloudtrail-logging-disabled",
                "config-recording-stopped",
                "ebs-default-encryption-disabled",
                "ec2-security-group-open-to-world",
                "guardduty-detector-disabled",
            ]
        );
        // The compliant region (the fake's defaults) and the account Block Public Access: nothing.
        assert!(
            rules_on(&out, "us-east-1").is_empty(),
            "{:?}",
            rules_on(&out, "us-east-1")
        );
        assert_eq!(out.checked.get("account_public_access_block"), Some(&1));
        assert_eq!(out.checked.get("trails"), Some(&2));
        let calls = aws.world().calls.clone();
        for op in [
            "cloudtrail:DescribeTrails eu-west-1",
            "config:DescribeConfigurationRecorders eu-west-1",
            "guardduty:ListDetectors eu-west-1",
            "ec2:GetEbsEncryptionByDefault eu-west-1",
            "ec2:DescribeSecurityGroups eu-west-1",
        ] {
            assert!(calls.iter().any(|c| c == op), "{op}: {calls:?}");
        }
    }

    /// A read that fails is an error of the run naming the family and region, never a "disabled" finding;
    /// no account Block Public Access configuration is a finding (NoSuchPublicAccessBlockConfiguration).
    #[test]
    fn a_failed_read_is_an_error_never_a_finding() {
        let aws = FakeAws::new();
        aws.world().duties.regions = vec!["us-east-1".into()];
        aws.fail("guardduty:ListDetectors", ErrorKind::AccessDenied);
        aws.fail("cloudtrail:DescribeTrails", ErrorKind::Throttling);
        let out = crate::block_on(assess_account(&aws, &RuleConfig::default(), &CTX, 4)).unwrap();
        assert!(
            out.errors
                .iter()
                .any(|e| e.starts_with("GuardDuty detectors in `us-east-1`")),
            "{:?}",
            out.errors
        );
        assert!(
            out.errors
                .iter()
                .any(|e| e.starts_with("CloudTrail trails in `us-east-1`")),
            "{:?}",
            out.errors
        );
        let rules: Vec<String> = out
            .assessed
            .iter()
            .flat_map(|a| a.evaluation.findings.iter())
            .map(|f| f.rule.clone())
            .collect();
        assert!(
            !rules.iter().any(|r| r == "guardduty-detector-disabled"),
            "{rules:?}"
        );
        assert!(
            !rules.iter().any(|r| r == "cloudtrail-logging-disabled"),
            "{rules:?}"
        );
        assert!(
            rules
                .iter()
                .any(|r| r == "s3-account-public-access-block-weakened"),
            "{rules:?}"
        );
    }
}
