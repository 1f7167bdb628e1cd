//! The customer's duties of the shared-responsibility model (issue 18): the password baseline and its
//! configuration, network ACL entries, RDS instances and clusters, TLS-only buckets and patch compliance,
//! beyond the `events/` samples pinned in `rules_samples.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use tripline_core::finding::{Finding, Severity};
use tripline_core::rules;
use tripline_core::settings::{PasswordBaseline, RuleConfig};
use tripline_core::{intake, Intake};

fn sample(file: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(file);
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

/// The findings of `rule` for a payload, and the rule errors.
fn run(v: &Value, rule: &str, config: &RuleConfig) -> (Vec<Finding>, usize) {
    let Intake::Change(c) = intake(&serde_json::to_vec(v).unwrap()).unwrap() else {
        panic!("not a change")
    };
    let eval = rules::evaluate(&c, None, config);
    let errors = eval.errors.iter().filter(|e| e.rule == rule).count();
    (
        eval.findings.into_iter().filter(|f| f.rule == rule).collect(),
        errors,
    )
}

fn with_request(file: &str, req: Value) -> Value {
    let mut v = sample(file);
    v["detail"]["requestParameters"] = req;
    v
}

#[test]
fn password_baseline_default_configured_and_unknown() {
    let cfg = RuleConfig::default();
    assert_eq!(cfg.password_baseline.minimum_password_length, 14);
    assert_eq!(cfg.password_baseline.password_reuse_prevention, 24);
    let cis = "cloudtrail-iam-update-account-password-policy-cis.json";
    assert!(run(&sample(cis), "iam-password-policy-weakened", &cfg)
        .0
        .is_empty());

    // A stricter configured baseline: the CIS sample allows passwords to live 90 days, the baseline 60.
    let env = BTreeMap::from([(
        "TRIPLINE_PASSWORD_BASELINE".to_owned(),
        r#"{"minimum_password_length": 16, "max_password_age": 60}"#.to_owned(),
    )]);
    let strict = rules::config_from_env(&env).unwrap();
    assert_eq!(
        strict.password_baseline.password_reuse_prevention, 24,
        "absent keys keep defaults"
    );
    let (f, _) = run(&sample(cis), "iam-password-policy-weakened", &strict);
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].evidence.details["below_baseline"],
        json!({"minimumPasswordLength": 14, "maxPasswordAge": 90})
    );

    // Invalid baselines: one-line errors naming the variable.
    for bad in [
        r#"{"minimum_password_length": 4}"#,
        r#"{"password_reuse_prevention": 25}"#,
        r#"{"minimum_length": 14}"#,
        "14",
    ] {
        let env = BTreeMap::from([("TRIPLINE_PASSWORD_BASELINE".to_owned(), bad.to_owned())]);
        let e = rules::config_from_env(&env).unwrap_err().to_string();
        assert!(
            e.contains("TRIPLINE_PASSWORD_BASELINE") && !e.contains('\n'),
            "{e}"
        );
    }
    assert_eq!(
        PasswordBaseline::parse("{}").unwrap(),
        PasswordBaseline::default()
    );

    // An absent setting is unknown, never its default: reported as such, not confirmed, low.
    let partial = with_request(
        cis,
        json!({"minimumPasswordLength": 14, "requireSymbols": true, "allowUsersToChangePassword": true}),
    );
    let (f, _) = run(&partial, "iam-password-policy-weakened", &cfg);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Low);
    assert!(!f[0].state_confirmed);
    assert_eq!(
        f[0].evidence.details["record_lacks"],
        json!(["requestParameters.passwordReusePrevention"])
    );
    assert!(!f[0].evidence.details.contains_key("below_baseline"));
}

