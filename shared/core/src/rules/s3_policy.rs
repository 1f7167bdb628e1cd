//! Bucket policies and ACLs: `s3-bucket-policy-public`, `s3-bucket-cross-account-access`,
//! `s3-bucket-acl-public`, `s3-object-acl-public`.
//!
//! The verdicts come from the engine (`bucket_policy_public`, `acl_public`, `cross_account`,
//! `bucket_exposure`, which implement the Amazon S3 User Guide's "The meaning of 'public'" and Block Public
//! Access). A public policy or ACL neutralised by Block Public Access is still a finding, at lower severity,
//! naming the blocking setting: bucket-level blocks (which the same actor can lift) lower it one step,
//! account-level blocks two.

use serde_json::{json, Value};

use super::engine;
use super::payload::{self, at, bool_at, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::change::{Change, ChangeSource};
use crate::finding::{Evidence, FindingResource, Severity};
use crate::policy::{self, Exposure, ExposureStatus, PublicVerdict};
use crate::state::{PublicAccessBlock, StateNeed};

const S3: &str = "s3.amazonaws.com";

pub static POLICY_PUBLIC: Rule = Rule {
    id: "s3-bucket-policy-public",
    title: "S3 bucket policy grants public access",
    severity: Severity::Critical,
    cloudtrail: &[Trigger {
        source: S3,
        names: &["PutBucketPolicy"],
    }],
    config_types: &["AWS::S3::Bucket"],
    needs: &[
        StateNeed::BucketPublicAccessBlock,
        StateNeed::AccountPublicAccessBlock,
        StateNeed::BucketTags,
    ],
    extra_permissions: &[],
    remediation: Some(crate::remediation::S3_REMOVE_PUBLIC_POLICY_STATEMENTS),
    doc: "A bucket policy allows access to anyone (a wildcard principal not limited by a fixed principal, \
          account, organization, VPC or narrow IP range), as Amazon S3 itself defines \"public\". Anyone on \
          the internet can then read or change the data the policy covers. When Block Public Access \
          neutralises the policy it is still reported, at lower severity, naming the blocking setting: one \
          API call away from exposure.",
    fires: &["cloudtrail-s3-put-bucket-policy-public.json"],
    quiet: &["cloudtrail-s3-put-bucket-policy-private.json"],
    check: check_policy_public,
};

pub static CROSS_ACCOUNT: Rule = Rule {
    id: "s3-bucket-cross-account-access",
    title: "S3 bucket policy grants access to an untrusted account",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: S3,
        names: &["PutBucketPolicy"],
    }],
    config_types: &["AWS::S3::Bucket"],
    needs: &[StateNeed::BucketTags],
    extra_permissions: &[],
    remediation: None,
    doc:
        "A bucket policy grants access to an AWS account outside the trusted set (the bucket's own account, \
          the configured trusted accounts, the configured organization). Data shared with an unknown account \
          is data you no longer control.",
    fires: &["cloudtrail-s3-put-bucket-policy-other-account.json"],
    quiet: &["cloudtrail-s3-put-bucket-policy-private.json"],
    check: check_cross_account,
};

pub static ACL_PUBLIC: Rule = Rule {
    id: "s3-bucket-acl-public",
    title: "S3 bucket ACL grants public access",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: S3,
        names: &["PutBucketAcl", "CreateBucket"],
    }],
    config_types: &["AWS::S3::Bucket"],
    needs: &[
        StateNeed::BucketPublicAccessBlock,
        StateNeed::AccountPublicAccessBlock,
        StateNeed::BucketTags,
    ],
    extra_permissions: &[],
    remediation: Some(crate::remediation::S3_REMOVE_PUBLIC_ACL_GRANTS),
    doc: "A bucket ACL grants a permission to the AllUsers (everyone) or AuthenticatedUsers (any AWS \
          account holder) group, which Amazon S3 defines as public: anyone can list the bucket, or write to \
          it with WRITE. Reported at lower severity when IgnorePublicAcls neutralises it.",
    fires: &[
        "cloudtrail-s3-put-bucket-acl-public-read.json",
        "cloudtrail-s3-put-bucket-acl-grants-allusers.json",
        "config-s3-bucket-item-change-acl-public.json",
    ],
    quiet: &[
        "cloudtrail-s3-put-bucket-acl-private.json",
        "config-s3-bucket-item-change.json",
    ],
    check: check_bucket_acl,
};

