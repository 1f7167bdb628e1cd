//! Each `events/` sample -> the rule ids and severities it raises (judged from the payload alone, as
//! `tripline assess` without `--state` does), then the same with current state, and failed calls.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

use std::path::PathBuf;

use serde_json::{json, Value};
use tripline_core::finding::Severity::{self, Critical, High, Low, Medium};
use tripline_core::rules;
use tripline_core::settings::RuleConfig;
use tripline_core::{intake, Intake, State};

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn read(file: &str) -> Vec<u8> {
    std::fs::read(events_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn findings(bytes: &[u8], state: Option<&State>, config: &RuleConfig) -> Vec<(String, Severity)> {
    match intake(bytes).unwrap() {
        Intake::Change(c) => {
            let eval = rules::evaluate(&c, state, config);
            assert!(eval.errors.is_empty(), "rule errors: {:?}", eval.errors);
            eval.findings.into_iter().map(|f| (f.rule, f.severity)).collect()
        }
        _ => Vec::new(),
    }
}

/// Every sample, one line each: the findings without state. Notes:
/// - IAM policy changes without the previous document count every grant as new, at medium severity and
///   "state not confirmed" (the reordered version only proves itself quiet with state, see below);
/// - failed (`AccessDenied`), read-only, ignored and oversized-notification payloads raise nothing.
#[rustfmt::skip]
const EXPECTED: &[(&str, &[(&str, Severity)])] = &[
    ("cloudtrail-cloudtrail-delete-trail.json", &[("cloudtrail-logging-disabled", High)]),
    ("cloudtrail-cloudtrail-put-event-selectors-all.json", &[]),
    ("cloudtrail-cloudtrail-put-event-selectors-no-management.json", &[("cloudtrail-logging-disabled", High)]),
    ("cloudtrail-cloudtrail-stop-logging.json", &[("cloudtrail-logging-disabled", High)]),
    ("cloudtrail-config-start-configuration-recorder.json", &[]),
    ("cloudtrail-config-stop-configuration-recorder.json", &[("config-recording-stopped", High)]),
    ("cloudtrail-ec2-authorize-security-group-ingress-private-range.json", &[]),
    ("cloudtrail-ec2-authorize-security-group-ingress-world-ssh.json", &[("ec2-security-group-open-to-world", High)]),
    ("cloudtrail-ec2-create-network-acl-entry-deny.json", &[]),
    ("cloudtrail-ec2-create-network-acl-entry-egress.json", &[]),
    ("cloudtrail-ec2-create-network-acl-entry-world-ssh.json", &[("ec2-network-acl-open-to-world", High)]),
    ("cloudtrail-ec2-disable-ebs-encryption-by-default.json", &[("ebs-default-encryption-disabled", Medium)]),
    ("cloudtrail-ec2-enable-ebs-encryption-by-default.json", &[]),
    ("cloudtrail-ec2-modify-image-attribute-account.json", &[("ec2-image-cross-account-access", Medium)]),
    ("cloudtrail-ec2-modify-image-attribute-organization.json", &[("ec2-image-cross-account-access", Medium)]),
    ("cloudtrail-ec2-modify-image-attribute-remove.json", &[]),
    ("cloudtrail-ec2-modify-image-attribute-public.json", &[("ec2-image-public", High)]),
    ("cloudtrail-ec2-modify-snapshot-attribute-account.json", &[("ec2-snapshot-cross-account-access", High)]),
    ("cloudtrail-ec2-modify-snapshot-attribute-own-account.json", &[]),
    ("cloudtrail-ec2-modify-snapshot-attribute-remove.json", &[]),
    ("cloudtrail-ec2-modify-snapshot-attribute-all.json", &[("ec2-snapshot-public", Critical)]),
    ("cloudtrail-ec2-replace-network-acl-entry-all-traffic-ipv6.json", &[("ec2-network-acl-open-to-world", Critical)]),
    ("cloudtrail-ecr-set-repository-policy-account.json", &[("ecr-repository-cross-account-access", Medium)]),
    ("cloudtrail-ecr-set-repository-policy-private.json", &[]),
    ("cloudtrail-ecr-set-repository-policy-public.json", &[("ecr-repository-policy-public", High)]),
    ("cloudtrail-guardduty-update-detector-disable.json", &[("guardduty-detector-disabled", High)]),
    ("cloudtrail-guardduty-update-detector-enable.json", &[]),
    ("cloudtrail-iam-attach-group-policy-admin.json", &[("iam-admin-access-granted", Critical)]),
    ("cloudtrail-iam-attach-role-policy-admin.json", &[("iam-admin-access-granted", Critical)]),
    ("cloudtrail-iam-attach-role-policy-readonly.json", &[]),
    ("cloudtrail-iam-attach-user-policy-admin.json", &[("iam-admin-access-granted", Critical)]),
    ("cloudtrail-iam-create-access-key-root.json", &[("iam-root-access-key-created", Critical)]),
    ("cloudtrail-iam-create-access-key-assumed-role.json", &[("iam-access-key-created-for-other-user", High)]),
    ("cloudtrail-iam-create-access-key-self.json", &[]),
    ("cloudtrail-iam-create-access-key-user.json", &[("iam-access-key-created-for-other-user", High)]),
    ("cloudtrail-iam-create-login-profile.json", &[("iam-login-profile-created", Medium)]),
    ("cloudtrail-iam-create-policy-version-not-default.json", &[]),
    ("cloudtrail-iam-create-policy-version-reordered.json", &[("iam-policy-widened", Medium), ("iam-privilege-escalation", Medium)]),
    ("cloudtrail-iam-create-policy-version-widening.json", &[("iam-policy-widened", Medium), ("iam-privilege-escalation", Medium)]),
    ("cloudtrail-iam-deactivate-mfa-device.json", &[("iam-mfa-deactivated", High)]),
    ("cloudtrail-iam-delete-account-password-policy.json", &[("iam-password-policy-weakened", Medium)]),
    ("cloudtrail-iam-enable-mfa-device.json", &[]),
    ("cloudtrail-iam-put-group-policy.json", &[("iam-policy-widened", Medium), ("iam-privilege-escalation", Medium)]),
    ("cloudtrail-iam-put-role-policy.json", &[("iam-policy-widened", Medium), ("iam-admin-access-granted", Critical), ("iam-privilege-escalation", Medium)]),
    ("cloudtrail-iam-put-user-policy.json", &[("iam-policy-widened", Medium)]),
    ("cloudtrail-iam-set-default-policy-version.json", &[]),
    ("cloudtrail-iam-update-account-password-policy-cis.json", &[]),
    ("cloudtrail-iam-update-account-password-policy-weak.json", &[("iam-password-policy-weakened", Medium)]),
    ("cloudtrail-iam-update-assume-role-policy-external.json", &[("iam-trust-policy-external-account", High)]),
    ("cloudtrail-iam-update-assume-role-policy-public.json", &[("iam-trust-policy-public", Critical)]),
    ("cloudtrail-iam-update-assume-role-policy-same-account.json", &[]),
    ("cloudtrail-iam-update-login-profile-self.json", &[]),
    ("cloudtrail-kms-enable-key.json", &[]),
    ("cloudtrail-kms-put-key-policy-account.json", &[("kms-key-cross-account-access", High)]),
    // Without TRIPLINE_ORGANIZATION_ID the organization is outside the zone (quiet with it: rules_external.rs).
    ("cloudtrail-kms-put-key-policy-org-pinned.json", &[("kms-key-cross-account-access", High)]),
    ("cloudtrail-kms-put-key-policy-private.json", &[]),
    ("cloudtrail-kms-put-key-policy-public.json", &[("kms-key-policy-public", Critical)]),
    ("cloudtrail-kms-schedule-key-deletion.json", &[("kms-key-deletion-scheduled", High)]),
    ("cloudtrail-lambda-add-layer-version-permission-account.json", &[("lambda-layer-cross-account-access", Medium)]),
    ("cloudtrail-lambda-add-layer-version-permission-organization.json", &[("lambda-layer-cross-account-access", Medium)]),
    ("cloudtrail-lambda-add-layer-version-permission-own-account.json", &[]),
    ("cloudtrail-lambda-add-layer-version-permission-public.json", &[("lambda-layer-public", High)]),
    ("cloudtrail-lambda-add-permission-account.json", &[("lambda-function-cross-account-access", Medium)]),
    ("cloudtrail-lambda-add-permission-public.json", &[("lambda-function-public", High)]),
    ("cloudtrail-lambda-add-permission-service-pinned.json", &[]),
    ("cloudtrail-lambda-update-function-code-other.json", &[]),
    ("cloudtrail-lambda-update-function-code-tripline.json", &[("tripline-tampered", High)]),
    ("cloudtrail-rds-create-db-instance-private.json", &[]),
    ("cloudtrail-rds-create-db-instance-unencrypted.json", &[("rds-storage-unencrypted", Medium)]),
    ("cloudtrail-rds-modify-db-instance-public.json", &[("rds-instance-public", High)]),
    ("cloudtrail-rds-modify-db-cluster-snapshot-attribute-account.json", &[("rds-snapshot-cross-account-access", High)]),
    ("cloudtrail-rds-modify-db-cluster-snapshot-attribute-public.json", &[("rds-cluster-snapshot-public", Critical)]),
    ("cloudtrail-rds-modify-db-snapshot-attribute-account.json", &[("rds-snapshot-cross-account-access", High)]),
    ("cloudtrail-rds-modify-db-snapshot-attribute-public.json", &[("rds-snapshot-public", Critical)]),
    ("cloudtrail-rds-modify-db-snapshot-attribute-remove.json", &[]),
    ("cloudtrail-s3-delete-account-public-access-block.json", &[("s3-account-public-access-block-weakened", High)]),
    ("cloudtrail-s3-delete-bucket-policy.json", &[("s3-bucket-tls-not-required", Low)]),
    ("cloudtrail-s3-delete-bucket-public-access-block.json", &[("s3-bucket-public-access-block-weakened", High)]),
    ("cloudtrail-s3-get-bucket-policy-read-only.json", &[]),
    ("cloudtrail-s3-put-account-public-access-block-disabled.json", &[("s3-account-public-access-block-weakened", High)]),
    ("cloudtrail-s3-put-account-public-access-block-enabled.json", &[]),
    ("cloudtrail-s3-put-bucket-acl-grants-allusers.json", &[("s3-bucket-acl-public", High)]),
    ("cloudtrail-s3-put-bucket-acl-private.json", &[]),
    ("cloudtrail-s3-put-bucket-acl-public-read.json", &[("s3-bucket-acl-public", High)]),
    ("cloudtrail-s3-put-bucket-policy-access-denied.json", &[]),
    ("cloudtrail-s3-put-bucket-policy-other-account.json", &[("s3-bucket-cross-account-access", High)]),
    ("cloudtrail-s3-put-bucket-policy-private.json", &[]),
    ("cloudtrail-s3-put-bucket-policy-public.json", &[("s3-bucket-policy-public", Critical)]),
    ("cloudtrail-s3-put-bucket-policy-tls-objects-only.json", &[("s3-bucket-tls-not-required", Low)]),
    ("cloudtrail-s3-put-bucket-public-access-block-disabled.json", &[("s3-bucket-public-access-block-weakened", High)]),
    ("cloudtrail-s3-put-bucket-public-access-block-enabled.json", &[]),
    ("cloudtrail-s3-put-object-acl-private.json", &[]),
    ("cloudtrail-s3-put-object-acl-public-read.json", &[("s3-object-acl-public", High)]),
    ("cloudtrail-secretsmanager-put-resource-policy-account.json", &[("secretsmanager-secret-cross-account-access", High)]),
    ("cloudtrail-secretsmanager-put-resource-policy-private.json", &[]),
    ("cloudtrail-secretsmanager-put-resource-policy-public.json", &[("secretsmanager-secret-policy-public", Critical)]),
    ("cloudtrail-sns-set-topic-attributes-policy-account.json", &[("sns-topic-cross-account-access", Medium)]),
    ("cloudtrail-sns-set-topic-attributes-policy-private.json", &[]),
    ("cloudtrail-sns-set-topic-attributes-policy-public.json", &[("sns-topic-policy-public", High)]),
    ("cloudtrail-sqs-set-queue-attributes-policy-account.json", &[("sqs-queue-cross-account-access", Medium)]),
    ("cloudtrail-sqs-set-queue-attributes-policy-private.json", &[]),
    ("cloudtrail-sqs-set-queue-attributes-policy-public.json", &[("sqs-queue-policy-public", High)]),
    ("config-iam-role-item-change.json", &[("iam-policy-widened", High), ("iam-trust-policy-public", Critical)]),
    ("config-s3-bucket-item-change-acl-public.json", &[("s3-bucket-acl-public", High)]),
    ("config-s3-bucket-item-change-tls-kept.json", &[]),
    ("config-s3-bucket-item-change.json", &[("s3-bucket-policy-public", Critical), ("s3-bucket-tls-not-required", Medium)]),
    ("config-ssm-patch-compliance-compliant.json", &[]),
    ("config-ssm-patch-compliance-non-compliant.json", &[("ssm-patch-noncompliant", High)]),
    ("configrule-iam-role-invocation.json", &[("iam-trust-policy-public", Critical)]),
    ("configrule-oversized-notification.json", &[]),
    ("configrule-s3-bucket-invocation.json", &[("s3-bucket-policy-public", Critical), ("s3-bucket-tls-not-required", Medium)]),
    ("configrule-scheduled-notification.json", &[]),
    ("sns-config-item-change.json", &[]),
    // Issue 16: the new policy kinds (public rule and cross-account twin); see rules_policy_kinds.rs.
    ("cloudtrail-s3-put-access-point-policy-public.json", &[("s3-access-point-policy-public", Critical)]),
    ("cloudtrail-s3-put-access-point-policy-private.json", &[]),
    ("cloudtrail-s3-put-access-point-policy-account.json", &[("s3-access-point-cross-account-access", High)]),
    ("cloudtrail-s3-put-multi-region-access-point-policy-public.json", &[("s3-access-point-policy-public", Critical)]),
    ("cloudtrail-efs-put-file-system-policy-public.json", &[("efs-file-system-policy-public", Critical)]),
    ("cloudtrail-efs-put-file-system-policy-mount-target.json", &[("efs-file-system-cross-account-access", High)]),
    ("cloudtrail-efs-put-file-system-policy-account.json", &[("efs-file-system-cross-account-access", High)]),
    ("cloudtrail-efs-put-file-system-policy-private.json", &[]),
    ("cloudtrail-dynamodb-put-resource-policy-public.json", &[("dynamodb-table-policy-public", Critical)]),
    ("cloudtrail-dynamodb-put-resource-policy-source-ip.json", &[("dynamodb-table-policy-public", Critical)]),
    ("cloudtrail-dynamodb-put-resource-policy-account.json", &[("dynamodb-table-cross-account-access", High)]),
    ("cloudtrail-dynamodb-put-resource-policy-private.json", &[]),
    ("cloudtrail-opensearch-update-domain-config-public.json", &[("opensearch-domain-policy-public", Critical)]),
    ("cloudtrail-es-update-elasticsearch-domain-config-public.json", &[("opensearch-domain-policy-public", Critical)]),
    ("cloudtrail-opensearch-update-domain-config-ip.json", &[("opensearch-domain-cross-account-access", High)]),
    ("cloudtrail-opensearch-update-domain-config-account.json", &[("opensearch-domain-cross-account-access", High)]),
    ("cloudtrail-opensearch-update-domain-config-private.json", &[]),
    ("cloudtrail-glacier-set-vault-access-policy-public.json", &[("glacier-vault-policy-public", Critical)]),
    ("cloudtrail-glacier-set-vault-access-policy-account.json", &[("glacier-vault-cross-account-access", High)]),
    ("cloudtrail-glacier-set-vault-access-policy-private.json", &[]),
];

#[test]
fn every_sample_raises_exactly_the_expected_findings() {
    let config = RuleConfig::default();
    for (file, expected) in EXPECTED {
        let got = findings(&read(file), None, &config);
        let want: Vec<(String, Severity)> = expected.iter().map(|(r, s)| ((*r).to_owned(), *s)).collect();
        assert_eq!(got, want, "{file}");
    }
}

#[test]
fn the_table_lists_every_sample() {
    let mut unlisted = Vec::new();
    for entry in std::fs::read_dir(events_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") && !EXPECTED.iter().any(|(f, _)| *f == name) {
            unlisted.push(name);
        }
    }
    assert!(
        unlisted.is_empty(),
        "add these events/ files to EXPECTED: {unlisted:?}"
    );
}

fn pab(all: bool) -> Value {
    json!({"BlockPublicAcls": all, "IgnorePublicAcls": all, "BlockPublicPolicy": all, "RestrictPublicBuckets": all})
}

fn state(v: Value) -> State {
    serde_json::from_value(v).unwrap()
}

/// The `Statement` list of the document a sample carries at `requestParameters.policyDocument`.
fn sample_statements(file: &str) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&read(file)).unwrap();
    let doc = &v["detail"]["requestParameters"]["policyDocument"];
    let doc: Value = match doc {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        other => other.clone(),
    };
    doc["Statement"].as_array().unwrap().clone()
}