#[test]
fn network_acl_entries() {
    let file = "cloudtrail-ec2-create-network-acl-entry-world-ssh.json";
    let entry = |proto: &str, from: i64, to: i64, cidr: &str| {
        json!({"networkAclId": "acl-0c3f5e7a9b1d24680", "ruleNumber": 90, "egress": false,
               "ruleAction": "allow", "portRange": {"from": from, "to": to}, "aclProtocol": proto,
               "cidrBlock": cidr})
    };
    let cfg = RuleConfig::default();
    let cases: Vec<(&str, Value, Option<Severity>)> = vec![
        (
            "tcp range covering rdp",
            entry("6", 3000, 4000, "0.0.0.0/0"),
            Some(Severity::High),
        ),
        ("udp 22", entry("17", 22, 22, "0.0.0.0/0"), Some(Severity::High)),
        ("https only", entry("6", 443, 443, "0.0.0.0/0"), None),
        ("icmp", entry("1", 22, 22, "0.0.0.0/0"), None),
        ("private range", entry("6", 22, 22, "10.0.0.0/8"), None),
        (
            "all traffic",
            entry("-1", 0, 0, "0.0.0.0/0"),
            Some(Severity::Critical),
        ),
    ];
    for (what, req, want) in cases {
        let (f, e) = run(&with_request(file, req), "ec2-network-acl-open-to-world", &cfg);
        assert_eq!(e, 0, "{what}");
        assert_eq!(f.first().map(|f| f.severity), want, "{what}");
    }
    // The configured admin ports: the same port policy as the security-group rule.
    let pg = with_request(file, entry("6", 5432, 5432, "0.0.0.0/0"));
    assert!(run(&pg, "ec2-network-acl-open-to-world", &cfg).0.is_empty());
    let mut with_pg = RuleConfig::default();
    with_pg.extra_admin_ports.insert(5432);
    assert_eq!(run(&pg, "ec2-network-acl-open-to-world", &with_pg).0.len(), 1);
    // TCP without the port range: unknown reach, reported as such and not confirmed.
    let mut no_ports = entry("6", 0, 0, "0.0.0.0/0");
    no_ports.as_object_mut().unwrap().remove("portRange");
    let (f, _) = run(
        &with_request(file, no_ports),
        "ec2-network-acl-open-to-world",
        &cfg,
    );
    assert!(!f[0].state_confirmed);
    assert_eq!(
        f[0].evidence.details["record_lacks"],
        json!([
            "requestParameters.portRange.from",
            "requestParameters.portRange.to"
        ])
    );
    // Without `egress` (required by the API) the entry cannot be judged: an error, no finding.
    let mut no_egress = entry("-1", 0, 0, "0.0.0.0/0");
    no_egress.as_object_mut().unwrap().remove("egress");
    let (f, e) = run(
        &with_request(file, no_egress),
        "ec2-network-acl-open-to-world",
        &cfg,
    );
    assert!(f.is_empty());
    assert_eq!(e, 1);
}

