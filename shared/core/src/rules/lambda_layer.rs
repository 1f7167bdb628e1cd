//! Lambda layer version permissions (issues 16 and 19): `lambda-layer-public` and
//! `lambda-layer-cross-account-access`, on `AddLayerVersionPermission` (CloudTrail event name
//! `AddLayerVersionPermission20181031`, event source `lambda.amazonaws.com`).
//!
//! AWS's meaning (Lambda API Reference, AddLayerVersionPermission,
//! <https://docs.aws.amazon.com/lambda/latest/api/API_AddLayerVersionPermission.html>): "You can grant
//! permission to a single account, all accounts in an organization, or all AWS accounts"; `Principal` is "An
//! account ID, or `*` to grant layer usage permission to all accounts in an organization, or all AWS
//! accounts (if `organizationId` is not specified)"; `OrganizationId`: "With the principal set to `*`, grant
//! permission to all accounts in the specified organization". The layer version's policy holds the grant
//! as a statement: an account as `{"AWS": "arn:aws:iam::<account>:root"}`, an organization as `*` with
//! `aws:PrincipalOrgID` (Lambda Developer Guide, "Granting layer access to other accounts",
//! <https://docs.aws.amazon.com/lambda/latest/dg/permissions-layer-cross-account.html>).
//!
//! So the grant is judged as the policy statement it becomes, with the function policies' definition
//! ([`ResourceKind::LambdaFunction`]): `*` without an organization is public (`lambda-layer-public`); `*`
//! with an organization is judged by the zone of trust (quiet for `TRIPLINE_ORGANIZATION_ID`, else
//! `lambda-layer-cross-account-access` naming the organization); an account outside the zone is
//! `lambda-layer-cross-account-access`. The statement is the response's `statement` when logged (what
//! Lambda wrote), else the one built from the request; a record with neither `principal` nor the
//! response's statement cannot be judged (the error says what it lacks). Anyone granted can download the
//! layer's content (`GetLayerVersion` returns a link to it): code, and often libraries with embedded
//! configuration or credentials.

use serde_json::{json, Value};

