//! Property tests of the diff and the remediation planner.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::{json, Value};
use tripline_core::policy::{self, narrow, Policy};

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:Get*",
    "S3:getobject",
    "s3:PutObject",
    "s3:*",
    "iam:PassRole",
    "iam:*",
    "*",
    "ec2:RunInstances",
    "s3:NotASupportedAction",
    "newsvc:Get*",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/a*",
    "arn:aws:s3:::b/a/x",
    "arn:aws:s3:::c/?",
    "arn:aws:iam::111122223333:role/*",
    "arn:aws:s3:::b/${aws:username}/*",
];

fn principals() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(json!("*"))),
        Just(Some(json!({"AWS": "111122223333"}))),
        Just(Some(json!({"AWS": "arn:aws:iam::999988887777:role/r"}))),
        Just(Some(json!({"Service": "cloudtrail.amazonaws.com"}))),
    ]
}

fn conditions() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(json!({"StringEquals": {"aws:SourceVpc": "vpc-1"}}))),
        Just(Some(json!({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}))),
        Just(Some(json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))),
        Just(Some(json!({"StringLike": {"aws:SourceVpc": "vpc-*"}}))),
        Just(Some(json!({"Bool": {"aws:SecureTransport": "true"}}))),
    ]
}

fn statement(effect: &'static str, with_principal: bool) -> impl Strategy<Value = Value> {
    (
        prop::sample::subsequence(ACTIONS, 1..3),
        any::<bool>(),
        prop::sample::subsequence(RESOURCES, 1..3),
        any::<bool>(),
        principals(),
        conditions(),
    )
        .prop_map(
            move |(actions, not_action, resources, not_resource, principal, condition)| {
                let mut s = json!({"Effect": effect});
                s[if not_action { "NotAction" } else { "Action" }] = json!(actions);
                s[if not_resource { "NotResource" } else { "Resource" }] = json!(resources);
                if with_principal {
                    s["Principal"] = principal.unwrap_or(json!("*"));
                }
                if let Some(c) = condition {
                    s["Condition"] = c;
                }
                s
            },
        )
}

fn any_statement(with_principal: bool) -> impl Strategy<Value = Value> {
    prop_oneof![3 => statement("Allow", with_principal), 1 => statement("Deny", with_principal)]
}

fn statements() -> impl Strategy<Value = (bool, Vec<Value>)> {
    any::<bool>().prop_flat_map(|p| (Just(p), prop::collection::vec(any_statement(p), 0..5)))
}

fn policy(statements: &[Value]) -> Policy {
    Policy::parse(&json!({"Version": "2012-10-17", "Statement": statements})).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn diff_with_itself_is_never_widened((_, s) in statements()) {
        let p = policy(&s);
        let d = policy::diff(&p, &p);
        prop_assert!(!d.widened, "{:#?}", d);
    }

    #[test]
    fn adding_an_allow_to_old_never_widens((wp, s) in statements(), new_s in prop::collection::vec(any_statement(false), 0..4), extra in statement("Allow", false)) {
        let _ = wp;
        let old = policy(&s);
        let mut more = s.clone();
        let mut extra = extra;
        if wp { extra["Principal"] = json!("*"); }
        more.push(extra);
        let old_plus = policy(&more);
        // Removing a statement from a policy never widens it.
        prop_assert!(!policy::diff(&old_plus, &old).widened);
        // Adding an Allow to old never makes the diff wider.
        let new = policy(&new_s);
        if !policy::diff(&old, &new).widened {
            prop_assert!(!policy::diff(&old_plus, &new).widened);
        }
    }

    #[test]
    fn dropping_a_deny_never_narrows((wp, s) in statements(), d in statement("Deny", false), at in 0usize..6) {
        let mut d = d;
        if wp { d["Principal"] = json!("*"); }
        let mut with = s.clone();
        with.insert(at.min(with.len()), d);
        // `with` (has the Deny) is never wider than `s` (the Deny dropped)...
        prop_assert!(!policy::diff(&policy(&s), &policy(&with)).widened);
    }

    #[test]
    fn order_never_matters((_, a) in statements(), (_, b) in statements(), rot in 0usize..5) {
        let rotate = |v: &Vec<Value>| { let mut v = v.clone(); if !v.is_empty() { let k = rot % v.len(); v.rotate_left(k); v.reverse(); } v };
        prop_assert!(!policy::diff(&policy(&a), &policy(&rotate(&a))).widened);
        prop_assert_eq!(policy::diff(&policy(&a), &policy(&b)).widened, policy::diff(&policy(&rotate(&a)), &policy(&rotate(&b))).widened);
    }

    #[test]
    fn narrowed_bucket_policy_is_never_wider_and_not_public(s in prop::collection::vec(any_statement(true), 1..5)) {
        let doc = json!({"Version": "2012-10-17", "Statement": s});
        let original = Policy::parse(&doc).unwrap();
        let n = narrow::remove_public_statements(&doc).unwrap();
        let narrowed = match &n.policy {
            Some(p) => Policy::parse(p).unwrap(),
            None => policy(&[]),
        };
        prop_assert!(!policy::diff(&original, &narrowed).widened);
        prop_assert!(!policy::bucket_policy_public(&narrowed).public);
        prop_assert_eq!(n.removed.is_empty(), !policy::bucket_policy_public(&original).public);
    }
}