#[test]
fn rds_instances_and_clusters() {
    let cfg = RuleConfig::default();
    let private = sample("cloudtrail-rds-create-db-instance-private.json");

    // A creation the response confirms public.
    let mut public = private.clone();
    public["detail"]["requestParameters"]["publiclyAccessible"] = json!(true);
    public["detail"]["responseElements"]["publiclyAccessible"] = json!(true);
    let (f, _) = run(&public, "rds-instance-public", &cfg);
    assert!(f[0].state_confirmed);
    assert_eq!(
        f[0].resource.arn,
        "arn:aws:rds:us-east-1:111122223333:db:orders-db-2"
    );
    // Without the response: not confirmed.
    public["detail"]["responseElements"] = Value::Null;
    assert!(!run(&public, "rds-instance-public", &cfg).0[0].state_confirmed);
    // `publiclyAccessible` absent: its default depends on the subnet group, unknown: nothing.
    let mut absent = private.clone();
    absent["detail"]["requestParameters"]
        .as_object_mut()
        .unwrap()
        .remove("publiclyAccessible");
    assert!(run(&absent, "rds-instance-public", &cfg).0.is_empty());

    // Storage: the request decides, else the response; neither: unknown, nothing (and no error).
    let mut unenc = private.clone();
    unenc["detail"]["requestParameters"]
        .as_object_mut()
        .unwrap()
        .remove("storageEncrypted");
    unenc["detail"]["responseElements"]["storageEncrypted"] = json!(false);
    assert_eq!(run(&unenc, "rds-storage-unencrypted", &cfg).0.len(), 1);
    unenc["detail"]["responseElements"] = Value::Null;
    assert_eq!(run(&unenc, "rds-storage-unencrypted", &cfg), (vec![], 0));

    // A cluster created unencrypted; an Aurora instance inside a cluster is judged on the cluster.
    let mut cluster = private.clone();
    cluster["detail"]["eventName"] = json!("CreateDBCluster");
    cluster["detail"]["requestParameters"] = json!({"dBClusterIdentifier": "orders-aurora",
        "engine": "aurora-postgresql", "storageEncrypted": false});
    cluster["detail"]["responseElements"] = Value::Null;
    let (f, _) = run(&cluster, "rds-storage-unencrypted", &cfg);
    assert_eq!(f[0].resource.resource_type, "AWS::RDS::DBCluster");
    assert_eq!(
        f[0].resource.arn,
        "arn:aws:rds:us-east-1:111122223333:cluster:orders-aurora"
    );
    let mut member = private;
    member["detail"]["requestParameters"]["dBClusterIdentifier"] = json!("orders-aurora");
    member["detail"]["requestParameters"]["storageEncrypted"] = json!(false);
    assert!(run(&member, "rds-storage-unencrypted", &cfg).0.is_empty());
}

#[test]
fn tls_requirement_removed_or_unknown() {
    let cfg = RuleConfig::default();
    // DeleteBucketPolicy: low and not confirmed (the deleted policy is not in the record).
    let (f, _) = run(
        &sample("cloudtrail-s3-delete-bucket-policy.json"),
        "s3-bucket-tls-not-required",
        &cfg,
    );
    assert_eq!((f[0].severity, f[0].state_confirmed), (Severity::Low, false));
    // A Config item whose diff does not carry the previous policy: unknown, nothing.
    let mut item = sample("config-s3-bucket-item-change.json");
    item["detail"]["configurationItemDiff"] = json!({"changedProperties": {}, "changeType": "UPDATE"});
    assert!(run(&item, "s3-bucket-tls-not-required", &cfg).0.is_empty());
    // A policy that never mentions aws:SecureTransport: judged by the Config item, not the call.
    let public = sample("cloudtrail-s3-put-bucket-policy-public.json");
    assert!(run(&public, "s3-bucket-tls-not-required", &cfg).0.is_empty());
}

#[test]
fn patch_compliance_turning_non_compliant() {
    let cfg = RuleConfig::default();
    let item = sample("config-ssm-patch-compliance-non-compliant.json");
    // Already non-compliant before (the diff says so): reported then, not again.
    let mut again = item.clone();
    let prop = &mut again["detail"]["configurationItemDiff"]["changedProperties"]
        ["Configuration.AWS:ComplianceItem.Content.Patch.KB5044284"];
    prop["previousValue"]["Status"] = json!("NON_COMPLIANT");
    assert!(run(&again, "ssm-patch-noncompliant", &cfg).0.is_empty());
    // No diff (a first recording): the non-compliant patches are reported.
    let mut first = item.clone();
    first["detail"]
        .as_object_mut()
        .unwrap()
        .remove("configurationItemDiff");
    assert_eq!(run(&first, "ssm-patch-noncompliant", &cfg).0.len(), 1);
    // A deleted item raises nothing.
    let mut deleted = item;
    deleted["detail"]["configurationItem"]["configurationItemStatus"] = json!("ResourceDeleted");
    assert!(run(&deleted, "ssm-patch-noncompliant", &cfg).0.is_empty());
}
