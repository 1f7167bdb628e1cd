//! S3 remediations: bucket policy statements, ACL grants, bucket and account Block Public Access.
use super::*;
use tripline_core::policy::narrow;
use tripline_core::resource_kind::is_account_id;
use tripline_core::state::PublicAccessBlock;
pub(super) async fn remove_public_policy_statements<D: S3Read + S3Write>(
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
    // Re-read immediately before writing (issue 12, D): a policy changed since the evaluation is stale.
    if aws.bucket_policy(bucket).await?.as_ref() != Some(&current) {
        return Ok(skipped(format!(
            "stale: the bucket policy of `{bucket}` changed since the evaluation; nothing written"
        )));
    }
    match &plan.policy {
        Some(p) => aws.put_bucket_policy(bucket, p).await?,
        None => aws.delete_bucket_policy(bucket).await?,
    }
    let after = match read_back(|| aws.bucket_policy(bucket)).await {
        Ok(a) => a,
        Err(e) => return Ok(unverified(vec![action], &e)),
    };
    if after != plan.policy {
        return Ok(changed_meanwhile(vec![action], "policy"));
    }
    // The plan only removed Allow statements, so it cannot widen access: verification checks what it is for
    // (no longer public) with the bounded public check, not the general diff.
    let still_public = match after.as_ref().map(parse_policy).transpose() {
        Ok(p) => p.is_some_and(|p| policy::bucket_policy_public(&p).public),
        Err(e) => return Ok(partial(vec![action], &VerifyError::Invalid(e))),
    };
    if still_public {
        Ok(partial(vec![action], &VerifyError::StillPublic("bucket policy")))
    } else {
        Ok(remediated(
            vec![action],
            "verified: the bucket policy is no longer public (only public Allow statements were removed)",
        ))
    }
}

pub(super) async fn remove_public_acl_grants<D: S3Read + S3Write>(
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
    // Re-read immediately before writing (issue 12, D): an ACL changed since the evaluation is stale.
    if aws.bucket_acl(bucket).await? != current {
        return Ok(skipped(format!(
            "stale: the ACL of `{bucket}` changed since the evaluation; nothing written"
        )));
    }
    if let Err(e) = aws.put_bucket_acl(bucket, &planned).await {
        if e.is_retryable() {
            return Err(e);
        }
        return Ok(failed(vec![action], format!("the ACL could not be changed: {e}")));
    }
    let after = match read_back(|| aws.bucket_acl(bucket)).await {
        Ok(a) => a,
        Err(e) => return Ok(unverified(vec![action], &e)),
    };
    match policy::acl_public(&after) {
        Ok(v) if !v.public => Ok(remediated(
            vec![action],
            "verified: the bucket ACL is no longer public",
        )),
        _ => Ok(partial(vec![action], &VerifyError::StillPublic("ACL"))),
    }
}

pub(super) async fn restore_bucket_pab<D: S3Read + S3Write>(
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
    let after = match read_back(|| aws.bucket_public_access_block(bucket)).await {
        Ok(a) => a,
        Err(e) => return Ok(unverified(vec![action], &e)),
    };
    if after == Some(all_on) {
        Ok(remediated(
            vec![action],
            "verified: Block Public Access is on for the bucket",
        ))
    } else {
        Ok(partial(vec![action], &VerifyError::NotInEffect))
    }
}

/// The account whose account-level Block Public Access the finding is about: the request's `accountId`
/// (the resource name) when it is an account id, else the finding's account.
pub(super) fn pab_account_of(f: &Finding) -> String {
    f.resource
        .name
        .clone()
        .filter(|a| is_account_id(a))
        .unwrap_or_else(|| f.account.clone())
}

pub(super) async fn restore_account_pab<D: S3Read + S3Write>(
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
    let after = match read_back(|| aws.account_public_access_block(account)).await {
        Ok(a) => a,
        Err(e) => return Ok(unverified(vec![action], &e)),
    };
    if after == Some(all_on) {
        Ok(remediated(
            vec![action],
            "verified: Block Public Access is on for the account",
        ))
    } else {
        Ok(partial(vec![action], &VerifyError::NotInEffect))
    }
}