use super::engine;
use super::payload::{self, at, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::change::Change;
use crate::finding::{FindingResource, Severity};
use crate::policy::{self, ResourceKind};

const LAMBDA: &str = "lambda.amazonaws.com";
const EVENTS: &[&str] = &["AddLayerVersionPermission20181031"];
/// The resource kind of a layer version (`resource_kind::KINDS`).
pub const LAYER_VERSION: &str = "AWS::Lambda::LayerVersion";

pub static PUBLIC: Rule = Rule {
    id: "lambda-layer-public",
    title: "Lambda layer version shared with every AWS account",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: LAMBDA,
        names: EVENTS,
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc:
        "A Lambda layer version's permission was granted to principal `*` without an organization id: every \
          AWS account can download the layer's content (code, libraries, any configuration or secret \
          bundled in it). Remove it with `aws lambda remove-layer-version-permission`.",
    fires: &["cloudtrail-lambda-add-layer-version-permission-public.json"],
    quiet: &[
        "cloudtrail-lambda-add-layer-version-permission-organization.json",
        "cloudtrail-lambda-add-layer-version-permission-account.json",
    ],
    check: check_public,
};

pub static CROSS_ACCOUNT: Rule = Rule {
    id: "lambda-layer-cross-account-access",
    title: "Lambda layer version shared with an untrusted account or organization",
    severity: Severity::Medium,
    cloudtrail: &[Trigger {
        source: LAMBDA,
        names: EVENTS,
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A Lambda layer version's permission was granted to an AWS account, or to the accounts of an \
          organization, outside the zone of trust: they can download the layer's content (code, libraries, \
          any configuration or secret bundled in it).",
    fires: &[
        "cloudtrail-lambda-add-layer-version-permission-account.json",
        "cloudtrail-lambda-add-layer-version-permission-organization.json",
    ],
    quiet: &[
        "cloudtrail-lambda-add-layer-version-permission-own-account.json",
        "cloudtrail-lambda-add-layer-version-permission-public.json",
    ],
    check: check_cross_account,
};

/// The layer version the record names: `layerName` (a name or a layer ARN) and `versionNumber`. Name: the
/// layer's (the console's layer page); ARN: the layer version's (`<layer ARN>:<version>`), the layer's own
/// without a version number.
fn target(c: &Change) -> (FindingResource, Option<i64>) {
    let req = payload::req(c);
    let layer = str_at(req, &["layerName"]);
    let version = payload::i64_at(req, &["versionNumber"]);
    let layer_arn = layer
        .map(|l| payload::arn_in(c, LAYER_VERSION, l))
        .unwrap_or_default();
    let arn = match version {
        Some(v) if !layer_arn.is_empty() => format!("{layer_arn}:{v}"),
        _ => layer_arn,
    };
    let resource = FindingResource {
        resource_type: LAYER_VERSION.to_owned(),
        arn,
        name: layer.map(|l| l.rsplit(':').next().unwrap_or(l).to_owned()),
    };
    (resource, version)
}

/// `<layer> version <n>` for summaries.
fn named(resource: &FindingResource, version: Option<i64>) -> String {
    match version {
        Some(v) => format!("{} version {v}", resource.name_or_unknown()),
        None => resource.name_or_unknown().to_owned(),
    }
}

/// The permission as a policy document: the response's `statement` when logged, else one statement built
/// from the request (`principal`: `*` as `*`, an account id or ARN as `{"AWS": ...}`; `organizationId` as
/// `aws:PrincipalOrgID`; `action`; the layer version as `Resource` when known).
fn document(c: &Change, resource_arn: &str) -> Result<Value, CheckError> {
    let req = payload::req(c);
    if let Some(stmt) = payload::document(at(payload::resp(c), &["statement"])) {
        return Ok(json!({"Version": "2012-10-17", "Statement": [stmt]}));
    }
    let missing: Vec<String> = ["principal", "action"]
        .iter()
        .filter(|k| str_at(req, &[k]).is_none())
        .map(|k| format!("requestParameters.{k}"))
        .collect();
    if !missing.is_empty() {
        return Err(CheckError::Lacks {
            subject: "the layer version permission",
            missing,
            nor: Some("`responseElements.statement`"),
        });
    }
    let principal = match str_at(req, &["principal"]) {
        Some("*") => json!("*"),
        Some(p) => json!({"AWS": p}),
        None => Value::Null,
    };
    let mut stmt = serde_json::Map::new();
    if let Some(sid) = str_at(req, &["statementId"]) {
        stmt.insert("Sid".into(), json!(sid));
    }
    stmt.insert("Effect".into(), json!("Allow"));
    stmt.insert("Principal".into(), principal);
    stmt.insert("Action".into(), at(req, &["action"]).clone());
    if !resource_arn.is_empty() {
        stmt.insert("Resource".into(), json!(resource_arn));
    }
    if let Some(org) = str_at(req, &["organizationId"]) {
        stmt.insert(
            "Condition".into(),
            json!({"StringEquals": {"aws:PrincipalOrgID": org}}),
        );
    }
    Ok(json!({"Version": "2012-10-17", "Statement": [Value::Object(stmt)]}))
}

fn check_public(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let (resource, version) = target(c);
    let doc = document(c, &resource.arn)?;
    let parsed = engine::parse(&doc, "Lambda layer version policy")?;
    let verdict = policy::resource_policy_public(&parsed, ResourceKind::LambdaFunction);
    if !verdict.public {
        return Ok(Vec::new());
    }
    let name = named(&resource, version);
    Ok(vec![payload::payload_hit(
        resource,
        PUBLIC.severity,
        format!(
            "Lambda layer {name} shared with every AWS account by {}",
            payload::who(c)
        ),
        engine::public_evidence(&doc, &verdict),
    )])
}

fn check_cross_account(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let (resource, version) = target(c);
    let doc = document(c, &resource.arn)?;
    let owner = match crate::resource_kind::arn_account(&resource.arn) {
        "" => c.account.as_str(),
        a => a,
    };
    let Some(evidence) = super::external::judge_policy(
        &doc,
        ResourceKind::LambdaFunction,
        "Lambda layer version",
        ctx.config,
        owner,
    )?
    else {
        return Ok(Vec::new());
    };
    let name = named(&resource, version);
    Ok(vec![payload::payload_hit(
        resource,
        CROSS_ACCOUNT.severity,
        format!(
            "Lambda layer {name} shared with an untrusted account by {}",
            payload::who(c)
        ),
        evidence,
    )])
}
