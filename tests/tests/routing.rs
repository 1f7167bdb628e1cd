//! Organization-wide routing against the emulator: an event from a member account is judged with
//! credentials from assuming the member role there (STS AssumeRole), and the finding is published to the
//! home account's topic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use serde_json::json;
use tripline_aws::app::DetectorConfig;
use tripline_aws::handlers::cloudtrail::{handle_cloudtrail, Outcome};
use tripline_aws::{AccountRouter, MemberRole, S3Read};
use tripline_core::settings::RuleConfig;
use tripline_core::Envelope;
use tripline_integration::{alert_topic, emulator, new_account, rewrite, sample, sdk_config_for, unique};

/// moto's account for requests that name none (the router's own credentials).
const HOME: &str = "123456789012";

#[tokio::test]
async fn member_account_event_is_read_with_the_member_role_and_alerts_go_home() {
    let member = new_account();
    // The member account: its read role and a public bucket (set up with the member's own clients).
    let member_admin = emulator().clients(&member).await;
    member_admin
        .iam
        .create_role()
        .role_name("tripline-member-read")
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"AWS": format!("arn:aws:iam::{HOME}:root")},
                "Condition": {"StringEquals": {"sts:ExternalId": "tripline-ext-1"}}}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let bucket = unique("member-reports");
    member_admin
        .s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let event = rewrite(
        &sample("cloudtrail-s3-put-bucket-policy-public.json"),
        &[("reports-prod", &bucket), ("111122223333", &member)],
    );
    let policy = event["detail"]["requestParameters"]["bucketPolicy"].to_string();
    member_admin
        .s3
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(policy)
        .send()
        .await
        .unwrap();

    // The security account: the functions' own credentials, the alert topic.
    let router = AccountRouter::new(
        sdk_config_for(&emulator().endpoint, None).await,
        HOME,
        Some(MemberRole {
            role_name: "tripline-member-read".into(),
            external_id: Some("tripline-ext-1".into()),
        }),
    );
    let topic = alert_topic(&router.home().sns).await;
    assert!(topic.contains(HOME), "{topic}");

    let bytes = serde_json::to_vec(&event).unwrap();
    let envelope = Envelope::read(&bytes);
    assert_eq!(envelope.account.as_deref(), Some(member.as_str()));
    let routed = router
        .route(envelope.account_or_home(), envelope.region_or_default())
        .await;
    // The home account cannot see the member's bucket; the routed clients can.
    assert!(!router.home().list_buckets().await.unwrap().contains(&bucket));
    assert!(routed.list_buckets().await.unwrap().contains(&bucket));

    let cfg = DetectorConfig {
        alert_topic_arn: topic,
        rules: RuleConfig::default(),
    };
    let t = Instant::now();
    let out = handle_cloudtrail(&routed, &cfg, &envelope).await.unwrap();
    println!(
        "handler time on-cloudtrail via member role: {:.1} ms (emulator)",
        t.elapsed().as_secs_f64() * 1e3
    );
    let Outcome::Evaluated { findings, .. } = out else {
        panic!("{out:?}")
    };
    assert!(
        findings.iter().any(|f| f.rule == "s3-bucket-policy-public"),
        "{findings:?}"
    );
    // Same account and region again: the cached clients.
    let again = router
        .route(envelope.account_or_home(), envelope.region_or_default())
        .await;
    assert!(std::sync::Arc::ptr_eq(&again.target, &routed.target));
}
