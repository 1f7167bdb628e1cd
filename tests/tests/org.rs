//! Organization-wide sweep against the emulator (issue 13): a central account (moto's default account,
//! the management account of a moto organization) and six member accounts created through Organizations.
//!
//! - exposures seeded per account and region (public bucket policies and ACLs in us-east-1 and eu-west-1,
//!   a role trust policy open to everyone), some accounts clean, one account suspended (not ACTIVE: not
//!   planned), one whose member role cannot be assumed (`AccessDenied`), one whose `AssumeRole` is always
//!   throttled;
//! - the whole run: the planner (`handle_plan`) lists the organization, records the plan in a DynamoDB
//!   table, sends one message per shard to an SQS queue with a redrive policy (moto); the worker handler
//!   is invoked with the messages in the shape Lambda's SQS event source delivers them (`SqsEvent` JSON
//!   with `ApproximateReceiveCount`), and what it lists in `batchItemFailures` is made visible again
//!   (Lambda leaves it to the visibility timeout) while the rest is deleted, as Lambda does;
//! - asserted: every exposure found once and attributed to its account; the unassumable account failed
//!   (`access-denied`) in the one summary while the others complete; the throttled shard is recorded
//!   `throttled` on its last receive and ends in the dead-letter queue; member shards never use the
//!   central account's credentials and the central account's own exposure is attributed to it alone;
//!   one `AssumeRole` per assumable account however many regions it has.
//!
//! moto's `AssumeRole` accepts any role (its docs: "the role does not need to exist") and maps the
//! returned credentials to the role's account: the refusals AWS would give (trust policy or external id
//! not matching: `AccessDenied`; STS throttling: `Throttling`) are answered by a fake in front of the
//! emulator, behind the real SDK ([`StsGate`]), in STS's query-protocol error format.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_s3::primitives::SdkBody;
use aws_sdk_s3::types::{BucketCannedAcl, BucketLocationConstraint, CreateBucketConfiguration};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use serde_json::{json, Value};
use tripline_aws::app::org::{RunStore, ShardMessage};
use tripline_aws::app::DetectorConfig;
use tripline_aws::handlers::sweep_planner::{handle_plan, AccountSource, PlannerClients, PlannerConfig};
use tripline_aws::handlers::sweep_worker::{handle_shard_batch, WorkerConfig};
use tripline_aws::sdk::member::{MemberReadRole, MemberSessions};
use tripline_aws::sdk::runs::DynamoRuns;
use tripline_aws::AwsClients;
use tripline_core::settings::RuleConfig;
use tripline_core::Envelope;
use tripline_integration::{emulator, sdk_config_for, topic_with_queue, unique};

/// moto's account for requests that name none: the central (security, management) account.
const HOME: &str = "123456789012";
const ROLE: &str = "tripline-member-read";
const MAX_RECEIVES: u32 = 3;

/// One request seen by the gate: the access key that signed it and the service in its credential scope.
#[derive(Debug, Clone)]
struct Seen {
    key: String,
    service: String,
    uri: String,
}

/// A fake STS in front of the emulator for the refusals moto does not make (module docs); records every
/// request's signing key and service.
#[derive(Debug, Clone)]
struct StsGate {
    inner: SharedHttpClient,
    denied: Arc<Mutex<BTreeSet<String>>>,
    throttled: Arc<Mutex<BTreeSet<String>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

#[derive(Debug)]
struct StsGateConnector {
    inner: SharedHttpConnector,
    gate: StsGate,
}

impl HttpClient for StsGate {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(StsGateConnector {
            inner: self.inner.http_connector(settings, components),
            gate: self.clone(),
        })
    }
}

fn sts_error(status: u16, code: &str, message: &str) -> HttpResponse {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
         <Code>{code}</Code><Message>{message}</Message></Error><RequestId>gate</RequestId></ErrorResponse>"
    );
    let mut r = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
    r.headers_mut().insert("content-type", "text/xml");
    r
}

