//! `tripline findings init|list|show` and `tripline scan --store` against the emulator's DynamoDB and S3
//! (moto's default account: the CLI sends no account header): new -> unchanged -> resolved -> reopened over
//! repeated scans, the JSON `lifecycle` of each finding and the findings a scan resolved.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use serde_json::{json, Value};
use tripline_integration::{emulator, unique};

const ACCOUNT: &str = "123456789012";

fn tripline(args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tripline"));
    cmd.args(args);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("TRIPLINE_")) {
        cmd.env_remove(k);
    }
    cmd.envs([
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ]);
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scan(endpoint: &str, table: &str) -> Value {
    let (code, out, err) = tripline(&[
        "scan",
        "--endpoint-url",
        endpoint,
        "--account",
        ACCOUNT,
        "--format",
        "json",
        "--store",
        table,
    ]);
    assert!(code == 0 || code == 1, "{code}: {err}");
    serde_json::from_str(&out).unwrap()
}

fn lifecycle_of<'a>(report: &'a Value, bucket: &str) -> &'a Value {
    let arn = format!("arn:aws:s3:::{bucket}");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "s3-bucket-policy-public" && f["resource"]["arn"] == arn.as_str())
        .map(|f| &f["lifecycle"])
        .unwrap_or_else(|| panic!("no finding on {arn}: {report}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_cli_and_scan_store_over_repeated_scans() {
    let endpoint = emulator().endpoint.clone();
    let table = unique("cli-findings");
    let (code, out, err) = tripline(&["findings", "--endpoint-url", &endpoint, "init", "--table", &table]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created"), "{out}");
    let (code, out, _) = tripline(&["findings", "--endpoint-url", &endpoint, "init", "--table", &table]);
    assert_eq!((code, out.contains("exists")), (0, true), "{out}");

    let aws = tripline_aws::AwsClients::new(&emulator().sdk_config(ACCOUNT).await);
    let bucket = unique("cli-public");
    aws.s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    let put = |p: Value| {
        let (aws, bucket) = (&aws, &bucket);
        async move {
            aws.s3
                .put_bucket_policy()
                .bucket(bucket)
                .policy(p.to_string())
                .send()
                .await
                .unwrap();
        }
    };
    put(policy.clone()).await;

    let r1 = scan(&endpoint, &table);
    let l1 = lifecycle_of(&r1, &bucket);
    assert_eq!(l1["transition"], "new", "{l1}");
    assert_eq!(l1["first_seen"], r1["time"]);
    assert_eq!(r1["resolved"], json!([]));
    let id = l1["id"].as_str().unwrap().to_owned();

    // One second later at least (the scan's time is its observation time).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r2 = scan(&endpoint, &table);
    let l2 = lifecycle_of(&r2, &bucket);
    assert_eq!(l2["transition"], "unchanged", "{l2}");
    assert_eq!(l2["first_seen"], r1["time"]);
    assert_eq!(l2["last_seen"], r2["time"]);

    aws.s3
        .delete_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r3 = scan(&endpoint, &table);
    let resolved = r3["resolved"].as_array().unwrap();
    assert!(
        resolved
            .iter()
            .any(|r| r["lifecycle"]["id"] == id.as_str() && r["lifecycle"]["transition"] == "resolved"),
        "{r3}"
    );

    // list / show.
    let (code, out, err) = tripline(&[
        "findings",
        "--endpoint-url",
        &endpoint,
        "list",
        "--table",
        &table,
        "--state",
        "resolved",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let items: Value = serde_json::from_str(&out).unwrap();
    assert!(
        items.as_array().unwrap().iter().any(|i| i["id"] == id.as_str()),
        "{items}"
    );
    let (code, out, _) = tripline(&["findings", "--endpoint-url", &endpoint, "list", "--table", &table]);
    assert_eq!(code, 0);
    assert!(
        !out.contains(&id),
        "the resolved finding is not listed as open: {out}"
    );
    let (code, out, err) = tripline(&[
        "findings",
        "--endpoint-url",
        &endpoint,
        "show",
        "--table",
        &table,
        &id,
    ]);
    assert_eq!(code, 0, "{err}");
    let item: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (item["state"].as_str(), item["occurrences"].as_u64()),
        (Some("resolved"), Some(2))
    );
    assert_eq!(item["resolved_reason"], "not-exposed");
    let (code, _, err) = tripline(&[
        "findings",
        "--endpoint-url",
        &endpoint,
        "show",
        "--table",
        &table,
        "nope",
    ]);
    assert_eq!(code, 1, "{err}");

    put(policy).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r4 = scan(&endpoint, &table);
    assert_eq!(lifecycle_of(&r4, &bucket)["transition"], "reopened");

    // Bad table names are one-line errors.
    let (code, _, err) = tripline(&["findings", "list", "--table", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("--table") && err.lines().count() == 1, "{err}");
}

/// `scan --store --securityhub --format asff`: the findings are imported into the emulator's Security Hub
/// (BatchImportFindings through the real SDK) exactly as printed (the SDK value serialized faithfully),
/// and a finding the next scan resolves is re-imported ARCHIVED.
#[tokio::test(flavor = "multi_thread")]
async fn scan_imports_asff_into_security_hub_and_archives_on_resolve() {
    let endpoint = emulator().endpoint.clone();
    let table = unique("cli-hub");
    let (code, _, err) = tripline(&["findings", "--endpoint-url", &endpoint, "init", "--table", &table]);
    assert_eq!(code, 0, "{err}");
    let sdk = emulator().sdk_config(ACCOUNT).await;
    let aws = tripline_aws::AwsClients::new(&sdk);
    let bucket = unique("cli-hub-public");
    aws.s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    aws.s3
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:s3:::{bucket}");
    let scan_asff = || {
        let (code, out, err) = tripline(&[
            "scan",
            "--endpoint-url",
            &endpoint,
            "--account",
            ACCOUNT,
            "--format",
            "asff",
            "--store",
            &table,
            "--securityhub",
        ]);
        assert!(code == 0 || code == 1, "{code}: {err}");
        assert!(err.contains("Security Hub:"), "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        v.as_array().unwrap().clone()
    };
    let printed = scan_asff();
    let mine = printed
        .iter()
        .find(|f| {
            f["Resources"][0]["Id"] == arn.as_str() && f["GeneratorId"] == "tripline/s3-bucket-policy-public"
        })
        .unwrap_or_else(|| panic!("{printed:?}"))
        .clone();
    assert_eq!(mine["SchemaVersion"], "2018-10-08");
    assert_eq!(mine["RecordState"], "ACTIVE");
    assert_eq!(mine["Severity"]["Label"], "CRITICAL");
    assert_eq!(mine["FindingProviderFields"]["Severity"]["Label"], "CRITICAL");
    assert_eq!(mine["ProductFields"]["tripline/transition"], "new");
    assert_eq!(mine["Resources"][0]["Type"], "AwsS3Bucket");
    assert_eq!(
        mine["ProductArn"],
        format!("arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default").as_str()
    );

    let hub = aws_sdk_securityhub::Client::new(&sdk);
    let stored = |id: String| {
        let hub = hub.clone();
        async move {
            let out = hub.get_findings().max_results(100).send().await.unwrap();
            out.findings()
                .iter()
                .find(|f| f.id() == Some(id.as_str()))
                .cloned()
                .unwrap_or_else(|| panic!("{id} not in Security Hub"))
        }
    };
    let id = mine["Id"].as_str().unwrap().to_owned();
    let imported = stored(id.clone()).await;
    // What the emulator received through the SDK's own serializer is what the CLI printed.
    assert_eq!(tripline_aws::asff::to_json(&imported), mine);

    aws.s3
        .delete_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let printed = scan_asff();
    let archived = printed
        .iter()
        .find(|f| f["Id"] == id.as_str())
        .unwrap_or_else(|| panic!("{printed:?}"));
    assert_eq!(archived["RecordState"], "ARCHIVED");
    assert_eq!(
        stored(id.clone()).await.record_state().map(|s| s.as_str()),
        Some("ARCHIVED")
    );

    // OCSF: reopened, then resolved again by a `--format ocsf` scan, which prints the resolution as a Close
    // event (activity 3, status Resolved) of the same lifecycle id.
    aws.s3
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let reopened = scan_asff();
    let again = reopened.iter().find(|f| f["Id"] == id.as_str()).unwrap();
    assert_eq!(again["ProductFields"]["tripline/transition"], "reopened");
    aws.s3
        .delete_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (code, out, err) = tripline(&[
        "scan",
        "--endpoint-url",
        &endpoint,
        "--account",
        ACCOUNT,
        "--format",
        "ocsf",
        "--store",
        &table,
    ]);
    assert!(code == 0 || code == 1, "{code}: {err}");
    let events: Vec<Value> = serde_json::from_str(&out).unwrap();
    let close = events
        .iter()
        .find(|e| e["finding_info"]["uid"] == id.as_str())
        .unwrap_or_else(|| panic!("no event for {id}: {events:?}"));
    assert_eq!(close["activity_id"], 3, "{close}");
    assert_eq!(close["status"], "Resolved", "{close}");
    assert_eq!(close["resources"][0]["uid"], arn.as_str());
    assert_eq!(close["unmapped"]["resolved_reason"], "not-exposed");
}
