//! `s3-bucket-public-access-block-weakened`, `s3-account-public-access-block-weakened`.
//!
//! S3 Block Public Access has four settings (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy,
//! RestrictPublicBuckets); any of them turned off (or the configuration deleted, which turns all off) removes
//! a guard against public buckets (Amazon S3 User Guide, "Blocking public access to your Amazon S3
//! storage"). CloudTrail logs both levels with `eventSource` `s3.amazonaws.com`.

use serde_json::{json, Value};

use super::payload::{self, at, bool_at, str_at};
use super::{Ctx, Hit, Rule, Trigger};
use crate::finding::{Evidence, Severity};
use crate::state::{PublicAccessBlock, StateNeed};

pub static BUCKET_PAB_WEAKENED: Rule = Rule {
    id: "s3-bucket-public-access-block-weakened",
    title: "S3 bucket Block Public Access weakened",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: "s3.amazonaws.com",
        names: &["PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock"],
    }],
    config_types: &[],
    needs: &[StateNeed::AccountPublicAccessBlock],
    extra_permissions: &[],
    remediation: Some(crate::remediation::S3_RESTORE_BUCKET_PUBLIC_ACCESS_BLOCK),
    doc: "A bucket's Block Public Access settings were turned off or deleted. These settings are the guard \
          that stops a bucket policy or ACL from making the bucket public; without them one more mistake \
          exposes the data. Severity is lower when account-level Block Public Access still covers the \
          settings that were turned off.",
    fires: &[
        "cloudtrail-s3-put-bucket-public-access-block-disabled.json",
        "cloudtrail-s3-delete-bucket-public-access-block.json",
    ],
    quiet: &["cloudtrail-s3-put-bucket-public-access-block-enabled.json"],
    check: check_bucket,
};

pub static ACCOUNT_PAB_WEAKENED: Rule = Rule {
    id: "s3-account-public-access-block-weakened",
    title: "S3 account-level Block Public Access weakened",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: "s3.amazonaws.com",
        names: &["PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: Some(crate::remediation::S3_RESTORE_ACCOUNT_PUBLIC_ACCESS_BLOCK),
    doc: "Account-level Block Public Access was turned off or deleted. It protects every bucket in the \
          account at once, so turning it off lets any bucket policy or ACL in the account make data public.",
    fires: &[
        "cloudtrail-s3-put-account-public-access-block-disabled.json",
        "cloudtrail-s3-delete-account-public-access-block.json",
    ],
    quiet: &["cloudtrail-s3-put-account-public-access-block-enabled.json"],
    check: check_account,
};

const SETTINGS: [&str; 4] = [
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
];

/// The settings a Put leaves off (missing counts as off, as in the S3 API), or all of them for a Delete.
fn turned_off(event_name: &str, req: &Value) -> Vec<&'static str> {
    if event_name.starts_with("Delete") {
        return SETTINGS.to_vec();
    }
    let cfg = at(req, &["PublicAccessBlockConfiguration"]);
    SETTINGS
        .iter()
        .copied()
        .filter(|s| bool_at(cfg, &[s]) != Some(true))
        .collect()
}

fn covered_by(pab: &PublicAccessBlock, setting: &str) -> bool {
    match setting {
        "BlockPublicAcls" => pab.block_public_acls,
        "IgnorePublicAcls" => pab.ignore_public_acls,
        "BlockPublicPolicy" => pab.block_public_policy,
        "RestrictPublicBuckets" => pab.restrict_public_buckets,
        _ => false,
    }
}

fn evidence(off: &[&str], req: &Value, scope: &str) -> Evidence {
    let mut e = payload::reasons(vec![format!(
        "{scope} Block Public Access now has {} off",
        off.join(", ")
    )]);
    e.details.insert("settings_off".into(), json!(off));
    let cfg = at(req, &["PublicAccessBlockConfiguration"]);
    if !cfg.is_null() {
        e.statements.push(cfg.clone());
    }
    e
}

fn check_bucket(ctx: &Ctx<'_>) -> Result<Vec<Hit>, String> {
    let c = ctx.change;
    let req = payload::req(c);
    let off = turned_off(&c.event_name, req);
    if off.is_empty() {
        return Ok(Vec::new());
    }
    let bucket = str_at(req, &["bucketName"]);
    let part = payload::partition(c);
    let resource = payload::resource(c, "AWS::S3::Bucket", bucket, |b| format!("arn:{part}:s3:::{b}"));
    let mut evidence = evidence(&off, req, "the bucket's");
    let account = ctx.state.and_then(|s| s.account_public_access_block.as_ref());
    let (severity, confirmed) = match account {
        Some(pab) if off.iter().all(|s| covered_by(pab, s)) => {
            evidence.reasons.push(format!(
                "account-level Block Public Access still has {} on, so the bucket stays protected",
                off.join(", ")
            ));
            (Severity::Low, true)
        }
        Some(_) => (Severity::High, true),
        None => (Severity::High, false),
    };
    let name = resource.name.clone().unwrap_or_default();
    Ok(vec![Hit {
        summary: format!(
            "Block Public Access of S3 bucket {name} weakened by {}",
            payload::who(c)
        ),
        resource,
        severity,
        evidence,
        state_confirmed: confirmed,
    }])
}

fn check_account(ctx: &Ctx<'_>) -> Result<Vec<Hit>, String> {
    let c = ctx.change;
    let req = payload::req(c);
    let off = turned_off(&c.event_name, req);
    if off.is_empty() {
        return Ok(Vec::new());
    }
    let account = str_at(req, &["accountId"]).unwrap_or(&c.account).to_owned();
    let resource = crate::finding::FindingResource {
        resource_type: "AWS::S3::AccountPublicAccessBlock".into(),
        arn: format!(
            "arn:{}:s3::{account}:account-public-access-block",
            payload::partition(c)
        ),
        name: Some(account.clone()),
    };
    Ok(vec![payload::payload_hit(
        resource,
        Severity::High,
        format!(
            "account-level S3 Block Public Access of {account} weakened by {}",
            payload::who(c)
        ),
        evidence(&off, req, "the account's"),
    )])
}
