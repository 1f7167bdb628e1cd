//! The sweep judgements of the customer-duty rules (issue 18), case by case, each cited.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use tripline_core::rules::{self, SweepContext};
use tripline_core::settings::RuleConfig;

const SWEEP: SweepContext<'static> = SweepContext {
    account: "111122223333",
    region: "us-east-1",
    time: "2026-12-06T03:00:00Z",
};

fn entry(n: i64, protocol: &str, action: &str, cidr: &str, ports: Option<(i64, i64)>) -> Value {
    let mut e = json!({"RuleNumber": n, "Protocol": protocol, "RuleAction": action, "Egress": false});
    let key = if cidr.contains(':') {
        "Ipv6CidrBlock"
    } else {
        "CidrBlock"
    };
    e[key] = json!(cidr);
    if let Some((f, t)) = ports {
        e["PortRange"] = json!({"From": f, "To": t});
    }
    e
}

fn acl(default: bool, entries: Vec<Value>) -> Value {
    json!({"NetworkAclId": "acl-0123456789abcdef0", "VpcId": "vpc-1", "IsDefault": default,
           "OwnerId": "111122223333", "Entries": entries})
}

fn severities(eval: &rules::Evaluation) -> Vec<(String, String)> {
    eval.findings
        .iter()
        .map(|f| (f.rule.clone(), f.severity.as_str().to_owned()))
        .collect()
}

/// VPC User Guide, "Network ACL rules" (https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html):
/// "Rules are evaluated starting with the lowest numbered rule. As soon as a rule matches traffic, it's
/// applied regardless of any higher-numbered rule that might contradict it." EC2 API Reference,
/// `NetworkAclEntry.Protocol`: "A value of "-1" means all protocols."
#[test]
fn network_acl_entries_in_rule_number_order() {
    let cfg = RuleConfig::default();
    let deny_all = entry(32767, "-1", "deny", "0.0.0.0/0", None);
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        (
            "allow all from the internet",
            acl(
                false,
                vec![entry(100, "-1", "allow", "0.0.0.0/0", None), deny_all.clone()],
            ),
            Some("critical"),
        ),
        (
            "a lower-numbered deny of all traffic shadows the allow",
            acl(
                false,
                vec![
                    entry(50, "-1", "deny", "0.0.0.0/0", None),
                    entry(100, "-1", "allow", "0.0.0.0/0", None),
                    deny_all.clone(),
                ],
            ),
            None,
        ),
        (
            "a higher-numbered deny does not: the allow matches first",
            acl(
                false,
                vec![
                    entry(100, "-1", "allow", "0.0.0.0/0", None),
                    entry(200, "-1", "deny", "0.0.0.0/0", None),
                ],
            ),
            Some("critical"),
        ),
        (
            "SSH from the internet (TCP 22)",
            acl(
                false,
                vec![
                    entry(110, "6", "allow", "0.0.0.0/0", Some((22, 22))),
                    deny_all.clone(),
                ],
            ),
            Some("high"),
        ),
        (
            "SSH allowed but denied first by a lower rule for TCP 0-1023",
            acl(
                false,
                vec![
                    entry(90, "6", "deny", "0.0.0.0/0", Some((0, 1023))),
                    entry(110, "6", "allow", "0.0.0.0/0", Some((22, 22))),
                ],
            ),
            None,
        ),
        (
            "a deny for part of the internet does not close the port to the rest",
            acl(
                false,
                vec![
                    entry(90, "6", "deny", "203.0.113.0/24", Some((22, 22))),
                    entry(110, "6", "allow", "0.0.0.0/0", Some((22, 22))),
                ],
            ),
            Some("high"),
        ),
        (
            "HTTPS only: no admin port",
            acl(
                false,
                vec![
                    entry(120, "6", "allow", "0.0.0.0/0", Some((443, 443))),
                    deny_all.clone(),
                ],
            ),
            None,
        ),
        (
            "allow all from ::/0 (IPv6)",
            acl(false, vec![entry(101, "-1", "allow", "::/0", None)]),
            Some("critical"),
        ),
        (
            "egress allow all does not count",
            acl(
                false,
                vec![
                    json!({"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true,
                            "CidrBlock": "0.0.0.0/0"}),
                ],
            ),
            None,
        ),
        (
            // VPC User Guide, "Default network ACL": "The default network ACL is configured to allow all
            // traffic to flow in and out of the subnets with which it is associated."
            "the default ACL as AWS creates it: low",
            acl(
                true,
                vec![entry(100, "-1", "allow", "0.0.0.0/0", None), deny_all.clone()],
            ),
            Some("low"),
        ),
        (
            "a default ACL with an added SSH allow is judged like any other",
            acl(
                true,
                vec![
                    entry(90, "6", "allow", "0.0.0.0/0", Some((22, 22))),
                    entry(100, "-1", "allow", "0.0.0.0/0", None),
                    deny_all,
                ],
            ),
            Some("critical"),
        ),
    ];
    for (what, a, want) in cases {
        let eval = rules::assess_network_acl(&SWEEP, "eu-west-1", &a, &cfg);
        assert!(eval.errors.is_empty(), "{what}: {:?}", eval.errors);
        let got: Vec<String> = eval
            .findings
            .iter()
            .map(|f| f.severity.as_str().to_owned())
            .collect();
        assert_eq!(
            got,
            want.map(|w| vec![w.to_owned()]).unwrap_or_default(),
            "{what}"
        );
        for f in &eval.findings {
            assert_eq!(f.rule, "ec2-network-acl-open-to-world");
            assert_eq!(
                f.resource.arn,
                "arn:aws:ec2:eu-west-1:111122223333:network-acl/acl-0123456789abcdef0"
            );
            assert_eq!(f.region, "eu-west-1");
        }
    }
    // A TCP entry without its port range is unknown: an error naming it, never a guess.
    let lacking = acl(
        false,
        vec![json!({"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow",
        "Egress": false, "CidrBlock": "0.0.0.0/0"})],
    );
    let eval = rules::assess_network_acl(&SWEEP, "eu-west-1", &lacking, &cfg);
    assert!(eval.findings.is_empty());
    assert!(eval.errors[0].message.contains("PortRange"), "{:?}", eval.errors);
}

