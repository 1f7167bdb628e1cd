//! notify-slack: the webhook URL from Secrets Manager (emulator), the Block Kit payload received by a
//! loopback HTTP server, 429 then 200 retried honouring Retry-After (issue 5 scenario 7).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tripline_aws::handlers::notify_slack::{handle_slack, webhook_url_from_secret, SlackConfig};
use tripline_aws::sdk::webhook::RetryPolicy;
use tripline_aws::{ReadSecret, SlackWebhook};
use tripline_core::finding::Severity;
use tripline_core::intake::{intake, Intake};
use tripline_core::settings::RuleConfig;
use tripline_core::Envelope;
use tripline_integration::{emulator, new_account, sample, unique, Recorder, Reply};

/// An SNS delivery of a real finding (the public-bucket sample evaluated by the rules).
fn sns_event_with_finding() -> (Vec<u8>, String) {
    let event = serde_json::to_vec(&sample("cloudtrail-s3-put-bucket-policy-public.json")).unwrap();
    let Intake::Change(c) = intake(&event).unwrap() else {
        panic!()
    };
    let f = tripline_core::rules::evaluate(&c, None, &RuleConfig::default())
        .findings
        .remove(0);
    let msg = tripline_core::render::sns::message(&f);
    let structured: Value = serde_json::from_str(&msg.message).unwrap();
    // SNS delivers the `lambda` key's text to a Lambda subscriber.
    let body = json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": {
        "Type": "Notification", "MessageId": "5c4f0b8e-7a52-5a8e-9d51-0a3b6c1f2e11",
        "TopicArn": "arn:aws:sns:us-east-1:111122223333:tripline-alerts", "Subject": msg.subject,
        "Message": structured["lambda"], "Timestamp": "2026-11-28T14:03:40.000Z",
        "MessageAttributes": msg.attributes.iter().map(|(k, v)| (k.clone(), json!({"Type": "String", "Value": v}))).collect::<serde_json::Map<_, _>>()
    }}]});
    (serde_json::to_vec(&body).unwrap(), f.resource.arn)
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(2),
        attempt_timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn scenario_7_block_kit_payload_and_429_then_200_is_retried() {
    let hook = Recorder::start(vec![
        Reply::new(429, "rate_limited").header("Retry-After", "1"),
        Reply::new(200, "ok"),
    ])
    .await;
    // Cold start: the URL comes from Secrets Manager (here the emulator), stored as JSON.
    let account = new_account();
    let aws = emulator().clients(&account).await;
    let secret_url = format!("{}/services/T000/B000/{}", hook.url, unique("secret"));
    let arn = aws
        .secrets
        .create_secret()
        .name(unique("tripline-slack"))
        .secret_string(json!({"webhook_url": secret_url}).to_string())
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let url = webhook_url_from_secret(&aws.secret_string(&arn).await.unwrap()).unwrap();
    assert_eq!(url, secret_url);
    let webhook = SlackWebhook::new(&url, fast_retries()).unwrap();

    let (event, resource) = sns_event_with_finding();
    let cfg = SlackConfig {
        min_severity: Severity::Low,
    };
    let t = Instant::now();
    let out = handle_slack(&webhook, &cfg, &Envelope::read(&event))
        .await
        .unwrap();
    let elapsed = t.elapsed();
    println!(
        "handler time notify-slack (429 then 200): {:.1} ms",
        elapsed.as_secs_f64() * 1e3
    );
    assert_eq!(out[0].result, "posted");
    assert!(
        elapsed >= Duration::from_millis(900),
        "Retry-After: 1 was not honoured ({elapsed:?})"
    );

    let reqs = hook.requests();
    assert_eq!(reqs.len(), 2, "one 429, one retry");
    assert_eq!(reqs[0].body, reqs[1].body, "the retry resends the same payload");
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert!(r.path.starts_with("/services/T000/B000/"));
        assert_eq!(r.headers["content-type"], "application/json");
    }
    let payload = reqs[1].json();
    let blocks = payload["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header", "{payload}");
    assert!(
        payload["text"].as_str().is_some_and(|t| !t.is_empty()),
        "fallback text: {payload}"
    );
    assert!(
        payload
            .to_string()
            .contains(resource.trim_start_matches("arn:aws:s3:::")),
        "{payload}"
    );
    // Slack's limits: at most 50 blocks, header text at most 150 characters.
    assert!(blocks.len() <= 50);
    assert!(blocks[0]["text"]["text"].as_str().unwrap().chars().count() <= 150);
}

#[tokio::test]
async fn scenario_7_final_failures_are_classified_and_never_leak_the_url() {
    let (event, _) = sns_event_with_finding();
    let cfg = SlackConfig {
        min_severity: Severity::Low,
    };
    // (replies, attempts made, retryable)
    let cases = [
        (vec![Reply::new(500, "oops")], 3, true),
        (
            vec![Reply::new(429, "rate_limited").header("Retry-After", "0")],
            3,
            true,
        ),
        (vec![Reply::new(404, "no_service")], 1, false),
        (vec![Reply::new(400, "invalid_payload")], 1, false),
    ];
    for (replies, attempts, retryable) in cases {
        let status = replies[0].status;
        let hook = Recorder::start(replies).await;
        let url = format!("{}/services/T000/B000/SECRETPART", hook.url);
        let webhook = SlackWebhook::new(&url, fast_retries()).unwrap();
        let err = handle_slack(&webhook, &cfg, &Envelope::read(&event))
            .await
            .unwrap_err();
        assert_eq!(hook.requests().len(), attempts, "http {status}");
        assert_eq!(err.is_retryable(), retryable, "http {status}: {err}");
        assert!(!err.to_string().contains("SECRETPART"), "{err}");
    }
    // Nothing listening: a connection failure is retryable.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/services/SECRETPART", dead.local_addr().unwrap());
    drop(dead);
    let err = handle_slack(
        &SlackWebhook::new(&url, fast_retries()).unwrap(),
        &cfg,
        &Envelope::read(&event),
    )
    .await
    .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(!err.to_string().contains("SECRETPART"), "{err}");
}
