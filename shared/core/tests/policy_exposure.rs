//! Block Public Access exposure and cross-account cases, one line per case.
//! BPA = Amazon S3 User Guide, "Block public access settings"
//! (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-options).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use serde_json::json;
use tripline_core::policy::{self, ExposureStatus, Policy, PublicVerdict, Trusted};
use tripline_core::PublicAccessBlock;

fn verdict(public: bool) -> PublicVerdict {
    PublicVerdict {
        public,
        reasons: vec![],
    }
}

fn pab(acls: bool, ignore: bool, policy: bool, restrict: bool) -> PublicAccessBlock {
    PublicAccessBlock {
        block_public_acls: acls,
        ignore_public_acls: ignore,
        block_public_policy: policy,
        restrict_public_buckets: restrict,
    }
}

/// (name, policy public, acl public, bucket BPA, account BPA, expected, a blocked_by entry)
type ExposureCase = (
    &'static str,
    bool,
    bool,
    Option<PublicAccessBlock>,
    Option<PublicAccessBlock>,
    ExposureStatus,
    &'static str,
);

#[test]
#[rustfmt::skip]
fn exposure_cases() {
    let off = pab(false, false, false, false);
    let all = pab(true, true, true, true);
    let cases: Vec<ExposureCase> = vec![
        ("nothing public", false, false, None, None, ExposureStatus::NotPublic, ""),
        ("public policy, no BPA", true, false, None, None, ExposureStatus::Public, ""),
        // BPA: RestrictPublicBuckets restricts an existing public policy.
        ("policy restricted at bucket", true, false, Some(pab(false, false, false, true)), None, ExposureStatus::PublicButBlocked, "bucket:RestrictPublicBuckets"),
        ("policy restricted at account", true, false, Some(off), Some(pab(false, false, false, true)), ExposureStatus::PublicButBlocked, "account:RestrictPublicBuckets"),
        // BPA: BlockPublicPolicy only rejects new public policies.
        ("block public policy only", true, false, Some(pab(false, false, true, false)), None, ExposureStatus::Public, ""),
        // BPA: IgnorePublicAcls neutralises an existing public ACL.
        ("acl ignored", false, true, Some(pab(false, true, false, false)), None, ExposureStatus::PublicButBlocked, "bucket:IgnorePublicAcls"),
        // BPA: BlockPublicAcls only rejects new public ACLs.
        ("block public acls only", false, true, None, Some(pab(true, false, false, false)), ExposureStatus::Public, ""),
        ("both public, all blocked", true, true, Some(all), None, ExposureStatus::PublicButBlocked, "bucket:IgnorePublicAcls"),
        ("policy blocked, acl not", true, true, Some(pab(false, false, false, true)), None, ExposureStatus::Public, "bucket:RestrictPublicBuckets"),
    ];
    for (name, p, a, b, acct, expected, by) in cases {
        let (pv, av) = (verdict(p), verdict(a));
        let e = policy::bucket_exposure(Some(&pv), Some(&av), b.as_ref(), acct.as_ref());
        assert_eq!(e.status, expected, "{name}: {e:?}");
        assert_eq!(e.public, expected == ExposureStatus::Public, "{name}");
        assert!(
            by.is_empty() || e.blocked_by.iter().any(|x| x == by),
            "{name}: {e:?}"
        );
        assert!(!e.reasons.is_empty(), "{name}");
    }
}

#[test]
#[rustfmt::skip]
fn cross_account_cases() {
    let trusted = Trusted {
        accounts: BTreeSet::from(["111122223333".to_string()]),
        organization_id: Some("o-trusted".into()),
        organization_accounts: None,
    };
    let one = |principal: serde_json::Value, cond: serde_json::Value| {
        let mut s =
            json!({"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "*"});
        if !cond.is_null() {
            s["Condition"] = cond;
        }
        Policy::parse(&json!({"Version": "2012-10-17", "Statement": [s]})).unwrap()
    };
    // (name, policy, expected external accounts)
    let cases: Vec<(&str, Policy, Vec<Option<&str>>)> = vec![
        ("trusted id", one(json!({"AWS": "111122223333"}), json!(null)), vec![]),
        ("trusted arn", one(json!({"AWS": "arn:aws:iam::111122223333:role/r"}), json!(null)), vec![]),
        ("external arn", one(json!({"AWS": "arn:aws:iam::999988887777:root"}), json!(null)), vec![Some("999988887777")]),
        ("star", one(json!("*"), json!(null)), vec![Some("*")]),
        ("star pinned to org", one(json!("*"), json!({"StringEquals": {"aws:PrincipalOrgID": "o-trusted"}})), vec![]),
        ("external pinned to org", one(json!({"AWS": "999988887777"}), json!({"StringEquals": {"aws:PrincipalOrgID": "o-trusted"}})), vec![]),
        ("star other org", one(json!("*"), json!({"StringEquals": {"aws:PrincipalOrgID": "o-other"}})), vec![None]),
        ("service", one(json!({"Service": "cloudtrail.amazonaws.com"}), json!(null)), vec![]),
        ("canonical user", one(json!({"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}), json!(null)), vec![None]),
    ];
    for (name, p, expected) in cases {
        let got: Vec<Option<String>> = policy::cross_account(&p, &trusted)
            .into_iter()
            .map(|g| g.account)
            .collect();
        let expected: Vec<Option<String>> = expected.into_iter().map(|e| e.map(String::from)).collect();
        assert_eq!(got, expected, "{name}");
    }
}