#[test]
fn state_confirms_or_lowers_findings() {
    // The reordered version, against a previous version holding the same statements in another order:
    // no new access (issue 3, "reordering").
    let mut reordered = sample_statements("cloudtrail-iam-create-policy-version-reordered.json");
    reordered.reverse();
    let prev_same = json!({"Version": "2012-10-17", "Statement": reordered});
    // The widening version against the same document without its last statement.
    let mut widening = sample_statements("cloudtrail-iam-create-policy-version-widening.json");
    widening.pop();
    let prev_narrow = json!({"Version": "2012-10-17", "Statement": widening});
    let cases: &[(&str, Value, &[(&str, Severity)])] = &[
        // Public policy, nothing blocks it (both levels fetched): critical, confirmed.
        (
            "cloudtrail-s3-put-bucket-policy-public.json",
            json!({"bucket": {"public_access_block": null}, "account_public_access_block": pab(false)}),
            &[("s3-bucket-policy-public", Critical)],
        ),
        // Account-level RestrictPublicBuckets neutralises it: two steps lower (S3 User Guide, Block Public
        // Access, "RestrictPublicBuckets").
        (
            "cloudtrail-s3-put-bucket-policy-public.json",
            json!({"bucket": {}, "account_public_access_block": pab(true)}),
            &[("s3-bucket-policy-public", Medium)],
        ),
        // Bucket-level block only: one step lower.
        (
            "cloudtrail-s3-put-bucket-policy-public.json",
            json!({"bucket": {"public_access_block": pab(true)}, "account_public_access_block": pab(false)}),
            &[("s3-bucket-policy-public", High)],
        ),
        // A public ACL neutralised by account-level IgnorePublicAcls.
        (
            "cloudtrail-s3-put-bucket-acl-public-read.json",
            json!({"bucket": {}, "account_public_access_block": pab(true)}),
            &[("s3-bucket-acl-public", Low)],
        ),
        // Bucket Block Public Access turned off while the account level still covers everything.
        (
            "cloudtrail-s3-put-bucket-public-access-block-disabled.json",
            json!({"account_public_access_block": pab(true)}),
            &[("s3-bucket-public-access-block-weakened", Low)],
        ),
        (
            "cloudtrail-iam-create-policy-version-reordered.json",
            json!({"previous_policy_document": prev_same}),
            &[],
        ),
        (
            "cloudtrail-iam-create-policy-version-widening.json",
            json!({"previous_policy_document": prev_narrow}),
            &[("iam-policy-widened", High)],
        ),
        // SetDefaultPolicyVersion needs both documents; restoring the narrower one raises nothing.
        (
            "cloudtrail-iam-set-default-policy-version.json",
            json!({"previous_policy_document": {"Version": "2012-10-17", "Statement": widening_full()},
                "current_policy_document": prev_narrow_doc()}),
            &[],
        ),
        (
            "cloudtrail-iam-set-default-policy-version.json",
            json!({"previous_policy_document": prev_narrow_doc(),
                "current_policy_document": {"Version": "2012-10-17", "Statement": widening_full()}}),
            &[("iam-policy-widened", High)],
        ),
    ];
    let config = RuleConfig::default();
    for (file, st, expected) in cases {
        let st = state(st.clone());
        let got = findings(&read(file), Some(&st), &config);
        let want: Vec<(String, Severity)> = expected.iter().map(|(r, s)| ((*r).to_owned(), *s)).collect();
        assert_eq!(got, want, "{file} with state {st:?}");
    }
}

