//! The customer-duty rules' sweep (issue 18) against the emulator: a weak password policy, a network ACL
//! open to the world (and its twin shadowed by a lower-numbered deny), a public and an unencrypted RDS
//! instance (and a quiet twin), a bucket without the TLS requirement (and one with it), judged by the
//! sweep use case (`assess_account`) and by `tripline scan`. Patch compliance: moto records no
//! `AWS::SSM::PatchCompliance` items, so AWS Config is a fake behind the real SDK (a loopback server
//! answering `ListDiscoveredResources` / `BatchGetResourceConfig` in Config's JSON 1.1 protocol).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use aws_sdk_ec2::types::RuleAction;
use serde_json::{json, Value};
use tripline_aws::app::assess::assess_account;
use tripline_aws::AwsClients;
use tripline_core::finding::{Finding, Severity};
use tripline_core::rules::SweepContext;
use tripline_core::settings::RuleConfig;
use tripline_integration::{
    emulator, new_account, sdk_config_for, unique, Recorded, Recorder, Reply, REGION,
};

const NODE_MISSING: &str = "i-0a1b2c3d4e5f67890";
const NODE_PATCHED: &str = "i-0fedcba9876543210";

/// A patch compliance item as AWS Config records it (`Content.Patch.<id>`; AWS's CloudTrail Lake sample
/// queries over `AWS::SSM::PatchCompliance` read `configuration.AWS:ComplianceItem.Content.Patch`).
fn patch_item(node: &str, status: &str, state: &str) -> Value {
    json!({
        "AWS:ComplianceItem": {
            "SchemaVersion": "1.0",
            "ComplianceType": "Patch",
            "Content": {"Patch": {"KB5044284": {
                "Id": "KB5044284",
                "Title": "2024-10 Cumulative Update (KB5044284)",
                "Severity": "CRITICAL",
                "PatchState": state,
                "Status": status,
                "PatchBaselineId": "pb-0e3c5a7b9d1f24680",
                "ResourceId": node
            }}}
        }
    })
}

