//! `remediate`: subscribed to the alert topic (filter policy `remediation: [planned]`).
//!
//! For each finding: the rule's mode comes from this function's configuration (`off`, `dry-run`,
//! `enforce`); findings caused by Tripline's own remediation role are ignored (loop protection); current
//! state is re-read first and nothing is done when the finding is stale (the resource is no longer
//! exposed); exemption tags are honoured on the *current* tags. After acting, the result is verified with
//! the policy engine — no longer public, and `diff(before, after)` grants no new access — and rolled back
//! (and reported as failed) otherwise. Every outcome (remediated, dry-run, skipped + why, failed) is
//! published to the alert topic with `remediation: none`, so this function never sees its own messages.
//!
//! Remediations implemented here:
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
//! [`IMPLEMENTED`] lists these ids; a meta-test checks that the rule registry declares exactly them. An id
//! outside the list (a finding from an older or newer catalog) is reported as skipped.

use serde_json::Value;

use super::{event_id_hint, DetectorConfig, HandlerError};
use crate::{
    AwsError, ConfigRecorder, IamRead, IamWrite, PrincipalRef, Publication, Publish, S3Read, S3Write,
};
use tripline_core::error::IntakeError;
use tripline_core::finding::Finding;
use tripline_core::policy::{self, narrow, Policy, ResourceKind};
use tripline_core::render::sns::{RemediationOutcome, RemediationStatus};
use tripline_core::settings::{is_account_id, RemediationMode};
use tripline_core::state::PublicAccessBlock;

/// The remediation ids [`handle_remediate`] implements: exactly the ones the rule registry declares.
pub const IMPLEMENTED: &[&str] = &[
    "s3-remove-public-policy-statements",
    "s3-remove-public-acl-grants",
    "s3-restore-bucket-public-access-block",
    "s3-restore-account-public-access-block",
    "iam-restore-previous-default-version",
    "iam-detach-admin-policy",
    "iam-restore-previous-trust-policy",
    "config-start-configuration-recorder",
];

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
struct Verdict {
    status: RemediationStatus,
    actions: Vec<String>,
    detail: String,
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
fn rolled_back<T>(actions: Vec<String>, why: &str, rollback: Result<T, AwsError>) -> Verdict {
    let rollback = rollback.map_or_else(|e| format!("rollback failed: {e}"), |_| "ok".into());
    failed(actions, format!("{why}; rolled back: {rollback}"))
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

fn bucket_of(f: &Finding) -> Option<String> {
    f.resource
        .name
        .clone()
        .or_else(|| f.resource.arn.strip_prefix("arn:aws:s3:::").map(str::to_owned))
        .filter(|b| !b.is_empty() && !b.contains('/'))
}

fn principal_of(f: &Finding) -> Option<PrincipalRef> {
    let name = f
        .resource
        .name
        .clone()
        .or_else(|| f.resource.arn.rsplit('/').next().map(str::to_owned))?;
    match f.resource.resource_type.as_str() {
        "AWS::IAM::Role" => Some(PrincipalRef::Role(name)),
        "AWS::IAM::User" => Some(PrincipalRef::User(name)),
        "AWS::IAM::Group" => Some(PrincipalRef::Group(name)),
        _ => None,
    }
}

fn parse_policy(doc: &Value) -> Result<Policy, String> {
    Policy::parse(doc).map_err(|e| e.to_string())
}

/// `diff(before, after)` must show no new access, and `after` must not be public (for `kind`).
fn verify_not_widened_not_public(
    before: &Value,
    after: Option<&Value>,
    kind: ResourceKind,
) -> Result<(), String> {
    let Some(after) = after else { return Ok(()) };
    let (b, a) = (parse_policy(before)?, parse_policy(after)?);
    let d = policy::diff(&b, &a);
    if d.widened {
        return Err(format!(
            "verification failed: the new document grants new access ({:?})",
            d.new_access
        ));
    }
    let verdict = policy::resource_policy_public(&a, kind);
    if verdict.public {
        return Err("verification failed: the resource is still public".into());
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

async fn remediate_bucket_policy<D: S3Read + S3Write>(
    aws: &D,
    bucket: &str,
    mode: RemediationMode,
) -> Result<Verdict, AwsError> {
    let Some(current) = aws.bucket_policy(bucket).await? else {
        return Ok(skipped("stale finding: the bucket has no policy now"));
    };
    let parsed = match parse_policy(&current) {
        Ok(p) => p,
        Err(e) => {
            return Ok(failed(
                vec![],
                format!("the current bucket policy does not parse: {e}"),
            ))
        }
    };
    if !policy::bucket_policy_public(&parsed).public {
        return Ok(skipped("stale finding: the current bucket policy is not public"));
    }
    let plan = match narrow::remove_public_statements(&current) {
        Ok(p) => p,
        Err(e) => return Ok(failed(vec![], format!("planning failed: {e}"))),
    };
    let total = current
        .get("Statement")
        .map_or(0, |s| s.as_array().map_or(1, Vec::len));
    let removed: Vec<String> = plan
        .removed
        .iter()
        .map(|r| format!("{} ({})", r.statement, r.cause))
        .collect();
    let action = match &plan.policy {
        Some(p) => format!(
            "put bucket policy on `{bucket}` keeping {} of {total} statement(s), removing the public ones: {}",
            p["Statement"].as_array().map_or(0, Vec::len),
            removed.join("; ")
        ),
        None => format!("delete the bucket policy of `{bucket}`: every statement is public ({})", removed.join("; ")),
    };
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(vec![action]));
    }
    match &plan.policy {
        Some(p) => aws.put_bucket_policy(bucket, p).await?,
        None => aws.delete_bucket_policy(bucket).await?,
    }
    let after = aws.bucket_policy(bucket).await?;
    let check = if after != plan.policy {
        Err("verification failed: the policy read back differs from the one put".to_owned())
    } else {
        verify_not_widened_not_public(&current, after.as_ref(), ResourceKind::S3Bucket)
    };
    match check {
        Ok(()) => Ok(remediated(
            vec![action],
            "verified: the bucket policy is no longer public and grants no new access",
        )),
        Err(why) => Ok(rolled_back(
            vec![action],
            &why,
            aws.put_bucket_policy(bucket, &current).await,
        )),
    }
}

async fn remediate_bucket_acl<D: S3Read + S3Write>(
    aws: &D,
    bucket: &str,
    mode: RemediationMode,
) -> Result<Verdict, AwsError> {
    let current = aws.bucket_acl(bucket).await?;
    match policy::acl_public(&current) {
        Ok(v) if !v.public => return Ok(skipped("stale finding: the current bucket ACL is not public")),
        Ok(_) => {}
        Err(e) => return Ok(failed(vec![], format!("the current ACL does not parse: {e}"))),
    }
    let planned = match narrow::remove_public_grants(&current) {
        Ok(p) => p,
        Err(e) => return Ok(failed(vec![], format!("planning failed: {e}"))),
    };
    let action = format!("put the ACL of `{bucket}` without its AllUsers / AuthenticatedUsers grants");
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(vec![action]));
    }
    if let Err(e) = aws.put_bucket_acl(bucket, &planned).await {
        if e.is_retryable() {
            return Err(e);
        }
        return Ok(failed(vec![action], format!("the ACL could not be changed: {e}")));
    }
    let after = aws.bucket_acl(bucket).await?;
    match policy::acl_public(&after) {
        Ok(v) if !v.public => Ok(remediated(
            vec![action],
            "verified: the bucket ACL is no longer public",
        )),
        _ => Ok(rolled_back(
            vec![action],
            "verification failed: the ACL is still public",
            aws.put_bucket_acl(bucket, &current).await,
        )),
    }
}

