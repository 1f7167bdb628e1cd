//! The Lambda binaries themselves, run as processes: a fake Lambda Runtime API (a loopback recorder
//! speaking the runtime's HTTP protocol) hands them one event; AWS calls go to the emulator through
//! `AWS_ENDPOINT_URL`, exactly as configured in Lambda. Checks cold-start validation (the bad variable is
//! named), the JSON logs, the response / error posted back, and the Lambda `errorType` of a bad event.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tripline_integration::{alert_topic, emulator, rewrite, sample, sdk_config_for, unique, Recorder, Reply};

/// moto's account for requests without an account header (the binaries add none).
const ACCOUNT: &str = "123456789012";

/// Builds the function binaries once (debug) and returns the path of `name`.
fn binary(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-q",
                "-p",
                "on-cloudtrail",
                "-p",
                "on-config",
                "-p",
                "sweep",
                "-p",
                "remediate",
                "-p",
                "notify-slack",
            ])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .status()
            .unwrap();
        assert!(status.success(), "building the function binaries failed");
    });
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("debug").join(name)
}

fn base_env(cmd: &mut Command, runtime_api: &str, name: &str) {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            runtime_api.trim_start_matches("http://"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_ENDPOINT_URL", &emulator().endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

/// The fake runtime: the first `next` gets `event`; the answer is recorded; later `next` calls wait.
async fn runtime_with(event: &Value) -> Recorder {
    Recorder::start(vec![
        Reply::new(200, &event.to_string())
            .header("Lambda-Runtime-Aws-Request-Id", "req-1")
            .header("Lambda-Runtime-Deadline-Ms", "4102444800000")
            .header(
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:us-east-1:123456789012:function:t",
            )
            .header("Content-Type", "application/json"),
        Reply::new(202, "{}"),
        // Anything after the answer: the process is killed by then.
        Reply::new(500, "{}"),
    ])
    .await
}

/// Runs `name` until it has answered the one invocation; returns (path, body) of the answer, the logs and
/// the wall time from spawn to answer (cold start + handler).
async fn invoke(name: &str, extra_env: &[(&str, &str)], event: &Value) -> (String, Value, String, Duration) {
    let runtime = runtime_with(event).await;
    let mut cmd = Command::new(binary(name));
    base_env(&mut cmd, &runtime.url, name);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let log = std::env::temp_dir().join(format!("{}.log", unique(name)));
    let t = Instant::now();
    let mut child = cmd
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        // After its answer the runtime client meets the fake's refusal and aborts; keep that out of the
        // test output.
        .stderr(Stdio::from(
            std::fs::File::create(log.with_extension("err")).unwrap(),
        ))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let answer = loop {
        if let Some(r) = runtime.requests().into_iter().find(|r| r.method == "POST") {
            break r;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{name} exited with {status}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "{name} did not answer");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let elapsed = t.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    (answer.path.clone(), answer.json(), logs, elapsed)
}

#[tokio::test]
async fn every_function_refuses_to_start_with_a_bad_variable_and_names_it() {
    // (function, environment, variable the error must name)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        ("on-cloudtrail", &[], "TRIPLINE_ALERT_TOPIC_ARN"),
        (
            "on-config",
            &[("TRIPLINE_ALERT_TOPIC_ARN", "not-an-arn")],
            "TRIPLINE_ALERT_TOPIC_ARN",
        ),
        (
            "sweep",
            &[
                ("TRIPLINE_ALERT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:t"),
                ("TRIPLINE_SWEEP_CONCURRENCY", "0"),
            ],
            "TRIPLINE_SWEEP_CONCURRENCY",
        ),
        (
            "remediate",
            &[
                ("TRIPLINE_ALERT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:t"),
                ("TRIPLINE_REMEDIATION_MODE", "yolo"),
            ],
            "TRIPLINE_REMEDIATION_MODE",
        ),
        ("notify-slack", &[], "TRIPLINE_SLACK_SECRET_ARN"),
    ];
    for (name, vars, variable) in cases {
        let mut cmd = Command::new(binary(name));
        base_env(&mut cmd, "127.0.0.1:9", name);
        for (k, v) in *vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{name} started with a bad configuration");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains(&format!("`{variable}`")), "{name}: {text}");
        // The log line is JSON.
        let line = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{name}: not a JSON log line ({e}): {line}"));
        assert_eq!(v["level"], "ERROR", "{line}");
    }
}

#[tokio::test]
async fn on_cloudtrail_binary_answers_an_invocation_and_reports_bad_events() {
    let sdk = sdk_config_for(&emulator().endpoint, None).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let topic = alert_topic(&aws_sdk_sns::Client::new(&sdk)).await;
    let bucket = unique("bin-reports");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let event = rewrite(
        &sample("cloudtrail-s3-put-bucket-policy-public.json"),
        &[("reports-prod", &bucket), ("111122223333", ACCOUNT)],
    );
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(event["detail"]["requestParameters"]["bucketPolicy"].to_string())
        .send()
        .await
        .unwrap();
    let vars = [
        ("TRIPLINE_ALERT_TOPIC_ARN", topic.as_str()),
        // Per-call timings (shared/aws/src/timing.rs) on, as the benchmarks run it.
        ("RUST_LOG", "info,tripline::aws::calls=debug"),
    ];

    let (path, body, logs, elapsed) = invoke("on-cloudtrail", &vars, &event).await;
    println!(
        "on-cloudtrail binary: cold start + handler {:.0} ms (emulator)",
        elapsed.as_secs_f64() * 1e3
    );
    assert_eq!(path, "/2018-06-01/runtime/invocation/req-1/response", "{body}");
    assert_eq!(body["status"], "evaluated", "{body}");
    assert!(
        body["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "s3-bucket-policy-public"),
        "{body}"
    );
    // Structured logs with the event id, rule and resource.
    let published = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == "finding published")
        .unwrap_or_else(|| panic!("no finding log: {logs}"));
    assert_eq!(published["event_id"], event["detail"]["eventID"]);
    assert_eq!(published["resource"], json!(format!("arn:aws:s3:::{bucket}")));
    assert!(published["rule"].is_string());
    // One timing event per AWS call, named as the SDK names the operation.
    let calls: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "aws call")
        .collect();
    let named = |service: &str, operation: &str| {
        calls
            .iter()
            .find(|c| c["service"] == service && c["operation"] == operation)
            .unwrap_or_else(|| panic!("no timing for {service}.{operation}: {calls:?}"))
    };
    let publish = named("SNS", "Publish");
    assert_eq!(publish["ok"], true, "{publish}");
    assert!(publish["elapsed_us"].as_u64().unwrap() > 0, "{publish}");
    named("S3", "GetPublicAccessBlock");

    // A malformed event: an error posted back with errorType BadEvent.
    let bad = json!({"id": "eb-bad-1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.s3", "detail": 42});
    let (path, body, _, _) = invoke("on-cloudtrail", &vars, &bad).await;
    assert_eq!(path, "/2018-06-01/runtime/invocation/req-1/error");
    assert_eq!(body["errorType"], "BadEvent", "{body}");
    assert!(
        body["errorMessage"].as_str().unwrap().contains("eb-bad-1"),
        "{body}"
    );
}

#[tokio::test]
async fn notify_slack_binary_reads_the_secret_once_and_posts() {
    let hook = Recorder::start(vec![Reply::new(200, "ok")]).await;
    let sdk = sdk_config_for(&emulator().endpoint, None).await;
    let secret_url = format!("{}/services/T000/B000/SECRETVALUE", hook.url);
    let arn = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(unique("slack"))
        .secret_string(&secret_url)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let summary = json!({"account": ACCOUNT, "region": "us-east-1", "time": "2026-11-29T00:00:00Z", "checked": {"buckets": 3},
        "findings": {"high": 1}, "suppressed": 0, "errors": [], "duration_ms": 12});
    let event = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId": "m-1", "Subject": "[HIGH] sweep",
        "Message": summary.to_string(), "MessageAttributes": {"kind": {"Type": "String", "Value": "summary"}}}}]});
    let (path, body, logs, elapsed) = invoke(
        "notify-slack",
        &[("TRIPLINE_SLACK_SECRET_ARN", arn.as_str())],
        &event,
    )
    .await;
    println!(
        "notify-slack binary: cold start (secret read) + handler {:.0} ms",
        elapsed.as_secs_f64() * 1e3
    );
    assert_eq!(path, "/2018-06-01/runtime/invocation/req-1/response", "{body}");
    assert_eq!(body[0]["result"], "posted", "{body}");
    assert_eq!(hook.requests().len(), 1);
    assert!(
        !logs.contains("SECRETVALUE"),
        "the webhook url was logged: {logs}"
    );
}