/// A fake AWS Config answering for the patch compliance items of `REGION` (other regions have none).
async fn fake_config() -> Recorder {
    Recorder::routed(|r: &Recorded| {
        let target = r.headers.get("x-amz-target").cloned().unwrap_or_default();
        let auth = r.headers.get("authorization").cloned().unwrap_or_default();
        let here = auth.contains(&format!("/{REGION}/config/"));
        let id = |n: &str| format!("AWS::SSM::ManagedInstanceInventory/{n}");
        let body = if target.ends_with("ListDiscoveredResources") {
            let ids: Vec<Value> = if here {
                [NODE_MISSING, NODE_PATCHED]
                    .iter()
                    .map(|n| json!({"resourceType": "AWS::SSM::PatchCompliance", "resourceId": id(n)}))
                    .collect()
            } else {
                Vec::new()
            };
            json!({"resourceIdentifiers": ids})
        } else if target.ends_with("BatchGetResourceConfig") {
            let asked: Vec<String> = r.json()["resourceKeys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["resourceId"].as_str().unwrap().to_owned())
                .collect();
            let items: Vec<Value> = asked
                .iter()
                .map(|rid| {
                    let node = rid.rsplit('/').next().unwrap();
                    let (status, state) = if node == NODE_MISSING {
                        ("NON_COMPLIANT", "Missing")
                    } else {
                        ("COMPLIANT", "Installed")
                    };
                    json!({"resourceType": "AWS::SSM::PatchCompliance", "resourceId": rid,
                           "awsRegion": REGION, "configuration": patch_item(node, status, state).to_string()})
                })
                .collect();
            json!({"baseConfigurationItems": items, "unprocessedResourceKeys": []})
        } else if target.ends_with("DescribeConfigurationRecorders") {
            // The account-level state sweep (issue 16) reads the recorder through the same client: one
            // recorder, recording (AWS Config API Reference, DescribeConfigurationRecorders /
            // DescribeConfigurationRecorderStatus response shapes).
            json!({"ConfigurationRecorders": [{"name": "default",
                "roleARN": "arn:aws:iam::123456789012:role/config"}]})
        } else if target.ends_with("DescribeConfigurationRecorderStatus") {
            json!({"ConfigurationRecordersStatus": [{"name": "default", "recording": true,
                "lastStatus": "SUCCESS"}]})
        } else {
            return Reply::new(400, r#"{"__type":"InvalidAction","message":"not faked"}"#)
                .header("Content-Type", "application/x-amz-json-1.1");
        };
        Reply::new(200, &body.to_string()).header("Content-Type", "application/x-amz-json-1.1")
    })
    .await
}

/// What the test seeded, by the ARN each finding must name.
struct Seeded {
    open_acl: String,
    shadowed_acl: String,
    public_db: String,
    unencrypted_db: String,
    quiet_db: String,
    tls_open: String,
    tls_required: String,
}

async fn seed(aws: &AwsClients, account: &str) -> Seeded {
    // Identity: below the CIS baseline (length 14, reuse 24).
    aws.iam
        .update_account_password_policy()
        .minimum_password_length(8)
        .password_reuse_prevention(5)
        .send()
        .await
        .unwrap();
    // Network: one ACL open to all traffic, its twin with a lower-numbered deny for the same traffic.
    let vpc = aws
        .ec2
        .create_vpc()
        .cidr_block("10.42.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc_id = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let mut acls = Vec::new();
    for entries in [
        vec![(100, RuleAction::Allow)],
        vec![(50, RuleAction::Deny), (100, RuleAction::Allow)],
    ] {
        let acl = aws.ec2.create_network_acl().vpc_id(&vpc_id).send().await.unwrap();
        let id = acl.network_acl().unwrap().network_acl_id().unwrap().to_owned();
        for (n, action) in entries {
            aws.ec2
                .create_network_acl_entry()
                .network_acl_id(&id)
                .rule_number(n)
                .protocol("-1")
                .rule_action(action)
                .egress(false)
                .cidr_block("0.0.0.0/0")
                .send()
                .await
                .unwrap();
        }
        acls.push(format!("arn:aws:ec2:{REGION}:{account}:network-acl/{id}"));
    }
    // Data: public (encrypted), unencrypted (private), and a private encrypted twin.
    let mut dbs = Vec::new();
    for (name, public, encrypted) in [
        ("public", true, true),
        ("plain", false, false),
        ("quiet", false, true),
    ] {
        let id = unique(&format!("db-{name}"));
        let out = aws
            .rds
            .create_db_instance()
            .db_instance_identifier(&id)
            .db_instance_class("db.t3.micro")
            .engine("postgres")
            .allocated_storage(20)
            .master_username("admin")
            .master_user_password("not-a-real-password-1")
            .publicly_accessible(public)
            .storage_encrypted(encrypted)
            .send()
            .await
            .unwrap();
        dbs.push(out.db_instance().unwrap().db_instance_arn().unwrap().to_owned());
    }
    // Data in transit: a bucket without a policy, and one whose policy denies requests without TLS.
    let open = unique("tls-open");
    let required = unique("tls-required");
    for b in [&open, &required] {
        aws.s3.create_bucket().bucket(b).send().await.unwrap();
    }
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny",
        "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{required}"), format!("arn:aws:s3:::{required}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    aws.s3
        .put_bucket_policy()
        .bucket(&required)
        .policy(deny.to_string())
        .send()
        .await
        .unwrap();
    Seeded {
        open_acl: acls[0].clone(),
        shadowed_acl: acls[1].clone(),
        public_db: dbs[0].clone(),
        unencrypted_db: dbs[1].clone(),
        quiet_db: dbs[2].clone(),
        tls_open: format!("arn:aws:s3:::{open}"),
        tls_required: format!("arn:aws:s3:::{required}"),
    }
}

fn of(findings: &[Finding], rule: &str) -> BTreeSet<String> {
    findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| f.resource.arn.clone())
        .collect()
}

/// The findings on the seeded resources must be exactly these (the default network ACLs AWS creates with
/// every VPC are checked separately: low, "as created").
fn assert_duties(findings: &[Finding], s: &Seeded, account: &str) {
    for f in findings {
        assert_eq!(f.account, account, "{}", f.rule);
    }
    let password = format!("arn:aws:iam::{account}:account-password-policy");
    let pw: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == "iam-password-policy-weakened")
        .collect();
    assert_eq!(pw.len(), 1, "{pw:?}");
    assert_eq!(pw[0].resource.arn, password);
    assert_eq!(pw[0].severity, Severity::Medium);
    assert_eq!(
        pw[0].evidence.details["below_baseline"],
        json!({"MinimumPasswordLength": 8, "PasswordReusePrevention": 5})
    );

    let acl: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == "ec2-network-acl-open-to-world")
        .collect();
    let open: Vec<&&Finding> = acl.iter().filter(|f| f.resource.arn == s.open_acl).collect();
    assert_eq!(open.len(), 1, "{acl:?}");
    assert_eq!(open[0].severity, Severity::Critical);
    assert!(
        acl.iter().all(|f| f.resource.arn != s.shadowed_acl),
        "the ACL whose deny 50 comes before allow 100 is quiet"
    );
    for f in acl.iter().filter(|f| f.resource.arn != s.open_acl) {
        assert_eq!(
            f.severity,
            Severity::Low,
            "only default ACLs as created: {:?}",
            f.summary
        );
        assert_eq!(f.evidence.details["is_default"], json!(true));
    }

    assert_eq!(
        of(findings, "rds-instance-public"),
        BTreeSet::from([s.public_db.clone()])
    );
    assert_eq!(
        of(findings, "rds-storage-unencrypted"),
        BTreeSet::from([s.unencrypted_db.clone()])
    );
    assert!(findings.iter().all(|f| f.resource.arn != s.quiet_db));

    let tls = of(findings, "s3-bucket-tls-not-required");
    assert!(tls.contains(&s.tls_open), "{tls:?}");
    assert!(!tls.contains(&s.tls_required), "{tls:?}");
    assert!(findings
        .iter()
        .filter(|f| f.rule == "s3-bucket-tls-not-required")
        .all(|f| f.severity == Severity::Low));
}