fn widening_full() -> Vec<Value> {
    sample_statements("cloudtrail-iam-create-policy-version-widening.json")
}

fn prev_narrow_doc() -> Value {
    let mut s = widening_full();
    s.pop();
    json!({"Version": "2012-10-17", "Statement": s})
}

#[test]
fn confirmed_flag_follows_state() {
    let config = RuleConfig::default();
    let bytes = read("cloudtrail-s3-put-bucket-policy-public.json");
    let Intake::Change(c) = intake(&bytes).unwrap() else {
        panic!()
    };
    let without = rules::evaluate(&c, None, &config);
    assert!(!without.findings[0].state_confirmed);
    let st = state(json!({"bucket": {}, "account_public_access_block": pab(false)}));
    let with = rules::evaluate(&c, Some(&st), &config);
    assert!(with.findings[0].state_confirmed);
    // Evidence names the blocking setting when blocked.
    let st = state(json!({"bucket": {}, "account_public_access_block": pab(true)}));
    let blocked = rules::evaluate(&c, Some(&st), &config);
    assert_eq!(
        blocked.findings[0].evidence.details["blocked_by"],
        json!(["account:RestrictPublicBuckets"])
    );
}

/// A failed call changed nothing: turning any sample into a failed call (CloudTrail `errorCode`, e.g.
/// `AccessDenied` when Block Public Access rejects a public policy) must raise nothing.
#[test]
fn failed_calls_raise_nothing() {
    let config = RuleConfig::default();
    for (file, _) in EXPECTED.iter().filter(|(f, _)| f.starts_with("cloudtrail-")) {
        let mut v: Value = serde_json::from_slice(&read(file)).unwrap();
        v["detail"]["errorCode"] = json!("AccessDenied");
        v["detail"]["errorMessage"] = json!("User is not authorized to perform this operation");
        let got = findings(&serde_json::to_vec(&v).unwrap(), None, &config);
        assert!(got.is_empty(), "{file} as a failed call raised {got:?}");
    }
}

