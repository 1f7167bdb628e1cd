//! on-config against the emulator (S3, SNS) and a loopback AWS Config endpoint: issue 5 scenarios 6 and 8.
//!
//! The emulator does not implement `PutEvaluations`, so the Config client talks to a [`Recorder`] that
//! answers like AWS Config's JSON 1.1 protocol; the test asserts the exact request on the wire.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use serde_json::{json, Value};
use tripline_aws::app::assess::SweepConfig;
use tripline_aws::app::DetectorConfig;
use tripline_aws::handlers::config::handle_config;
use tripline_aws::AwsClients;
use tripline_core::settings::RuleConfig;
use tripline_core::Envelope;
use tripline_integration::{
    alert_topic, emulator, new_account, rewrite, sample, sdk_config_for, unique, Recorder, Reply,
};

/// Production clients for `account`, with AWS Config answered by a recorder.
async fn clients_with_config_recorder(account: &str) -> (AwsClients, Recorder) {
    let recorder = Recorder::start(vec![Reply::new(200, r#"{"FailedEvaluations":[]}"#)
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("x-amzn-RequestId", "req-1")])
    .await;
    let mut aws = emulator().clients(account).await;
    aws.config = aws_sdk_config::Client::new(&sdk_config_for(&recorder.url, None).await);
    (aws, recorder)
}

async fn topic(aws: &AwsClients) -> String {
    alert_topic(&aws.sns).await
}

fn cfg(topic: &str) -> SweepConfig {
    SweepConfig {
        detector: DetectorConfig {
            alert_topic_arn: topic.to_owned(),
            rules: RuleConfig::default(),
        },
        concurrency: 8,
    }
}

/// The public-bucket rule invocation's configuration item, for `bucket` in `account`.
fn bucket_item(bucket: &str, account: &str) -> Value {
    let invocation = sample("configrule-s3-bucket-invocation.json");
    let invoking: Value = serde_json::from_str(invocation["invokingEvent"].as_str().unwrap()).unwrap();
    rewrite(&invoking, &[("reports-prod", bucket), ("111122223333", account)])
}

#[tokio::test]
async fn scenario_6_and_8_oversized_item_fetched_from_s3_and_put_evaluations_on_the_wire() {
    let account = new_account();
    let (aws, recorder) = clients_with_config_recorder(&account).await;
    let topic = topic(&aws).await;

    // The bucket exists and is public (state confirms the item).
    let bucket = unique("reports");
    aws.s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let item = bucket_item(&bucket, &account);
    let policy = item["configurationItem"]["supplementaryConfiguration"]["BucketPolicy"]["policyText"]
        .as_str()
        .unwrap()
        .to_owned();
    aws.s3
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(policy)
        .send()
        .await
        .unwrap();

    // AWS Config delivered the item to its bucket, gzip-compressed, and invoked the rule with a summary.
    let config_bucket = unique("config-bucket");
    aws.s3
        .create_bucket()
        .bucket(&config_bucket)
        .send()
        .await
        .unwrap();
    let key = format!(
        "AWSLogs/{account}/Config/us-east-1/2026/11/28/OversizedChangeNotification/AWS::S3::Bucket/{bucket}/{account}_Config_us-east-1_ChangeNotification_AWS::S3::Bucket_{bucket}_20261128T140339Z_1764338619512.json.gz"
    );
    let mut gz = flate2_gzip(item.to_string().as_bytes());
    aws.s3
        .put_object()
        .bucket(&config_bucket)
        .key(&key)
        .body(ByteStream::from(std::mem::take(&mut gz)))
        .send()
        .await
        .unwrap();
    let ci = &item["configurationItem"];
    let summary = json!({
        "configurationItemSummary": {
            "changeType": "UPDATE", "configurationItemVersion": "1.3",
            "configurationItemCaptureTime": ci["configurationItemCaptureTime"],
            "configurationStateId": ci["configurationStateId"], "awsAccountId": account,
            "configurationItemStatus": "OK", "resourceType": "AWS::S3::Bucket", "resourceId": bucket,
            "resourceName": bucket, "ARN": format!("arn:aws:s3:::{bucket}"), "awsRegion": "us-east-1",
            "availabilityZone": "Regional", "configurationStateMd5Hash": "",
            "resourceCreationTime": "2024-03-11T09:12:44.000Z"
        },
        "s3DeliverySummary": {"s3BucketLocation": format!("{config_bucket}/{key}"), "errorCode": null, "errorMessage": null},
        "notificationCreationTime": "2026-11-28T14:03:40.100Z",
        "messageType": "OversizedConfigurationItemChangeNotification",
        "recordVersion": "1.3"
    });
    let mut invocation = rewrite(
        &sample("configrule-oversized-notification.json"),
        &[("111122223333", &account)],
    );
    invocation["invokingEvent"] = json!(summary.to_string());
    let token = invocation["resultToken"].as_str().unwrap().to_owned();

    let t = Instant::now();
    let out = handle_config(
        &aws,
        &cfg(&topic),
        &Envelope::read(&serde_json::to_vec(&invocation).unwrap()),
    )
    .await
    .unwrap();
    println!(
        "handler time on-config oversized item: {:.1} ms (emulator)",
        t.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(out.evaluations.len(), 1, "{out:?}");
    assert!(
        out.findings.iter().any(|f| f.rule == "s3-bucket-policy-public"),
        "{out:?}"
    );

    // Scenario 8: exactly one PutEvaluations request, in Config's JSON 1.1 protocol.
    let reqs = recorder.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/"));
    assert_eq!(r.headers["x-amz-target"], "StarlingDoveService.PutEvaluations");
    assert_eq!(r.headers["content-type"], "application/x-amz-json-1.1");
    assert!(
        r.headers["authorization"].contains("/config/aws4_request"),
        "{:?}",
        r.headers
    );
    let body = r.json();
    assert_eq!(body["ResultToken"], json!(token));
    let evals = body["Evaluations"].as_array().unwrap();
    assert_eq!(evals.len(), 1);
    let e = &evals[0];
    assert_eq!(e["ComplianceResourceType"], "AWS::S3::Bucket");
    assert_eq!(e["ComplianceResourceId"], json!(bucket));
    assert_eq!(e["ComplianceType"], "NON_COMPLIANT");
    let annotation = e["Annotation"].as_str().unwrap();
    assert!(
        annotation.starts_with("s3-bucket-policy-public: ") && annotation.chars().count() < 256,
        "{annotation}"
    );
    // 2026-11-28T14:03:39.512Z as epoch seconds (the JSON protocol's timestamp format).
    assert_eq!(e["OrderingTimestamp"].as_f64(), Some(1_795_874_619.512), "{e}");
    assert_eq!(e.as_object().unwrap().len(), 5, "no unexpected fields: {e}");
}

#[tokio::test]
async fn scenario_8_compliant_and_not_applicable_verdicts_on_the_wire() {
    let account = new_account();
    let (aws, recorder) = clients_with_config_recorder(&account).await;
    let topic = topic(&aws).await;
    let bucket = unique("private");
    aws.s3.create_bucket().bucket(&bucket).send().await.unwrap();

    // The same bucket item, made private, then deleted.
    let mut item = bucket_item(&bucket, &account);
    item["configurationItem"]["supplementaryConfiguration"]["BucketPolicy"] = json!({"policyText": null});
    item["configurationItemDiff"] = Value::Null;
    let mut deleted = item.clone();
    deleted["configurationItem"]["configurationItemStatus"] = json!("ResourceDeleted");
    for (item, want) in [(item, "COMPLIANT"), (deleted, "NOT_APPLICABLE")] {
        let mut invocation = rewrite(
            &sample("configrule-s3-bucket-invocation.json"),
            &[("111122223333", &account)],
        );
        invocation["invokingEvent"] = json!(item.to_string());
        let t = Instant::now();
        handle_config(
            &aws,
            &cfg(&topic),
            &Envelope::read(&serde_json::to_vec(&invocation).unwrap()),
        )
        .await
        .unwrap();
        println!(
            "handler time on-config {want}: {:.1} ms (emulator)",
            t.elapsed().as_secs_f64() * 1e3
        );
        let last = recorder.requests().pop().unwrap().json();
        assert_eq!(last["Evaluations"][0]["ComplianceType"], want, "{last}");
        assert_eq!(last["ResultToken"], invocation["resultToken"]);
        let t = Instant::now();
        handle_config(
            &aws,
            &cfg(&topic),
            &Envelope::read(&serde_json::to_vec(&invocation).unwrap()),
        )
        .await
        .unwrap();
        println!(
            "handler time on-config {want}, warm: {:.1} ms (emulator)",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}

/// gzip, as AWS Config stores oversized items.
fn flate2_gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}