async fn remediate_bucket_pab<D: S3Read + S3Write>(
    aws: &D,
    bucket: &str,
    mode: RemediationMode,
) -> Result<Verdict, AwsError> {
    let all_on = PublicAccessBlock::ALL_ON;
    let current = aws.bucket_public_access_block(bucket).await?;
    if current == Some(all_on) {
        return Ok(skipped(
            "stale finding: bucket-level Block Public Access is fully on",
        ));
    }
    let action = format!("turn on all four bucket-level Block Public Access settings of `{bucket}`");
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(vec![action]));
    }
    aws.put_bucket_public_access_block(bucket, Some(all_on)).await?;
    if aws.bucket_public_access_block(bucket).await? == Some(all_on) {
        Ok(remediated(
            vec![action],
            "verified: Block Public Access is on for the bucket",
        ))
    } else {
        Ok(rolled_back(
            vec![action],
            "verification failed",
            aws.put_bucket_public_access_block(bucket, current).await,
        ))
    }
}

/// The account whose account-level Block Public Access the finding is about: the request's `accountId`
/// (the resource name) when it is an account id, else the finding's account.
fn pab_account_of(f: &Finding) -> String {
    f.resource
        .name
        .clone()
        .filter(|a| is_account_id(a))
        .unwrap_or_else(|| f.account.clone())
}

async fn remediate_account_pab<D: S3Read + S3Write>(
    aws: &D,
    account: &str,
    mode: RemediationMode,
) -> Result<Verdict, AwsError> {
    let all_on = PublicAccessBlock::ALL_ON;
    let current = aws.account_public_access_block(account).await?;
    if current == Some(all_on) {
        return Ok(skipped(
            "stale finding: account-level Block Public Access is fully on",
        ));
    }
    let action =
        format!("turn on all four account-level Block Public Access settings of account `{account}`");
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(vec![action]));
    }
    aws.put_account_public_access_block(account, Some(all_on)).await?;
    if aws.account_public_access_block(account).await? == Some(all_on) {
        Ok(remediated(
            vec![action],
            "verified: Block Public Access is on for the account",
        ))
    } else {
        Ok(rolled_back(
            vec![action],
            "verification failed",
            aws.put_account_public_access_block(account, current).await,
        ))
    }
}