#[test]
fn configuration_changes_verdicts() {
    // The other account of the sample is trusted: no cross-account finding.
    let bytes = read("cloudtrail-s3-put-bucket-policy-other-account.json");
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    let text = v["detail"]["requestParameters"]["bucketPolicy"].to_string();
    let other = ["444455556666", "999988887777", "123456789012"]
        .into_iter()
        .find(|a| text.contains(a))
        .expect("the sample names another account");
    let mut config = RuleConfig::default();
    assert_eq!(findings(&bytes, None, &config).len(), 1);
    config.trusted_account_ids.insert(other.to_owned());
    assert_eq!(findings(&bytes, None, &config), vec![]);

    // Extra admin ports: 8080 open to the world.
    let mut sg: Value = serde_json::from_slice(&read(
        "cloudtrail-ec2-authorize-security-group-ingress-world-ssh.json",
    ))
    .unwrap();
    let req = &mut sg["detail"]["requestParameters"];
    *req = json!({"groupId": "sg-0123456789abcdef0", "ipPermissions": {"items": [{"ipProtocol": "tcp",
        "fromPort": 8080, "toPort": 8080, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}});
    let bytes = serde_json::to_vec(&sg).unwrap();
    assert_eq!(findings(&bytes, None, &RuleConfig::default()), vec![]);
    let mut config = RuleConfig::default();
    config.extra_admin_ports.insert(8080);
    assert_eq!(
        findings(&bytes, None, &config),
        vec![("ec2-security-group-open-to-world".to_owned(), High)]
    );

    // Name prefix of tripline-tampered.
    let bytes = read("cloudtrail-lambda-update-function-code-other.json");
    let config = RuleConfig {
        name_prefix: "report-".into(),
        ..RuleConfig::default()
    };
    assert_eq!(
        findings(&bytes, None, &config),
        vec![("tripline-tampered".to_owned(), High)]
    );
}

/// `ec2-security-group-open-to-world` on both request forms (event-shapes.md; EC2 API Reference
/// `AuthorizeSecurityGroupIngress`, `IpPermission`: protocol `-1` means all protocols and ports).
#[test]
fn security_group_forms() {
    let base: Value = serde_json::from_slice(&read(
        "cloudtrail-ec2-authorize-security-group-ingress-world-ssh.json",
    ))
    .unwrap();
    let perm = |proto: &str, from: i64, to: i64, v4: &[&str], v6: &[&str]| {
        json!({"groupId": "sg-0123456789abcdef0", "ipPermissions": {"items": [{"ipProtocol": proto,
            "fromPort": from, "toPort": to,
            "ipRanges": {"items": v4.iter().map(|c| json!({"cidrIp": c})).collect::<Vec<_>>()},
            "ipv6Ranges": {"items": v6.iter().map(|c| json!({"cidrIpv6": c})).collect::<Vec<_>>()}}]}})
    };
    let short = |cidr: &str, from: i64, to: i64| {
        json!({"groupId": "sg-0123456789abcdef0", "ipPermissions": {}, "cidrIp": cidr, "fromPort": from,
               "toPort": to, "ipProtocol": "tcp"})
    };
    let cases: Vec<(&str, Value, Option<Severity>)> = vec![
        ("short form ssh world", short("0.0.0.0/0", 22, 22), Some(High)),
        ("short form rdp world", short("0.0.0.0/0", 3389, 3389), Some(High)),
        ("short form https world", short("0.0.0.0/0", 443, 443), None),
        ("short form ssh private", short("10.0.0.0/8", 22, 22), None),
        (
            "short form range covering ssh",
            short("0.0.0.0/0", 20, 25),
            Some(High),
        ),
        (
            "short form all tcp ports",
            short("0.0.0.0/0", 0, 65535),
            Some(Critical),
        ),
        (
            "long form ipv6 ssh",
            perm("tcp", 22, 22, &[], &["::/0"]),
            Some(High),
        ),
        (
            "long form all protocols",
            perm("-1", -1, -1, &["0.0.0.0/0"], &[]),
            Some(Critical),
        ),
        (
            "long form all protocols private",
            perm("-1", -1, -1, &["172.16.0.0/12"], &[]),
            None,
        ),
        (
            "long form icmp world",
            perm("icmp", -1, -1, &["0.0.0.0/0"], &[]),
            None,
        ),
        (
            "long form udp 3389 world",
            perm("udp", 3389, 3389, &["0.0.0.0/0"], &[]),
            Some(High),
        ),
    ];
    for (name, req, want) in cases {
        let mut v = base.clone();
        v["detail"]["requestParameters"] = req;
        let got = findings(&serde_json::to_vec(&v).unwrap(), None, &RuleConfig::default());
        let want: Vec<(String, Severity)> = want
            .map(|s| ("ec2-security-group-open-to-world".to_owned(), s))
            .into_iter()
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn needs_and_triggered() {
    let bytes = read("cloudtrail-s3-put-bucket-policy-public.json");
    let Intake::Change(c) = intake(&bytes).unwrap() else {
        panic!()
    };
    let ids: Vec<&str> = rules::triggered(&c).iter().map(|r| r.id).collect();
    assert!(ids.contains(&"s3-bucket-policy-public") && ids.contains(&"s3-bucket-cross-account-access"));
    let needs = rules::needs(&c);
    assert!(needs.contains(&tripline_core::StateNeed::AccountPublicAccessBlock));
    assert!(needs.contains(&tripline_core::StateNeed::BucketPublicAccessBlock));
    // A failed call triggers nothing and needs nothing.
    let bytes = read("cloudtrail-s3-put-bucket-policy-access-denied.json");
    let Intake::Change(c) = intake(&bytes).unwrap() else {
        panic!()
    };
    assert!(rules::triggered(&c).is_empty() && rules::needs(&c).is_empty());
}

fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop_oneof![
            Just("*".to_owned()),
            Just("0.0.0.0/0".to_owned()),
            Just("all".to_owned()),
            Just("-1".to_owned()),
            Just("{\"Statement\":[]}".to_owned()),
            ".{0,12}"
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("Statement".to_owned()),
            Just("policyDocument".to_owned()),
            Just("bucketPolicy".to_owned()),
            Just("items".to_owned()),
            Just("ipPermissions".to_owned()),
            Just("add".to_owned()),
            Just("Principal".to_owned()),
            Just("x-amz-acl".to_owned()),
            Just("AccessControlPolicy".to_owned()),
            Just("attributes".to_owned()),
            "[a-zA-Z]{1,8}"
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Arbitrary request parameters never make a rule panic: at worst a rule reports an error.
    #[test]
    fn arbitrary_request_parameters_never_panic(req in arb_json(), resp in arb_json()) {
        let config = RuleConfig::default();
        for (file, _) in EXPECTED.iter().filter(|(f, _)| f.starts_with("cloudtrail-")) {
            let mut v: Value = serde_json::from_slice(&read(file)).unwrap();
            v["detail"]["requestParameters"] = req.clone();
            v["detail"]["responseElements"] = resp.clone();
            if let Ok(Intake::Change(c)) = intake(&serde_json::to_vec(&v).unwrap()) {
                let eval = rules::evaluate(&c, None, &config);
                for f in &eval.findings {
                    proptest::prop_assert!(tripline_core::render::sns::subject_is_valid(&tripline_core::render::sns::finding_subject(f)));
                }
            }
        }
    }
}

/// `iam-login-profile-created`: creating a password fires; another principal resetting a user's password
/// fires; a user updating their own does not.
#[test]
fn login_profile_cases() {
    let base: Value = serde_json::from_slice(&read("cloudtrail-iam-update-login-profile-self.json")).unwrap();
    let mut other = base.clone();
    other["detail"]["requestParameters"]["userName"] = json!("carol");
    let got = findings(&serde_json::to_vec(&other).unwrap(), None, &RuleConfig::default());
    assert_eq!(got, vec![("iam-login-profile-created".to_owned(), Medium)]);
    let got = findings(&serde_json::to_vec(&base).unwrap(), None, &RuleConfig::default());
    assert!(got.is_empty());
}