impl HttpConnector for StsGateConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let auth = request
            .headers()
            .get("authorization")
            .unwrap_or_default()
            .to_owned();
        // `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ...`
        let scope: Vec<&str> = auth
            .split("Credential=")
            .nth(1)
            .and_then(|c| c.split(',').next())
            .map(|c| c.split('/').collect())
            .unwrap_or_default();
        let (key, service) = (
            scope.first().copied().unwrap_or_default().to_owned(),
            scope.get(3).copied().unwrap_or_default().to_owned(),
        );
        self.gate.seen.lock().unwrap().push(Seen {
            key,
            service: service.clone(),
            uri: request.uri().to_owned(),
        });
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        if service == "sts" && body.contains("Action=AssumeRole") {
            let target = |set: &Arc<Mutex<BTreeSet<String>>>| {
                set.lock()
                    .unwrap()
                    .iter()
                    .find(|a| body.contains(&format!("%3A{a}%3Arole")))
                    .cloned()
            };
            if let Some(a) = target(&self.gate.denied) {
                // What STS answers when the role's trust policy does not allow the caller (or the external
                // id does not match): 403 AccessDenied.
                return HttpConnectorFuture::ready(Ok(sts_error(
                    403,
                    "AccessDenied",
                    &format!("User: arn:aws:sts::{HOME}:assumed-role/tripline-sweep-worker/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{a}:role/{ROLE}"),
                )));
            }
            if target(&self.gate.throttled).is_some() {
                return HttpConnectorFuture::ready(Ok(sts_error(400, "Throttling", "Rate exceeded")));
            }
        }
        self.inner.call(request)
    }
}

async fn central_sdk(gate: &StsGate) -> aws_config::SdkConfig {
    sdk_config_for(&emulator().endpoint, None)
        .await
        .into_builder()
        .http_client(SharedHttpClient::new(gate.clone()))
        .build()
}

fn public_policy(bucket: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Public", "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]})
    .to_string()
}

/// Seeds an account: a bucket per region (public policy, public ACL or private), a public trust policy.
/// Returns the (rule, resource ARN) pairs that must be found.
async fn seed(account: &str, plan: &[(&str, &str)], open_role: bool) -> BTreeSet<(String, String)> {
    let aws = emulator().clients(account).await;
    let mut expect = BTreeSet::new();
    for (region, kind) in plan {
        let name = unique(&format!("org-{kind}"));
        let mut req = aws.s3.create_bucket().bucket(&name);
        if *region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(*region))
                    .build(),
            );
        }
        req.send().await.unwrap();
        let arn = format!("arn:aws:s3:::{name}");
        match *kind {
            "policy" => {
                aws.s3
                    .put_bucket_policy()
                    .bucket(&name)
                    .policy(public_policy(&name))
                    .send()
                    .await
                    .unwrap();
                expect.insert(("s3-bucket-policy-public".to_owned(), arn));
            }
            "acl" => {
                aws.s3
                    .put_bucket_acl()
                    .bucket(&name)
                    .acl(BucketCannedAcl::PublicRead)
                    .send()
                    .await
                    .unwrap();
                expect.insert(("s3-bucket-acl-public".to_owned(), arn));
            }
            _ => {}
        }
    }
    if open_role {
        let role = unique("org-open");
        aws.iam
            .create_role()
            .role_name(&role)
            .assume_role_policy_document(
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                    "Action": "sts:AssumeRole"}]})
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        expect.insert((
            "iam-trust-policy-public".to_owned(),
            format!("arn:aws:iam::{account}:role/{role}"),
        ));
    }
    expect
}

async fn runs_table(sdk: &aws_config::SdkConfig) -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let name = unique("tripline-runs");
    aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("sk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("sk")
                .key_type(KeyType::Range)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    name
}

struct Queues {
    url: String,
    arn: String,
    dlq_url: String,
}

async fn queues(sqs: &aws_sdk_sqs::Client) -> Queues {
    let arn_of = |url: String| async move {
        sqs.get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&QueueAttributeName::QueueArn]
            .clone()
    };
    let dlq_url = sqs
        .create_queue()
        .queue_name(unique("tripline-shards-dlq"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let dlq_arn = arn_of(dlq_url.clone()).await;
    let url = sqs
        .create_queue()
        .queue_name(unique("tripline-shards"))
        .attributes(QueueAttributeName::VisibilityTimeout, "60")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES}).to_string(),
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = arn_of(url.clone()).await;
    Queues { url, arn, dlq_url }
}

