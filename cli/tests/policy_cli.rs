//! `tripline policy ...` end to end: output shapes and exit codes (issue 3, CLI contract).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

fn run(args: &[&str], stdin: Option<&str>) -> (i32, Value, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tripline"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap(),
        json,
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn temp(name: &str, v: &Value) -> String {
    let dir = std::env::temp_dir().join(format!("tripline-policy-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
#[rustfmt::skip]
fn public_cases() {
    let star = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
    let vpc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-91237329"}}}]});
    // (args, stdin, expected public) — S3 "meaning of public" examples.
    let file = temp("star.json", &star);
    let cases: Vec<(Vec<&str>, Option<String>, bool)> = vec![
        (vec!["policy", "public"], Some(star.to_string()), true),
        (vec!["policy", "public", "-"], Some(vpc.to_string()), false),
        (vec!["policy", "public", file.as_str()], None, true),
        // GetBucketPolicy shape: the document as a JSON string under `Policy`.
        (vec!["policy", "public"], Some(json!({"Policy": star.to_string()}).to_string()), true),
        (vec!["policy", "public", "--kind", "iam-role-trust"], Some(json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}}).to_string()), false),
    ];
    // Trust-policy shaped documents are judged as trust policies (`--kind auto`).
    let gh = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:my-org/my-repo:*"}}}]});
    let mut cases = cases;
    // A CloudTrail PutBucketPolicy record under EventBridge `detail`.
    let event = json!({"detail": {"eventName": "PutBucketPolicy", "requestParameters": {"bucketName": "b", "bucketPolicy": star.clone()}}});
    cases.push((vec!["policy", "public"], Some(event.to_string()), true));
    cases.push((vec!["policy", "public"], Some(gh.to_string()), false));
    cases.push((vec!["policy", "public", "--kind", "s3-bucket"], Some(gh.to_string()), true));
    for (args, stdin, public) in cases {
        let (code, out, err) = run(&args, stdin.as_deref());
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(out["public"], json!(public), "{args:?}: {out}");
        assert!(out["reasons"].as_array().is_some_and(|r| !r.is_empty()), "{out}");
    }
}

#[test]
fn acl_cases() {
    let public = json!({"Owner": {"ID": "abc"}, "Grants": [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]});
    let private = json!({"Owner": {"ID": "abc"}, "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"}]});
    // A bare canned ACL name (S3 "Canned ACL").
    for (doc, expected) in [
        (public, true),
        (private, false),
        (json!("public-read"), true),
        (json!("private"), false),
    ] {
        let (code, out, err) = run(&["policy", "acl"], Some(&doc.to_string()));
        assert_eq!(code, 0, "{err}");
        assert_eq!(out["public"], json!(expected));
        assert!(out["reasons"].is_array());
    }
}

#[test]
fn diff_cases() {
    let old = temp(
        "old.json",
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}),
    );
    let same = temp(
        "same.json",
        &json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "S3:GETOBJECT", "Resource": "arn:aws:s3:::b/*"}}),
    );
    let wider = temp(
        "wider.json",
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "iam:PassRole"], "Resource": "*"}]}),
    );
    let (code, out, _) = run(&["policy", "diff", &old, &same], None);
    assert_eq!((code, out["widened"].clone()), (0, json!(false)));
    assert_eq!(out["new_access"], json!([]));
    let (code, out, _) = run(&["policy", "diff", &old, &wider], None);
    assert_eq!((code, out["widened"].clone()), (0, json!(true)));
    let access = out["new_access"].as_array().unwrap();
    assert!(
        access
            .iter()
            .any(|a| a["action"] == "iam:PassRole" && a["resource"].is_string()),
        "{out}"
    );
    assert!(!out["reasons"].as_array().unwrap().is_empty());
}

#[test]
fn escalation_case() {
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": "*"}]});
    let (code, out, _) = run(&["policy", "escalation"], Some(&doc.to_string()));
    assert_eq!(code, 0);
    let combos = out["combos"].as_array().unwrap();
    let c = combos
        .iter()
        .find(|c| c["id"] == "PassExistingRoleToNewLambdaThenInvoke")
        .unwrap();
    assert!(c["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "iam:PassRole"));
    assert!(c["source"].as_str().unwrap().starts_with("https://"));
}

#[test]
fn invalid_documents_exit_2_with_one_line() {
    let good = temp(
        "good.json",
        &json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
    );
    let cases: Vec<(Vec<&str>, Option<&str>)> = vec![
        (vec!["policy", "public"], Some("{not json")),
        (
            vec!["policy", "public"],
            Some(r#"{"Statement": [{"Effect": "allow", "Action": "*"}]}"#),
        ),
        (vec!["policy", "public"], Some(r#"{"Version": "2012-10-17"}"#)),
        (vec!["policy", "acl"], Some(r#"{"Owner": {}}"#)),
        (vec!["policy", "acl"], Some("[]")),
        // CloudTrail's `acl` subresource marker alone carries no ACL (API_PutBucketAcl.html).
        (vec!["policy", "acl"], Some(r#"{"bucketName": "b", "acl": [""]}"#)),
        (
            vec!["policy", "escalation"],
            Some(r#"{"Statement": [{"Effect": "Allow"}]}"#),
        ),
        (
            vec!["policy", "diff", good.as_str(), "/nonexistent/new.json"],
            None,
        ),
        (vec!["policy", "public", "/nonexistent/policy.json"], None),
    ];
    for (args, stdin) in cases {
        let (code, _, err) = run(&args, stdin);
        assert_eq!(code, 2, "{args:?} {stdin:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
}
