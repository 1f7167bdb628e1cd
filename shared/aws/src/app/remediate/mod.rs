//! Use case: remediate one finding (issue 12: safe action).
//!
//! From a message only the pointer is taken: rule id, resource ARN, account, region, finding id (and the
//! actor, for loop protection). For each finding, in order:
//! 1. the remediation is the one the registry declares for the rule (a mismatch is `refused`); the rule's mode
//!    comes from this function's configuration (`off`, `dry-run`, `enforce`);
//! 2. loop protection: findings caused by Tripline's remediation role, or by a session of the member
//!    remediation role in any account, are skipped;
//! 3. only the finding's own account: the target account (the ARN's, else the finding's; the two must agree)
//!    must be the account of the credentials in use (`sts:GetCallerIdentity`, cached per client set); a
//!    member account is reached through `<prefix>-member-remediate` only. Otherwise `refused: cannot act in
//!    account X` and nothing is read or written;
//! 4. exemption tags (current ones) and the allow-list, on the same ARN that is acted on;
//! 5. in enforce mode, one attempt per (account, rule, resource) per cool-down window (a conditional write,
//!    [`crate::AttemptMarker`]);
//! 6. the remediation re-reads the resource, re-judges it (stale: skipped), plans from that fresh state only,
//!    re-reads immediately before writing (changed since: skipped as stale), writes, reads back (retried;
//!    `unverified` when it keeps failing) and verifies what the plan is for with the bounded public check.
//!    Plans only remove Allow statements or grants, detach admin policies, or switch protective settings on,
//!    so they cannot widen; a result still exposed is `partial`, never rolled back into exposure.
//!
//! Every outcome (remediated, dry-run, skipped, refused, failed, partial, unverified) is published by the
//! caller (the `remediate` function publishes to the alert topic with `remediation: none`, so it never sees
//! its own messages).
//!
//! The remediations (the registry `tripline_core::remediation`; one module per service: [`s3`], [`iam`],
//! [`config`]):
//! - `s3-remove-public-policy-statements`: remove only the public statements (the engine's narrow plan),
//!   keep the rest; delete the policy when nothing is left;
//! - `s3-remove-public-acl-grants`: remove AllUsers / AuthenticatedUsers grants, keep the others;
//! - `s3-restore-bucket-public-access-block`: turn on all four bucket-level Block Public Access settings;
//! - `s3-restore-account-public-access-block`: turn on all four account-level Block Public Access settings
//!   (S3 Control `PutPublicAccessBlock` for the finding's account), verified by reading them back;
//! - `config-start-configuration-recorder`: start the stopped AWS Config recorder the finding names, verified
//!   with DescribeConfigurationRecorderStatus; a deleted recorder or delivery channel cannot be restarted
//!   (it must be recreated), so those findings are reported as skipped;
//! - `iam-restore-previous-default-version`: make the previous version (from the policy's own version list)
//!   the default again, refused when it would grant anything the current one does not;
//! - `iam-detach-admin-policy`: detach the AWS managed admin policies attached to the principal now;
//! - `iam-restore-previous-trust-policy`: remove the public Allow statements of the role's current trust policy
//!   (one Deny closes the role when nothing else is left); a previous document carried in the message is
//!   never used.
//!
//! The dispatch is an exhaustive `match` on `RemediationKind`: the compiler refuses a registered
//! remediation that is not implemented here. An id outside the registry (a finding from an older or newer
//! catalog) is reported as skipped.
mod config;
mod iam;
mod s3;

use serde_json::Value;

use super::DetectorConfig;
use crate::{
    AttemptMarker, AwsError, CallerIdentity, ConfigRecorder, IamRead, IamWrite, PrincipalRef, S3Read, S3Write,
};
use tripline_core::finding::Finding;
use tripline_core::policy::{self, Policy, PolicyError, ResourceKind};
use tripline_core::remediation::RemediationKind;
use tripline_core::render::sns::RemediationStatus;
use tripline_core::resource_kind::{arn_account, is_account_id};
use tripline_core::settings::RemediationMode;

