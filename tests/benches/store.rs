//! The findings store's cost per event (issue 14), against the emulator (moto: DynamoDB, S3, SNS over
//! loopback HTTP): on-cloudtrail on a public-bucket-policy event without the store, with the store (the
//! exposure known and unchanged: GetItem + PutItem, no publish), and with the store notifying every time
//! (a re-notification: GetItem + PutItem + Publish + PutItem). Each iteration is a new event id, so the
//! store never takes it for a redelivery. `cargo bench -p tripline-integration --bench store`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use tripline_aws::app::lifecycle::Tracker;
use tripline_aws::app::DetectorConfig;
use tripline_aws::handlers::cloudtrail::{handle_cloudtrail, handle_cloudtrail_tracked};
use tripline_aws::sdk::dynamodb::DynamoStore;
use tripline_core::lifecycle::Policy;
use tripline_core::settings::RuleConfig;
use tripline_core::Envelope;
use tripline_integration::{alert_topic, emulator, new_account, rewrite, sample, unique};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let account = new_account();
    let (aws, store, topic, event) = rt.block_on(async {
        let aws = emulator().clients(&account).await;
        let topic = alert_topic(&aws.sns).await;
        let store = DynamoStore::new(&emulator().sdk_config(&account).await, &unique("bench-findings"));
        store.create_table().await.unwrap();
        let bucket = unique("bench");
        let event = rewrite(
            &sample("cloudtrail-s3-put-bucket-policy-public.json"),
            &[("reports-prod", &bucket), ("111122223333", &account)],
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
        (aws, store, topic, event)
    });
    let cfg = DetectorConfig {
        alert_topic_arn: topic,
        rules: RuleConfig::default(),
    };
    let n = AtomicU64::new(0);
    let next = || {
        let mut e = event.clone();
        let i = n.fetch_add(1, Ordering::Relaxed);
        e["id"] = serde_json::json!(format!("bench-{i}"));
        e["detail"]["eventID"] = serde_json::json!(format!("bench-event-{i}"));
        serde_json::to_vec(&e).unwrap()
    };
    let mut g = c.benchmark_group("on-cloudtrail with the findings store (emulator)");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.bench_function("without store", |b| {
        b.iter(|| {
            rt.block_on(async {
                handle_cloudtrail(&aws, &cfg, &Envelope::read(&next()))
                    .await
                    .unwrap()
            })
        })
    });
    g.bench_function("with store, unchanged (no notice)", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tracker = Tracker::new(&store, Policy::default());
                handle_cloudtrail_tracked(&aws, &cfg, &Envelope::read(&next()), Some(&tracker))
                    .await
                    .unwrap()
            })
        })
    });
    let always = Policy {
        renotify_after_secs: 1,
        ..Policy::default()
    };
    g.bench_function("with store, notified", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut tracker = Tracker::new(&store, always);
                // Two seconds on per iteration: every iteration is due for a re-notification.
                tracker.now += 2 * i64::try_from(n.load(Ordering::Relaxed)).unwrap();
                handle_cloudtrail_tracked(&aws, &cfg, &Envelope::read(&next()), Some(&tracker))
                    .await
                    .unwrap()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