pub static OBJECT_ACL_PUBLIC: Rule = Rule {
    id: "s3-object-acl-public",
    title: "S3 object ACL grants public access",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: S3,
        names: &["PutObjectAcl"],
    }],
    config_types: &[],
    needs: &[
        StateNeed::BucketPublicAccessBlock,
        StateNeed::AccountPublicAccessBlock,
        StateNeed::BucketTags,
    ],
    extra_permissions: &[],
    remediation: None,
    doc: "An object ACL grants a permission to the AllUsers or AuthenticatedUsers group (a CloudTrail data \
          event): the object is readable by anyone. Reported at lower severity when IgnorePublicAcls \
          neutralises it.",
    fires: &["cloudtrail-s3-put-object-acl-public-read.json"],
    quiet: &["cloudtrail-s3-put-object-acl-private.json"],
    check: check_object_acl,
};

/// The bucket the change is about: `(name, resource)`.
fn bucket_resource(c: &Change) -> FindingResource {
    let name =
        str_at(payload::req(c), &["bucketName"]).or_else(|| str_at(payload::configuration(c), &["name"]));
    payload::registered(c, "AWS::S3::Bucket", name)
}

/// Block Public Access from a Config item's supplementary configuration (camelCase keys). A setting the
/// item does not include makes the configuration unknown (`None`), never off.
fn config_pab(c: &Change) -> Option<PublicAccessBlock> {
    let v = at(payload::supplementary(c), &["PublicAccessBlockConfiguration"]);
    if !v.is_object() {
        return None;
    }
    let b = |k: &str| bool_at(v, &[k]);
    Some(PublicAccessBlock {
        block_public_acls: b("blockPublicAcls")?,
        ignore_public_acls: b("ignorePublicAcls")?,
        block_public_policy: b("blockPublicPolicy")?,
        restrict_public_buckets: b("restrictPublicBuckets")?,
    })
}

/// Which Block Public Access levels were not read: their `None` is unknown, not "not configured".
#[derive(Debug, Clone, Copy, Default)]
pub struct Unread {
    pub bucket: bool,
    pub account: bool,
}

/// What is known of Block Public Access: `(bucket, account, unread)`; confirmed when nothing is unread
/// (a Config item carries the bucket level).
fn pab_state(ctx: &Ctx<'_>) -> (Option<PublicAccessBlock>, Option<PublicAccessBlock>, Unread) {
    let from_config = config_pab(ctx.change);
    let bucket_state = ctx.state.and_then(|s| s.bucket.as_ref());
    let bucket_known = bucket_state.is_some() || from_config.is_some();
    let bucket = bucket_state.and_then(|b| b.public_access_block).or(from_config);
    let account = ctx.state.and_then(|s| s.account_public_access_block);
    let unread = Unread {
        bucket: !bucket_known,
        account: account.is_none(),
    };
    (bucket, account, unread)
}

/// Severity of an exposure: public -> `base`; blocked only at bucket level -> one step lower; blocked at
/// account level -> two steps lower.
fn exposure_severity(base: Severity, exposure: &Exposure) -> Severity {
    match exposure.status {
        ExposureStatus::Public | ExposureStatus::NotPublic => base,
        ExposureStatus::PublicButBlocked => {
            if exposure.blocked_by.iter().any(|s| s.starts_with("account:")) {
                base.lower().lower()
            } else {
                base.lower()
            }
        }
    }
}

/// The engine's sentence for a public policy / ACL that nothing neutralises, and the setting it names.
const NOT_NEUTRALISED: [(&str, &str, &str); 2] = [
    (
        "the bucket policy is public and RestrictPublicBuckets is off",
        "the bucket policy is public",
        "RestrictPublicBuckets",
    ),
    (
        "the ACL is public and IgnorePublicAcls is off",
        "the ACL is public",
        "IgnorePublicAcls",
    ),
];

/// The engine reads a `None` level as "not configured" (off). A level that was not read is unknown: the
/// sentence saying the setting is off is restated to say which level was read and which is unknown.
fn restate_unread(reason: &str, unread: Unread) -> String {
    let Some((_, head, setting)) = NOT_NEUTRALISED.iter().find(|(r, _, _)| *r == reason) else {
        return reason.to_owned();
    };
    match (unread.bucket, unread.account) {
        (false, false) => reason.to_owned(),
        (true, true) => format!(
            "{head}; whether {setting} neutralises it is unknown: bucket- and account-level Block Public \
             Access were not read"
        ),
        (true, false) => format!(
            "{head} and account-level {setting} is off; whether bucket-level {setting} neutralises it is \
             unknown: it was not read"
        ),
        (false, true) => format!(
            "{head} and bucket-level {setting} is off; whether account-level {setting} neutralises it is \
             unknown: it was not read"
        ),
    }
}

