//! `iam-access-key-created-for-other-user`: what "a different IAM user" means for each
//! `userIdentity.type`, one case per line, built from the `events/` samples.
//!
//! Sources:
//! - [API] IAM API Reference, `CreateAccessKey`, `UserName`: "If you do not specify a user name, IAM
//!   determines the user name implicitly based on the AWS access key ID signing the request."
//!   <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html>
//! - [IDS] IAM User Guide, "IAM identifiers": user names "are not distinguished by case".
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html>
//! - [CT] CloudTrail `userIdentity` element: `type` is `Root`, `IAMUser`, `AssumedRole`, `FederatedUser`,
//!   `IdentityCenterUser`, `AWSAccount` or `AWSService`.
//!   <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html>
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use serde_json::{json, Value};
use tripline_core::rules;
use tripline_core::settings::RuleConfig;
use tripline_core::{intake, Intake};

const RULE: &str = "iam-access-key-created-for-other-user";

fn sample(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(file);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `Some(true)`: a finding; `Some(false)`: quiet; `None`: an `errors` entry of this rule (the record
/// cannot say).
fn judge(v: &Value) -> Option<bool> {
    let Intake::Change(c) = intake(&serde_json::to_vec(v).unwrap()).unwrap() else {
        panic!("not a change")
    };
    let eval = rules::evaluate(&c, None, &RuleConfig::default());
    if eval.errors.iter().any(|e| e.rule == RULE) {
        return None;
    }
    Some(eval.findings.iter().any(|f| f.rule == RULE))
}

/// The IAM-user sample (alice) with `requestParameters` / `responseElements` replaced.
fn by_alice(req: Value, resp_user: Option<&str>) -> Value {
    let mut v = sample("cloudtrail-iam-create-access-key-user.json");
    v["detail"]["requestParameters"] = req;
    match resp_user {
        Some(u) => v["detail"]["responseElements"]["accessKey"]["userName"] = json!(u),
        None => {
            v["detail"]["responseElements"]["accessKey"]
                .as_object_mut()
                .unwrap()
                .remove("userName");
        }
    }
    v
}

fn with_identity(mut v: Value, identity: Value) -> Value {
    v["detail"]["userIdentity"] = identity;
    v
}

#[test]
#[rustfmt::skip]
fn different_user_per_identity_type() {
    let role = sample("cloudtrail-iam-create-access-key-assumed-role.json");
    let cases: Vec<(&str, Value, Option<bool>)> = vec![
        // [API] IAM user, no user name anywhere: the caller's own key.
        ("IAMUser, no userName", by_alice(Value::Null, None), Some(false)),
        ("IAMUser, response names itself", by_alice(Value::Null, Some("alice")), Some(false)),
        ("IAMUser names itself", by_alice(json!({"userName": "alice"}), Some("alice")), Some(false)),
        // [IDS] names are not distinguished by case: `Alice` is alice.
        ("IAMUser names itself in another case", by_alice(json!({"userName": "Alice"}), Some("Alice")), Some(false)),
        ("IAMUser names another user", by_alice(json!({"userName": "ci-deployer"}), Some("ci-deployer")), Some(true)),
        ("IAMUser, only the response names another user", by_alice(Value::Null, Some("ci-deployer")), Some(true)),
        // A user with a path: its name is the ARN's last segment.
        ("IAMUser with a path names itself", with_identity(by_alice(json!({"userName": "alice"}), None),
            json!({"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/division/alice", "accountId": "111122223333", "userName": "alice"})), Some(false)),
        ("IAMUser whose ARN is missing names a user", with_identity(by_alice(json!({"userName": "ci-deployer"}), None),
            json!({"type": "IAMUser", "accountId": "111122223333"})), None),
        // [CT] Root is not an IAM user: any named user is another; none named is root's own key.
        ("Root names a user", with_identity(by_alice(json!({"userName": "alice"}), None),
            sample("cloudtrail-iam-create-access-key-root.json")["detail"]["userIdentity"].clone()), Some(true)),
        ("Root names none", sample("cloudtrail-iam-create-access-key-root.json"), Some(false)),
        // [CT] sessions and services are never the IAM user they name.
        ("AssumedRole names a user", role.clone(), Some(true)),
        ("AssumedRole, only the response names a user", {
            let mut v = role.clone();
            v["detail"]["requestParameters"] = Value::Null;
            v
        }, Some(true)),
        ("AssumedRole names none", {
            let mut v = role.clone();
            v["detail"]["requestParameters"] = Value::Null;
            v["detail"]["responseElements"] = Value::Null;
            v
        }, None),
        ("FederatedUser names a user", with_identity(by_alice(json!({"userName": "alice"}), None),
            json!({"type": "FederatedUser", "arn": "arn:aws:sts::111122223333:federated-user/alice", "accountId": "111122223333",
                   "sessionContext": {"sessionIssuer": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "userName": "alice"}}})), Some(true)),
        ("IdentityCenterUser names a user", with_identity(by_alice(json!({"userName": "ci-deployer"}), None),
            json!({"type": "IdentityCenterUser", "accountId": "111122223333", "onBehalfOf": {"userId": "9067c5f0-e0a1-70b1-5a37-6a2d4c8e1f92"}})), Some(true)),
        ("AWSService names a user", with_identity(by_alice(json!({"userName": "ci-deployer"}), None),
            json!({"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"})), Some(true)),
    ];
    let mut bad = Vec::new();
    for (name, v, expected) in cases {
        let got = judge(&v);
        if got != expected {
            bad.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(bad.is_empty(), "{} disagreements:\n{}", bad.len(), bad.join("\n"));
}

/// The finding names the key's user as its resource and the caller in its reason.
#[test]
fn the_finding_names_the_user_and_the_caller() {
    let v = sample("cloudtrail-iam-create-access-key-assumed-role.json");
    let Intake::Change(c) = intake(&serde_json::to_vec(&v).unwrap()).unwrap() else {
        panic!()
    };
    let eval = rules::evaluate(&c, None, &RuleConfig::default());
    let f = eval.findings.iter().find(|f| f.rule == RULE).unwrap();
    assert_eq!(f.resource.arn, "arn:aws:iam::111122223333:user/backup-admin");
    assert_eq!(f.resource.name.as_deref(), Some("backup-admin"));
    assert!(
        f.evidence.reasons[0].contains("OpsAutomation"),
        "{:?}",
        f.evidence.reasons
    );
    assert!(
        f.evidence.reasons[0].contains("AssumedRole"),
        "{:?}",
        f.evidence.reasons
    );
    assert_eq!(f.evidence.details["access_key_id"], json!("AKIA4EXAMPLEV9C2HT6Q"));
}

/// Both new rules of this branch are event rules the on-cloudtrail EventBridge pattern routes: every
/// trigger's event name is in the registry's pattern for its source (`tripline patterns`, which
/// `make template-sync` writes into the templates; `cli/tests/template.rs` checks the templates against it).
#[test]
fn the_new_rules_are_routed_by_the_event_patterns() {
    let patterns = rules::event_patterns();
    for id in [RULE, "rds-cluster-snapshot-public"] {
        let rule = rules::by_id(id).unwrap();
        assert!(!rule.cloudtrail.is_empty(), "{id}: not an event rule");
        for t in rule.cloudtrail {
            let short = t.source.strip_suffix(".amazonaws.com").unwrap();
            let names = patterns[short]["detail"]["eventName"].as_array().unwrap();
            for n in t.names {
                assert!(names.contains(&json!(n)), "{id}: {n} not routed");
            }
        }
    }
}