/// Lambda's SQS poller, for one batch: receive up to 10 messages, hand them over as the `SqsEvent` Lambda
/// builds, delete what succeeded, make the `batchItemFailures` visible again. `None` when the queue is empty.
async fn deliver_batch(
    sqs: &aws_sdk_sqs::Client,
    q: &Queues,
    run: impl AsyncFnOnce(SqsEvent) -> Vec<String>,
) -> Option<usize> {
    let got = sqs
        .receive_message()
        .queue_url(&q.url)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .wait_time_seconds(0)
        .send()
        .await
        .unwrap();
    let msgs = got.messages.unwrap_or_default();
    if msgs.is_empty() {
        return None;
    }
    let records: Vec<Value> = msgs
        .iter()
        .map(|m| {
            let attrs: BTreeMap<String, String> = m
                .attributes
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect();
            json!({"messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
                "attributes": attrs, "messageAttributes": {}, "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs", "eventSourceARN": q.arn, "awsRegion": "us-east-1"})
        })
        .collect();
    let event: SqsEvent = serde_json::from_value(json!({"Records": records})).unwrap();
    let failures = run(event).await;
    for m in &msgs {
        let handle = m.receipt_handle().unwrap();
        if failures.iter().any(|f| Some(f.as_str()) == m.message_id()) {
            sqs.change_message_visibility()
                .queue_url(&q.url)
                .receipt_handle(handle)
                .visibility_timeout(0)
                .send()
                .await
                .unwrap();
        } else {
            sqs.delete_message()
                .queue_url(&q.url)
                .receipt_handle(handle)
                .send()
                .await
                .unwrap();
        }
    }
    Some(msgs.len())
}

