//! sweep against the emulator: 50 buckets, exactly the public ones reported (issue 5 scenario 5).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Instant;

use aws_sdk_s3::types::BucketCannedAcl;
use serde_json::json;
use tripline_aws::app::assess::SweepConfig;
use tripline_aws::app::DetectorConfig;
use tripline_aws::handlers::sweep::handle_sweep;
use tripline_core::settings::RuleConfig;
use tripline_core::Envelope;
use tripline_integration::{alert_topic, emulator, new_account, unique};

#[tokio::test]
async fn scenario_5_sweep_over_50_buckets_reports_exactly_the_public_ones() {
    let account = new_account();
    let aws = emulator().clients(&account).await;
    let topic = alert_topic(&aws.sns).await;
    let prefix = unique("sweep");
    let mut public_policy = BTreeSet::new();
    let mut public_acl = BTreeSet::new();
    let setup = futures::future::join_all((0..50).map(|i| {
        let aws = &aws;
        let account = &account;
        let name = format!("{prefix}-{i:02}");
        async move {
            aws.s3.create_bucket().bucket(&name).send().await.unwrap();
            match i % 10 {
                // Public: anyone may read objects.
                0 | 7 => {
                    let p = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Public", "Effect": "Allow",
                        "Principal": "*", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{name}/*")}]});
                    aws.s3.put_bucket_policy().bucket(&name).policy(p.to_string()).send().await.unwrap();
                }
                // Not public: a policy granting the bucket's own account.
                3 => {
                    let p = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{name}/*")}]});
                    aws.s3.put_bucket_policy().bucket(&name).policy(p.to_string()).send().await.unwrap();
                }
                // Public ACL (the emulator keeps ACLs enabled on new buckets).
                5 => {
                    aws.s3.put_bucket_acl().bucket(&name).acl(BucketCannedAcl::PublicRead).send().await.unwrap();
                }
                _ => {}
            }
            (i, name)
        }
    }))
    .await;
    for (i, name) in setup {
        match i % 10 {
            0 | 7 => {
                public_policy.insert(format!("arn:aws:s3:::{name}"));
            }
            5 => {
                public_acl.insert(format!("arn:aws:s3:::{name}"));
            }
            _ => {}
        }
    }

    let cfg = SweepConfig {
        detector: DetectorConfig {
            alert_topic_arn: topic,
            rules: RuleConfig::default(),
        },
        concurrency: 16,
    };
    let event = json!({"version": "0", "id": unique("sched"), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": account, "time": "2026-11-29T00:00:00Z", "region": "us-east-1", "resources": [], "detail": {}});
    let t = Instant::now();
    let out = handle_sweep(&aws, &cfg, &Envelope::read(&serde_json::to_vec(&event).unwrap()))
        .await
        .unwrap();
    println!(
        "handler time sweep (50 buckets, concurrency 16): {:.1} ms (emulator)",
        t.elapsed().as_secs_f64() * 1e3
    );
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.checked.get("buckets"), Some(&50));
    let of = |rule: &str| -> BTreeSet<String> {
        out.findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.resource.clone())
            .collect()
    };
    assert_eq!(of("s3-bucket-policy-public"), public_policy);
    assert_eq!(of("s3-bucket-acl-public"), public_acl);
    let bucket_findings: BTreeSet<String> = out
        .findings
        .iter()
        // Every bucket without the TLS requirement also has a low `s3-bucket-tls-not-required` (issue 18).
        .filter(|f| f.resource.starts_with("arn:aws:s3:::") && f.rule != "s3-bucket-tls-not-required")
        .map(|f| f.resource.clone())
        .collect();
    let public: BTreeSet<String> = public_policy.union(&public_acl).cloned().collect();
    assert_eq!(bucket_findings, public, "no other bucket is reported");
    assert!(!out.summary_message_id.is_empty());

    let t = Instant::now();
    let again = handle_sweep(&aws, &cfg, &Envelope::read(&serde_json::to_vec(&event).unwrap()))
        .await
        .unwrap();
    println!(
        "handler time sweep (50 buckets), warm: {:.1} ms (emulator)",
        t.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(again.findings.len(), out.findings.len());
}
