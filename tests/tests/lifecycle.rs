//! The findings store (issue 14) against the emulator's DynamoDB (real SDK, real conditional writes) and on
//! the fakes: new -> unchanged -> resolved -> reopened over repeated sweeps and events; 20 concurrent
//! deliveries of one event -> one `new` and one notification; a sweep over 100 known exposures -> no
//! finding notification and one summary; a deleted resource resolves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tripline_aws::app::assess::SweepConfig;
use tripline_aws::app::lifecycle::Tracker;
use tripline_aws::app::DetectorConfig;
use tripline_aws::fakes::{FakeAws, FakeBucket, FakeStore};
use tripline_aws::handlers::cloudtrail::{handle_cloudtrail_tracked, Outcome};
use tripline_aws::handlers::sweep::handle_sweep_tracked;
use tripline_aws::sdk::dynamodb::DynamoStore;
use tripline_aws::store::{FindingsStore, ListFilter};
use tripline_core::lifecycle::{LifecycleState, Policy, ResolveReason};
use tripline_core::settings::RuleConfig;
use tripline_core::Envelope;
use tripline_integration::{emulator, new_account, rewrite, sample, topic_with_queue, unique, Topic};

fn detector(topic: &str) -> DetectorConfig {
    DetectorConfig {
        alert_topic_arn: topic.to_owned(),
        rules: RuleConfig::default(),
    }
}

fn sweep_cfg(topic: &str) -> SweepConfig {
    SweepConfig {
        detector: detector(topic),
        concurrency: 16,
    }
}

fn public_policy(bucket: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Public", "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]})
}

fn scheduled(account: &str, id: &str, time: &str) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"version": "0", "id": id, "detail-type": "Scheduled Event",
        "source": "aws.events", "account": account, "time": time, "region": "us-east-1",
        "resources": [], "detail": {}}),
    )
    .unwrap()
}

/// Messages delivered to the topic's queue: (kind, transition) of each.
/// The customer-duty rules (issue 18) judge every account a sweep covers (a fresh emulator account has no
/// password policy, default network ACLs in every region, buckets without a TLS requirement); these tests are
/// about the exposures they seed, so those findings' notifications are left out.
/// The account-level state (issue 16) too: a fresh account has no trail, recorder, detector, EBS default
/// encryption or account Block Public Access.
const DUTY_RULES: [&str; 8] = [
    "iam-password-policy-weakened",
    "ec2-network-acl-open-to-world",
    "s3-bucket-tls-not-required",
    "cloudtrail-logging-disabled",
    "config-recording-stopped",
    "guardduty-detector-disabled",
    "ebs-default-encryption-disabled",
    "s3-account-public-access-block-weakened",
];