#[test]
#[rustfmt::skip]
fn narrow_acl_shapes() {
    let all = json!({"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"});
    let me = json!({"Type": "CanonicalUser", "ID": "abc"});
    let cases = vec![
        json!({"Owner": {"ID": "abc"}, "Grants": [{"Grantee": me, "Permission": "FULL_CONTROL"}, {"Grantee": all, "Permission": "READ"}]}),
        json!({"AccessControlPolicy": {"AccessControlList": {"Grant": {"Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"}, "Permission": "READ"}}}}),
        json!({"bucketName": "b", "x-amz-acl": ["public-read"]}),
        // Grant headers (API_PutBucketAcl.html): the public grantee goes, the canonical user stays.
        json!({"bucketName": "b", "acl": [""], "x-amz-grant-read": "id=\"abc\", uri=\"http://acs.amazonaws.com/groups/global/AllUsers\""}),
        json!({"bucketName": "b", "acl": [""], "X-Amz-Grant-Write": ["uri=\"http://acs.amazonaws.com/groups/global/AuthenticatedUsers\""]}),
        // EventBridge-wrapped CloudTrail record.
        json!({"detail": {"eventName": "PutBucketAcl", "requestParameters": {"AccessControlPolicy": {"AccessControlList": {"Grant": [{"Grantee": {"xsi:type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}}}}}),
    ];
    for acl in cases {
        assert!(policy::acl_public(&acl).unwrap().public);
        let fixed = narrow::remove_public_grants(&acl).unwrap();
        assert!(!policy::acl_public(&fixed).unwrap().public, "{fixed}");
    }
    let kept = narrow::remove_public_grants(&json!({"Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"}]})).unwrap();
    assert_eq!(kept["Grants"].as_array().unwrap().len(), 1);
}

#[test]
fn narrow_keeps_private_statements_and_deletes_when_empty() {
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Cloudtrail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"},
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
    let n = narrow::remove_public_statements(&doc).unwrap();
    let p = n.policy.unwrap();
    assert_eq!(p["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(p["Statement"][0]["Sid"], "Cloudtrail");
    assert!(n.removed.iter().all(|r| r.statement == "Public"));
    let only_public = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}});
    assert_eq!(
        narrow::remove_public_statements(&only_public).unwrap().policy,
        None
    );
}

#[test]
fn escalation_and_admin() {
    let p = |s: Value| Policy::parse(&json!({"Version": "2012-10-17", "Statement": s})).unwrap();
    let ids = |pol: &Policy| {
        policy::escalation_combos(pol)
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>()
    };
    // Rhino: PassRole + ec2:RunInstances.
    let pr = p(json!([{"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}]));
    assert!(ids(&pr).contains(&"CreateEC2WithExistingInstanceProfile".to_string()));
    // Only one half of the combo: not enabled.
    let half = p(json!([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]));
    assert!(!ids(&half).contains(&"CreateEC2WithExistingInstanceProfile".to_string()));
    // Wildcards and case: iam:* enables the IAM-only methods.
    let iam = p(json!([{"Effect": "Allow", "Action": "IAM:*", "Resource": "*"}]));
    assert!(ids(&iam).contains(&"CreateNewPolicyVersion".to_string()));
    // An unconditional Deny removes it.
    let denied = p(
        json!([{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}, {"Effect": "Deny", "Action": "iam:CreatePolicyVersion", "Resource": "*"}]),
    );
    assert!(!ids(&denied).contains(&"CreateNewPolicyVersion".to_string()));
    let newly: Vec<String> = policy::newly_enabled_combos(&half, &pr)
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert!(newly.contains(&"CreateEC2WithExistingInstanceProfile".to_string()));
    assert!(policy::newly_enabled_combos(&pr, &pr).is_empty());
    // Full admin.
    let admin = p(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}));
    assert!(policy::grants_full_admin(&admin));
    assert!(!policy::grants_full_admin(&p(
        json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})
    )));
    assert!(!policy::grants_full_admin(&p(
        json!([{"Effect": "Allow", "Action": "*:*", "Resource": "*"}, {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}])
    )));
    assert!(!policy::grants_full_admin(&p(
        json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    )));
}