/// Configuration of remediate.
#[derive(Debug, Clone, PartialEq)]
pub struct RemediateConfig {
    pub detector: DetectorConfig,
    /// `TRIPLINE_REMEDIATION_ROLE_ARN`: findings caused by this role are ignored.
    pub remediation_role_arn: Option<String>,
    /// `TRIPLINE_MEMBER_ROLE_NAME` of remediate (`<prefix>-member-remediate`): findings caused by a session of
    /// this role, in any account, are ignored too (loop protection across the organization).
    pub member_role_name: Option<String>,
    /// `TRIPLINE_REMEDIATION_ATTEMPTS_TABLE` + `TRIPLINE_REMEDIATION_COOLDOWN_SECONDS`: at most one enforced
    /// attempt per (account, rule, resource) per window. `None` (the CLI): every run may attempt.
    pub attempts: Option<AttemptWindow>,
}

/// Where enforced attempts are claimed, and for how long a claim holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptWindow {
    pub table: String,
    pub cooldown_secs: i64,
}

/// Whether the finding's actor is the remediation role (its session issuer, or an assumed-role session of
/// the same role name in the same account).
pub fn caused_by_role(f: &Finding, role_arn: &str) -> bool {
    if f.actor.session_issuer.as_deref() == Some(role_arn) || f.actor.arn.as_deref() == Some(role_arn) {
        return true;
    }
    let account = role_arn.split(':').nth(4).unwrap_or_default();
    let role_name = role_arn.rsplit('/').next().unwrap_or_default();
    f.actor.arn.as_deref().is_some_and(|a| {
        let parts: Vec<&str> = a.split(':').collect();
        parts.len() == 6
            && parts[2] == "sts"
            && parts[4] == account
            && parts[5].split('/').nth(1) == Some(role_name)
            && parts[5].starts_with("assumed-role/")
    })
}

/// Whether the finding's actor is a session of the member remediation role `role_name`, in any account
/// (`arn:<partition>:sts::<account>:assumed-role/<role_name>/<session>` or its issuer
/// `arn:<partition>:iam::<account>:role/<role_name>`).
pub fn caused_by_member_role(f: &Finding, role_name: &str) -> bool {
    let named = |arn: &str, service: &str, prefix: &str| {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        parts.len() == 6
            && parts[2] == service
            && is_account_id(parts[4])
            && parts[5]
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.split('/').next() == Some(role_name))
    };
    f.actor
        .arn
        .as_deref()
        .is_some_and(|a| named(a, "sts", "assumed-role/"))
        || f.actor.session_issuer.as_deref().is_some_and(|a| {
            // A role's ARN may carry a path: the name is the last segment.
            let parts: Vec<&str> = a.splitn(6, ':').collect();
            parts.len() == 6
                && parts[2] == "iam"
                && is_account_id(parts[4])
                && parts[5].starts_with("role/")
                && parts[5].rsplit('/').next() == Some(role_name)
        })
}

/// What happened, before publishing.
pub struct Verdict {
    pub status: RemediationStatus,
    pub actions: Vec<String>,
    pub detail: String,
}

fn skipped(detail: impl Into<String>) -> Verdict {
    Verdict {
        status: RemediationStatus::Skipped,
        actions: Vec::new(),
        detail: detail.into(),
    }
}

fn dry_run(actions: Vec<String>) -> Verdict {
    Verdict {
        status: RemediationStatus::DryRun,
        actions,
        detail: "dry-run: nothing was changed".into(),
    }
}

/// A change whose verification failed, reported with the result of rolling it back.
/// A change applied and read back that did not achieve all it was for (issue 12, defect 4). Plans only
/// remove Allow statements or grants or switch protective settings on, so what was done cannot widen access:
/// it stays, and nothing is restored (restoring would put the exposure back, and a resource an attacker can
/// make unprovable would loop between the two states).
fn partial(actions: Vec<String>, why: &VerifyError) -> Verdict {
    Verdict {
        status: RemediationStatus::Partial,
        actions,
        detail: format!("{why}; nothing restored"),
    }
}