async fn delivered(topic: &Topic) -> Vec<(String, String)> {
    topic
        .drain()
        .await
        .iter()
        .filter(|e| !DUTY_RULES.contains(&e["MessageAttributes"]["rule"]["Value"].as_str().unwrap_or("")))
        .map(|e| {
            let a = |n: &str| {
                e["MessageAttributes"][n]["Value"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            };
            (a("kind"), a("transition"))
        })
        .collect()
}

async fn table(account: &str) -> DynamoStore {
    let sdk = emulator().sdk_config(account).await;
    let store = DynamoStore::new(&sdk, &unique("findings"));
    assert!(store.create_table().await.unwrap(), "created");
    assert!(
        !store.create_table().await.unwrap(),
        "an existing table is left as it is"
    );
    store
}

/// 20 concurrent deliveries of one CloudTrail event (SNS/EventBridge duplicates, Lambda retries) against the
/// emulator's DynamoDB: exactly one `new` written and one notification per exposure.
#[tokio::test]
async fn twenty_concurrent_deliveries_make_one_new_and_one_notification() {
    let account = new_account();
    let aws = emulator().clients(&account).await;
    let topic = topic_with_queue(&account).await;
    let store = table(&account).await;
    let bucket = unique("reports");
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
    let event = serde_json::to_vec(&event).unwrap();

    let cfg = detector(&topic.arn);
    let tracker = Tracker::new(&store, Policy::default());
    let runs = futures::future::join_all((0..20).map(|_| {
        let (aws, cfg, tracker, event) = (&aws, &cfg, &tracker, &event);
        async move {
            handle_cloudtrail_tracked(aws, cfg, &Envelope::read(event), Some(tracker))
                .await
                .unwrap()
        }
    }))
    .await;
    let notified: usize = runs
        .iter()
        .map(|o| match o {
            Outcome::Evaluated { findings, .. } => findings.len(),
            other => panic!("{other:?}"),
        })
        .sum();
    let items = store.list(&ListFilter::default()).await.unwrap();
    assert!(
        items.iter().any(|i| i.key.rule == "s3-bucket-policy-public"),
        "{items:?}"
    );
    // One notice per exposure, whatever the number of deliveries.
    assert_eq!(notified, items.len());
    let messages = delivered(&topic).await;
    assert_eq!(messages.len(), items.len(), "{messages:?}");
    assert!(
        messages.iter().all(|(k, t)| k == "finding" && t == "new"),
        "{messages:?}"
    );
    for i in &items {
        assert_eq!(i.occurrences, 1, "redeliveries are not new sightings: {i:?}");
        assert_eq!(i.state, LifecycleState::Open);
        assert!(
            i.notify_pending.is_none() && i.last_notified_at.is_some(),
            "{i:?}"
        );
    }
}

/// Repeated sweeps over the emulator: 100 public buckets -> 100 `new`; the next sweep publishes no finding
/// and one summary; a bucket made private resolves, made public again reopens; a deleted bucket resolves
/// (resource gone).
#[tokio::test]
async fn sweeps_new_unchanged_resolved_reopened_and_gone() {
    let account = new_account();
    let aws = emulator().clients(&account).await;
    let topic = topic_with_queue(&account).await;
    let store = table(&account).await;
    let prefix = unique("known");
    let names: Vec<String> = (0..100).map(|i| format!("{prefix}-{i:03}")).collect();
    futures::future::join_all(names.iter().map(|name| {
        let aws = &aws;
        async move {
            aws.s3.create_bucket().bucket(name).send().await.unwrap();
            let p = public_policy(name).to_string();
            aws.s3
                .put_bucket_policy()
                .bucket(name)
                .policy(p)
                .send()
                .await
                .unwrap();
        }
    }))
    .await;
    let cfg = sweep_cfg(&topic.arn);
    let sweep = |n: u32| {
        let (aws, cfg, store, account) = (&aws, &cfg, &store, &account);
        async move {
            let tracker = Tracker::new(store, Policy::default());
            let ev = scheduled(account, &format!("sweep-{n}"), &format!("2026-12-0{n}T00:00:00Z"));
            handle_sweep_tracked(aws, cfg, &Envelope::read(&ev), None, Some(&tracker))
                .await
                .unwrap()
        }
    };
    let count = |msgs: &[(String, String)], kind: &str, t: &str| {
        msgs.iter().filter(|(k, tr)| k == kind && tr == t).count()
    };

    // 1: every exposure is new.
    sweep(1).await;
    let m = delivered(&topic).await;
    assert_eq!(count(&m, "finding", "new"), 100, "{m:?}");
    assert_eq!(count(&m, "summary", ""), 1);
    assert_eq!(m.len(), 101);

    // 2: nothing changed: one summary, no finding notification.
    let out = sweep(2).await;
    let m = delivered(&topic).await;
    assert_eq!(m, vec![("summary".to_owned(), String::new())], "{m:?}");
    assert!(out.findings.is_empty(), "{:?}", out.findings);

    // 3: one bucket made private, one deleted.
    aws.s3
        .delete_bucket_policy()
        .bucket(&names[0])
        .send()
        .await
        .unwrap();
    aws.s3
        .delete_bucket_policy()
        .bucket(&names[1])
        .send()
        .await
        .unwrap();
    aws.s3.delete_bucket().bucket(&names[1]).send().await.unwrap();
    sweep(3).await;
    let m = delivered(&topic).await;
    assert_eq!(count(&m, "finding", "resolved"), 2, "{m:?}");
    assert_eq!(m.len(), 3, "{m:?}");
    let items: BTreeMap<String, _> = store
        .list(&ListFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|i| !DUTY_RULES.contains(&i.key.rule.as_str()))
        .map(|i| (i.key.resource_arn.clone(), i))
        .collect();
    let first = &items[&format!("arn:aws:s3:::{}", names[0])];
    assert_eq!(first.state, LifecycleState::Resolved);
    assert_eq!(first.resolved_reason, Some(ResolveReason::NotExposed));
    let gone = &items[&format!("arn:aws:s3:::{}", names[1])];
    assert_eq!(gone.resolved_reason, Some(ResolveReason::ResourceGone));
    let still = &items[&format!("arn:aws:s3:::{}", names[2])];
    assert_eq!((still.state, still.occurrences), (LifecycleState::Open, 3));
    assert_eq!(still.first_seen, "2026-12-01T00:00:00Z");
    assert_eq!(still.last_seen, "2026-12-03T00:00:00Z");

    // 4: public again: reopened (and nothing else).
    let p = public_policy(&names[0]).to_string();
    aws.s3
        .put_bucket_policy()
        .bucket(&names[0])
        .policy(p)
        .send()
        .await
        .unwrap();
    sweep(4).await;
    let m = delivered(&topic).await;
    assert_eq!(count(&m, "finding", "reopened"), 1, "{m:?}");
    assert_eq!(m.len(), 2, "{m:?}");
    let open = store
        .list(&ListFilter {
            state: Some(LifecycleState::Open),
            ..ListFilter::default()
        })
        .await
        .unwrap();
    let open: Vec<_> = open
        .into_iter()
        .filter(|i| !DUTY_RULES.contains(&i.key.rule.as_str()))
        .collect();
    assert_eq!(open.len(), 99);
}

/// The same on the fakes, through on-cloudtrail: a public policy event opens the finding, a redelivery is
/// silent, an event that makes the bucket private resolves it, the next public event reopens it.
#[tokio::test]
async fn events_open_resolve_and_reopen_on_the_fakes() {
    let topic = "arn:aws:sns:us-east-1:111122223333:tripline-alerts";
    let aws = FakeAws::new();
    let store = FakeStore::default();
    let public = sample("cloudtrail-s3-put-bucket-policy-public.json");
    let bucket = public["detail"]["requestParameters"]["bucketName"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = public["detail"]["requestParameters"]["bucketPolicy"].clone();
    aws.add_bucket(
        &bucket,
        FakeBucket {
            policy: Some(policy.clone()),
            ..FakeBucket::default()
        },
    );
    let cfg = detector(topic);
    let run = |event: Value| {
        let (aws, cfg, store) = (&aws, &cfg, &store);
        async move {
            let tracker = Tracker::new(store, Policy::default());
            let bytes = serde_json::to_vec(&event).unwrap();
            handle_cloudtrail_tracked(aws, cfg, &Envelope::read(&bytes), Some(&tracker))
                .await
                .unwrap()
        }
    };
    let transitions = |aws: &FakeAws| -> Vec<String> {
        aws.world()
            .published
            .drain(..)
            .map(|(_, m)| m.attributes.get("transition").cloned().unwrap_or_default())
            .collect()
    };
    run(public.clone()).await;
    let first = transitions(&aws);
    assert!(!first.is_empty() && first.iter().all(|t| t == "new"), "{first:?}");
    run(public.clone()).await;
    assert!(transitions(&aws).is_empty(), "a redelivery is silent");

    // The policy is replaced by one granting only the account: a PutBucketPolicy event judged with state
    // finds no exposure and resolves the finding.
    let private = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    aws.world().buckets.get_mut(&bucket).unwrap().policy = Some(private.clone());
    let mut delete = public.clone();
    delete["id"] = json!("eb-private");
    delete["detail"]["eventID"] = json!("private-1");
    delete["detail"]["eventTime"] = json!("2030-01-01T00:00:00Z");
    delete["detail"]["requestParameters"]["bucketPolicy"] = private;
    run(delete).await;
    let resolved = transitions(&aws);
    let items = store.all();
    let policy_item = items
        .iter()
        .find(|i| i.key.rule == "s3-bucket-policy-public")
        .unwrap();
    assert_eq!(
        policy_item.state,
        LifecycleState::Resolved,
        "{resolved:?} {items:?}"
    );
    assert!(resolved.contains(&"resolved".to_owned()), "{resolved:?}");

    aws.world().buckets.get_mut(&bucket).unwrap().policy = Some(policy);
    let mut again = public.clone();
    again["id"] = json!("eb-again");
    again["detail"]["eventID"] = json!("again-1");
    again["detail"]["eventTime"] = json!("2030-01-02T00:00:00Z");
    run(again).await;
    assert!(transitions(&aws).contains(&"reopened".to_owned()));
}

/// The sweep with Security Hub import (the functions' path, `Tracker::with_hub`): every open finding is
/// imported into the emulator's Security Hub ACTIVE, and archived when a later sweep resolves it.
///
/// Run on a thread with a 16 MiB stack: the SDK's Security Hub serializer (the whole ASFF shape) takes more
/// than a test thread's 2 MiB in debug builds (the functions run on the main thread, 8 MiB, release build).
#[test]
fn sweep_imports_into_security_hub_and_archives_on_resolve() {
    std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(sweep_imports_body())
        })
        .unwrap()
        .join()
        .unwrap();
}