async fn start_recorder<D: ConfigRecorder>(
    aws: &D,
    f: &Finding,
    mode: RemediationMode,
) -> Result<Verdict, AwsError> {
    if f.event.name.starts_with("Delete") {
        return Ok(skipped(format!(
            "`{}` deleted the recorder or its delivery channel: restarting is impossible, recreate it \
             (aws configservice put-configuration-recorder / put-delivery-channel) and start it",
            f.event.name
        )));
    }
    let name = f.resource.name.clone().unwrap_or_else(|| "default".into());
    let Some(recording) = aws.recorder_recording(&name).await? else {
        return Ok(skipped(format!(
            "stale finding: no configuration recorder `{name}` exists now"
        )));
    };
    if recording {
        return Ok(skipped(format!(
            "stale finding: configuration recorder `{name}` is recording"
        )));
    }
    let action = format!("start the AWS Config configuration recorder `{name}`");
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(vec![action]));
    }
    aws.start_configuration_recorder(&name).await?;
    // Starting a recorder grants no access, so there is nothing to roll back when it does not take.
    if aws.recorder_recording(&name).await? == Some(true) {
        Ok(remediated(
            vec![action],
            "verified: the configuration recorder is recording",
        ))
    } else {
        Ok(failed(
            vec![action],
            "verification failed: the configuration recorder is not recording after the start",
        ))
    }
}

async fn restore_default_version<D: IamRead + IamWrite>(
    aws: &D,
    arn: &str,
    mode: RemediationMode,
) -> Result<Verdict, AwsError> {
    let mut versions = aws.list_policy_versions(arn).await?;
    let Some(current) = versions.iter().find(|v| v.is_default).cloned() else {
        return Ok(skipped("the policy has no default version"));
    };
    // The previous default: the newest version created before the current default.
    versions.retain(|v| v.version_id != current.version_id && v.create_date <= current.create_date);
    versions.sort_by(|a, b| {
        (a.create_date.as_str(), num(&a.version_id)).cmp(&(b.create_date.as_str(), num(&b.version_id)))
    });
    let Some(previous) = versions.pop() else {
        return Ok(skipped("no previous version to restore"));
    };
    let (cur_doc, prev_doc) = futures::try_join!(
        aws.policy_version_document(arn, &current.version_id),
        aws.policy_version_document(arn, &previous.version_id)
    )?;
    let (cur, prev) = match (parse_policy(&cur_doc), parse_policy(&prev_doc)) {
        (Ok(c), Ok(p)) => (c, p),
        (Err(e), _) | (_, Err(e)) => return Ok(failed(vec![], format!("a version does not parse: {e}"))),
    };
    if !policy::diff(&prev, &cur).widened {
        return Ok(skipped(format!(
            "stale finding: the default version `{}` grants nothing `{}` did not",
            current.version_id, previous.version_id
        )));
    }
    let action = format!(
        "set version `{}` of `{arn}` as default again (replacing `{}`)",
        previous.version_id, current.version_id
    );
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(vec![action]));
    }
    aws.set_default_policy_version(arn, &previous.version_id).await?;
    let now = aws.list_policy_versions(arn).await?;
    let ok = now
        .iter()
        .any(|v| v.is_default && v.version_id == previous.version_id);
    if ok && !policy::diff(&cur, &prev).widened {
        Ok(remediated(
            vec![action],
            "verified: the previous version is the default and grants no new access",
        ))
    } else {
        Ok(rolled_back(
            vec![action],
            "verification failed",
            aws.set_default_policy_version(arn, &current.version_id).await,
        ))
    }
}

fn num(id: &str) -> u64 {
    id.trim_start_matches(['v', 'V']).parse().unwrap_or(u64::MAX)
}

async fn detach_admin<D: IamRead + IamWrite>(
    aws: &D,
    f: &Finding,
    mode: RemediationMode,
) -> Result<Verdict, AwsError> {
    let Some(principal) = principal_of(f) else {
        return Ok(skipped("the finding does not name a role, user or group"));
    };
    let Some(policy_arn) = f.evidence.details.get("policy_arn").and_then(Value::as_str) else {
        return Ok(skipped("the finding does not name the attached policy"));
    };
    if !aws
        .attached_policies(&principal)
        .await?
        .iter()
        .any(|a| a == policy_arn)
    {
        return Ok(skipped(format!(
            "stale finding: `{policy_arn}` is no longer attached"
        )));
    }
    let action = format!("detach `{policy_arn}` from {principal:?}");
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(vec![action]));
    }
    aws.detach_policy(&principal, policy_arn).await?;
    if aws
        .attached_policies(&principal)
        .await?
        .iter()
        .any(|a| a == policy_arn)
    {
        let rollback = aws.attach_policy(&principal, policy_arn).await;
        return Ok(failed(
            vec![action],
            format!(
                "verification failed: still attached; rollback: {}",
                rollback.map_or_else(|e| format!("failed: {e}"), |_| "ok".into())
            ),
        ));
    }
    Ok(remediated(
        vec![action],
        "verified: the policy is no longer attached",
    ))
}

