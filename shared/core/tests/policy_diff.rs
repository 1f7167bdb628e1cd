//! "No new access" cases, one line per case. IAM evaluation logic:
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use tripline_core::policy::{self, Policy};

fn doc(statements: Value) -> Policy {
    Policy::parse(&json!({"Version": "2012-10-17", "Statement": statements})).unwrap()
}

fn allow(action: Value, resource: Value) -> Value {
    json!({"Effect": "Allow", "Action": action, "Resource": resource})
}

fn with_cond(mut s: Value, cond: Value) -> Value {
    s["Condition"] = cond;
    s
}

fn deny(action: Value, resource: Value) -> Value {
    json!({"Effect": "Deny", "Action": action, "Resource": resource})
}

/// Every `s3:Get*` action of the catalog, listed explicitly.
fn explicit_s3_get() -> Value {
    let c = tripline_core::policy::actions::catalog();
    let list: Vec<String> = c
        .expand("s3:Get*")
        .into_iter()
        .map(|i| c.names[i].clone())
        .collect();
    assert!(list.len() > 20);
    json!(list)
}

#[test]
#[rustfmt::skip]
fn diff_cases() {
    let b = json!("arn:aws:s3:::b/*");
    let vpc = json!({"StringEquals": {"aws:SourceVpc": "vpc-1"}});
    let cases: Vec<(&str, Value, Value, bool)> = vec![
        ("identical", json!([allow(json!("s3:GetObject"), b.clone())]), json!([allow(json!("s3:GetObject"), b.clone())]), false),
        // Statement order does not matter.
        ("reordered", json!([allow(json!("s3:GetObject"), b.clone()), allow(json!("s3:PutObject"), b.clone())]), json!([allow(json!("s3:PutObject"), b.clone()), allow(json!("s3:GetObject"), b.clone())]), false),
        // Action names are case-insensitive (IAM Action element reference).
        ("case-changed action", json!([allow(json!("s3:GetObject"), b.clone())]), json!([allow(json!("S3:getobject"), b.clone())]), false),
        // Wildcards expand against the action catalog: s3:Get* equals the explicit list it covers...
        ("get* vs explicit list", json!([allow(explicit_s3_get(), b.clone())]), json!([allow(json!("s3:Get*"), b.clone())]), false),
        ("explicit list vs get*", json!([allow(json!("s3:Get*"), b.clone())]), json!([allow(explicit_s3_get(), b.clone())]), false),
        // ...but one extra action widens.
        ("get* plus one", json!([allow(json!("s3:Get*"), b.clone())]), json!([allow(json!(["s3:Get*", "s3:PutObject"]), b.clone())]), true),
        ("action star", json!([allow(json!("s3:*"), json!("*"))]), json!([allow(json!("*"), json!("*"))]), true),
        ("star to s3", json!([allow(json!("*"), json!("*"))]), json!([allow(json!("s3:*"), json!("*"))]), false),
        // Resource ARNs: containment of glob patterns, case-sensitive.
        ("resource narrower", json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"))]), json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/logs/*"))]), false),
        ("resource wider", json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/logs/*"))]), json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"))]), true),
        ("resource case changed", json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"))]), json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::B/*"))]), true),
        ("resource ? vs *", json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"))]), json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/?"))]), false),
        ("resource split cover", json!([allow(json!("s3:GetObject"), json!(["arn:aws:s3:::b/a*", "arn:aws:s3:::b/b*"]))]), json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"))]), true),
        // iam:PassRole on * versus one role.
        ("passrole on star", json!([allow(json!("iam:PassRole"), json!("arn:aws:iam::111122223333:role/app"))]), json!([allow(json!("iam:PassRole"), json!("*"))]), true),
        // NotAction / NotResource.
        ("notaction iam vs star", json!([json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]), json!([allow(json!("*"), json!("*"))]), true),
        ("star vs notaction", json!([allow(json!("*"), json!("*"))]), json!([json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]), false),
        ("notresource", json!([json!({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"})]), json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::secret/x"))]), true),
        ("notresource narrower", json!([allow(json!("s3:GetObject"), json!("*"))]), json!([json!({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"})]), false),
        // Deny: adding narrows, removing widens (explicit Deny wins).
        ("deny added", json!([allow(json!("s3:*"), json!("*"))]), json!([allow(json!("s3:*"), json!("*")), deny(json!("s3:DeleteObject"), json!("*"))]), false),
        ("deny removed", json!([allow(json!("s3:*"), json!("*")), deny(json!("s3:DeleteObject"), json!("*"))]), json!([allow(json!("s3:*"), json!("*"))]), true),
        ("deny narrowed", json!([allow(json!("s3:*"), json!("*")), deny(json!("s3:Delete*"), json!("*"))]), json!([allow(json!("s3:*"), json!("*")), deny(json!("s3:DeleteObject"), json!("*"))]), true),
        ("allow cut by new deny", json!([allow(json!("s3:GetObject"), json!("*"))]), json!([allow(json!("s3:*"), json!("*")), json!({"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"})]), false),
        // Conditions: adding narrows, removing widens.
        ("condition added", json!([allow(json!("s3:GetObject"), b.clone())]), json!([with_cond(allow(json!("s3:GetObject"), b.clone()), vpc.clone())]), false),
        ("condition removed", json!([with_cond(allow(json!("s3:GetObject"), b.clone()), vpc.clone())]), json!([allow(json!("s3:GetObject"), b.clone())]), true),
        ("condition values narrowed", json!([with_cond(allow(json!("s3:GetObject"), b.clone()), json!({"StringEquals": {"aws:SourceVpc": ["vpc-1", "vpc-2"]}}))]), json!([with_cond(allow(json!("s3:GetObject"), b.clone()), json!({"StringEquals": {"AWS:SourceVPC": "vpc-1"}}))]), false),
        ("condition values widened", json!([with_cond(allow(json!("s3:GetObject"), b.clone()), vpc.clone())]), json!([with_cond(allow(json!("s3:GetObject"), b.clone()), json!({"StringEquals": {"aws:SourceVpc": ["vpc-1", "vpc-2"]}}))]), true),
        ("cidr narrowed", json!([with_cond(allow(json!("s3:GetObject"), b.clone()), json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))]), json!([with_cond(allow(json!("s3:GetObject"), b.clone()), json!({"IpAddress": {"aws:SourceIp": "10.1.0.0/16"}}))]), false),
        // Deny carve-out: "deny unless vpc-1" removed widens; new allow only inside vpc-1 is fine.
        ("carve-out removed", json!([allow(json!("s3:*"), json!("*")), with_cond(deny(json!("s3:*"), json!("*")), json!({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}))]), json!([allow(json!("s3:*"), json!("*"))]), true),
        ("carve-out respected", json!([allow(json!("s3:*"), json!("*")), with_cond(deny(json!("s3:*"), json!("*")), json!({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}))]), json!([with_cond(allow(json!("s3:*"), json!("*")), vpc.clone())]), false),
        // Unknown operator: cannot prove, so widened.
        ("unknown operator", json!([allow(json!("s3:GetObject"), b.clone())]), json!([with_cond(allow(json!("s3:GetObject"), b.clone()), json!({"StringFuzzy": {"aws:SourceVpc": "vpc-1"}}))]), false),
        ("unknown operator removed", json!([with_cond(allow(json!("s3:GetObject"), b.clone()), json!({"StringFuzzy": {"aws:SourceVpc": "vpc-1"}}))]), json!([allow(json!("s3:GetObject"), b.clone())]), true),
        // Policy variables (2012-10-17): a per-user folder widened to the whole bucket.
        ("variable to star", json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/${aws:username}/*"))]), json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"))]), true),
        ("star to variable", json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"))]), json!([allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/${aws:username}/*"))]), false),
        // Duplicate statements change nothing.
        ("duplicates", json!([allow(json!("s3:GetObject"), b.clone())]), json!([allow(json!("s3:GetObject"), b.clone()), allow(json!("s3:GetObject"), b.clone())]), false),
        // Unknown actions are literal names.
        ("unknown action same", json!([allow(json!("s3:NotASupportedAction"), b.clone())]), json!([allow(json!("s3:notasupportedaction"), b.clone())]), false),
        ("unknown action added", json!([allow(json!("s3:GetObject"), b.clone())]), json!([allow(json!(["s3:GetObject", "s3:NotASupportedAction"]), b.clone())]), true),
        ("unknown service wildcard", json!([allow(json!("newsvc:Get*"), json!("*"))]), json!([allow(json!("newsvc:*"), json!("*"))]), true),
        // Every action has the form `service:action`: `*` and `*:*` allow the same.
        ("star colon star to star", json!([allow(json!("*:*"), json!("*"))]), json!([allow(json!("*"), json!("*"))]), false),
        ("star to star colon star", json!([allow(json!("*"), json!("*"))]), json!([allow(json!("*:*"), json!("*"))]), false),
        ("empty to something", json!([]), json!([allow(json!("s3:GetObject"), b.clone())]), true),
        ("something to empty", json!([allow(json!("s3:GetObject"), b.clone())]), json!([]), false),
    ];
    for (name, old, new, widened) in cases {
        let d = policy::diff(&doc(old), &doc(new));
        assert_eq!(d.widened, widened, "{name}: {d:#?}");
        assert_eq!(d.widened, !d.reasons.is_empty(), "{name}");
        if widened {
            assert!(
                !d.new_access.is_empty() || d.reasons.iter().any(|r| r.code == "cannot-prove"),
                "{name}"
            );
        }
    }
}

#[test]
fn unknown_operator_says_cannot_prove() {
    let old = doc(json!([with_cond(
        allow(json!("s3:GetObject"), json!("*")),
        json!({"StringFuzzy": {"k": "v"}})
    )]));
    let new = doc(json!([with_cond(
        allow(json!("s3:GetObject"), json!("*")),
        json!({"StringFuzzy": {"k": "w"}})
    )]));
    let d = policy::diff(&old, &new);
    assert!(d.widened);
    assert!(
        d.reasons
            .iter()
            .any(|r| r.code == "cannot-prove" && r.cause.contains("cannot prove")),
        "{d:?}"
    );
}

#[test]
fn unknown_operator_on_a_replacement_deny_says_cannot_prove() {
    let old = doc(json!([
        allow(json!("s3:*"), json!("*")),
        deny(json!("s3:Delete*"), json!("*"))
    ]));
    let new = doc(json!([
        allow(json!("s3:*"), json!("*")),
        with_cond(
            deny(json!("s3:Delete*"), json!("*")),
            json!({"StringFuzzy": {"k": "v"}})
        )
    ]));
    let d = policy::diff(&old, &new);
    assert!(d.widened);
    assert!(d.reasons.iter().all(|r| r.code == "cannot-prove"), "{d:?}");
}

#[test]
fn witnesses_are_concrete() {
    let old = doc(json!([allow(
        json!("iam:PassRole"),
        json!("arn:aws:iam::111122223333:role/app")
    )]));
    let new = doc(json!([allow(
        json!(["iam:PassRole", "s3:GetObject"]),
        json!("arn:aws:iam::111122223333:role/*")
    )]));
    let d = policy::diff(&old, &new);
    assert!(d.widened);
    assert!(d.new_access.iter().any(|a| a.action == "s3:GetObject"), "{d:#?}");
    assert!(
        d.new_access
            .iter()
            .any(|a| a.action == "iam:PassRole" && a.resource != "arn:aws:iam::111122223333:role/app"),
        "{d:#?}"
    );
}

#[test]
#[rustfmt::skip]
fn principals_in_resource_policies() {
    let p = |principal: Value| {
        doc(
            json!([{"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]),
        )
    };
    let cases: Vec<(&str, Value, Value, bool)> = vec![
        ("same", json!({"AWS": "111122223333"}), json!({"AWS": "arn:aws:iam::111122223333:root"}), false),
        ("role within account", json!({"AWS": "111122223333"}), json!({"AWS": "arn:aws:iam::111122223333:role/r"}), false),
        ("account wider than role", json!({"AWS": "arn:aws:iam::111122223333:role/r"}), json!({"AWS": "111122223333"}), true),
        ("other account", json!({"AWS": "111122223333"}), json!({"AWS": "999988887777"}), true),
        ("to star", json!({"AWS": "111122223333"}), json!("*"), true),
        ("aws star equals star", json!({"AWS": "*"}), json!("*"), false),
        ("service added", json!({"Service": "cloudtrail.amazonaws.com"}), json!({"Service": ["cloudtrail.amazonaws.com", "config.amazonaws.com"]}), true),
    ];
    for (name, old, new, widened) in cases {
        let d = policy::diff(&p(old), &p(new));
        assert_eq!(d.widened, widened, "{name}: {d:#?}");
    }
}
