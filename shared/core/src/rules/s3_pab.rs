//! `s3-bucket-public-access-block-weakened`, `s3-account-public-access-block-weakened`.
//!
//! S3 Block Public Access has four settings (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy,
//! RestrictPublicBuckets); any of them turned off (or the configuration deleted, which turns all off) removes
//! a guard against public buckets (Amazon S3 User Guide, "Blocking public access to your Amazon S3
//! storage"). CloudTrail logs both levels with `eventSource` `s3.amazonaws.com`.
//!
//! A setting the Put record does not include is unknown, never off (issue 15): the bucket's current
//! settings, when fetched, decide; otherwise the finding says what the record lacks and is not confirmed.

use serde_json::{json, Value};

use super::payload::{self, at, bool_at, str_at};
use super::CheckError;
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
    // The bucket's own settings decide what a Put record leaves out; the account's may still cover them.
    needs: &[
        StateNeed::BucketPublicAccessBlock,
        StateNeed::AccountPublicAccessBlock,
    ],
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

pub(super) const SETTINGS: [&str; 4] = [
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
];

/// What a change does to the four settings: `(off, unknown)`. A Delete turns all four off. A Put turns off
/// the settings its logged configuration sets to `false`; a setting the record does not include is unknown
/// (never assumed off), and so are all four when the record has no configuration.
fn turned_off(event_name: &str, req: &Value) -> (Vec<&'static str>, Vec<&'static str>) {
    if event_name.starts_with("Delete") {
        return (SETTINGS.to_vec(), Vec::new());
    }
    let cfg = at(req, &["PublicAccessBlockConfiguration"]);
    let mut off = Vec::new();
    let mut unknown = Vec::new();
    for s in SETTINGS {
        match bool_at(cfg, &[s]) {
            Some(true) => {}
            Some(false) => off.push(s),
            None => unknown.push(s),
        }
    }
    (off, unknown)
}

/// The record path of a setting the record lacks (or of the whole configuration when it lacks all four).
fn lacking_paths(req: &Value, unknown: &[&str]) -> Vec<String> {
    const CFG: &str = "requestParameters.PublicAccessBlockConfiguration";
    if at(req, &["PublicAccessBlockConfiguration"]).is_null() {
        return vec![CFG.to_owned()];
    }
    unknown.iter().map(|s| format!("{CFG}.{s}")).collect()
}

pub(super) fn covered_by(pab: &PublicAccessBlock, setting: &str) -> bool {
    match setting {
        "BlockPublicAcls" => pab.block_public_acls,
        "IgnorePublicAcls" => pab.ignore_public_acls,
        "BlockPublicPolicy" => pab.block_public_policy,
        "RestrictPublicBuckets" => pab.restrict_public_buckets,
        _ => false,
    }
}

fn evidence(off: &[&str], unknown: &[&str], req: &Value, scope: &str) -> Evidence {
    let mut e = payload::reasons(Vec::new());
    if !off.is_empty() {
        e.reasons.push(format!(
            "{scope} Block Public Access now has {} off",
            off.join(", ")
        ));
    }
    if !unknown.is_empty() {
        let lacks = lacking_paths(req, unknown);
        e.reasons.push(format!(
            "{}: whether {} {} now off is unknown",
            payload::lacks_each(&lacks),
            unknown.join(", "),
            if unknown.len() == 1 { "is" } else { "are" }
        ));
        e.details.insert("record_lacks".into(), json!(lacks));
    }
    e.details.insert("settings_off".into(), json!(off));
    let cfg = at(req, &["PublicAccessBlockConfiguration"]);
    if !cfg.is_null() {
        e.statements.push(cfg.clone());
    }
    e
}

fn check_bucket(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    let (mut off, mut unknown) = turned_off(&c.event_name, req);
    // Settings the record leaves out are decided by the bucket's current settings when the shell fetched
    // them (a fetched bucket without a configuration has all four off).
    let current = ctx
        .state
        .and_then(|s| s.bucket.as_ref())
        .map(|b| b.public_access_block.unwrap_or_default());
    let mut from_state: Vec<&'static str> = Vec::new();
    let lacks = if unknown.is_empty() {
        Vec::new()
    } else {
        lacking_paths(req, &unknown)
    };
    if let Some(now) = current.filter(|_| !unknown.is_empty()) {
        from_state = std::mem::take(&mut unknown)
            .into_iter()
            .filter(|s| !covered_by(&now, s))
            .collect();
        off.extend(from_state.iter().copied());
    }
    if off.is_empty() && unknown.is_empty() {
        return Ok(Vec::new());
    }
    let bucket = str_at(req, &["bucketName"]);
    let resource = payload::registered(c, "AWS::S3::Bucket", bucket);
    let mut evidence = evidence(&off, &unknown, req, "the bucket's");
    if current.is_some() && !lacks.is_empty() && unknown.is_empty() {
        evidence.reasons.push(format!(
            "{}: the bucket's current settings (read after the change) decide{}",
            payload::lacks_each(&lacks),
            if from_state.is_empty() {
                String::new()
            } else {
                format!(", and they have {} off", from_state.join(", "))
            }
        ));
        evidence.details.insert("record_lacks".into(), json!(lacks));
    }
    let account = ctx.state.and_then(|s| s.account_public_access_block.as_ref());
    // Settings still unknown count as possibly off: only the account level covering them too lowers the
    // severity. A finding with unknown settings is never confirmed.
    let maybe_off: Vec<&str> = off.iter().chain(unknown.iter()).copied().collect();
    let (severity, confirmed) = match account {
        Some(pab) if maybe_off.iter().all(|s| covered_by(pab, s)) => {
            evidence.reasons.push(format!(
                "account-level Block Public Access still has {} on, so the bucket stays protected",
                maybe_off.join(", ")
            ));
            (Severity::Low, unknown.is_empty())
        }
        Some(_) => (Severity::High, unknown.is_empty()),
        None => (Severity::High, false),
    };
    let name = resource.name_or_unknown().to_owned();
    Ok(vec![Hit {
        summary: format!(
            "Block Public Access of S3 bucket {name} {} by {}",
            if off.is_empty() {
                "changed (settings not in the record)"
            } else {
                "weakened"
            },
            payload::who(c)
        ),
        resource,
        severity,
        evidence,
        state_confirmed: confirmed,
    }])
}

fn check_account(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    let (off, unknown) = turned_off(&c.event_name, req);
    if off.is_empty() && unknown.is_empty() {
        return Ok(Vec::new());
    }
    let account = str_at(req, &["accountId"]).unwrap_or(&c.account).to_owned();
    let resource = crate::finding::FindingResource {
        resource_type: "AWS::S3::AccountPublicAccessBlock".into(),
        arn: payload::arn_in_account(c, "AWS::S3::AccountPublicAccessBlock", &account, &account),
        name: Some(account.clone()),
    };
    let mut hit = payload::payload_hit(
        resource,
        Severity::High,
        format!(
            "account-level S3 Block Public Access of {account} {} by {}",
            if off.is_empty() {
                "changed (settings not in the record)"
            } else {
                "weakened"
            },
            payload::who(c)
        ),
        evidence(&off, &unknown, req, "the account's"),
    );
    // Judged from the record alone: confirmed only when the record holds every setting.
    hit.state_confirmed = unknown.is_empty();
    Ok(vec![hit])
}