#[tokio::test]
async fn sweep_finds_the_pre_existing_duty_cases_and_stays_quiet_on_their_twins() {
    let account = new_account();
    let mut aws = emulator().clients(&account).await;
    let config = fake_config().await;
    aws.config = aws_sdk_config::Client::new(&sdk_config_for(&config.url, None).await);
    let seeded = seed(&aws, &account).await;

    let ctx = SweepContext {
        account: &account,
        region: REGION,
        time: "2026-12-06T00:00:00Z",
    };
    let t = Instant::now();
    let out = assess_account(&aws, &RuleConfig::default(), &ctx, 8)
        .await
        .unwrap();
    println!(
        "sweep with the duty families (every moto region): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let findings: Vec<Finding> = out
        .assessed
        .iter()
        .flat_map(|a| a.evaluation.findings.iter().cloned())
        .collect();
    assert_duties(&findings, &seeded, &account);
    assert_eq!(out.checked.get("password_policy"), Some(&1));
    assert_eq!(out.checked.get("db_instances"), Some(&3));

    // Platform: the node missing a critical patch (high), not the patched one; Config was asked in every
    // region, items fetched only where recorded.
    let patch: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == "ssm-patch-noncompliant")
        .collect();
    assert_eq!(patch.len(), 1, "{patch:?}");
    assert_eq!(
        patch[0].resource.arn,
        format!("arn:aws:ec2:{REGION}:{account}:instance/{NODE_MISSING}")
    );
    assert_eq!(patch[0].severity, Severity::High);
    assert_eq!(out.checked.get("patch_compliance"), Some(&2));
    let batch = config
        .requests()
        .iter()
        .filter(|r| {
            r.headers
                .get("x-amz-target")
                .is_some_and(|t| t.ends_with("BatchGetResourceConfig"))
        })
        .count();
    assert_eq!(batch, 1, "one batch for the one region with items");
}

#[tokio::test]
async fn a_strong_password_policy_is_quiet() {
    let account = new_account();
    let mut aws = emulator().clients(&account).await;
    let config = fake_config().await;
    aws.config = aws_sdk_config::Client::new(&sdk_config_for(&config.url, None).await);
    aws.iam
        .update_account_password_policy()
        .minimum_password_length(14)
        .password_reuse_prevention(24)
        .send()
        .await
        .unwrap();
    let ctx = SweepContext {
        account: &account,
        region: REGION,
        time: "2026-12-06T00:00:00Z",
    };
    let out = assess_account(&aws, &RuleConfig::default(), &ctx, 8)
        .await
        .unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let rules: BTreeSet<&str> = out
        .assessed
        .iter()
        .flat_map(|a| a.evaluation.findings.iter().map(|f| f.rule.as_str()))
        .collect();
    assert!(!rules.contains("iam-password-policy-weakened"), "{rules:?}");
    assert_eq!(out.checked.get("password_policy"), Some(&1));
}

/// The `tripline` binary (built once).
fn tripline() -> PathBuf {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "tripline-cli"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .status()
            .unwrap();
        assert!(status.success(), "building tripline failed");
    });
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("debug").join("tripline")
}

#[tokio::test]
async fn tripline_scan_reports_the_same_duty_findings() {
    // `tripline scan` has no account header: it works in moto's default account, which only this test uses.
    let account = "123456789012";
    let aws = AwsClients::new(&sdk_config_for(&emulator().endpoint, None).await);
    let seeded = seed(&aws, account).await;
    let bin = tripline();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(bin);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("TRIPLINE_")) {
            cmd.env_remove(k);
        }
        cmd.args(["scan", "--endpoint-url", &emulator().endpoint, "--format", "json"])
            .envs([
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_REGION", REGION),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "findings: exit 1; stderr: {stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    // moto records no patch compliance (ListDiscoveredResources answers none): no error, no finding.
    assert_eq!(report["errors"], json!([]), "{report}");
    let findings: Vec<Finding> = serde_json::from_value(report["findings"].clone()).unwrap();
    assert_duties(&findings, &seeded, account);
    assert!(findings.iter().all(|f| f.rule != "ssm-patch-noncompliant"));
}