fn add_exposure(e: &mut Evidence, exposure: &Exposure, unread: Unread) {
    // Each rule judges one of policy / ACL and passes `None` for the other on purpose: drop the engine's
    // "not fetched" remark about the other one.
    e.reasons.extend(
        exposure
            .reasons
            .iter()
            .filter(|r| !r.starts_with("no bucket policy verdict") && !r.starts_with("no ACL verdict"))
            .map(|r| restate_unread(r, unread)),
    );
    if !exposure.blocked_by.is_empty() {
        e.details.insert("blocked_by".into(), json!(exposure.blocked_by));
    }
    e.details.insert("exposure".into(), json!(exposure.status));
}

/// The bucket policy of the change: the PutBucketPolicy document (required: a record without it is an
/// error, not a private bucket), or the Config item's policy text (`None`: the bucket has no policy).
fn policy_document(c: &Change) -> Result<Option<Value>, CheckError> {
    match c.source {
        ChangeSource::CloudTrail => payload::required_document(payload::req(c), &["bucketPolicy"]).map(Some),
        _ => Ok(payload::document(at(
            payload::supplementary(c),
            &["BucketPolicy", "policyText"],
        ))),
    }
}

/// Judges a bucket policy document against Block Public Access; shared with the sweep. `unread` says which
/// `None` level was not read (unknown) rather than not configured.
pub fn judge_policy(
    doc: &Value,
    bucket: Option<&PublicAccessBlock>,
    account: Option<&PublicAccessBlock>,
    unread: Unread,
) -> Result<Option<(Severity, Evidence)>, CheckError> {
    let policy = engine::parse(doc, "bucket policy")?;
    let verdict = policy::bucket_policy_public(&policy);
    if !verdict.public {
        return Ok(None);
    }
    let exposure = policy::bucket_exposure(Some(&verdict), None, bucket, account);
    let mut evidence = engine::public_evidence(doc, &verdict);
    add_exposure(&mut evidence, &exposure, unread);
    Ok(Some((exposure_severity(Severity::Critical, &exposure), evidence)))
}

fn check_policy_public(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let Some(doc) = policy_document(c)? else {
        return Ok(Vec::new());
    };
    let (bucket, account, unread) = pab_state(ctx);
    let confirmed = !unread.bucket && !unread.account;
    let Some((severity, evidence)) = judge_policy(&doc, bucket.as_ref(), account.as_ref(), unread)? else {
        return Ok(Vec::new());
    };
    let resource = bucket_resource(c);
    let name = resource.name_or_unknown().to_owned();
    let blocked = severity < Severity::Critical;
    Ok(vec![Hit {
        summary: format!(
            "S3 bucket {name} {} by {}",
            if blocked {
                "policy made public (blocked by Block Public Access)"
            } else {
                "made public"
            },
            payload::who(c)
        ),
        resource,
        severity,
        evidence,
        state_confirmed: confirmed,
    }])
}

/// Judges a bucket policy for grants to untrusted accounts; shared with the sweep.
pub fn judge_cross_account(
    doc: &Value,
    config: &crate::settings::RuleConfig,
    own_account: &str,
) -> Result<Option<Evidence>, CheckError> {
    let policy = engine::parse(doc, "bucket policy")?;
    let public = policy::bucket_policy_public(&policy).public;
    let grants = engine::external_grants(&policy, &engine::trusted(config, own_account), public);
    Ok((!grants.is_empty()).then(|| engine::external_evidence(doc, &grants)))
}

fn check_cross_account(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let Some(doc) = policy_document(c)? else {
        return Ok(Vec::new());
    };
    let Some(evidence) = judge_cross_account(&doc, ctx.config, &c.account)? else {
        return Ok(Vec::new());
    };
    let resource = bucket_resource(c);
    let name = resource.name_or_unknown().to_owned();
    Ok(vec![payload::payload_hit(
        resource,
        Severity::High,
        format!(
            "S3 bucket {name} shared with an untrusted account by {}",
            payload::who(c)
        ),
        evidence,
    )])
}