async fn sweep_imports_body() {
    let account = new_account();
    let aws = emulator().clients(&account).await;
    let topic = topic_with_queue(&account).await;
    let store = table(&account).await;
    let prefix = unique("hub");
    let names: Vec<String> = (0..3).map(|i| format!("{prefix}-{i}")).collect();
    for name in &names {
        aws.s3.create_bucket().bucket(name).send().await.unwrap();
        let p = public_policy(name).to_string();
        aws.s3
            .put_bucket_policy()
            .bucket(name)
            .policy(p)
            .send()
            .await
            .unwrap();
    }
    let cfg = sweep_cfg(&topic.arn);
    let sweep = |n: u32| {
        let (aws, cfg, store, account) = (&aws, &cfg, &store, &account);
        async move {
            let tracker = Tracker::new(store, Policy::default()).with_hub(aws);
            let ev = scheduled(account, &format!("hub-{n}"), &format!("2026-12-0{n}T00:00:00Z"));
            handle_sweep_tracked(aws, cfg, &Envelope::read(&ev), None, Some(&tracker))
                .await
                .unwrap()
        }
    };
    let states = || {
        let aws = &aws;
        async move {
            let out = aws
                .securityhub
                .get_findings()
                .max_results(100)
                .send()
                .await
                .unwrap();
            out.findings()
                .iter()
                .filter(|f| {
                    !DUTY_RULES
                        .iter()
                        .any(|r| f.generator_id() == Some(format!("tripline/{r}").as_str()))
                })
                .map(|f| {
                    (
                        f.resources()[0].id().unwrap_or_default().to_owned(),
                        f.record_state()
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_default(),
                    )
                })
                .collect::<BTreeMap<String, String>>()
        }
    };
    sweep(1).await;
    let s = states().await;
    for name in &names {
        assert_eq!(
            s.get(&format!("arn:aws:s3:::{name}")).map(String::as_str),
            Some("ACTIVE"),
            "{s:?}"
        );
    }
    aws.s3
        .delete_bucket_policy()
        .bucket(&names[0])
        .send()
        .await
        .unwrap();
    sweep(2).await;
    let s = states().await;
    assert_eq!(s[&format!("arn:aws:s3:::{}", names[0])], "ARCHIVED", "{s:?}");
    assert_eq!(s[&format!("arn:aws:s3:::{}", names[1])], "ACTIVE", "{s:?}");
}
