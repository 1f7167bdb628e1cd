//! Role trust policies: `iam-trust-policy-public`, `iam-trust-policy-external-account`.
//! Verdicts from the engine (`resource_policy_public` with `ResourceKind::IamRoleTrust`, `cross_account`).

use serde_json::Value;

use super::engine;
use super::payload::{self, at, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::change::{Change, ChangeSource};
use crate::finding::{Evidence, FindingResource, Severity};
use crate::policy::{self, ResourceKind};
use crate::settings::RuleConfig;
use crate::state::StateNeed;

const IAM: &str = "iam.amazonaws.com";

pub static TRUST_PUBLIC: Rule = Rule {
    id: "iam-trust-policy-public",
    title: "IAM role assumable by anyone",
    severity: Severity::Critical,
    cloudtrail: &[Trigger {
        source: IAM,
        names: &["UpdateAssumeRolePolicy", "CreateRole"],
    }],
    config_types: &["AWS::IAM::Role"],
    needs: &[StateNeed::ResourceTags],
    extra_permissions: &[],
    remediation: Some(crate::remediation::IAM_RESTORE_PREVIOUS_TRUST_POLICY),
    doc: "A role's trust policy lets any AWS principal (a wildcard principal without a limiting condition), \
          or any user of a web identity provider whose subject is not pinned, assume the role: anyone gets \
          the role's permissions.",
    fires: &["cloudtrail-iam-update-assume-role-policy-public.json"],
    quiet: &["cloudtrail-iam-update-assume-role-policy-same-account.json"],
    check: check_public,
};

pub static TRUST_EXTERNAL: Rule = Rule {
    id: "iam-trust-policy-external-account",
    title: "IAM role assumable from an untrusted account",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: IAM,
        names: &["UpdateAssumeRolePolicy", "CreateRole"],
    }],
    config_types: &["AWS::IAM::Role"],
    needs: &[StateNeed::ResourceTags],
    extra_permissions: &[],
    remediation: None,
    doc: "A role's trust policy lets principals of an AWS account outside the trusted set (own account, \
          configured trusted accounts, configured organization) assume the role. A classic persistence \
          technique: a backdoor role for an attacker's account.",
    fires: &["cloudtrail-iam-update-assume-role-policy-external.json"],
    quiet: &["cloudtrail-iam-update-assume-role-policy-same-account.json"],
    check: check_external,
};

/// The trust policy in the change: the request's document (`policyDocument` of UpdateAssumeRolePolicy,
/// `assumeRolePolicyDocument` of CreateRole: both required, so a record without it is an error saying so),
/// or the Config item's `assumeRolePolicyDocument`.
fn trust_document(c: &Change) -> Result<Option<Value>, CheckError> {
    match c.source {
        ChangeSource::CloudTrail => {
            let key = if c.event_name == "CreateRole" {
                "assumeRolePolicyDocument"
            } else {
                "policyDocument"
            };
            payload::required_document(payload::req(c), &[key]).map(Some)
        }
        _ => Ok(payload::document(at(
            payload::configuration(c),
            &["assumeRolePolicyDocument"],
        ))),
    }
}

/// The role the change is about.
pub fn role_resource(c: &Change) -> FindingResource {
    let name =
        str_at(payload::req(c), &["roleName"]).or_else(|| str_at(payload::configuration(c), &["roleName"]));
    let arn = str_at(payload::resp(c), &["role", "arn"])
        .or_else(|| str_at(payload::configuration(c), &["arn"]))
        .map(str::to_owned);
    payload::resource(c, "AWS::IAM::Role", name, |n| {
        arn.clone()
            .unwrap_or_else(|| payload::arn_in(c, "AWS::IAM::Role", n))
    })
}

/// Judges a trust policy for public access; shared with the sweep.
pub fn judge_public(doc: &Value) -> Result<Option<Evidence>, CheckError> {
    let policy = engine::parse(doc, "trust policy")?;
    let verdict = policy::resource_policy_public(&policy, ResourceKind::IamRoleTrust);
    Ok(verdict.public.then(|| engine::public_evidence(doc, &verdict)))
}

/// Judges a trust policy for untrusted accounts; shared with the sweep.
pub fn judge_external(
    doc: &Value,
    config: &RuleConfig,
    own_account: &str,
) -> Result<Option<Evidence>, CheckError> {
    let policy = engine::parse(doc, "trust policy")?;
    let public = policy::resource_policy_public(&policy, ResourceKind::IamRoleTrust).public;
    let grants = engine::external_grants(&policy, &engine::trusted(config, own_account), public);
    Ok((!grants.is_empty()).then(|| engine::external_evidence(doc, &grants)))
}

fn check_public(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let Some(doc) = trust_document(c)? else {
        return Ok(Vec::new());
    };
    let Some(evidence) = judge_public(&doc)? else {
        return Ok(Vec::new());
    };
    let resource = role_resource(c);
    let name = resource.name_or_unknown().to_owned();
    Ok(vec![payload::payload_hit(
        resource,
        Severity::Critical,
        format!("IAM role {name} made assumable by anyone by {}", payload::who(c)),
        evidence,
    )])
}

fn check_external(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let Some(doc) = trust_document(c)? else {
        return Ok(Vec::new());
    };
    let Some(evidence) = judge_external(&doc, ctx.config, &c.account)? else {
        return Ok(Vec::new());
    };
    let resource = role_resource(c);
    let name = resource.name_or_unknown().to_owned();
    Ok(vec![payload::payload_hit(
        resource,
        Severity::High,
        format!(
            "IAM role {name} trusts an untrusted account, by {}",
            payload::who(c)
        ),
        evidence,
    )])
}
