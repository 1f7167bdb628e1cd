//! IAM remediations: restore the previous default version or trust policy, detach an admin policy.
use super::*;
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
        return Ok(skipped(format!(
            "refused: version `{}` would grant access `{}` does not",
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

pub(super) async fn detach_admin<D: IamRead + IamWrite>(
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

pub(super) async fn restore_trust<D: IamRead + IamWrite>(
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
    // Restoring must itself be safe: the previous document may grant nothing the current one does not and may
    // not be public. Checked before writing, never fixed afterwards.
    if let Err(why) = verify_not_widened_not_public(&current, Some(previous), ResourceKind::IamRoleTrust) {
        return Ok(skipped(format!(
            "refused: restoring the previous trust policy: {why}"
        )));
    }
    let action = format!("restore the previous trust policy of role `{role}`");
    if mode != RemediationMode::Enforce {
        return Ok(dry_run(vec![action]));
    }
    aws.update_assume_role_policy(&role, previous).await?;
    let after = match read_back(|| aws.role_trust_policy(&role)).await {
        Ok(a) => a,
        Err(e) => return Ok(unverified(vec![action], &e)),
    };
    if &after != previous {
        return Ok(changed_meanwhile(vec![action], "trust policy"));
    }
    Ok(remediated(
        vec![action],
        "verified: the previous trust policy is back (checked before: it grants no new access and is not public)",
    ))
}
