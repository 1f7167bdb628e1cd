//! on-cloudtrail against the emulator: issue 5 scenarios 1, 2, 3 and 9.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
use serde_json::{json, Value};
use tripline_aws::app::DetectorConfig;
use tripline_aws::handlers::cloudtrail::{handle_cloudtrail, Outcome};
use tripline_aws::AwsClients;
use tripline_core::settings::RuleConfig;
use tripline_core::Envelope;
use tripline_integration::{
    emulator, new_account, rewrite, sample, sdk_config_for, topic_with_queue, unique,
};

fn cfg(topic: &str) -> DetectorConfig {
    DetectorConfig {
        alert_topic_arn: topic.to_owned(),
        rules: RuleConfig::default(),
    }
}

fn attr<'a>(envelope: &'a Value, name: &str) -> &'a str {
    envelope["MessageAttributes"][name]["Value"]
        .as_str()
        .unwrap_or_else(|| panic!("no attribute `{name}` in {envelope}"))
}

/// A public-bucket-policy event for a fresh bucket in `account`, and the bucket made public in the emulator.
async fn public_bucket(aws: &AwsClients, account: &str) -> (String, Vec<u8>) {
    let bucket = unique("reports");
    let event = rewrite(
        &sample("cloudtrail-s3-put-bucket-policy-public.json"),
        &[("reports-prod", &bucket), ("111122223333", account)],
    );
    aws.s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let policy = event["detail"]["requestParameters"]["bucketPolicy"].to_string();
    aws.s3
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(policy)
        .send()
        .await
        .unwrap();
    (bucket, serde_json::to_vec(&event).unwrap())
}

async fn run(aws: &AwsClients, cfg: &DetectorConfig, event: &[u8], label: &str) -> Outcome {
    let t = Instant::now();
    let out = handle_cloudtrail(aws, cfg, &Envelope::read(event)).await;
    println!(
        "handler time on-cloudtrail {label}: {:.1} ms (emulator)",
        t.elapsed().as_secs_f64() * 1e3
    );
    out.unwrap()
}

#[tokio::test]
async fn scenario_1_public_bucket_reaches_the_sqs_subscriber() {
    let account = new_account();
    let aws = emulator().clients(&account).await;
    let topic = topic_with_queue(&account).await;
    let (bucket, event) = public_bucket(&aws, &account).await;

    let out = run(&aws, &cfg(&topic.arn), &event, "public bucket policy").await;
    let Outcome::Evaluated { findings, .. } = out else {
        panic!("{out:?}")
    };
    assert!(
        findings.iter().any(|f| f.rule == "s3-bucket-policy-public"),
        "{findings:?}"
    );

    let delivered = topic.drain().await;
    assert_eq!(delivered.len(), findings.len(), "{delivered:?}");
    let envelope = delivered
        .iter()
        .find(|e| attr(e, "rule") == "s3-bucket-policy-public")
        .expect("the public-policy finding");
    // The attributes subscribers filter on.
    assert_eq!(attr(envelope, "kind"), "finding");
    assert_eq!(attr(envelope, "severity"), "critical");
    assert_eq!(attr(envelope, "account"), account);
    assert_eq!(attr(envelope, "remediation"), "planned");
    let subject = envelope["Subject"].as_str().unwrap();
    assert!(
        subject.starts_with("[CRITICAL]") && subject.len() < 100,
        "{subject}"
    );
    // The SQS protocol gets the JSON finding.
    let finding: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(
        finding["resource"]["arn"],
        json!(format!("arn:aws:s3:::{bucket}"))
    );
    assert_eq!(finding["state_confirmed"], json!(true));
    assert_eq!(finding["actor"]["source_ip"], json!("198.51.100.23"));
    assert!(
        finding["evidence"]["reasons"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{finding}"
    );

    // The email part of the same publish: readable text naming what, who, where, why and how to exempt.
    let f: tripline_core::finding::Finding = serde_json::from_value(finding).unwrap();
    let published = tripline_core::render::sns::message(&f);
    let email = serde_json::from_str::<Value>(&published.message).unwrap()["email"]
        .as_str()
        .unwrap()
        .to_owned();
    println!("--- email part ---\n{email}\n---");
    for needle in [
        bucket.as_str(),
        "alice",
        "198.51.100.23",
        account.as_str(),
        "tripline:exempt",
    ] {
        assert!(email.contains(needle), "email lacks `{needle}`:\n{email}");
    }
    assert!(!email.trim_start().starts_with('{'), "email is not JSON");

    // Warm handler time (the first call above also pays the emulator's lazy set-up of a new account).
    let mut times: Vec<f64> = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        handle_cloudtrail(&aws, &cfg(&topic.arn), &Envelope::read(&event))
            .await
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "handler time on-cloudtrail public bucket policy, warm median of 5: {:.1} ms (emulator)",
        times[2]
    );
}