fn scheduled(id: &str) -> Envelope {
    Envelope::from_value(json!({"version": "0", "id": id, "detail-type": "Scheduled Event",
        "source": "aws.events", "account": HOME, "time": "2026-12-06T00:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {}}))
}

#[tokio::test]
async fn organization_run_planner_queue_worker_summary_and_dead_letters() {
    let gate = StsGate {
        inner: tripline_aws::https_client(),
        denied: Arc::default(),
        throttled: Arc::default(),
        seen: Arc::default(),
    };
    let sdk = central_sdk(&gate).await;
    let home = AwsClients::new(&sdk);

    // The organization: the central account is its management account; six members, one then closed.
    let org = aws_sdk_organizations::Client::new(&sdk);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let mut members = Vec::new();
    for i in 0..6 {
        let created = org
            .create_account()
            .account_name(format!("member-{i}"))
            .email(format!("member-{i}@example.com"))
            .send()
            .await
            .unwrap();
        members.push(created.create_account_status.unwrap().account_id.unwrap());
    }
    let suspended = members.pop().unwrap();
    org.close_account().account_id(&suspended).send().await.unwrap();
    let (denied, throttled) = (members[4].clone(), members[3].clone());
    gate.denied.lock().unwrap().insert(denied.clone());
    gate.throttled.lock().unwrap().insert(throttled.clone());

    // Exposures per account and region; members[2] is clean; the suspended one has an exposure that must
    // not be found (it is not planned).
    let mut expect: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    expect.insert(
        members[0].clone(),
        seed(
            &members[0],
            &[
                ("us-east-1", "policy"),
                ("eu-west-1", "acl"),
                ("eu-west-1", "private"),
            ],
            true,
        )
        .await,
    );
    expect.insert(
        members[1].clone(),
        seed(
            &members[1],
            &[("eu-west-1", "policy"), ("us-east-1", "private")],
            false,
        )
        .await,
    );
    expect.insert(
        members[2].clone(),
        seed(&members[2], &[("us-east-1", "private")], false).await,
    );
    // The unassumable and throttled accounts hold exposures too: not readable, so not reported.
    seed(&denied, &[("us-east-1", "policy")], false).await;
    seed(&throttled, &[("us-east-1", "policy")], false).await;
    seed(&suspended, &[("us-east-1", "policy")], false).await;
    // The central account's own exposure (its global shard reads it with its own credentials).
    let home_expect = seed(HOME, &[("us-east-1", "acl")], false).await;
    expect.insert(HOME.to_owned(), home_expect.clone());

    let topic = topic_with_queue(HOME).await;
    let table = runs_table(&sdk).await;
    let store = DynamoRuns::new(&sdk, &table);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let q = queues(&sqs).await;

    // Plan.
    let planner_cfg = PlannerConfig {
        queue_url: q.url.clone(),
        runs_table: table.clone(),
        accounts: AccountSource::Organization { role_arn: None },
        regions: vec!["us-east-1".into(), "eu-west-1".into()],
        deadline_seconds: 900,
    };
    let clients = PlannerClients {
        sqs: sqs.clone(),
        organizations: org.clone(),
    };
    let planned = handle_plan(&clients, &store, &planner_cfg, &scheduled("sched-org-1"))
        .await
        .unwrap();
    // HOME + five ACTIVE members (the closed one is SUSPENDED), 3 shards each.
    assert_eq!(planned.accounts, 6, "{planned:?}");
    assert_eq!(planned.shards, 18);
    // A retried planner invocation plans the same run once.
    let again = handle_plan(&clients, &store, &planner_cfg, &scheduled("sched-org-1"))
        .await
        .unwrap();
    assert_eq!(again.run, planned.run);
    let record = store.run(&planned.run).await.unwrap().unwrap();
    assert_eq!((record.planned, record.reported), (18, 0));
    assert!(!record.accounts.contains(&suspended));

    // Work the queue like Lambda's poller (batches of up to 10) until it is empty.
    let sessions = MemberSessions::new(
        sdk.clone(),
        HOME,
        true,
        MemberReadRole {
            name: ROLE.into(),
            external_id: Some("tripline-ext-13".into()),
            session_name: "tripline-sweep".into(),
        },
    );
    let cfg = WorkerConfig {
        detector: DetectorConfig {
            alert_topic_arn: topic.arn.clone(),
            rules: RuleConfig::default(),
        },
        concurrency: 4,
        max_receives: MAX_RECEIVES,
    };
    let mut results = Vec::new();
    let mut summaries = Vec::new();
    let mut batches = 0;
    while batches < 50 {
        let delivered = deliver_batch(&sqs, &q, async |event| {
            let out = handle_shard_batch(&sessions, &home, &store, &cfg, event, None).await;
            results.extend(out.results.clone());
            summaries.extend(out.summaries.clone());
            out.response
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.clone())
                .collect()
        })
        .await;
        if delivered.is_none() {
            break;
        }
        batches += 1;
    }
    assert!(batches < 50, "the queue never drained");

    // The run: every shard reported once, the throttled account's after its last receive.
    let record = store.run(&planned.run).await.unwrap().unwrap();
    assert_eq!(record.reported, 18, "{record:?}");
    assert!(record.summary_at.is_some());
    let status = |account: &str| -> BTreeMap<String, String> {
        record
            .shards
            .iter()
            .filter(|s| s.shard.account == account)
            .map(|s| {
                (
                    s.shard.scope.clone(),
                    format!(
                        "{}{}",
                        s.status.as_str(),
                        s.reason.map(|r| format!(" {}", r.as_str())).unwrap_or_default()
                    ),
                )
            })
            .collect()
    };
    for a in [HOME, &members[0], &members[1], &members[2]] {
        assert!(status(a).values().all(|s| s == "done"), "{a}: {:?}", status(a));
    }
    assert!(
        status(&denied).values().all(|s| s == "failed access-denied"),
        "{:?}",
        status(&denied)
    );
    assert!(
        status(&throttled).values().all(|s| s == "failed throttled"),
        "{:?}",
        status(&throttled)
    );

    // The throttled shards (3) are in the dead-letter queue after MAX_RECEIVES receives; nothing else is.
    let mut dead = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(&q.dlq_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        if got.is_empty() {
            break;
        }
        for m in got {
            let msg: ShardMessage = serde_json::from_str(m.body().unwrap()).unwrap();
            dead.push(msg);
            sqs.delete_message()
                .queue_url(&q.dlq_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    // (moto, like SQS, moves a message to the dead-letter queue on the receive after its last allowed one:
    // the poller's final, empty receive above.)
    let dead_accounts: BTreeSet<String> = dead
        .iter()
        .filter_map(|m| match m {
            ShardMessage::Shard { account, .. } => Some(account.clone()),
            ShardMessage::Deadline { .. } => None,
        })
        .collect();
    assert_eq!(dead.len(), 3, "{dead:?}");
    assert_eq!(dead_accounts, BTreeSet::from([throttled.clone()]));

    // Alerts: every exposure once, attributed to its account; exactly one summary.
    let delivered = topic.drain().await;
    let mut found: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    let mut summary_docs = Vec::new();
    for env in &delivered {
        let attrs = &env["MessageAttributes"];
        let kind = attrs["kind"]["Value"].as_str().unwrap();
        let doc: Value = serde_json::from_str(env["Message"].as_str().unwrap()).unwrap();
        if kind == "summary" {
            summary_docs.push(doc);
            continue;
        }
        let account = doc["account"].as_str().unwrap().to_owned();
        assert_eq!(attrs["account"]["Value"].as_str(), Some(account.as_str()));
        let pair = (
            doc["rule"].as_str().unwrap().to_owned(),
            doc["resource"]["arn"].as_str().unwrap().to_owned(),
        );
        assert!(
            found.entry(account).or_default().insert(pair.clone()),
            "reported twice: {pair:?}"
        );
    }
    // Only the seeded exposures count (a moto account may hold other findings, e.g. ACL rules firing
    // twice per bucket would show as extra pairs: compare exactly).
    let wanted: BTreeMap<String, BTreeSet<(String, String)>> =
        expect.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    let found_seeded: BTreeMap<String, BTreeSet<(String, String)>> = found
        .iter()
        .map(|(a, v)| {
            (
                a.clone(),
                v.iter()
                    .filter(|(rule, _)| {
                        [
                            "s3-bucket-policy-public",
                            "s3-bucket-acl-public",
                            "iam-trust-policy-public",
                        ]
                        .contains(&rule.as_str())
                    })
                    .cloned()
                    .collect::<BTreeSet<_>>(),
            )
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    assert_eq!(found_seeded, wanted);
    assert!(
        !found.contains_key(&denied) && !found.contains_key(&throttled) && !found.contains_key(&suspended)
    );

    assert_eq!(summary_docs.len(), 1, "{summary_docs:?}");
    assert_eq!(summaries.len(), 1);
    let s = &summary_docs[0];
    assert_eq!(s["run"], planned.run.as_str());
    assert_eq!(s["shards_planned"], 18);
    assert_eq!(s["deadline"], false);
    let complete: BTreeSet<&str> = s["accounts_complete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        complete,
        BTreeSet::from([
            HOME,
            members[0].as_str(),
            members[1].as_str(),
            members[2].as_str()
        ])
    );
    let failed: BTreeSet<(String, String)> = s["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["account"].as_str().unwrap().to_owned(),
                f["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        BTreeSet::from([
            (denied.clone(), "access-denied".to_owned()),
            (throttled.clone(), "throttled".to_owned())
        ])
    );
    let total: u64 = s["findings"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, found.values().map(BTreeSet::len).sum::<usize>());

    // Member shards never use the central account's credentials: every S3/IAM request signed with the
    // central key ("testing") concerns the central account's own bucket or listings, and one AssumeRole
    // per assumable account served every region.
    let seen = gate.seen.lock().unwrap().clone();
    let member_buckets: Vec<String> = found
        .iter()
        .filter(|(a, _)| a.as_str() != HOME)
        .flat_map(|(_, v)| {
            v.iter()
                .filter_map(|(_, arn)| arn.strip_prefix("arn:aws:s3:::").map(str::to_owned))
        })
        .collect();
    for r in seen
        .iter()
        .filter(|r| r.key == "testing" && (r.service == "s3" || r.service == "iam"))
    {
        assert!(
            !member_buckets.iter().any(|b| r.uri.contains(b.as_str())),
            "central credentials on a member bucket: {r:?}"
        );
    }
    let home_buckets: Vec<String> = home_expect
        .iter()
        .filter_map(|(_, arn)| arn.strip_prefix("arn:aws:s3:::").map(str::to_owned))
        .collect();
    for r in seen.iter().filter(|r| r.key != "testing" && r.service == "s3") {
        assert!(
            !home_buckets.iter().any(|b| r.uri.contains(b.as_str())),
            "member credentials on a central bucket: {r:?}"
        );
    }
    let member_keys: BTreeSet<&str> = seen
        .iter()
        .filter(|r| r.key != "testing" && (r.service == "s3" || r.service == "iam"))
        .map(|r| r.key.as_str())
        .collect();
    assert_eq!(
        member_keys.len(),
        3,
        "one session per assumable member account: {member_keys:?}"
    );
    // AssumeRole: 3 assumable members once each; the denied account once per shard (3); the throttled
    // one once per receive of each shard (3 x 3).
    assert_eq!(sessions.assume_calls(), 3 + 3 + 9);
}

#[tokio::test]
async fn deadline_publishes_one_summary_with_unreported_shards_timed_out() {
    let gate = StsGate {
        inner: tripline_aws::https_client(),
        denied: Arc::default(),
        throttled: Arc::default(),
        seen: Arc::default(),
    };
    let sdk = central_sdk(&gate).await;
    let home = AwsClients::new(&sdk);
    let member = tripline_integration::new_account();
    let topic = topic_with_queue(HOME).await;
    let table = runs_table(&sdk).await;
    let store = DynamoRuns::new(&sdk, &table);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let q = queues(&sqs).await;
    let clients = PlannerClients {
        sqs: sqs.clone(),
        organizations: aws_sdk_organizations::Client::new(&sdk),
    };
    let planner_cfg = PlannerConfig {
        queue_url: q.url.clone(),
        runs_table: table.clone(),
        accounts: AccountSource::List(vec![member.clone()]),
        regions: vec!["eu-west-1".into()],
        deadline_seconds: 60,
    };
    let planned = handle_plan(&clients, &store, &planner_cfg, &scheduled(&unique("sched")))
        .await
        .unwrap();
    assert_eq!(planned.shards, 2);
    let sessions = MemberSessions::new(
        sdk.clone(),
        HOME,
        true,
        MemberReadRole {
            name: ROLE.into(),
            external_id: None,
            session_name: "tripline-sweep".into(),
        },
    );
    let cfg = WorkerConfig {
        detector: DetectorConfig {
            alert_topic_arn: topic.arn.clone(),
            rules: RuleConfig::default(),
        },
        concurrency: 4,
        max_receives: MAX_RECEIVES,
    };
    // One shard is worked; the other never reports. The deadline message (delayed 60 s on the queue) is
    // delivered here directly, twice (a redelivery), in Lambda's shape.
    let first = sqs
        .receive_message()
        .queue_url(&q.url)
        .max_number_of_messages(1)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap();
    let one = |body: String, id: &str| -> SqsEvent {
        serde_json::from_value(
            json!({"Records": [{"messageId": id, "receiptHandle": "h", "body": body,
            "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
            "eventSource": "aws:sqs", "eventSourceARN": q.arn, "awsRegion": "us-east-1"}]}),
        )
        .unwrap()
    };
    let out = handle_shard_batch(
        &sessions,
        &home,
        &store,
        &cfg,
        one(first[0].body().unwrap().to_owned(), "m1"),
        None,
    )
    .await;
    assert!(out.response.batch_item_failures.is_empty(), "{:?}", out.results);
    assert!(
        out.summaries.is_empty(),
        "one shard still planned: no summary yet"
    );
    let deadline = serde_json::to_string(&ShardMessage::Deadline {
        run: planned.run.clone(),
    })
    .unwrap();
    // The summary cannot be published (no such topic): the claim is given back, the message fails.
    let mut broken = cfg.clone();
    broken.detector.alert_topic_arn = format!("arn:aws:sns:us-east-1:{HOME}:no-such-topic");
    let out = handle_shard_batch(
        &sessions,
        &home,
        &store,
        &broken,
        one(deadline.clone(), "d0"),
        None,
    )
    .await;
    assert_eq!(out.response.batch_item_failures.len(), 1, "{:?}", out.results);
    assert!(out.summaries.is_empty());
    assert_eq!(store.run(&planned.run).await.unwrap().unwrap().summary_at, None);
    let out = handle_shard_batch(&sessions, &home, &store, &cfg, one(deadline.clone(), "d1"), None).await;
    assert_eq!(out.summaries.len(), 1, "{:?}", out.results);
    let out = handle_shard_batch(&sessions, &home, &store, &cfg, one(deadline, "d2"), None).await;
    assert!(out.summaries.is_empty(), "the summary goes out once");
    // A message the worker cannot read is returned as a failure (it ends in the dead-letter queue).
    let out = handle_shard_batch(
        &sessions,
        &home,
        &store,
        &cfg,
        one("{\"kind\":\"x\"}".into(), "b1"),
        None,
    )
    .await;
    assert_eq!(out.response.batch_item_failures.len(), 1);

    let summaries: Vec<Value> = topic
        .drain()
        .await
        .into_iter()
        .filter(|e| e["MessageAttributes"]["kind"]["Value"] == "summary")
        .map(|e| serde_json::from_str(e["Message"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(summaries.len(), 1);
    let s = &summaries[0];
    assert_eq!(s["deadline"], true);
    let failed = s["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{s}");
    assert_eq!(failed[0]["account"], member.as_str());
    assert_eq!(failed[0]["reason"], "timed-out");
}

/// One organization run, planned for `member` in two regions and worked through the queue with the findings
/// store: the run record and what reached the topic.
struct TrackedRun<'a> {
    sdk: &'a aws_config::SdkConfig,
    member: &'a str,
    topic: &'a tripline_integration::Topic,
    runs: &'a DynamoRuns,
    runs_table: &'a str,
    sqs: &'a aws_sdk_sqs::Client,
    q: &'a Queues,
    findings: &'a tripline_aws::sdk::dynamodb::DynamoStore,
}

impl TrackedRun<'_> {
    async fn run(&self) -> (tripline_aws::app::org::RunRecord, Vec<Value>) {
        use tripline_aws::handlers::sweep_worker::{handle_shard_batch_tracked, FindingsTracking};
        let clients = PlannerClients {
            sqs: self.sqs.clone(),
            organizations: aws_sdk_organizations::Client::new(self.sdk),
        };
        let planner_cfg = PlannerConfig {
            queue_url: self.q.url.clone(),
            runs_table: self.runs_table.to_owned(),
            accounts: AccountSource::List(vec![self.member.to_owned()]),
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            deadline_seconds: 900,
        };
        let planned = handle_plan(&clients, self.runs, &planner_cfg, &scheduled(&unique("sched")))
            .await
            .unwrap();
        assert_eq!(planned.shards, 3, "global + two regions");
        let sessions = MemberSessions::new(
            self.sdk.clone(),
            HOME,
            true,
            MemberReadRole {
                name: ROLE.into(),
                external_id: None,
                session_name: "tripline-sweep".into(),
            },
        );
        let home = AwsClients::new(self.sdk);
        let cfg = WorkerConfig {
            detector: DetectorConfig {
                alert_topic_arn: self.topic.arn.clone(),
                rules: RuleConfig::default(),
            },
            concurrency: 4,
            max_receives: MAX_RECEIVES,
        };
        let tracking = FindingsTracking {
            store: self.findings,
            policy: tripline_core::lifecycle::Policy::default(),
            securityhub: false,
        };
        let mut batches = 0;
        while batches < 20 {
            let delivered = deliver_batch(self.sqs, self.q, async |event| {
                let out = handle_shard_batch_tracked(
                    &sessions,
                    &home,
                    self.runs,
                    &cfg,
                    event,
                    None,
                    Some(&tracking),
                )
                .await;
                out.response
                    .batch_item_failures
                    .iter()
                    .map(|f| f.item_identifier.clone())
                    .collect()
            })
            .await;
            if delivered.is_none() {
                break;
            }
            batches += 1;
        }
        let record = self.runs.run(&planned.run).await.unwrap().unwrap();
        (record, self.topic.drain().await)
    }
}

/// The organization sweep's shards keep the findings lifecycle (issue 14) as the single-account sweep does:
/// the first run publishes the seeded exposures as `new`; a second run publishes no finding at all (every
/// finding `unchanged`: the regional shards, which list no bucket, must not resolve the buckets the global
/// shard judges); after one bucket is made private and the other deleted, the third run publishes exactly two
/// `resolved` notices (not exposed, gone). Each run's one summary counts its transitions.
#[tokio::test]
async fn organization_shards_publish_transitions_only_with_the_findings_store() {
    let sdk = sdk_config_for(&emulator().endpoint, None).await;
    let member = tripline_integration::new_account();
    let expect = seed(&member, &[("us-east-1", "policy"), ("eu-west-1", "acl")], false).await;
    let topic = topic_with_queue(HOME).await;
    let runs_table = runs_table(&sdk).await;
    let runs = DynamoRuns::new(&sdk, &runs_table);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let q = queues(&sqs).await;
    let findings = tripline_aws::sdk::dynamodb::DynamoStore::new(&sdk, &unique("findings"));
    assert!(findings.create_table().await.unwrap());
    let run = TrackedRun {
        sdk: &sdk,
        member: &member,
        topic: &topic,
        runs: &runs,
        runs_table: &runs_table,
        sqs: &sqs,
        q: &q,
        findings: &findings,
    };
    let attr = |e: &Value, n: &str| {
        e["MessageAttributes"][n]["Value"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    // The seeded buckets' notices: (rule, resource, transition); and the summaries.
    let bucket_notices = |msgs: &[Value]| -> BTreeSet<(String, String, String)> {
        msgs.iter()
            .filter(|e| attr(e, "kind") != "summary")
            .filter(|e| expect.iter().any(|(rule, _)| *rule == attr(e, "rule")))
            .map(|e| {
                let body: Value = serde_json::from_str(e["Message"].as_str().unwrap()).unwrap();
                let arn = body["resource"]["arn"].as_str().unwrap_or("").to_owned();
                (attr(e, "rule"), arn, attr(e, "transition"))
            })
            .collect()
    };
    let summaries = |msgs: &[Value]| -> Vec<Value> {
        msgs.iter()
            .filter(|e| attr(e, "kind") == "summary")
            .map(|e| serde_json::from_str(e["Message"].as_str().unwrap()).unwrap())
            .collect()
    };

    // Run 1: every seeded exposure is new.
    let (record, msgs) = run.run().await;
    assert!(
        record.shards.iter().all(|s| s.status.as_str() == "done"),
        "{record:?}"
    );
    let new: BTreeSet<_> = expect
        .iter()
        .map(|(rule, arn)| (rule.clone(), arn.clone(), "new".to_owned()))
        .collect();
    assert_eq!(bucket_notices(&msgs), new);
    let s = summaries(&msgs);
    assert_eq!(s.len(), 1, "{s:?}");
    assert!(s[0]["transitions"]["new"].as_u64().unwrap() >= 2, "{}", s[0]);

    // Run 2: nothing changed: no finding notice at all, nothing new, resolved or reopened.
    let (_, msgs) = run.run().await;
    let notices: Vec<&Value> = msgs.iter().filter(|e| attr(e, "kind") != "summary").collect();
    assert!(notices.is_empty(), "{notices:?}");
    let s = summaries(&msgs);
    assert_eq!(s.len(), 1, "{s:?}");
    for t in ["new", "resolved", "reopened"] {
        assert!(s[0]["transitions"].get(t).is_none(), "{t}: {}", s[0]);
    }
    assert!(
        s[0]["transitions"]["unchanged"].as_u64().unwrap() >= 2,
        "{}",
        s[0]
    );

    // Run 3: one bucket private again, the other deleted: both resolved, each for its reason.
    let aws = emulator().clients(&member).await;
    let name = |rule: &str| {
        let (_, arn) = expect.iter().find(|(r, _)| r == rule).unwrap();
        arn.trim_start_matches("arn:aws:s3:::").to_owned()
    };
    let (private, gone) = (name("s3-bucket-policy-public"), name("s3-bucket-acl-public"));
    aws.s3
        .delete_bucket_policy()
        .bucket(&private)
        .send()
        .await
        .unwrap();
    aws.s3.delete_bucket().bucket(&gone).send().await.unwrap();
    let (_, msgs) = run.run().await;
    let resolved: BTreeSet<_> = expect
        .iter()
        .map(|(rule, arn)| (rule.clone(), arn.clone(), "resolved".to_owned()))
        .collect();
    assert_eq!(bucket_notices(&msgs), resolved);
    // Three resolutions: the two above and the deleted bucket's `s3-bucket-tls-not-required` (issue 18's
    // duty, also gone); the private bucket still lacks the TLS requirement.
    assert_eq!(summaries(&msgs)[0]["transitions"]["resolved"].as_u64(), Some(3));
    for (rule, arn) in &expect {
        use tripline_aws::store::FindingsStore;
        let key = tripline_core::lifecycle::LifecycleKey {
            account: member.clone(),
            rule: rule.clone(),
            resource_arn: arn.clone(),
        };
        let item = findings.get(&key).await.unwrap().unwrap();
        let reason = if rule == "s3-bucket-policy-public" {
            tripline_core::lifecycle::ResolveReason::NotExposed
        } else {
            tripline_core::lifecycle::ResolveReason::ResourceGone
        };
        assert_eq!(
            item.state,
            tripline_core::lifecycle::LifecycleState::Resolved,
            "{item:?}"
        );
        assert_eq!(item.resolved_reason, Some(reason), "{item:?}");
    }
}