/// A change applied but not read back (issue 12, defect 5): never reported as done, never silently skipped.
fn unverified(actions: Vec<String>, e: &AwsError) -> Verdict {
    Verdict {
        status: RemediationStatus::Unverified,
        actions,
        detail: format!("applied, but reading it back failed after {READ_BACK_ATTEMPTS} attempts: {e}"),
    }
}

/// A change applied whose read-back differs from what was written (changed meanwhile): what the resource is
/// now was not judged here, so the outcome is unverified, like a read-back that failed.
fn changed_meanwhile(actions: Vec<String>, what: &'static str) -> Verdict {
    Verdict {
        status: RemediationStatus::Unverified,
        actions,
        detail: VerifyError::ReadBackDiffers(what).to_string(),
    }
}

/// Attempts of a read-back after a write, with backoff between them (100 ms, 200 ms).
const READ_BACK_ATTEMPTS: u32 = 3;

/// Reads back what a write did, retrying transient failures: the write cannot be repeated (it may have
/// landed), but reading it again is safe.
async fn read_back<T, Fut>(mut read: impl FnMut() -> Fut) -> Result<T, AwsError>
where
    Fut: std::future::Future<Output = Result<T, AwsError>>,
{
    let mut attempt = 1;
    loop {
        match read().await {
            Err(e) if e.is_retryable() && attempt < READ_BACK_ATTEMPTS => {
                tokio::time::sleep(std::time::Duration::from_millis(100 << (attempt - 1))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Not acted on because acting would be unsafe (issue 12): nothing was written; counted and alarmed.
fn refused(detail: impl Into<String>) -> Verdict {
    Verdict {
        status: RemediationStatus::Refused,
        actions: Vec::new(),
        detail: format!("refused: {}", detail.into()),
    }
}

/// The account a finding's target belongs to, from the finding's pointer only: the ARN's account where the
/// ARN has one (IAM, Config), else the finding's `account` (S3 bucket ARNs name no account). The two must
/// agree, and the account-level Block Public Access target must be that account too.
fn target_account(f: &Finding, kind: RemediationKind) -> Result<String, String> {
    let from_arn = arn_account(&f.resource.arn);
    if !is_account_id(&f.account) {
        return Err(format!("the finding names no valid account (`{}`)", f.account));
    }
    if !from_arn.is_empty() && from_arn != f.account {
        return Err(format!(
            "the resource ARN names account {from_arn}, the finding account {}",
            f.account
        ));
    }
    if kind == RemediationKind::S3RestoreAccountPublicAccessBlock && s3::pab_account_of(f) != f.account {
        return Err(format!(
            "the finding is about account {}'s Block Public Access, its account is {}",
            s3::pab_account_of(f),
            f.account
        ));
    }
    Ok(f.account.clone())
}

fn failed(actions: Vec<String>, detail: impl Into<String>) -> Verdict {
    Verdict {
        status: RemediationStatus::Failed,
        actions,
        detail: detail.into(),
    }
}

fn remediated(actions: Vec<String>, detail: impl Into<String>) -> Verdict {
    Verdict {
        status: RemediationStatus::Remediated,
        actions,
        detail: detail.into(),
    }
}

/// The bucket a finding's ARN names (`arn:<partition>:s3:::<bucket>`). Only the ARN counts, never
/// `resource.name`: exemptions and the allow-list are checked on the ARN, so the action must target the same
/// thing (a message naming one bucket in its ARN and another in its name acts on neither).
fn bucket_of(f: &Finding) -> Option<String> {
    let arn = &f.resource.arn;
    let partition = arn.split(':').nth(1).unwrap_or_default();
    arn.strip_prefix(&format!("arn:{partition}:s3:::"))
        .filter(|b| !b.is_empty() && !b.contains('/'))
        .filter(|b| f.resource.name.as_deref().is_none_or(|n| n == *b))
        .map(str::to_owned)
}

/// The IAM principal a finding's ARN names (`arn:<partition>:iam::<account>:role/<path>/<name>`). As for
/// buckets, only the ARN counts: a `resource.name` naming another principal acts on neither.
fn principal_of(f: &Finding) -> Option<PrincipalRef> {
    let arn = &f.resource.arn;
    if arn.split(':').nth(2) != Some("iam") {
        return None;
    }
    let name = tripline_core::resource_kind::arn_name(arn).to_owned();
    if name.is_empty() || f.resource.name.as_deref().is_some_and(|n| n != name) {
        return None;
    }
    match f.resource.resource_type.as_str() {
        "AWS::IAM::Role" => Some(PrincipalRef::Role(name)),
        "AWS::IAM::User" => Some(PrincipalRef::User(name)),
        "AWS::IAM::Group" => Some(PrincipalRef::Group(name)),
        _ => None,
    }
}

fn parse_policy(doc: &Value) -> Result<Policy, PolicyError> {
    Policy::parse(doc)
}

/// Why a remediation's result did not verify (the change is then rolled back and reported as failed).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("verification failed: {0}")]
    Invalid(#[from] PolicyError),
    #[error("the {0} read back differs from the one put (changed meanwhile?)")]
    ReadBackDiffers(&'static str),
    #[error("verification failed: the {0} is still public")]
    StillPublic(&'static str),
    /// The read-back does not show the state the remediation set.
    #[error("verification failed")]
    NotInEffect,
}

/// The exemption tags currently on the finding's resource, when the resource kind has tags we read.
async fn current_tags<D: S3Read + IamRead>(
    aws: &D,
    f: &Finding,
) -> Result<Option<std::collections::BTreeMap<String, String>>, AwsError> {
    match f.resource.resource_type.as_str() {
        "AWS::S3::Bucket" => match bucket_of(f) {
            Some(b) => aws.bucket_tags(&b).await.map(Some),
            None => Ok(None),
        },
        "AWS::IAM::Role" => match principal_of(f) {
            Some(PrincipalRef::Role(r)) => aws.role_tags(&r).await.map(Some),
            _ => Ok(None),
        },
        "AWS::IAM::Policy" => aws.policy_tags(&f.resource.arn).await.map(Some),
        _ => Ok(None),
    }
}

/// Decides and (in enforce mode) applies the remediation of one finding.
pub async fn remediate_finding<D>(
    aws: &D,
    cfg: &RemediateConfig,
    f: &Finding,
) -> Result<(String, Verdict), AwsError>
where
    D: S3Read + S3Write + IamRead + IamWrite + ConfigRecorder + CallerIdentity + AttemptMarker,
{
    let Some(plan) = &f.remediation else {
        return Ok((String::new(), skipped("the rule has no remediation")));
    };
    let id = plan.id.clone();
    // The remediation is the one the registry declares for the rule, never what the message says: a message
    // pairing a rule with another rule's remediation (forged, or from another catalog) changes nothing.
    let declared = tripline_core::rules::by_id(&f.rule).and_then(|r| r.remediation);
    if declared.map(|r| r.id) != Some(id.as_str()) {
        return Ok((
            id,
            refused(format!(
                "rule `{}` declares remediation {}, not the message's",
                f.rule,
                declared.map_or_else(|| "none".to_owned(), |r| format!("`{}`", r.id))
            )),
        ));
    }
    if f.resource.arn.is_empty() {
        // The record named no resource (the finding says so): there is nothing to act on.
        return Ok((
            id,
            skipped("the finding names no resource (the record does not include it)"),
        ));
    }
    let mode = cfg.detector.rules.remediation_mode_for(&f.rule);
    if mode == RemediationMode::Off {
        return Ok((id, skipped("remediation mode is off for this rule")));
    }
    if let Some(role) = &cfg.remediation_role_arn {
        if caused_by_role(f, role) {
            return Ok((
                id,
                skipped("the change was made by Tripline's own remediation role (loop protection)"),
            ));
        }
    }
    if let Some(name) = &cfg.member_role_name {
        if caused_by_member_role(f, name) {
            return Ok((
                id,
                skipped("the change was made by Tripline's member remediation role (loop protection)"),
            ));
        }
    }
    if let Some(s) = &f.suppressed {
        return Ok((id, skipped(format!("the finding is suppressed: {}", s.reason))));
    }
    // Only the finding's own account, with that account's own credentials (issue 12, A): the account of the
    // credentials in use (the member role's session for a member account) must be the target's. A role that
    // cannot be assumed fails here, before any read; nothing is written anywhere.
    let Some(registered) = tripline_core::remediation::by_id(&id) else {
        return Ok((
            id.clone(),
            skipped(format!("remediation `{id}` is not in this catalog")),
        ));
    };
    let account = match target_account(f, registered.kind) {
        Ok(a) => a,
        Err(why) => return Ok((id, refused(why))),
    };
    match aws.caller_account().await {
        Ok(caller) if caller == account => {}
        Ok(caller) => {
            return Ok((
                id,
                refused(format!(
                    "cannot act in account {account}: the credentials in use are of account {caller} \
                     (no member remediation role for it)"
                )),
            ))
        }
        Err(e) if e.is_retryable() => return Err(e),
        Err(e) => return Ok((id, refused(format!("cannot act in account {account}: {e}")))),
    }
    // Exemptions on the current tags (a tag added after the finding counts).
    let tags = match current_tags(aws, f).await {
        Ok(t) => t,
        Err(e) if e.is_not_found() => {
            return Ok((id, skipped("stale finding: the resource no longer exists")))
        }
        Err(e) => return Err(e),
    };
    let today = tripline_core::exempt::date_of(&f.event.time);
    let exemption = tripline_core::exempt::check(
        &f.rule,
        &f.resource.arn,
        tags.as_ref(),
        &cfg.detector.rules,
        today,
    );
    if let Some(s) = exemption.suppressed {
        return Ok((id, skipped(format!("exempt: {}", s.reason))));
    }
    // At most one enforced attempt per (account, rule, resource) within the cool-down (issue 12, D): a
    // conditional write, so no loop is possible whatever triggers the next delivery.
    if let (RemediationMode::Enforce, Some(w)) = (mode, &cfg.attempts) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let key = format!("{account}|{}|{}", f.rule, f.resource.arn);
        if let Some(at) = aws
            .claim_attempt(&w.table, &key, now, now.saturating_add(w.cooldown_secs))
            .await?
        {
            return Ok((
                id,
                skipped(format!(
                    "cool-down: an enforced attempt on this resource and rule was made {} s ago (window {} s); \
                     not attempted again",
                    now.saturating_sub(at),
                    w.cooldown_secs
                )),
            ));
        }
    }
    let bucket = bucket_of(f);
    let r = match (registered.kind, bucket.as_deref()) {
        (RemediationKind::S3RemovePublicPolicyStatements, Some(b)) => {
            s3::remove_public_policy_statements(aws, b, mode).await
        }
        (RemediationKind::S3RemovePublicAclGrants, Some(b)) => {
            s3::remove_public_acl_grants(aws, b, mode).await
        }
        (RemediationKind::S3RestoreBucketPublicAccessBlock, Some(b)) => {
            s3::restore_bucket_pab(aws, b, mode).await
        }
        (
            RemediationKind::S3RemovePublicPolicyStatements
            | RemediationKind::S3RemovePublicAclGrants
            | RemediationKind::S3RestoreBucketPublicAccessBlock,
            None,
        ) => Ok(skipped("the finding names no bucket")),
        (RemediationKind::S3RestoreAccountPublicAccessBlock, _) => {
            s3::restore_account_pab(aws, &s3::pab_account_of(f), mode).await
        }
        (RemediationKind::IamRestorePreviousDefaultVersion, _) => {
            iam::restore_default_version(aws, &f.resource.arn, mode).await
        }
        (RemediationKind::IamDetachAdminPolicy, _) => iam::detach_admin(aws, f, mode).await,
        (RemediationKind::IamRestorePreviousTrustPolicy, _) => iam::restore_trust(aws, f, mode).await,
        (RemediationKind::ConfigStartConfigurationRecorder, _) => config::start_recorder(aws, f, mode).await,
    };
    match r {
        Ok(r) => Ok((id, r)),
        // A resource deleted meanwhile: nothing to fix.
        Err(e) if e.is_not_found() => Ok((id, skipped(format!("stale finding: {e}")))),
        // Permanent failures of an action are reported as a failed remediation, not retried.
        Err(e) if !e.is_retryable() => Ok((id, failed(vec![], e.to_string()))),
        Err(e) => Err(e),
    }
}
