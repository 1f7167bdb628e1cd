//! IAM remediations: restore the previous default version or trust policy, detach an admin policy.
use super::*;
use tripline_core::policy::narrow;
pub(super) async fn restore_default_version<D: IamRead + IamWrite>(
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
    // Restoring must itself grant nothing new: checked before writing, never fixed afterwards.
    if policy::diff(&cur, &prev).widened {
        return Ok(refused(format!(
            "version `{}` would grant access `{}` does not",
            previous.version_id, current.version_id
        )));
    }
    let action = format!(
        "set version `{}` of `{arn}` as default again (replacing `{}`)",
        previous.version_id, current.version_id
    );
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(vec![action]));
    }
    // Re-read immediately before writing (issue 12, D): another default since the evaluation is stale.
    let default_now = aws
        .list_policy_versions(arn)
        .await?
        .into_iter()
        .find(|v| v.is_default)
        .map(|v| v.version_id);
    if default_now.as_deref() != Some(current.version_id.as_str()) {
        return Ok(skipped(format!(
            "stale: the default version of `{arn}` changed since the evaluation (was `{}`, now {}); nothing written",
            current.version_id,
            default_now.map_or_else(|| "none".to_owned(), |v| format!("`{v}`"))
        )));
    }
    aws.set_default_policy_version(arn, &previous.version_id).await?;
    let now = match read_back(|| aws.list_policy_versions(arn)).await {
        Ok(n) => n,
        Err(e) => return Ok(unverified(vec![action], &e)),
    };
    let ok = now
        .iter()
        .any(|v| v.is_default && v.version_id == previous.version_id);
    if ok {
        Ok(remediated(
            vec![action],
            "verified: the previous version is the default (checked before: it grants no new access)",
        ))
    } else {
        Ok(partial(vec![action], &VerifyError::NotInEffect))
    }
}

pub(super) fn num(id: &str) -> u64 {
    id.trim_start_matches(['v', 'V']).parse().unwrap_or(u64::MAX)
}

/// `iam-detach-admin-policy`, planned from the fresh state only (issue 12, B): the principal is the one the
/// finding's ARN names; what is detached is every AWS managed admin policy attached to it *now*
/// ([`tripline_core::rules::admin_managed_policy`]), never a policy ARN the message names.
pub(super) async fn detach_admin<D: IamRead + IamWrite>(
    aws: &D,
    f: &Finding,
    mode: RemediationMode,
) -> Result<Verdict, AwsError> {
    let Some(principal) = principal_of(f) else {
        return Ok(skipped("the finding does not name a role, user or group"));
    };
    let admin = |attached: &[String]| -> Vec<String> {
        let mut a: Vec<String> = attached
            .iter()
            .filter(|p| tripline_core::rules::admin_managed_policy(p).is_some())
            .cloned()
            .collect();
        a.sort();
        a
    };
    let planned = admin(&aws.attached_policies(&principal).await?);
    if planned.is_empty() {
        return Ok(skipped(format!(
            "stale finding: no AWS managed administrator policy is attached to {principal:?} now"
        )));
    }
    let actions: Vec<String> = planned
        .iter()
        .map(|p| format!("detach `{p}` from {principal:?}"))
        .collect();
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(actions));
    }
    // Re-read immediately before writing: a change since the evaluation makes the plan stale.
    let again = admin(&aws.attached_policies(&principal).await?);
    if again != planned {
        return Ok(skipped(format!(
            "stale: the administrator policies attached to {principal:?} changed since the evaluation \
             (were {planned:?}, now {again:?}); nothing written"
        )));
    }
    for p in &planned {
        aws.detach_policy(&principal, p).await?;
    }
    let after = match read_back(|| aws.attached_policies(&principal)).await {
        Ok(a) => admin(&a),
        Err(e) => return Ok(unverified(actions, &e)),
    };
    if after.is_empty() {
        Ok(remediated(
            actions,
            "verified: no AWS managed administrator policy is attached",
        ))
    } else {
        Ok(partial(
            actions,
            &VerifyError::StillPublic("principal's administrator attachment"),
        ))
    }
}

/// The trust policy written when every statement of a public trust policy is a public `Allow`: a trust
/// policy cannot be empty, so the role is closed with one `Deny` (a narrowing: it removes every way in).
fn closed_trust_policy() -> Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "TriplineClosedPublicTrust",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"]
    }]})
}

/// `iam-restore-previous-trust-policy`, planned from the fresh state only (issue 12, B and C): the current
/// trust policy is read, judged public again, and the plan removes exactly its public `Allow` statements
/// (every `Deny` and every limited statement kept byte-for-byte). A previous trust policy carried in a
/// message is never used: a message could carry a forged document that grants an attacker's account and is
/// still narrower than a public one.
pub(super) async fn restore_trust<D: IamRead + IamWrite>(
    aws: &D,
    f: &Finding,
    mode: RemediationMode,
) -> Result<Verdict, AwsError> {
    let Some(PrincipalRef::Role(role)) = principal_of(f) else {
        return Ok(skipped("the finding does not name a role"));
    };
    let current = aws.role_trust_policy(&role).await?;
    let parsed = match parse_policy(&current) {
        Ok(p) => p,
        Err(e) => {
            return Ok(failed(
                vec![],
                format!("the current trust policy does not parse: {e}"),
            ))
        }
    };
    if !policy::resource_policy_public(&parsed, ResourceKind::IamRoleTrust).public {
        return Ok(skipped("stale finding: the current trust policy is not public"));
    }
    let plan = match narrow::remove_public_statements_of(&current, ResourceKind::IamRoleTrust) {
        Ok(p) => p,
        Err(e) => return Ok(failed(vec![], format!("planning failed: {e}"))),
    };
    let removed: Vec<String> = plan
        .removed
        .iter()
        .map(|r| format!("{} ({})", r.statement, r.cause))
        .collect();
    let (new_doc, action) = match plan.policy {
        Some(p) => (
            p,
            format!(
                "put the trust policy of role `{role}` without its public statements: {}",
                removed.join("; ")
            ),
        ),
        None => (
            closed_trust_policy(),
            format!(
                "close role `{role}`: every statement of its trust policy is public ({}); a trust policy cannot \
                 be empty, so one Deny statement is put",
                removed.join("; ")
            ),
        ),
    };
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(vec![action]));
    }
    // Re-read immediately before writing (issue 12, D): a trust policy changed since the evaluation is stale.
    if aws.role_trust_policy(&role).await? != current {
        return Ok(skipped(format!(
            "stale: the trust policy of role `{role}` changed since the evaluation; nothing written"
        )));
    }
    aws.update_assume_role_policy(&role, &new_doc).await?;
    let after = match read_back(|| aws.role_trust_policy(&role)).await {
        Ok(a) => a,
        Err(e) => return Ok(unverified(vec![action], &e)),
    };
    if after != new_doc {
        return Ok(changed_meanwhile(vec![action], "trust policy"));
    }
    let still_public = match parse_policy(&after) {
        Ok(p) => policy::resource_policy_public(&p, ResourceKind::IamRoleTrust).public,
        Err(e) => return Ok(partial(vec![action], &VerifyError::Invalid(e))),
    };
    if still_public {
        Ok(partial(vec![action], &VerifyError::StillPublic("trust policy")))
    } else {
        Ok(remediated(
            vec![action],
            "verified: the trust policy is no longer public (only public Allow statements were removed)",
        ))
    }
}