#[tokio::test]
async fn scenario_2_account_restrict_public_buckets_lowers_severity() {
    let account = new_account();
    let aws = emulator().clients(&account).await;
    let topic = topic_with_queue(&account).await;
    aws.s3control
        .put_public_access_block()
        .account_id(&account)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (_bucket, event) = public_bucket(&aws, &account).await;

    let out = run(
        &aws,
        &cfg(&topic.arn),
        &event,
        "public policy, account RestrictPublicBuckets",
    )
    .await;
    let Outcome::Evaluated { findings, .. } = out else {
        panic!("{out:?}")
    };
    let f = findings
        .iter()
        .find(|f| f.rule == "s3-bucket-policy-public")
        .expect("still a finding");
    assert!(f.severity < tripline_core::finding::Severity::Critical, "{f:?}");

    let delivered = topic.drain().await;
    let envelope = delivered
        .iter()
        .find(|e| attr(e, "rule") == "s3-bucket-policy-public")
        .unwrap();
    assert_eq!(attr(envelope, "severity"), f.severity.as_str());
    let finding: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    let reasons = finding["evidence"]["reasons"].to_string();
    assert!(
        reasons.contains("RestrictPublicBuckets"),
        "reasons do not name the setting: {reasons}"
    );
}

const OLD_DEPLOYER: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "ReadArtifacts", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
   "Resource": ["arn:aws:s3:::artifacts-prod", "arn:aws:s3:::artifacts-prod/*"]},
  {"Sid": "UpdateFunctionCode", "Effect": "Allow", "Action": ["lambda:UpdateFunctionCode", "lambda:GetFunction"],
   "Resource": "arn:aws:lambda:us-east-1:111122223333:function:app-*"}]}"#;

/// Creates `app-deployer` with [`OLD_DEPLOYER`] as v1, then the event's document as v2 (default), and
/// returns the event rewritten for the account and version.
async fn policy_version_event(aws: &AwsClients, account: &str, sample_name: &str) -> Vec<u8> {
    let event = rewrite(&sample(sample_name), &[("111122223333", account)]);
    let old = OLD_DEPLOYER.replace("111122223333", account);
    let created = aws
        .iam
        .create_policy()
        .policy_name("app-deployer")
        .policy_document(old)
        .send()
        .await
        .unwrap();
    let arn = created.policy.unwrap().arn.unwrap();
    let doc = event["detail"]["requestParameters"]["policyDocument"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = aws
        .iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(doc)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    let version = v.policy_version.unwrap().version_id.unwrap();
    let mut event = event;
    event["detail"]["responseElements"]["policyVersion"]["versionId"] = json!(version);
    serde_json::to_vec(&event).unwrap()
}

#[tokio::test]
async fn scenario_3_widening_policy_version_lists_new_access_and_reordering_is_quiet() {
    for (sample_name, widened) in [
        ("cloudtrail-iam-create-policy-version-widening.json", true),
        ("cloudtrail-iam-create-policy-version-reordered.json", false),
    ] {
        let account = new_account();
        let aws = emulator().clients(&account).await;
        let topic = topic_with_queue(&account).await;
        let event = policy_version_event(&aws, &account, sample_name).await;
        let out = run(&aws, &cfg(&topic.arn), &event, sample_name).await;
        let Outcome::Evaluated {
            findings, fetched, ..
        } = out
        else {
            panic!("{out:?}")
        };
        assert!(
            fetched.contains(&tripline_core::StateNeed::PolicyVersions),
            "{fetched:?}"
        );
        let delivered = topic.drain().await;
        let widening: Vec<&Value> = delivered
            .iter()
            .filter(|e| attr(e, "rule") == "iam-policy-widened")
            .collect();
        if widened {
            assert_eq!(widening.len(), 1, "{findings:?}");
            let finding: Value = serde_json::from_str(widening[0]["Message"].as_str().unwrap()).unwrap();
            let new_access = finding["evidence"]["new_access"].as_array().unwrap();
            assert!(!new_access.is_empty(), "{finding}");
            let actions: Vec<&str> = new_access.iter().filter_map(|w| w["action"].as_str()).collect();
            assert!(
                actions
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case("lambda:CreateFunction")
                        || a.eq_ignore_ascii_case("iam:PassRole")),
                "{actions:?}"
            );
        } else {
            assert!(widening.is_empty(), "reordering raised {widening:?}");
        }
    }
}

#[tokio::test]
async fn scenario_9_unreachable_sns_is_retryable_and_nothing_is_lost() {
    let account = new_account();
    let mut aws = emulator().clients(&account).await;
    let topic = topic_with_queue(&account).await;
    let (_bucket, event) = public_bucket(&aws, &account).await;

    // SNS endpoint that refuses connections: a port that was free a moment ago.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let good_sns = aws.sns.clone();
    aws.sns = aws_sdk_sns::Client::new(&sdk_config_for(&dead_url, Some(&account)).await);

    let t = Instant::now();
    let err = handle_cloudtrail(&aws, &cfg(&topic.arn), &Envelope::read(&event))
        .await
        .unwrap_err();
    println!(
        "handler time on-cloudtrail unreachable sns: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.error_type(), "Retryable");
    assert!(err.to_string().contains("sns:Publish"), "{err}");
    assert!(topic.drain().await.is_empty());

    // The runtime reports the error, EventBridge/Lambda deliver the event again: once SNS is back, the
    // same event publishes its findings.
    aws.sns = good_sns;
    let out = handle_cloudtrail(&aws, &cfg(&topic.arn), &Envelope::read(&event))
        .await
        .unwrap();
    let Outcome::Evaluated { findings, .. } = out else {
        panic!()
    };
    assert!(!findings.is_empty());
    assert_eq!(topic.drain().await.len(), findings.len());
}
