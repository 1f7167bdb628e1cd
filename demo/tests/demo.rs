//! `make demo` in quiet mode, asserted from its summary: every risky change alerted with the expected rule,
//! the S3 ones remediated (enforce) and the IAM ones reported as dry-run, the remediation read back from the
//! emulator, and nothing the demo started still running afterwards.
//!
//! Runs the same script as `make demo` (`scripts/demo.sh --quiet --summary-json PATH`). Like the integration
//! tests, it installs the emulator and cargo-lambda on first use; it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Live (non-zombie) processes whose process group is `pgid`.
fn group_members(pgid: u64) -> Vec<u64> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u64>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[0] != "Z" && fields[2].parse::<u64>() == Ok(pgid) {
            out.push(pid);
        }
    }
    out
}

#[test]
fn demo_alerts_on_every_risky_change_remediates_s3_and_leaves_nothing_running() {
    let root = root();
    let summary_path =
        std::env::temp_dir().join(format!("tripline-demo-summary-{}.json", std::process::id()));
    let out = Command::new(root.join("scripts/demo.sh"))
        .args(["--quiet", "--summary-json"])
        .arg(&summary_path)
        .current_dir(&root)
        .env("DEMO_QUIET", "1")
        .output()
        .expect("run scripts/demo.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(&summary_path)
            .unwrap_or_else(|e| panic!("no summary ({e}); stdout:\n{stdout}\nstderr:\n{stderr}")),
    )
    .unwrap();
    let _ = std::fs::remove_file(&summary_path);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");

    // Quiet mode prints the summary table only.
    assert!(stdout.contains("Tripline demo summary"), "{context}");
    assert!(!stdout.contains("email to the security team"), "{context}");

    // CloudTrail event of the change -> expected rule, acceptable remediation outcomes. S3 rules are enforced;
    // IAM stays in dry-run, where restoring a trust policy is skipped (CloudTrail does not carry the previous
    // document). iam:PassRole + lambda:CreateFunction widens the policy; the escalation catalog (Rhino
    // Security Labs, "PassExistingRoleToNewLambdaThenInvoke") also needs lambda:InvokeFunction.
    let expected: &[(&str, &str, &[&str])] = &[
        ("PutBucketPolicy", "s3-bucket-policy-public", &["remediated"]),
        ("PutBucketAcl", "s3-bucket-acl-public", &["remediated"]),
        (
            "DeleteBucketPublicAccessBlock",
            "s3-bucket-public-access-block-weakened",
            &["remediated"],
        ),
        ("CreatePolicyVersion", "iam-policy-widened", &["dry-run"]),
        (
            "UpdateAssumeRolePolicy",
            "iam-trust-policy-public",
            &["dry-run", "skipped"],
        ),
    ];
    let changes = summary["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), expected.len(), "{context}");
    for (event, rule, outcomes) in expected {
        let c = changes
            .iter()
            .find(|c| c["event"] == *event)
            .unwrap_or_else(|| panic!("no change `{event}` in the summary\n{context}"));
        let rules: Vec<&str> = c["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            rules.contains(rule),
            "{event}: rules {rules:?}, want `{rule}`\n{context}"
        );
        assert!(
            c["alert_ms"].as_u64().is_some(),
            "{event}: no alert time\n{context}"
        );
        let got = c["remediation"].as_str().unwrap();
        assert!(
            got.split(", ").all(|s| outcomes.contains(&s)),
            "{event}: remediation `{got}`, want one of {outcomes:?}\n{context}"
        );
        assert!(
            c["slack_messages"].as_u64().unwrap() >= 1,
            "{event}: nothing reached Slack\n{context}"
        );
        assert_eq!(c["error"], "", "{event}\n{context}");
    }

    // Read back from the emulator after remediation.
    let rb = &summary["readback"];
    for check in [
        "reports_public_statement_removed",
        "reports_other_statements_intact",
        "assets_acl_private",
        "backups_bpa_restored",
        "iam_unchanged",
    ] {
        assert_eq!(rb[check], true, "{check}: {rb}\n{context}");
    }
    // Scan: before the changes only the baseline of a fresh emulator account: the customer duties (issue 18:
    // no password policy, buckets without the TLS requirement, default network ACLs as AWS creates them) and
    // the account-level state (issue 16: no trail, no Config recorder, no GuardDuty detector, EBS default
    // encryption off, no account Block Public Access, in every region); the dry-run IAM findings left
    // after (exit 1).
    assert_eq!(summary["scan"]["before"]["exit"], 1, "{context}");
    let baseline = [
        "iam-password-policy-weakened",
        "s3-bucket-tls-not-required",
        "ec2-network-acl-open-to-world",
        "cloudtrail-logging-disabled",
        "config-recording-stopped",
        "guardduty-detector-disabled",
        "ebs-default-encryption-disabled",
        "s3-account-public-access-block-weakened",
    ];
    for f in summary["scan"]["before"]["findings"].as_array().unwrap() {
        assert!(
            baseline.contains(&f[0].as_str().unwrap()),
            "before the changes: {f}\n{context}"
        );
    }
    assert_eq!(summary["scan"]["after"]["exit"], 1, "{context}");

    // Nothing left running: the demo's own check, then ours (process groups and ports).
    assert_eq!(summary["processes"]["left"], Value::Array(vec![]), "{context}");
    let groups = summary["processes"]["groups"].as_array().unwrap();
    // moto_server, cargo lambda watch, and the three functions (each in a group of its own).
    assert!(groups.len() >= 5, "process groups seen: {groups:?}");
    for g in groups {
        let pgid = g.as_u64().unwrap();
        assert_eq!(
            group_members(pgid),
            Vec::<u64>::new(),
            "process group {pgid} still has members"
        );
    }
    for p in summary["processes"]["ports"].as_array().unwrap() {
        let addr: SocketAddr = format!("127.0.0.1:{}", p.as_u64().unwrap()).parse().unwrap();
        assert!(
            TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
            "something still listens on {addr}"
        );
    }
    assert!(
        out.status.success(),
        "demo exit {:?}\n{context}",
        out.status.code()
    );
    for (name, ok) in summary["checks"].as_object().unwrap() {
        assert_eq!(ok, true, "demo check `{name}`\n{context}");
    }
    assert_eq!(summary["ok"], true, "{context}");
}