/// IAM API Reference, GetAccountPasswordPolicy: `NoSuchEntity` when the account has none; `PasswordPolicy`
/// `ExpirePasswords`: "Returns false if MaxPasswordAge is 0 or not present." Default baseline: CIS AWS
/// Foundations Benchmark v3.0.0 1.8 (length >= 14) and 1.9 (reuse prevention 24).
#[test]
fn password_policy_against_the_baseline() {
    let cfg = RuleConfig::default();
    let none = rules::assess_password_policy(&SWEEP, None, &cfg);
    assert_eq!(
        severities(&none),
        vec![("iam-password-policy-weakened".into(), "medium".into())]
    );
    assert!(none.findings[0].summary.contains("no password policy"));
    assert_eq!(
        none.findings[0].resource.arn,
        "arn:aws:iam::111122223333:account-password-policy"
    );

    let cis = json!({"MinimumPasswordLength": 14, "PasswordReusePrevention": 24, "RequireSymbols": false,
        "RequireNumbers": false, "RequireUppercaseCharacters": false, "RequireLowercaseCharacters": false,
        "AllowUsersToChangePassword": true, "ExpirePasswords": false});
    assert!(rules::assess_password_policy(&SWEEP, Some(&cis), &cfg)
        .findings
        .is_empty());

    let mut weak = cis.clone();
    weak["MinimumPasswordLength"] = json!(8);
    let eval = rules::assess_password_policy(&SWEEP, Some(&weak), &cfg);
    assert_eq!(
        severities(&eval),
        vec![("iam-password-policy-weakened".into(), "medium".into())]
    );
    assert_eq!(
        eval.findings[0].evidence.details["below_baseline"],
        json!({"MinimumPasswordLength": 8})
    );
    assert!(eval.findings[0].state_confirmed);

    // Reuse prevention absent from the answer: unknown, low and not confirmed (never assumed 0).
    let mut unknown = cis.clone();
    unknown.as_object_mut().unwrap().remove("PasswordReusePrevention");
    let eval = rules::assess_password_policy(&SWEEP, Some(&unknown), &cfg);
    assert_eq!(
        severities(&eval),
        vec![("iam-password-policy-weakened".into(), "low".into())]
    );
    assert!(!eval.findings[0].state_confirmed);
}

