//! The account-level state the event rules judge (issue 16) against the emulator: an account holding a
//! stopped trail, a recorder that does not record, a disabled GuardDuty detector, EBS encryption by default
//! off, no account Block Public Access and a security group open to the world on port 22 is reported with
//! the event rules' ids by the sweep use case (`assess_account`); its compliant twin reports none of them.
//! Only `REGION` is asserted: every other moto region of a fresh account has no trail, recorder or detector.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use aws_sdk_cloudtrail::types::{EventSelector, ReadWriteType};
use aws_sdk_config::types::{ConfigurationRecorder, DeliveryChannel};
use aws_sdk_ec2::types::{IpPermission, IpRange};
use tripline_aws::app::assess::{assess_account, AccountAssessment};
use tripline_aws::AwsClients;
use tripline_core::rules::SweepContext;
use tripline_core::settings::RuleConfig;
use tripline_integration::{emulator, new_account, unique, REGION};

const RULES: [&str; 6] = [
    "cloudtrail-logging-disabled",
    "config-recording-stopped",
    "guardduty-detector-disabled",
    "ebs-default-encryption-disabled",
    "s3-account-public-access-block-weakened",
    "ec2-security-group-open-to-world",
];

async fn bucket(aws: &AwsClients) -> String {
    let name = unique("trail-bucket");
    aws.s3.create_bucket().bucket(&name).send().await.unwrap();
    name
}

async fn group(aws: &AwsClients, port: i32) -> String {
    let g = aws
        .ec2
        .create_security_group()
        .group_name(unique("sg"))
        .description("issue 16")
        .send()
        .await
        .unwrap();
    let id = g.group_id().unwrap().to_owned();
    aws.ec2
        .authorize_security_group_ingress()
        .group_id(&id)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(port)
                .to_port(port)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    id
}

/// The findings of the six rules in `REGION` (and the account-level Block Public Access): `(rule, arn)`.
fn found(out: &AccountAssessment) -> BTreeSet<(String, String)> {
    out.assessed
        .iter()
        .flat_map(|a| a.evaluation.findings.iter())
        .filter(|f| RULES.contains(&f.rule.as_str()))
        .filter(|f| {
            f.resource.arn.contains(&format!(":{REGION}:")) || f.resource.arn.starts_with("arn:aws:s3::")
        })
        .map(|f| (f.rule.clone(), f.resource.arn.clone()))
        .collect()
}

async fn sweep(aws: &AwsClients, account: &str) -> AccountAssessment {
    let ctx = SweepContext {
        account,
        region: REGION,
        time: "2026-12-06T00:00:00Z",
    };
    assess_account(aws, &RuleConfig::default(), &ctx, 8)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_sweep_reports_the_pre_existing_account_state_with_the_event_rule_ids() {
    let account = new_account();
    let aws = emulator().clients(&account).await;
    // A trail that logged, then stopped (CloudTrail StopLogging).
    let b = bucket(&aws).await;
    let trail = aws
        .cloudtrail
        .create_trail()
        .name("main")
        .s3_bucket_name(&b)
        .send()
        .await
        .unwrap();
    let trail_arn = trail.trail_arn().unwrap().to_owned();
    aws.cloudtrail.start_logging().name("main").send().await.unwrap();
    aws.cloudtrail.stop_logging().name("main").send().await.unwrap();
    // A recorder that was never started.
    aws.config
        .put_configuration_recorder()
        .configuration_recorder(
            ConfigurationRecorder::builder()
                .name("default")
                .role_arn(format!("arn:aws:iam::{account}:role/config"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    // A disabled detector.
    let detector = aws
        .guardduty
        .create_detector()
        .enable(false)
        .send()
        .await
        .unwrap();
    let detector_id = detector.detector_id().unwrap().to_owned();
    aws.ec2.disable_ebs_encryption_by_default().send().await.unwrap();
    let sg = group(&aws, 22).await;

    let out = sweep(&aws, &account).await;
    let expected: BTreeSet<(String, String)> = [
        (
            "cloudtrail-logging-disabled",
            format!("arn:aws:cloudtrail:{REGION}:{account}:trail/*"),
        ),
        (
            "config-recording-stopped",
            format!("arn:aws:config:{REGION}:{account}:configuration-recorder/default"),
        ),
        (
            "guardduty-detector-disabled",
            format!("arn:aws:guardduty:{REGION}:{account}:detector/{detector_id}"),
        ),
        (
            "ebs-default-encryption-disabled",
            format!("arn:aws:ec2:{REGION}:{account}:ebs-default-encryption"),
        ),
        (
            "s3-account-public-access-block-weakened",
            format!("arn:aws:s3::{account}:account-public-access-block"),
        ),
        (
            "ec2-security-group-open-to-world",
            format!("arn:aws:ec2:{REGION}:{account}:security-group/{sg}"),
        ),
    ]
    .into_iter()
    .map(|(r, a)| (r.to_owned(), a))
    .collect();
    assert_eq!(found(&out), expected, "errors: {:?}", out.errors);
    // The stopped trail is named in the evidence, with why it does not count.
    let trail_finding = out
        .assessed
        .iter()
        .flat_map(|a| a.evaluation.findings.iter())
        .find(|f| f.rule == "cloudtrail-logging-disabled" && f.region == REGION)
        .unwrap();
    let reasons = trail_finding.evidence.reasons.join("\n");
    assert!(
        reasons.contains(&trail_arn) && reasons.contains("not logging"),
        "{reasons}"
    );
}

#[tokio::test]
async fn a_compliant_twin_reports_none_of_them() {
    let account = new_account();
    let aws = emulator().clients(&account).await;
    let b = bucket(&aws).await;
    aws.cloudtrail
        .create_trail()
        .name("main")
        .s3_bucket_name(&b)
        .send()
        .await
        .unwrap();
    aws.cloudtrail
        .put_event_selectors()
        .trail_name("main")
        .event_selectors(
            EventSelector::builder()
                .read_write_type(ReadWriteType::All)
                .include_management_events(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    aws.cloudtrail.start_logging().name("main").send().await.unwrap();
    aws.config
        .put_configuration_recorder()
        .configuration_recorder(
            ConfigurationRecorder::builder()
                .name("default")
                .role_arn(format!("arn:aws:iam::{account}:role/config"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    aws.config
        .put_delivery_channel()
        .delivery_channel(
            DeliveryChannel::builder()
                .name("default")
                .s3_bucket_name(&b)
                .build(),
        )
        .send()
        .await
        .unwrap();
    aws.config
        .start_configuration_recorder()
        .configuration_recorder_name("default")
        .send()
        .await
        .unwrap();
    aws.guardduty.create_detector().enable(true).send().await.unwrap();
    aws.ec2.enable_ebs_encryption_by_default().send().await.unwrap();
    aws.s3control
        .put_public_access_block()
        .account_id(&account)
        .public_access_block_configuration(
            aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Open to the world, but on HTTPS only: not an administrative port.
    group(&aws, 443).await;

    let out = sweep(&aws, &account).await;
    assert_eq!(found(&out), BTreeSet::new(), "errors: {:?}", out.errors);
    assert!(out.checked.get("security_groups").copied().unwrap_or(0) >= 2);
}