async fn restore_trust<D: IamRead + IamWrite>(
    aws: &D,
    f: &Finding,
    mode: RemediationMode,
) -> Result<Verdict, AwsError> {
    let Some(PrincipalRef::Role(role)) = principal_of(f) else {
        return Ok(skipped("the finding does not name a role"));
    };
    let Some(previous) = f
        .evidence
        .details
        .get("previous_trust_policy")
        .filter(|v| v.is_object())
    else {
        return Ok(skipped(
            "the previous trust policy is unknown (only Config items carry it)",
        ));
    };
    let current = aws.role_trust_policy(&role).await?;
    let (cur, prev) = match (parse_policy(&current), parse_policy(previous)) {
        (Ok(c), Ok(p)) => (c, p),
        (Err(e), _) | (_, Err(e)) => {
            return Ok(failed(vec![], format!("a trust policy does not parse: {e}")))
        }
    };
    if !policy::diff(&prev, &cur).widened {
        return Ok(skipped(
            "stale finding: the current trust policy grants nothing the previous one did not",
        ));
    }
    let action = format!("restore the previous trust policy of role `{role}`");
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(vec![action]));
    }
    aws.update_assume_role_policy(&role, previous).await?;
    let after = aws.role_trust_policy(&role).await?;
    let check = if &after != previous {
        Err("verification failed: the trust policy read back differs".to_owned())
    } else {
        verify_not_widened_not_public(&current, Some(&after), ResourceKind::IamRoleTrust)
    };
    match check {
        Ok(()) => Ok(remediated(
            vec![action],
            "verified: the previous trust policy is back and grants no new access",
        )),
        Err(why) => Ok(rolled_back(
            vec![action],
            &why,
            aws.update_assume_role_policy(&role, &current).await,
        )),
    }
}