/// AWS Security Hub controls RDS.2 ("RDS DB Instances should prohibit public access, as determined by the
/// PubliclyAccessible configuration"), RDS.3 (instances encrypted at rest) and RDS.27 (clusters).
#[test]
fn rds_instances_and_clusters() {
    let cfg = RuleConfig::default();
    let arn = "arn:aws:rds:eu-west-1:111122223333:db:orders";
    let cases = [
        (
            json!({"DBInstanceIdentifier": "orders", "DBInstanceArn": arn, "PubliclyAccessible": true,
                "StorageEncrypted": true}),
            vec!["rds-instance-public"],
        ),
        (
            json!({"DBInstanceIdentifier": "orders", "DBInstanceArn": arn, "PubliclyAccessible": false,
                "StorageEncrypted": false}),
            vec!["rds-storage-unencrypted"],
        ),
        (
            json!({"DBInstanceIdentifier": "orders", "DBInstanceArn": arn, "PubliclyAccessible": true,
                "StorageEncrypted": false}),
            vec!["rds-instance-public", "rds-storage-unencrypted"],
        ),
        (
            json!({"DBInstanceIdentifier": "orders", "DBInstanceArn": arn, "PubliclyAccessible": false,
                "StorageEncrypted": true}),
            vec![],
        ),
        // An Aurora member takes the cluster's encryption: judged on the cluster.
        (
            json!({"DBInstanceIdentifier": "orders", "DBInstanceArn": arn, "DBClusterIdentifier": "c",
                "PubliclyAccessible": false, "StorageEncrypted": false}),
            vec![],
        ),
        // Absent members are unknown: no claim.
        (
            json!({"DBInstanceIdentifier": "orders", "DBInstanceArn": arn}),
            vec![],
        ),
    ];
    for (instance, want) in cases {
        let eval = rules::assess_db_instance(&SWEEP, "eu-west-1", &instance, &cfg);
        let got: Vec<&str> = eval.findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(got, want, "{instance}");
        assert!(eval.findings.iter().all(|f| f.resource.arn == arn));
    }
    let cluster = json!({"DBClusterIdentifier": "c", "DBClusterArn": "arn:aws:rds:eu-west-1:111122223333:cluster:c",
        "StorageEncrypted": false});
    let eval = rules::assess_db_cluster(&SWEEP, "eu-west-1", &cluster, &cfg);
    assert_eq!(
        severities(&eval),
        vec![("rds-storage-unencrypted".into(), "medium".into())]
    );
    let mut encrypted = cluster.clone();
    encrypted["StorageEncrypted"] = json!(true);
    assert!(rules::assess_db_cluster(&SWEEP, "eu-west-1", &encrypted, &cfg)
        .findings
        .is_empty());
}

