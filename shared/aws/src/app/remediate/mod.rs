//! Use case: remediate one finding.
//!
//! For each finding: the rule's mode comes from this function's configuration (`off`, `dry-run`,
//! `enforce`); findings caused by Tripline's own remediation role are ignored (loop protection); current
//! state is re-read first and nothing is done when the finding is stale (the resource is no longer
//! exposed); exemption tags are honoured on the *current* tags. After acting, the result is verified with
//! the policy engine — no longer public, and `diff(before, after)` grants no new access — and rolled back
//! (and reported as failed) otherwise. Every outcome (remediated, dry-run, skipped + why, failed) is
//! published by the caller (the `remediate` function publishes to the alert topic with `remediation: none`, so
//! it never sees its own messages).
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
//! - `iam-restore-previous-default-version`: make the previous version the default again;
//! - `iam-detach-admin-policy`: detach the AWS managed admin policy the flagged event attached;
//! - `iam-restore-previous-trust-policy`: when the finding carries the previous trust policy
//!   (`evidence.details.previous_trust_policy`), put it back.
//!
//! The dispatch is an exhaustive `match` on `RemediationKind`: the compiler refuses a registered
//! remediation that is not implemented here. An id outside the registry (a finding from an older or newer
//! catalog) is reported as skipped.
mod config;
mod iam;
mod s3;

use serde_json::Value;

use super::DetectorConfig;
use crate::{AwsError, ConfigRecorder, IamRead, IamWrite, PrincipalRef, S3Read, S3Write};
use tripline_core::finding::Finding;
use tripline_core::policy::{self, Policy, PolicyError, ResourceKind};
use tripline_core::remediation::RemediationKind;
use tripline_core::render::sns::RemediationStatus;
use tripline_core::settings::RemediationMode;

/// Configuration of remediate.
#[derive(Debug, Clone, PartialEq)]
pub struct RemediateConfig {
    pub detector: DetectorConfig,
    /// `TRIPLINE_REMEDIATION_ROLE_ARN`: findings caused by this role are ignored.
    pub remediation_role_arn: Option<String>,
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
    #[error("verification failed: the new document grants new access ({0})")]
    Widened(String),
    #[error("verification failed: the {0} is still public")]
    StillPublic(&'static str),
    /// The read-back does not show the state the remediation set.
    #[error("verification failed")]
    NotInEffect,
}

/// `diff(before, after)` must show no new access, and `after` must not be public (for `kind`).
fn verify_not_widened_not_public(
    before: &Value,
    after: Option<&Value>,
    kind: ResourceKind,
) -> Result<(), VerifyError> {
    let Some(after) = after else { return Ok(()) };
    let (b, a) = (parse_policy(before)?, parse_policy(after)?);
    let d = policy::diff(&b, &a);
    if d.widened {
        return Err(VerifyError::Widened(format!("{:?}", d.new_access)));
    }
    let verdict = policy::resource_policy_public(&a, kind);
    if verdict.public {
        return Err(VerifyError::StillPublic("resource"));
    }
    Ok(())
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
    D: S3Read + S3Write + IamRead + IamWrite + ConfigRecorder,
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
            skipped(format!(
                "refused: rule `{}` declares remediation {}, not the message's",
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
    if let Some(s) = &f.suppressed {
        return Ok((id, skipped(format!("the finding is suppressed: {}", s.reason))));
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
    let Some(registered) = tripline_core::remediation::by_id(&id) else {
        return Ok((
            id.clone(),
            skipped(format!("remediation `{id}` is not in this catalog")),
        ));
    };
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
