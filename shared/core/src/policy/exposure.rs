//! Effective exposure of a bucket: the policy and ACL verdicts combined with bucket- and account-level
//! S3 Block Public Access.
//!
//! Amazon S3 User Guide, "Blocking public access to your Amazon S3 storage", "Block public access
//! settings" (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-options>):
//! - `BlockPublicAcls`: PUT calls that specify a public ACL fail. Existing ACLs are unchanged, so an
//!   already-public ACL stays effective.
//! - `IgnorePublicAcls`: "causes Amazon S3 to ignore all public ACLs on a bucket and any objects that it
//!   contains" — neutralises an existing public ACL.
//! - `BlockPublicPolicy`: PUT Bucket policy calls fail if the policy is public. An already-applied policy
//!   stays effective.
//! - `RestrictPublicBuckets`: "restricts access to an access point or bucket with a public policy to only
//!   AWS service principals and authorized users within the bucket owner's account" — neutralises an
//!   existing public policy.
//!
//! S3 applies the most restrictive combination of the bucket and account settings.

use serde::Serialize;

use super::public::PublicVerdict;
use crate::state::PublicAccessBlock;

/// The combined verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExposureStatus {
    /// Publicly accessible now.
    Public,
    /// The policy or ACL is public, but Block Public Access neutralises it.
    PublicButBlocked,
    /// Neither the policy nor the ACL is public.
    NotPublic,
}

/// The effective exposure of a bucket, with the settings that block it and the reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    pub status: ExposureStatus,
    /// Whether the bucket is public now (`status == Public`).
    pub public: bool,
    /// The settings that neutralise a public policy or ACL, e.g. `account:RestrictPublicBuckets`.
    pub blocked_by: Vec<String>,
    pub reasons: Vec<String>,
}

fn which(
    bucket: Option<&PublicAccessBlock>,
    account: Option<&PublicAccessBlock>,
    f: fn(&PublicAccessBlock) -> bool,
    name: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    if bucket.is_some_and(f) {
        out.push(format!("bucket:{name}"));
    }
    if account.is_some_and(f) {
        out.push(format!("account:{name}"));
    }
    out
}

/// Combines the verdicts with Block Public Access. `None` verdicts mean "not fetched / no policy or ACL";
/// `None` settings mean "not configured" (all off).
pub fn bucket_exposure(
    policy: Option<&PublicVerdict>,
    acl: Option<&PublicVerdict>,
    bucket: Option<&PublicAccessBlock>,
    account: Option<&PublicAccessBlock>,
) -> Exposure {
    let mut reasons = Vec::new();
    let mut blocked_by = Vec::new();
    let mut exposed = false;
    let mut neutralised = false;

    if policy.is_some_and(|v| v.public) {
        let restrict = which(
            bucket,
            account,
            |p| p.restrict_public_buckets,
            "RestrictPublicBuckets",
        );
        if restrict.is_empty() {
            exposed = true;
            reasons.push("the bucket policy is public and RestrictPublicBuckets is off".to_string());
            let bpp = which(bucket, account, |p| p.block_public_policy, "BlockPublicPolicy");
            if !bpp.is_empty() {
                reasons.push(format!(
                    "{} only rejects new public policies; it does not restrict the policy already applied",
                    bpp.join(", ")
                ));
            }
        } else {
            neutralised = true;
            reasons.push(format!(
                "the bucket policy is public but {} restricts it to AWS service principals and the owner account",
                restrict.join(", ")
            ));
            blocked_by.extend(restrict);
        }
    }
    if acl.is_some_and(|v| v.public) {
        let ignore = which(bucket, account, |p| p.ignore_public_acls, "IgnorePublicAcls");
        if ignore.is_empty() {
            exposed = true;
            reasons.push("the ACL is public and IgnorePublicAcls is off".to_string());
            let bpa = which(bucket, account, |p| p.block_public_acls, "BlockPublicAcls");
            if !bpa.is_empty() {
                reasons.push(format!(
                    "{} only rejects new public ACLs; it does not neutralise the ACL already applied",
                    bpa.join(", ")
                ));
            }
        } else {
            neutralised = true;
            reasons.push(format!(
                "the ACL is public but {} makes S3 ignore it",
                ignore.join(", ")
            ));
            blocked_by.extend(ignore);
        }
    }
    if policy.is_none() {
        reasons.push("no bucket policy verdict (no policy, or not fetched)".to_string());
    }
    if acl.is_none() {
        reasons.push("no ACL verdict (not fetched)".to_string());
    }
    let status = if exposed {
        ExposureStatus::Public
    } else if neutralised {
        ExposureStatus::PublicButBlocked
    } else {
        reasons.push("neither the bucket policy nor the ACL is public".to_string());
        ExposureStatus::NotPublic
    };
    Exposure {
        status,
        public: status == ExposureStatus::Public,
        blocked_by,
        reasons,
    }
}