/// AWS Config records a node's patches under the compliance type: `configuration.AWS:ComplianceItem.
/// Content.Patch.<id>` (AWS's CloudTrail Lake sample queries over `AWS::SSM::PatchCompliance` items read
/// `$.eventData.configuration.AWS:ComplianceItem.Content.Patch`); entries carry `Status` and `Severity`
/// (SSM API Reference, PutComplianceItems / ComplianceItem).
#[test]
fn patch_compliance_items() {
    let cfg = RuleConfig::default();
    let item = |status: &str, severity: &str| {
        json!({"resourceId": "AWS::SSM::ManagedInstanceInventory/i-0a1b2c3d4e5f67890",
               "configuration": {"AWS:ComplianceItem": {"ComplianceType": "Patch", "Content": {"Patch": {
                   "KB1": {"Id": "KB1", "Status": status, "Severity": severity, "PatchState": "Missing"}}}}}})
    };
    let eval = rules::assess_patch_compliance(&SWEEP, "eu-west-1", &item("NON_COMPLIANT", "CRITICAL"), &cfg);
    assert_eq!(
        severities(&eval),
        vec![("ssm-patch-noncompliant".into(), "high".into())]
    );
    assert_eq!(
        eval.findings[0].resource.arn,
        "arn:aws:ec2:eu-west-1:111122223333:instance/i-0a1b2c3d4e5f67890"
    );
    let eval = rules::assess_patch_compliance(&SWEEP, "eu-west-1", &item("NON_COMPLIANT", "MEDIUM"), &cfg);
    assert_eq!(
        severities(&eval),
        vec![("ssm-patch-noncompliant".into(), "medium".into())]
    );
    assert!(
        rules::assess_patch_compliance(&SWEEP, "eu-west-1", &item("COMPLIANT", "CRITICAL"), &cfg)
            .findings
            .is_empty()
    );
}

/// Security Hub S3.5: a Deny on `aws:SecureTransport` = `false` for the bucket and its objects; the sweep
/// reports every bucket without it at low severity (the rule's documented choice).
#[test]
fn bucket_tls_in_the_sweep() {
    let cfg = RuleConfig::default();
    let pab = tripline_core::PublicAccessBlock::default();
    let state = tripline_core::state::BucketState::default();
    let eval = rules::assess_bucket(&SWEEP, "b", &state, Some(&pab), &cfg);
    assert_eq!(
        severities(&eval),
        vec![("s3-bucket-tls-not-required".into(), "low".into())]
    );
    let tls = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
        "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    let state = tripline_core::state::BucketState {
        policy: Some(tls),
        ..Default::default()
    };
    assert!(rules::assess_bucket(&SWEEP, "b", &state, Some(&pab), &cfg)
        .findings
        .is_empty());
}

/// The event side's state need (issue 18: "confirm with DescribeDBInstances when the record does not
/// settle it"): a `CreateDBInstance` without `publiclyAccessible` / `storageEncrypted` (RDS API Reference,
/// CreateDBInstance: `PubliclyAccessible`'s default depends on the subnet group and VPC;
/// `StorageEncrypted` defaults per engine) is settled by the instance as read, never assumed.
#[test]
fn rds_events_settled_by_the_instance_read() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/cloudtrail-rds-create-db-instance-private.json"
    );
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for side in ["requestParameters", "responseElements"] {
        let o = event["detail"][side].as_object_mut().unwrap();
        o.remove("publiclyAccessible");
        o.remove("storageEncrypted");
    }
    let bytes = serde_json::to_vec(&event).unwrap();
    let tripline_core::Intake::Change(change) = tripline_core::intake(&bytes).unwrap() else {
        panic!("not a change");
    };
    let needs = rules::needs(&change);
    assert!(
        needs.contains(&tripline_core::state::StateNeed::DbInstance),
        "{needs:?}"
    );
    let cfg = RuleConfig::default();
    let judge = |read: Option<Value>| {
        let state = tripline_core::State {
            db_instance: read,
            ..Default::default()
        };
        let eval = rules::evaluate(&change, Some(&state), &cfg);
        eval.findings
            .iter()
            .map(|f| (f.rule.clone(), f.state_confirmed))
            .collect::<Vec<_>>()
    };
    // Nothing read (not found, or not fetched): no claim.
    assert_eq!(judge(None), vec![]);
    assert_eq!(
        judge(Some(
            json!({"PubliclyAccessible": false, "StorageEncrypted": true})
        )),
        vec![]
    );
    assert_eq!(
        judge(Some(
            json!({"PubliclyAccessible": true, "StorageEncrypted": true})
        )),
        vec![("rds-instance-public".to_owned(), true)]
    );
    assert_eq!(
        judge(Some(
            json!({"PubliclyAccessible": false, "StorageEncrypted": false})
        )),
        vec![("rds-storage-unencrypted".to_owned(), true)]
    );
}
