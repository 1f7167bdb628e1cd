//! remediate against the emulator (issue 5 scenario 4): enforce removes only the public statements and keeps
//! the others (read back from S3); dry-run changes nothing; an exemption tag skips; a finding caused by the
//! remediation role is ignored. Every outcome is published.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use aws_sdk_s3::types::{Tag, Tagging};
use serde_json::{json, Value};
use tripline_aws::app::remediate::RemediateConfig;
use tripline_aws::app::DetectorConfig;
use tripline_aws::handlers::remediate::handle_remediate;
use tripline_aws::AwsClients;
use tripline_core::finding::Finding;
use tripline_core::intake::{intake, Intake};
use tripline_core::render::sns::RemediationStatus;
use tripline_core::settings::{RemediationMode, RuleConfig};
use tripline_core::Envelope;
use tripline_integration::{alert_topic, emulator, new_account, rewrite, sample, unique};

const ROLE_NAME: &str = "tripline-remediate";

fn cfg(topic: &str, account: &str, mode: RemediationMode) -> RemediateConfig {
    let rules = RuleConfig {
        remediation_mode: mode,
        remediation_rules: ["s3-bucket-policy-public".to_owned()].into_iter().collect(),
        ..RuleConfig::default()
    };
    RemediateConfig {
        detector: DetectorConfig {
            alert_topic_arn: topic.to_owned(),
            rules,
        },
        remediation_role_arn: Some(format!("arn:aws:iam::{account}:role/{ROLE_NAME}")),
        member_role_name: None,
        attempts: None,
    }
}

/// A bucket whose policy has a Deny, a private Allow and a public Allow; and the finding on-cloudtrail
/// raised for it (as the SNS record remediate receives).
async fn setup(aws: &AwsClients, account: &str, tags: &[(&str, &str)]) -> (String, Value, Finding) {
    let bucket = unique("reports");
    aws.s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "ReportsWriterRole", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
         "Action": ["s3:PutObject", "s3:GetObject"], "Resource": format!("arn:aws:s3:::{bucket}/*")},
        {"Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    aws.s3
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    if !tags.is_empty() {
        let set: Vec<Tag> = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(*k).value(*v).build().unwrap())
            .collect();
        aws.s3
            .put_bucket_tagging()
            .bucket(&bucket)
            .tagging(Tagging::builder().set_tag_set(Some(set)).build().unwrap())
            .send()
            .await
            .unwrap();
    }
    let mut event = rewrite(
        &sample("cloudtrail-s3-put-bucket-policy-public.json"),
        &[("reports-prod", &bucket), ("111122223333", account)],
    );
    event["detail"]["requestParameters"]["bucketPolicy"] = policy.clone();
    let Intake::Change(c) = intake(&serde_json::to_vec(&event).unwrap()).unwrap() else {
        panic!()
    };
    let f = tripline_core::rules::evaluate(&c, None, &RuleConfig::default())
        .findings
        .into_iter()
        .find(|f| f.rule == "s3-bucket-policy-public")
        .unwrap();
    (bucket, policy, f)
}

fn sns_record(f: &Finding) -> Vec<u8> {
    serde_json::to_vec(&json!({"Records": [{"EventSource": "aws:sns", "Sns": {
        "MessageId": unique("msg"), "Message": serde_json::to_string(f).unwrap(),
        "MessageAttributes": {"remediation": {"Type": "String", "Value": "planned"}}}}]}))
    .unwrap()
}

async fn read_policy(aws: &AwsClients, bucket: &str) -> Value {
    let p = aws.s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    serde_json::from_str(p.policy().unwrap()).unwrap()
}

#[tokio::test]
async fn scenario_4_enforce_dry_run_exempt_and_loop_protection() {
    let account = new_account();
    let aws = emulator().clients(&account).await;
    let topic = alert_topic(&aws.sns).await;

    // (label, mode, tags, actor is the remediation role, expected status, policy changed)
    let cases = [
        (
            "enforce",
            RemediationMode::Enforce,
            vec![],
            false,
            RemediationStatus::Remediated,
            true,
        ),
        (
            "dry-run",
            RemediationMode::DryRun,
            vec![],
            false,
            RemediationStatus::DryRun,
            false,
        ),
        (
            "exempt tag",
            RemediationMode::Enforce,
            vec![("tripline:exempt", "s3-bucket-policy-public")],
            false,
            RemediationStatus::Skipped,
            false,
        ),
        (
            "remediation role",
            RemediationMode::Enforce,
            vec![],
            true,
            RemediationStatus::Skipped,
            false,
        ),
    ];
    for (label, mode, tags, by_role, status, changed) in cases {
        let (bucket, before, mut f) = setup(&aws, &account, &tags).await;
        if by_role {
            f.actor.arn = Some(format!(
                "arn:aws:sts::{account}:assumed-role/{ROLE_NAME}/tripline"
            ));
            f.actor.session_issuer = Some(format!("arn:aws:iam::{account}:role/{ROLE_NAME}"));
        }
        let t = Instant::now();
        let out = handle_remediate(
            &aws,
            &cfg(&topic, &account, mode),
            &Envelope::read(&sns_record(&f)),
        )
        .await
        .unwrap();
        println!(
            "handler time remediate {label}: {:.1} ms (emulator)",
            t.elapsed().as_secs_f64() * 1e3
        );
        assert_eq!(out[0].status, status, "{label}: {:?}", out[0]);
        let after = read_policy(&aws, &bucket).await;
        if changed {
            let sids: Vec<&str> = after["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s["Sid"].as_str())
                .collect();
            assert_eq!(
                sids,
                ["DenyInsecureTransport", "ReportsWriterRole"],
                "{label}: {after}"
            );
            assert_eq!(
                after["Statement"][0], before["Statement"][0],
                "kept statements are unchanged"
            );
            assert_eq!(
                after["Statement"][1], before["Statement"][1],
                "kept statements are unchanged"
            );
        } else {
            assert_eq!(after, before, "{label}: nothing changed");
        }
        if label == "remediation role" {
            assert!(out[0].detail.contains("loop protection"), "{}", out[0].detail);
        }
        if label == "exempt tag" {
            assert!(out[0].detail.contains("exempt"), "{}", out[0].detail);
        }
        if label == "dry-run" {
            assert!(
                out[0].actions[0].contains("keeping 2 of 3"),
                "{:?}",
                out[0].actions
            );
        }
    }

    // Remediating again is a no-op: the finding is stale now.
    let (bucket, _, f) = setup(&aws, &account, &[]).await;
    let c = cfg(&topic, &account, RemediationMode::Enforce);
    handle_remediate(&aws, &c, &Envelope::read(&sns_record(&f)))
        .await
        .unwrap();
    let fixed = read_policy(&aws, &bucket).await;
    let again = handle_remediate(&aws, &c, &Envelope::read(&sns_record(&f)))
        .await
        .unwrap();
    assert_eq!(again[0].status, RemediationStatus::Skipped);
    assert!(again[0].detail.contains("stale"), "{}", again[0].detail);
    assert_eq!(read_policy(&aws, &bucket).await, fixed);

    // Warm: a dry run on a fresh public bucket (re-read, plan, publish).
    let (_, _, f) = setup(&aws, &account, &[]).await;
    let dry = cfg(&topic, &account, RemediationMode::DryRun);
    let t = Instant::now();
    handle_remediate(&aws, &dry, &Envelope::read(&sns_record(&f)))
        .await
        .unwrap();
    println!(
        "handler time remediate dry-run, warm: {:.1} ms (emulator)",
        t.elapsed().as_secs_f64() * 1e3
    );
}