/// Decides and (in enforce mode) applies the remediation of one finding.
async fn remediate_finding<D>(
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
    let bucket = bucket_of(f);
    let r = match (id.as_str(), bucket.as_deref()) {
        ("s3-remove-public-policy-statements", Some(b)) => remediate_bucket_policy(aws, b, mode).await,
        ("s3-remove-public-acl-grants", Some(b)) => remediate_bucket_acl(aws, b, mode).await,
        ("s3-restore-bucket-public-access-block", Some(b)) => remediate_bucket_pab(aws, b, mode).await,
        ("s3-restore-account-public-access-block", _) => {
            remediate_account_pab(aws, &pab_account_of(f), mode).await
        }
        ("iam-restore-previous-default-version", _) => {
            restore_default_version(aws, &f.resource.arn, mode).await
        }
        ("iam-detach-admin-policy", _) => detach_admin(aws, f, mode).await,
        ("iam-restore-previous-trust-policy", _) => restore_trust(aws, f, mode).await,
        ("config-start-configuration-recorder", _) => start_recorder(aws, f, mode).await,
        (other, _) => Ok(skipped(format!(
            "remediation `{other}` is not implemented by remediate"
        ))),
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

/// The remediate handler: every SNS record's finding is handled and its outcome published.
pub async fn handle_remediate<D>(
    aws: &D,
    cfg: &RemediateConfig,
    event: &[u8],
) -> Result<Vec<RemediationOutcome>, HandlerError>
where
    D: S3Read + S3Write + IamRead + IamWrite + ConfigRecorder + Publish,
{
    let event_id = event_id_hint(event);
    let bad = |message: String| {
        let source = IntakeError::InvalidValue {
            field: "Records[].Sns.Message".into(),
            context: "the sns event".into(),
            value: String::new(),
            reason: message,
        };
        tracing::error!(event_id = %event_id, error = %source, "bad event");
        HandlerError::BadEvent {
            event_id: event_id.clone(),
            source,
        }
    };
    let v: Value = serde_json::from_slice(event).map_err(|e| bad(format!("not json: {e}")))?;
    let records = v
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `Records` list".into()))?;
    let mut outcomes = Vec::new();
    for r in records {
        // Only findings with a planned remediation are for this function (the subscription's filter policy
        // says so too); anything else published on the topic is acknowledged and logged, never acted on.
        let attribute = |name: &str| {
            r.pointer(&format!("/Sns/MessageAttributes/{name}/Value"))
                .and_then(Value::as_str)
        };
        if let (Some(kind), remediation) = (attribute("kind"), attribute("remediation")) {
            if kind != "finding" || remediation == Some("none") {
                tracing::info!(event_id = %event_id, kind, remediation, "not a finding with a planned remediation: ignored");
                continue;
            }
        }
        let message = r
            .pointer("/Sns/Message")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no `Sns.Message`".into()))?;
        let f: Finding =
            serde_json::from_str(message).map_err(|e| bad(format!("the message is not a finding: {e}")))?;
        let (remediation_id, result) = remediate_finding(aws, cfg, &f).await.map_err(|e| {
            tracing::error!(event_id = %f.event.id, rule = %f.rule, resource = %f.resource.arn, retryable = e.is_retryable(), error = %e, "remediation failed");
            HandlerError::aws(&f.event.id, e)
        })?;
        let outcome =
            RemediationOutcome::of(&f, remediation_id, result.status, result.actions, result.detail);
        tracing::info!(
            event_id = %f.event.id,
            finding_id = %f.id,
            rule = %f.rule,
            resource = %f.resource.arn,
            status = outcome.status.as_str(),
            detail = %outcome.detail,
            "remediation outcome"
        );
        let msg: Publication = tripline_core::render::sns::remediation_outcome(&outcome).into();
        aws.publish(&cfg.detector.alert_topic_arn, &msg)
            .await
            .map_err(|e| HandlerError::aws(&f.event.id, e))?;
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::fakes::{FakeAws, FakeBucket};
    use crate::ErrorKind;
    use serde_json::json;
    use tripline_core::intake::{intake, Intake};
    use tripline_core::settings::RuleConfig;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:tripline-alerts";
    const ROLE: &str = "arn:aws:iam::111122223333:role/tripline-remediate";

    fn cfg(mode: RemediationMode) -> RemediateConfig {
        let rules = RuleConfig {
            remediation_mode: mode,
            remediation_rules: [
                "s3-bucket-policy-public",
                "s3-bucket-acl-public",
                "iam-policy-widened",
                "s3-account-public-access-block-weakened",
                "config-recording-stopped",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            ..RuleConfig::default()
        };
        RemediateConfig {
            detector: DetectorConfig {
                alert_topic_arn: TOPIC.into(),
                rules,
            },
            remediation_role_arn: Some(ROLE.into()),
        }
    }

    use crate::block_on;
    /// The finding `rule` raises on an `events/` sample.
    fn finding(sample: &str, rule: &str) -> Finding {
        let bytes = std::fs::read(format!("{}/../../events/{sample}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let Intake::Change(c) = intake(&bytes).unwrap() else {
            panic!()
        };
        let e = tripline_core::rules::evaluate(&c, None, &cfg(RemediationMode::Enforce).detector.rules);
        e.findings
            .into_iter()
            .find(|f| f.rule == rule)
            .unwrap_or_else(|| panic!("{rule} on {sample}"))
    }

    fn sns(f: &Finding) -> Vec<u8> {
        serde_json::to_vec(
            &json!({"Records": [{"Sns": {"MessageId": "m", "Message": serde_json::to_string(f).unwrap()}}]}),
        )
        .unwrap()
    }

    const KEEP: &str = "ReportsWriterRole";

    fn mixed_policy() -> Value {
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::reports-prod", "arn:aws:s3:::reports-prod/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": KEEP, "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/reports-writer"},
             "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::reports-prod/*"},
            {"Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::reports-prod/*"}]})
    }

    fn world(tags: &[(&str, &str)]) -> FakeAws {
        let aws = FakeAws::new();
        aws.add_bucket(
            "reports-prod",
            FakeBucket {
                policy: Some(mixed_policy()),
                tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                ..FakeBucket::default()
            },
        );
        aws
    }

    #[test]
    fn bucket_policy_modes_exemptions_and_loop_protection() {
        let f = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        let mut by_role = f.clone();
        by_role.actor.session_issuer = Some(ROLE.into());
        // (label, finding, mode, tags, expected status, policy changed?)
        type Case<'a> = (
            &'a str,
            &'a Finding,
            RemediationMode,
            Vec<(&'a str, &'a str)>,
            RemediationStatus,
            bool,
        );
        let cases: Vec<Case> = vec![
            (
                "enforce",
                &f,
                RemediationMode::Enforce,
                vec![],
                RemediationStatus::Remediated,
                true,
            ),
            (
                "dry-run",
                &f,
                RemediationMode::DryRun,
                vec![],
                RemediationStatus::DryRun,
                false,
            ),
            (
                "off",
                &f,
                RemediationMode::Off,
                vec![],
                RemediationStatus::Skipped,
                false,
            ),
            (
                "exempt",
                &f,
                RemediationMode::Enforce,
                vec![("tripline:exempt", "s3-bucket-policy-public")],
                RemediationStatus::Skipped,
                false,
            ),
            (
                "expired exemption",
                &f,
                RemediationMode::Enforce,
                vec![("tripline:exempt", "s3-bucket-policy-public@2020-01-01")],
                RemediationStatus::Remediated,
                true,
            ),
            (
                "own role",
                &by_role,
                RemediationMode::Enforce,
                vec![],
                RemediationStatus::Skipped,
                false,
            ),
        ];
        for (label, finding, mode, tags, status, changed) in cases {
            let aws = world(&tags);
            let out = block_on(handle_remediate(&aws, &cfg(mode), &sns(finding))).unwrap();
            assert_eq!(out[0].status, status, "{label}: {:?}", out[0]);
            let policy = aws.world().buckets["reports-prod"].policy.clone().unwrap();
            assert_eq!(policy != mixed_policy(), changed, "{label}: {policy}");
            if changed {
                let sids: Vec<&str> = policy["Statement"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|s| s["Sid"].as_str())
                    .collect();
                assert_eq!(
                    sids,
                    ["DenyInsecureTransport", KEEP],
                    "{label}: only the public statement goes"
                );
            } else {
                assert!(aws.writes().is_empty(), "{label}: {:?}", aws.writes());
            }
            let published = aws.published();
            assert_eq!(published.len(), 1, "{label}: every outcome is published");
            assert_eq!(published[0].1.attributes["kind"], "remediation");
            assert_eq!(
                published[0].1.attributes["remediation"], "none",
                "{label}: cannot loop"
            );
        }
    }

    #[test]
    fn stale_findings_and_failures() {
        let f = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        // Already fixed: the current policy is not public -> nothing done.
        let aws = world(&[]);
        let mut private = mixed_policy();
        private["Statement"].as_array_mut().unwrap().pop();
        aws.world().buckets.get_mut("reports-prod").unwrap().policy = Some(private.clone());
        let out = block_on(handle_remediate(&aws, &cfg(RemediationMode::Enforce), &sns(&f))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Skipped);
        assert!(out[0].detail.contains("stale"), "{}", out[0].detail);
        assert!(aws.writes().is_empty());

        // The put is denied: a failed outcome, published, not retried.
        let aws = world(&[]);
        aws.fail("s3:PutBucketPolicy", ErrorKind::AccessDenied);
        let out = block_on(handle_remediate(&aws, &cfg(RemediationMode::Enforce), &sns(&f))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Failed, "{:?}", out[0]);
        // Throttled re-read: retryable error, so SNS/Lambda deliver the finding again.
        aws.fail("s3:GetBucketTagging", ErrorKind::Throttling);
        let e = block_on(handle_remediate(&aws, &cfg(RemediationMode::Enforce), &sns(&f))).unwrap_err();
        assert!(e.is_retryable());
        // Outcomes and summaries on the topic are ignored (no loop even without the filter policy).
        let outcome = json!({"Records": [{"Sns": {"Message": "{}", "MessageAttributes": {
            "kind": {"Type": "String", "Value": "remediation"}, "remediation": {"Type": "String", "Value": "none"}}}}]});
        let out = block_on(handle_remediate(
            &aws,
            &cfg(RemediationMode::Enforce),
            outcome.to_string().as_bytes(),
        ))
        .unwrap();
        assert!(out.is_empty());
        // Not a finding: bad event.
        let e = block_on(handle_remediate(
            &aws,
            &cfg(RemediationMode::Enforce),
            br#"{"Records": [{"Sns": {"Message": "hi"}}]}"#,
        ))
        .unwrap_err();
        assert_eq!(e.error_type(), "BadEvent");
    }

    #[test]
    fn acl_remediation_keeps_only_the_owner_grant_which_buckets_without_acls_accept() {
        // Real AWS: new buckets have ACLs disabled (BucketOwnerEnforced) and accept only the owner grant;
        // the emulator keeps ACLs enabled. Either way the narrowed ACL is accepted.
        let f = finding(
            "cloudtrail-s3-put-bucket-acl-public-read.json",
            "s3-bucket-acl-public",
        );
        let bucket = f.resource.name.clone().unwrap();
        let public_acl = json!({"Owner": {"ID": crate::fakes::FAKE_OWNER_ID}, "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": crate::fakes::FAKE_OWNER_ID}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]});
        for (acls_enabled, status) in [
            (true, RemediationStatus::Remediated),
            (false, RemediationStatus::Remediated),
        ] {
            let aws = FakeAws::new();
            aws.add_bucket(
                &bucket,
                FakeBucket {
                    acl: public_acl.clone(),
                    acls_enabled,
                    ..FakeBucket::default()
                },
            );
            let out = block_on(handle_remediate(&aws, &cfg(RemediationMode::Enforce), &sns(&f))).unwrap();
            // Removing the public grants leaves only the owner's grant, which a bucket without ACLs accepts.
            assert_eq!(out[0].status, status, "{acls_enabled}: {:?}", out[0]);
            let acl = aws.world().buckets[&bucket].acl.clone();
            assert_eq!(acl["Grants"].as_array().unwrap().len(), 1, "{acl}");
        }
    }

    #[test]
    fn restores_account_public_access_block() {
        const ACCOUNT: &str = "111122223333";
        const RULE: &str = "s3-account-public-access-block-weakened";
        let pab = |on: bool| PublicAccessBlock {
            block_public_acls: on,
            ignore_public_acls: on,
            block_public_policy: on,
            restrict_public_buckets: on,
        };
        let weakened = PublicAccessBlock {
            block_public_policy: false,
            ..pab(true)
        };
        // (sample, mode, account PAB before (None: deleted), injected failure, status, PAB after)
        type Case = (
            &'static str,
            RemediationMode,
            Option<PublicAccessBlock>,
            Option<&'static str>,
            RemediationStatus,
            Option<PublicAccessBlock>,
        );
        let put = "cloudtrail-s3-put-account-public-access-block-disabled.json";
        let delete = "cloudtrail-s3-delete-account-public-access-block.json";
        let cases: [Case; 7] = [
            (
                put,
                RemediationMode::Enforce,
                Some(weakened),
                None,
                RemediationStatus::Remediated,
                Some(pab(true)),
            ),
            (
                delete,
                RemediationMode::Enforce,
                None,
                None,
                RemediationStatus::Remediated,
                Some(pab(true)),
            ),
            (
                put,
                RemediationMode::DryRun,
                Some(weakened),
                None,
                RemediationStatus::DryRun,
                Some(weakened),
            ),
            (
                delete,
                RemediationMode::DryRun,
                None,
                None,
                RemediationStatus::DryRun,
                None,
            ),
            (
                put,
                RemediationMode::Off,
                Some(weakened),
                None,
                RemediationStatus::Skipped,
                Some(weakened),
            ),
            // Already restored: stale, nothing written.
            (
                put,
                RemediationMode::Enforce,
                Some(pab(true)),
                None,
                RemediationStatus::Skipped,
                Some(pab(true)),
            ),
            // The put is denied: a failed outcome, published, not retried.
            (
                put,
                RemediationMode::Enforce,
                Some(weakened),
                Some("s3:PutAccountPublicAccessBlock"),
                RemediationStatus::Failed,
                Some(weakened),
            ),
        ];
        for (sample, mode, before, fail, status, after) in cases {
            let label = format!("{sample} {mode:?} {before:?} {fail:?}");
            let f = finding(sample, RULE);
            assert_eq!(
                f.remediation.as_ref().unwrap().id,
                "s3-restore-account-public-access-block"
            );
            let aws = FakeAws::new();
            if let Some(b) = before {
                aws.world().account_public_access_block.insert(ACCOUNT.into(), b);
            }
            if let Some(op) = fail {
                aws.fail(op, ErrorKind::AccessDenied);
            }
            let out = block_on(handle_remediate(&aws, &cfg(mode), &sns(&f))).unwrap();
            assert_eq!(out[0].status, status, "{label}: {:?}", out[0]);
            assert_eq!(
                aws.world().account_public_access_block.get(ACCOUNT).copied(),
                after,
                "{label}"
            );
            if status == RemediationStatus::Remediated {
                // Verified by reading the settings back after the put.
                assert!(
                    out[0].detail.starts_with("verified"),
                    "{label}: {}",
                    out[0].detail
                );
                assert_eq!(aws.writes().len(), 1, "{label}: {:?}", aws.writes());
            } else if fail.is_none() {
                assert!(aws.writes().is_empty(), "{label}: {:?}", aws.writes());
            }
            assert_eq!(aws.published().len(), 1, "{label}: every outcome is published");
        }
    }

    #[test]
    fn starts_a_stopped_config_recorder() {
        let stop = finding(
            "cloudtrail-config-stop-configuration-recorder.json",
            "config-recording-stopped",
        );
        assert_eq!(
            stop.remediation.as_ref().unwrap().id,
            "config-start-configuration-recorder"
        );
        let name = stop.resource.name.clone().unwrap();
        let mut deleted = stop.clone();
        deleted.event.name = "DeleteConfigurationRecorder".into();
        let mut channel_deleted = stop.clone();
        channel_deleted.event.name = "DeleteDeliveryChannel".into();
        // (label, finding, mode, recorder before (None: absent), status, recording after, detail contains)
        type Case<'a> = (
            &'a str,
            &'a Finding,
            RemediationMode,
            Option<bool>,
            RemediationStatus,
            Option<bool>,
            &'a str,
        );
        let cases: [Case; 7] = [
            (
                "enforce",
                &stop,
                RemediationMode::Enforce,
                Some(false),
                RemediationStatus::Remediated,
                Some(true),
                "verified",
            ),
            (
                "dry-run",
                &stop,
                RemediationMode::DryRun,
                Some(false),
                RemediationStatus::DryRun,
                Some(false),
                "dry-run",
            ),
            (
                "off",
                &stop,
                RemediationMode::Off,
                Some(false),
                RemediationStatus::Skipped,
                Some(false),
                "off",
            ),
            (
                "already recording",
                &stop,
                RemediationMode::Enforce,
                Some(true),
                RemediationStatus::Skipped,
                Some(true),
                "stale",
            ),
            (
                "recorder gone",
                &stop,
                RemediationMode::Enforce,
                None,
                RemediationStatus::Skipped,
                None,
                "stale",
            ),
            // A deleted recorder or delivery channel cannot be started again: it must be recreated.
            (
                "recorder deleted",
                &deleted,
                RemediationMode::Enforce,
                None,
                RemediationStatus::Skipped,
                None,
                "impossible",
            ),
            (
                "channel deleted",
                &channel_deleted,
                RemediationMode::Enforce,
                Some(false),
                RemediationStatus::Skipped,
                Some(false),
                "impossible",
            ),
        ];
        for (label, f, mode, before, status, after, detail) in cases {
            let aws = FakeAws::new();
            if let Some(r) = before {
                aws.world().config_recorders.insert(name.clone(), r);
            }
            let out = block_on(handle_remediate(&aws, &cfg(mode), &sns(f))).unwrap();
            assert_eq!(out[0].status, status, "{label}: {:?}", out[0]);
            assert!(out[0].detail.contains(detail), "{label}: {}", out[0].detail);
            assert_eq!(aws.world().config_recorders.get(&name).copied(), after, "{label}");
            let starts = usize::from(status == RemediationStatus::Remediated);
            assert_eq!(aws.writes().len(), starts, "{label}: {:?}", aws.writes());
            assert_eq!(aws.published().len(), 1, "{label}: every outcome is published");
        }
        // The start is denied: a failed outcome, not retried.
        let aws = FakeAws::new();
        aws.world().config_recorders.insert(name.clone(), false);
        aws.fail("config:StartConfigurationRecorder", ErrorKind::AccessDenied);
        let out = block_on(handle_remediate(
            &aws,
            &cfg(RemediationMode::Enforce),
            &sns(&stop),
        ))
        .unwrap();
        assert_eq!(out[0].status, RemediationStatus::Failed, "{:?}", out[0]);
    }

    #[test]
    fn every_declared_remediation_is_implemented_and_every_implemented_one_is_declared() {
        let declared: std::collections::BTreeSet<&str> = tripline_core::rules::REGISTRY
            .iter()
            .filter_map(|r| r.remediation.as_ref().map(|m| m.id))
            .collect();
        let implemented: std::collections::BTreeSet<&str> = IMPLEMENTED.iter().copied().collect();
        assert_eq!(
            IMPLEMENTED.len(),
            implemented.len(),
            "duplicate id in IMPLEMENTED"
        );
        let missing: Vec<_> = declared.difference(&implemented).collect();
        assert!(
            missing.is_empty(),
            "declared by a rule but not implemented by remediate: {missing:?}"
        );
        let orphans: Vec<_> = implemented.difference(&declared).collect();
        assert!(
            orphans.is_empty(),
            "implemented by remediate but declared by no rule: {orphans:?}"
        );
    }

    #[test]
    fn restores_the_previous_default_version() {
        let f = finding(
            "cloudtrail-iam-create-policy-version-widening.json",
            "iam-policy-widened",
        );
        let narrow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
        let wide = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
        for (mode, default_after) in [(RemediationMode::DryRun, "v2"), (RemediationMode::Enforce, "v1")] {
            let aws = FakeAws::new();
            aws.add_policy(&f.resource.arn, &[narrow.clone(), wide.clone()]);
            let out = block_on(handle_remediate(&aws, &cfg(mode), &sns(&f))).unwrap();
            let versions = block_on(aws.list_policy_versions(&f.resource.arn)).unwrap();
            let default = versions.iter().find(|v| v.is_default).unwrap();
            assert_eq!(default.version_id, default_after, "{mode:?}: {:?}", out[0]);
        }
        // Already restored (the default grants nothing new): stale.
        let aws = FakeAws::new();
        aws.add_policy(&f.resource.arn, &[wide.clone(), narrow.clone()]);
        let out = block_on(handle_remediate(&aws, &cfg(RemediationMode::Enforce), &sns(&f))).unwrap();
        assert_eq!(out[0].status, RemediationStatus::Skipped, "{:?}", out[0]);
    }

    #[test]
    fn loop_protection_table() {
        let base = finding(
            "cloudtrail-s3-put-bucket-policy-public.json",
            "s3-bucket-policy-public",
        );
        let cases: &[(Option<&str>, Option<&str>, bool)] = &[
            (Some(ROLE), None, true),
            (
                None,
                Some("arn:aws:sts::111122223333:assumed-role/tripline-remediate/session-1"),
                true,
            ),
            (
                None,
                Some("arn:aws:sts::444455556666:assumed-role/tripline-remediate/session-1"),
                false,
            ),
            (
                None,
                Some("arn:aws:sts::111122223333:assumed-role/tripline-remediate-other/s"),
                false,
            ),
            (
                Some("arn:aws:iam::111122223333:role/admin"),
                Some("arn:aws:sts::111122223333:assumed-role/admin/s"),
                false,
            ),
        ];
        for (issuer, arn, want) in cases {
            let mut f = base.clone();
            f.actor.session_issuer = issuer.map(str::to_owned);
            f.actor.arn = arn.map(str::to_owned);
            assert_eq!(caused_by_role(&f, ROLE), *want, "{issuer:?} {arn:?}");
        }
    }
}