/// Whether request parameters carry an ACL (canned header or grants).
/// Whether a PutBucketAcl / PutObjectAcl request sets an ACL: a request body (`AccessControlPolicy`), a
/// canned ACL (`x-amz-acl`), or grant headers (`x-amz-grant-read`, `-write`, `-read-acp`, `-write-acp`,
/// `-full-control`) — the API's two ways, "Specify the ACL in the request body" or "Specify permissions
/// using request headers" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html).
/// Header names are case-insensitive, as the engine reads them.
fn has_acl(req: &Value) -> bool {
    req.as_object().is_some_and(|o| o.keys().any(|k| is_acl_key(k)))
}

fn is_acl_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "x-amz-acl" || k == "accesscontrolpolicy" || k.starts_with("x-amz-grant-")
}

/// Judges an ACL (request parameters or GetBucketAcl response) against Block Public Access; shared with
/// the sweep. `unread` as for [`judge_policy`].
pub fn judge_acl(
    acl: &Value,
    bucket: Option<&PublicAccessBlock>,
    account: Option<&PublicAccessBlock>,
    base: Severity,
    unread: Unread,
) -> Result<Option<(Severity, Evidence)>, CheckError> {
    let verdict: PublicVerdict = policy::acl_public(acl).map_err(|source| CheckError::Invalid {
        what: "acl".into(),
        source,
    })?;
    if !verdict.public {
        return Ok(None);
    }
    let exposure = policy::bucket_exposure(None, Some(&verdict), bucket, account);
    let mut evidence = Evidence {
        reasons: verdict.reasons.iter().map(engine::reason_text).collect(),
        ..Evidence::default()
    };
    let grants = at(acl, &["AccessControlPolicy", "AccessControlList"]);
    if !grants.is_null() {
        evidence.statements.push(grants.clone());
    } else if let Some(canned) = acl.get("x-amz-acl") {
        evidence.statements.push(json!({"x-amz-acl": canned}));
    } else if let Some(g) = acl.get("Grants") {
        evidence.statements.push(json!({"Grants": g}));
    }
    // Grants set through request headers are evidence too (they may stand beside a canned ACL).
    if let Some(o) = acl.as_object() {
        let headers: serde_json::Map<String, Value> = o
            .iter()
            .filter(|(k, _)| k.to_ascii_lowercase().starts_with("x-amz-grant-"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !headers.is_empty() {
            evidence.statements.push(Value::Object(headers));
        }
    }
    add_exposure(&mut evidence, &exposure, unread);
    Ok(Some((exposure_severity(base, &exposure), evidence)))
}

/// An AWS Config `AccessControlList` (`grantList[].grantee` a group name or `{id}`, `permission` in
/// PascalCase) in the GetBucketAcl shape the engine reads (`Grants[].Grantee{Type,URI,ID}`, `Permission`).
/// Pure translation: the verdict stays the engine's.
fn config_acl(v: &Value) -> Option<Value> {
    let grants = v.get("grantList")?.as_array()?;
    let grants: Vec<Value> = grants
        .iter()
        .map(|g| {
            let grantee = match g.get("grantee") {
                Some(Value::String(group)) => {
                    let dir = if group == "LogDelivery" { "s3" } else { "global" };
                    json!({"Type": "Group", "URI": format!("http://acs.amazonaws.com/groups/{dir}/{group}")})
                }
                Some(other) => {
                    json!({"Type": "CanonicalUser", "ID": other.get("id").cloned().unwrap_or(Value::Null)})
                }
                None => Value::Null,
            };
            let permission = match str_at(g, &["permission"]).unwrap_or("") {
                "FullControl" => "FULL_CONTROL",
                "Read" => "READ",
                "Write" => "WRITE",
                "ReadAcp" => "READ_ACP",
                "WriteAcp" => "WRITE_ACP",
                other => other,
            };
            json!({"Grantee": grantee, "Permission": permission})
        })
        .collect();
    Some(json!({"Owner": v.get("owner").cloned().unwrap_or(Value::Null), "Grants": grants}))
}

fn check_bucket_acl(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let acl = match c.source {
        ChangeSource::CloudTrail => {
            let req = payload::req(c);
            if !has_acl(req) {
                // CreateBucket may set no ACL; PutBucketAcl always sets one, so a record without it is
                // unknown, not private.
                if c.event_name == "PutBucketAcl" {
                    return Err(acl_lacking());
                }
                return Ok(Vec::new());
            }
            req.clone()
        }
        _ => match config_acl(at(payload::supplementary(c), &["AccessControlList"])) {
            Some(acl) => acl,
            None => return Ok(Vec::new()),
        },
    };
    let (bucket, account, unread) = pab_state(ctx);
    let confirmed = !unread.bucket && !unread.account;
    let Some((severity, evidence)) =
        judge_acl(&acl, bucket.as_ref(), account.as_ref(), Severity::High, unread)?
    else {
        return Ok(Vec::new());
    };
    let resource = bucket_resource(c);
    let name = resource.name_or_unknown().to_owned();
    Ok(vec![Hit {
        summary: format!("S3 bucket {name} ACL made public by {}", payload::who(c)),
        resource,
        severity,
        evidence,
        state_confirmed: confirmed,
    }])
}

/// The error for a PutBucketAcl / PutObjectAcl record that holds none of the ways to set an ACL.
fn acl_lacking() -> CheckError {
    CheckError::Lacks {
        subject: "the call",
        missing: vec!["requestParameters.AccessControlPolicy".into()],
        nor: Some("`x-amz-acl` or an `x-amz-grant-*` header"),
    }
}

fn check_object_acl(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    if !has_acl(req) {
        return Err(acl_lacking());
    }
    let (bucket, account, unread) = pab_state(ctx);
    let confirmed = !unread.bucket && !unread.account;
    let Some((severity, evidence)) =
        judge_acl(req, bucket.as_ref(), account.as_ref(), Severity::High, unread)?
    else {
        return Ok(Vec::new());
    };
    // An object is named by its bucket and key; without either the record names no object (no ARN, no
    // name made up).
    let b = str_at(req, &["bucketName"]);
    let key = str_at(req, &["key"]);
    let recorded = payload::resource_of(c, "AWS::S3::Object").and_then(|(a, _)| a);
    let named = b.zip(key).map(|(b, k)| format!("{b}/{k}"));
    let resource = FindingResource {
        resource_type: "AWS::S3::Object".into(),
        arn: recorded
            .map(str::to_owned)
            .or_else(|| named.as_ref().map(|n| payload::arn_in(c, "AWS::S3::Object", n)))
            .unwrap_or_default(),
        name: named.or_else(|| recorded.map(|a| a.rsplit(":::").next().unwrap_or(a).to_owned())),
    };
    let shown = match (&resource.name, b, key) {
        (Some(n), _, _) => n.clone(),
        (None, Some(b), _) => format!("in bucket {b} (key not in the record)"),
        (None, None, Some(k)) => format!("{k} (bucket not in the record)"),
        (None, None, None) => "(not named in the record)".to_owned(),
    };
    Ok(vec![Hit {
        summary: format!("S3 object {shown} made public by {}", payload::who(c)),
        resource,
        severity,
        evidence,
        state_confirmed: confirmed,
    }])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// PutBucketAcl request parameters as CloudTrail logs them: the empty `acl` subresource marker plus
    /// the way the ACL was set. One line per case: (request, sets an ACL?, public?).
    #[test]
    fn acl_requests_by_body_canned_or_grant_headers() {
        let all_users = r#"uri="http://acs.amazonaws.com/groups/global/AllUsers""#;
        let owner = r#"id="79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be""#;
        let cases: &[(Value, bool, bool)] = &[
            (json!({"bucketName": "b", "acl": ""}), false, false),
            (
                json!({"bucketName": "b", "acl": "", "x-amz-acl": "public-read"}),
                true,
                true,
            ),
            (
                json!({"bucketName": "b", "acl": "", "x-amz-acl": ["private"]}),
                true,
                false,
            ),
            (
                json!({"bucketName": "b", "acl": [""], "x-amz-grant-read": all_users}),
                true,
                true,
            ),
            (
                json!({"bucketName": "b", "acl": "", "X-Amz-Grant-Full-Control": all_users}),
                true,
                true,
            ),
            (
                json!({"bucketName": "b", "acl": "", "x-amz-grant-read": owner}),
                true,
                false,
            ),
        ];
        for (req, sets, public) in cases {
            assert_eq!(has_acl(req), *sets, "{req}");
            if *sets {
                let judged = judge_acl(req, None, None, Severity::High, Unread::default()).unwrap();
                assert_eq!(judged.is_some(), *public, "{req}");
                if let Some((_, evidence)) = judged {
                    assert!(!evidence.statements.is_empty(), "{req}: evidence names the grant");
                }
            }
        }
    }
}
