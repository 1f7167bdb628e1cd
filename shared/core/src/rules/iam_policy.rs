//! Identity policies: `iam-policy-widened`, `iam-admin-access-granted`, `iam-privilege-escalation`.
//!
//! The previous document comes from the shell's state (`previous_policy_document`, `current_policy_document`
//! for managed-policy versions) or from a Config item's `configurationItemDiff` (inline and trust policies).
//! Without it, every grant of the new document counts as new and the finding says the state was not
//! confirmed. The verdicts (`diff`, full admin, escalation combos) are the engine's.

use serde_json::{json, Value};

use super::engine;
use super::payload::{self, at, bool_at, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::change::{Change, ChangeSource, Payload};
use crate::finding::{AccessWitness, Evidence, FindingResource, Severity};
use crate::policy::{self, Policy, Version};
use crate::state::StateNeed;

const IAM: &str = "iam.amazonaws.com";

pub static WIDENED: Rule = Rule {
    id: "iam-policy-widened",
    title: "IAM policy grants new access",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: IAM,
        names: &[
            "CreatePolicyVersion",
            "SetDefaultPolicyVersion",
            "PutRolePolicy",
            "PutUserPolicy",
            "PutGroupPolicy",
        ],
    }],
    config_types: &["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"],
    needs: &[StateNeed::PolicyVersions],
    extra_permissions: &[],
    remediation: Some(crate::remediation::IAM_RESTORE_PREVIOUS_DEFAULT_VERSION),
    doc: "An identity policy now allows requests it did not allow before (a new default managed-policy \
          version, a changed inline policy, a changed trust policy). The evidence lists concrete new \
          (action, resource) pairs proven by Tripline's policy engine; reordering or restating a policy \
          raises nothing. Unreviewed widening is how least privilege erodes and how attackers grant \
          themselves more.",
    fires: &[
        "cloudtrail-iam-create-policy-version-widening.json",
        "cloudtrail-iam-put-role-policy.json",
    ],
    quiet: &["cloudtrail-iam-create-policy-version-not-default.json"],
    check: check_widened,
};

/// AWS managed policies that grant full administrative access (or full control of IAM, which is
/// equivalent: it can grant itself anything).
pub const ADMIN_MANAGED_POLICIES: &[&str] = &["AdministratorAccess", "IAMFullAccess"];

/// The name of the AWS managed admin policy `arn` is (`arn:<partition>:iam::aws:policy/<name>`, no path:
/// where AWS publishes both), or `None`. What `iam-admin-access-granted` fires on and what its remediation
/// may detach (the remediate role's `iam:PolicyARN` condition lists the same ARNs).
pub fn admin_managed_policy(arn: &str) -> Option<&'static str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, "iam", "", "aws", resource] = parts.as_slice() else {
        return None;
    };
    let name = resource.strip_prefix("policy/")?;
    ADMIN_MANAGED_POLICIES
        .iter()
        .find(|n| **n == name)
        .filter(|_| !partition.is_empty() && arn.starts_with("arn:"))
        .copied()
}

pub static ADMIN: Rule = Rule {
    id: "iam-admin-access-granted",
    title: "Administrator access granted",
    severity: Severity::Critical,
    cloudtrail: &[Trigger {
        source: IAM,
        names: &[
            "AttachRolePolicy",
            "AttachUserPolicy",
            "AttachGroupPolicy",
            "CreatePolicyVersion",
            "SetDefaultPolicyVersion",
            "PutRolePolicy",
            "PutUserPolicy",
            "PutGroupPolicy",
        ],
    }],
    config_types: &["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"],
    needs: &[StateNeed::PolicyVersions],
    extra_permissions: &[],
    remediation: Some(crate::remediation::IAM_DETACH_ADMIN_POLICY),
    doc: "AdministratorAccess or IAMFullAccess was attached to a role, user or group, or a policy now \
          allows every action on every resource. The principal can do anything in the account, including \
          covering its tracks.",
    fires: &[
        "cloudtrail-iam-attach-role-policy-admin.json",
        "cloudtrail-iam-attach-user-policy-admin.json",
        "cloudtrail-iam-attach-group-policy-admin.json",
    ],
    quiet: &["cloudtrail-iam-attach-role-policy-readonly.json"],
    check: check_admin,
};

pub static ESCALATION: Rule = Rule {
    id: "iam-privilege-escalation",
    title: "IAM change enables a privilege-escalation path",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: IAM,
        names: &[
            "CreatePolicyVersion",
            "SetDefaultPolicyVersion",
            "PutRolePolicy",
            "PutUserPolicy",
            "PutGroupPolicy",
        ],
    }],
    config_types: &["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"],
    needs: &[StateNeed::PolicyVersions],
    extra_permissions: &[],
    remediation: None,
    doc: "An identity policy now allows a known privilege-escalation combination (Rhino Security Labs' \
          methods, Cloudsplaining's further paths and Datadog's pathfinding.cloud: e.g. iam:PassRole with \
          lambda:CreateFunction, iam:CreatePolicyVersion, lambda:UpdateFunctionConfiguration with a layer, a \
          Bedrock AgentCore code interpreter with a passed role) that it did not allow before; the most \
          specific method is reported. Access keys and console passwords scoped to the caller's own user \
          (`user/${aws:username}`) are not escalation. Whoever holds the policy can make themselves \
          administrator.",
    fires: &["cloudtrail-iam-create-policy-version-widening.json"],
    quiet: &["cloudtrail-iam-create-policy-version-not-default.json"],
    check: check_escalation,
};

/// A policy with no statement: what "no previous document" is compared against.
fn empty_policy() -> Policy {
    Policy {
        version: Version::V2012_10_17,
        id: None,
        statements: Vec::new(),
    }
}

/// The identity (role, user, group) or managed policy a change is about.
/// High when the previous state was read and compared, Medium when it could not be (judged from the new
/// document alone).
fn high_if(confirmed: bool) -> Severity {
    if confirmed {
        Severity::High
    } else {
        Severity::Medium
    }
}

/// The finding on the principal (or managed policy) the change is about; `summary` is given its name.
fn principal_hit(
    c: &Change,
    severity: Severity,
    evidence: Evidence,
    confirmed: bool,
    summary: impl FnOnce(&str) -> String,
) -> Hit {
    let resource = principal_resource(c);
    let name = resource.name_or_unknown().to_owned();
    Hit {
        summary: summary(&name),
        severity,
        resource,
        evidence,
        state_confirmed: confirmed,
    }
}

fn principal_resource(c: &Change) -> FindingResource {
    let req = payload::req(c);
    if let Some(arn) = str_at(req, &["policyArn"]).filter(|_| c.event_name.contains("PolicyVersion")) {
        let name = arn.rsplit('/').next().map(str::to_owned);
        return payload::resource(c, "AWS::IAM::Policy", name.as_deref(), |_| arn.to_owned());
    }
    for (key, rtype) in [
        ("roleName", "AWS::IAM::Role"),
        ("userName", "AWS::IAM::User"),
        ("groupName", "AWS::IAM::Group"),
    ] {
        if let Some(name) = str_at(req, &[key]) {
            return payload::registered(c, rtype, Some(name));
        }
    }
    // A CloudTrail record naming none: the event says which kind of resource (no name, no ARN made up).
    if c.source == ChangeSource::CloudTrail {
        let rtype = if c.event_name.contains("PolicyVersion") {
            "AWS::IAM::Policy"
        } else if c.event_name.contains("Role") {
            "AWS::IAM::Role"
        } else if c.event_name.contains("User") {
            "AWS::IAM::User"
        } else {
            "AWS::IAM::Group"
        };
        return payload::resource(c, rtype, None, |_| String::new());
    }
    // Config items: the item's own resource.
    let conf = payload::configuration(c);
    let name = ["roleName", "userName", "groupName"]
        .iter()
        .find_map(|k| str_at(conf, &[k]));
    let arn = str_at(conf, &["arn"]).map(str::to_owned);
    let rtype = c.service.clone();
    // Without the item's `arn`, the IAM ARN format of its type (`role/`, `user/`, `group/`); none for
    // another type (no ARN is made up).
    let principal = matches!(
        rtype.as_str(),
        "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group"
    );
    payload::resource(c, &rtype, name, |n| {
        arn.clone()
            .or_else(|| principal.then(|| payload::arn_in(c, &rtype, n)))
            .unwrap_or_default()
    })
}

/// One (old, new) pair of documents to compare, with a label and whether `old` is known.
struct Pair {
    label: String,
    old: Option<Value>,
    new: Value,
}

/// The new document of a pair, parsed. An identity policy statement must name its resources (IAM rejects
/// one without `Resource` or `NotResource`); a document from the record that lacks them cannot be judged,
/// and the error says so rather than reading the statement as granting every resource. Trust policies
/// have no `Resource`.
fn parse_new(pair: &Pair) -> Result<Policy, CheckError> {
    if pair.label != "trust policy" {
        let stmts: Vec<&Value> = match at(&pair.new, &["Statement"]) {
            Value::Array(a) => a.iter().collect(),
            v @ Value::Object(_) => vec![v],
            _ => Vec::new(),
        };
        for (i, st) in stmts.iter().enumerate() {
            if st.get("Resource").is_none() && st.get("NotResource").is_none() {
                let label = str_at(st, &["Sid"]).map_or_else(|| format!("#{i}"), str::to_owned);
                return Err(CheckError::NoResource {
                    subject: pair.label.clone(),
                    statement: label,
                });
            }
        }
    }
    engine::parse(&pair.new, &pair.label)
}

/// The document pairs a change carries. A CloudTrail record without the document its call requires
/// (`policyDocument` of `Put*Policy`, or of `CreatePolicyVersion` made default) is an error: the rule
/// cannot judge it, and says what the record lacks.
fn pairs(ctx: &Ctx<'_>) -> Result<Vec<Pair>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    let state = ctx.state;
    let previous = || state.and_then(|s| s.previous_policy_document.clone());
    Ok(match (&c.source, c.event_name.as_str()) {
        (ChangeSource::CloudTrail, "CreatePolicyVersion") => {
            // A version that is not made default changes nothing yet.
            if bool_at(req, &["setAsDefault"]) != Some(true) {
                return Ok(Vec::new());
            }
            vec![Pair {
                label: "new default version".into(),
                old: previous(),
                new: payload::required_document(req, &["policyDocument"])?,
            }]
        }
        (ChangeSource::CloudTrail, "SetDefaultPolicyVersion") => state
            .and_then(|s| s.current_policy_document.clone())
            .map(|new| Pair {
                label: match str_at(req, &["versionId"]) {
                    Some(v) => format!("default version {v}"),
                    None => "the new default version (the record does not include \
                             `requestParameters.versionId`)"
                        .to_owned(),
                },
                old: previous(),
                new,
            })
            .into_iter()
            .collect(),
        (ChangeSource::CloudTrail, name) if name.starts_with("Put") && name.ends_with("Policy") => {
            vec![Pair {
                label: inline_label(str_at(req, &["policyName"]), "requestParameters.policyName"),
                old: previous(),
                new: payload::required_document(req, &["policyDocument"])?,
            }]
        }
        (ChangeSource::CloudTrail, _) => Vec::new(),
        _ => config_pairs(c),
    })
}

/// How an inline policy is named in reasons: by its name, or saying the record does not include it.
fn inline_label(name: Option<&str>, path: &str) -> String {
    match name {
        Some(n) => format!("inline policy `{n}`"),
        None => format!("an inline policy ({})", payload::lacks(path)),
    }
}

/// Inline policies and trust policies from a Config item's diff (`changedProperties` keys
/// `Configuration.AssumeRolePolicyDocument` and `Configuration.<Role|User|Group>PolicyList.<n>`).
fn config_pairs(c: &Change) -> Vec<Pair> {
    let Payload::Config { diff, .. } = &c.payload else {
        return Vec::new();
    };
    let Some(props) = at(diff, &["changedProperties"]).as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, change) in props {
        let prev = at(change, &["previousValue"]);
        let next = at(change, &["updatedValue"]);
        // A created property had no previous value; for any other change a missing previous value is
        // unknown (every grant then counts as new, and the finding is not confirmed).
        let created = str_at(change, &["changeType"]) == Some("CREATE");
        let none_before = || created.then(|| json!({"Statement": []}));
        if key.ends_with("AssumeRolePolicyDocument") {
            if let Some(new) = payload::document(next) {
                out.push(Pair {
                    label: "trust policy".into(),
                    old: payload::document(prev).or_else(none_before),
                    new,
                });
            }
        } else if key.contains("PolicyList.") {
            if let Some(new) = payload::document(at(next, &["policyDocument"])) {
                out.push(Pair {
                    label: inline_label(
                        str_at(next, &["policyName"]),
                        &format!("configurationItemDiff.changedProperties.{key}.updatedValue.policyName"),
                    ),
                    old: payload::document(at(prev, &["policyDocument"])).or_else(none_before),
                    new,
                });
            }
        }
    }
    out
}

fn parse_or_empty(doc: &Value, what: &str) -> Result<Policy, CheckError> {
    if at(doc, &["Statement"]).as_array().is_some_and(Vec::is_empty) {
        return Ok(empty_policy());
    }
    engine::parse(doc, what)
}

fn check_widened(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let pairs = pairs(ctx)?;
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let mut evidence = Evidence::default();
    let mut confirmed = true;
    let mut widened = false;
    for pair in &pairs {
        let new = parse_new(pair)?;
        let old = match &pair.old {
            Some(doc) => parse_or_empty(doc, &format!("previous {}", pair.label))?,
            None => {
                confirmed = false;
                evidence.reasons.push(format!(
                    "{}: the previous document was not fetched; every grant counts as new",
                    pair.label
                ));
                empty_policy()
            }
        };
        let d = policy::diff(&old, &new);
        if !d.widened {
            continue;
        }
        widened = true;
        evidence
            .reasons
            .push(format!("{} grants access the previous one did not", pair.label));
        evidence.reasons.extend(d.reasons.iter().map(engine::reason_text));
        evidence
            .new_access
            .extend(d.new_access.iter().map(|a| AccessWitness {
                action: a.action.clone(),
                resource: a.resource.clone(),
                principal: a.principal.clone(),
            }));
        engine::add_statements(
            &mut evidence,
            &pair.new,
            d.new_access.iter().map(|a| a.statement.as_str()),
        );
    }
    if !widened {
        return Ok(Vec::new());
    }
    Ok(vec![principal_hit(
        c,
        high_if(confirmed),
        evidence,
        confirmed,
        |name| format!("IAM policy of {name} widened by {}", payload::who(c)),
    )])
}

/// The less specific methods a reported one stands for, as a reason's tail ("" when none).
fn also_text(combo: &policy::Combo) -> String {
    if combo.also.is_empty() {
        return String::new();
    }
    let ids: Vec<String> = combo.also.iter().map(|id| format!("`{id}`")).collect();
    format!("; the most specific method, also covering {}", ids.join(", "))
}

fn check_escalation(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let mut evidence = Evidence::default();
    let mut confirmed = true;
    let mut ids: Vec<String> = Vec::new();
    for pair in pairs(ctx)? {
        let new = parse_new(&pair)?;
        let old = match &pair.old {
            Some(doc) => parse_or_empty(doc, &format!("previous {}", pair.label))?,
            None => {
                confirmed = false;
                empty_policy()
            }
        };
        let combos = policy::most_specific(policy::newly_enabled_combos(&old, &new));
        for combo in &combos {
            evidence.reasons.push(format!(
                "{} newly enables `{}` ({}): {} [{}]{}",
                pair.label,
                combo.id,
                combo.actions.join(" + "),
                combo.description,
                combo.source,
                also_text(combo)
            ));
            ids.push(combo.id.clone());
        }
        engine::add_statements(
            &mut evidence,
            &pair.new,
            combos
                .iter()
                .flat_map(|c| c.statements.iter().map(String::as_str)),
        );
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if !confirmed {
        evidence.reasons.push(
            "the previous document was not fetched: every combo the new one enables counts as new".into(),
        );
    }
    evidence.details.insert("combos".into(), json!(ids));
    Ok(vec![principal_hit(
        c,
        high_if(confirmed),
        evidence,
        confirmed,
        |name| {
            format!(
                "IAM policy of {name} enables privilege escalation, by {}",
                payload::who(c)
            )
        },
    )])
}

/// Documents of the change that newly grant `*` on `*` (the engine's `grants_full_admin`).
fn full_admin_hit(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let mut evidence = Evidence::default();
    let mut confirmed = true;
    for pair in pairs(ctx)? {
        let new = parse_new(&pair)?;
        if !policy::grants_full_admin(&new) {
            continue;
        }
        match &pair.old {
            Some(doc)
                if policy::grants_full_admin(&parse_or_empty(doc, &format!("previous {}", pair.label))?) =>
            {
                continue
            }
            Some(_) => {}
            None => confirmed = false,
        }
        evidence
            .reasons
            .push(format!("{} allows every action on every resource", pair.label));
        evidence.statements.push(pair.new.clone());
    }
    if evidence.reasons.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![principal_hit(
        c,
        Severity::Critical,
        evidence,
        confirmed,
        |who| {
            format!(
                "full administrator access granted to {who} by {}",
                payload::who(c)
            )
        },
    )])
}

fn check_admin(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    if !c.event_name.starts_with("Attach") {
        return full_admin_hit(ctx);
    }
    let Some(arn) = payload::require(req, &["policyArn"])?.as_str() else {
        return Ok(Vec::new());
    };
    // AWS managed policies live at `arn:<partition>:iam::aws:policy/<path><name>`.
    let managed = arn.split(':').nth(4) == Some("aws");
    let name = arn.rsplit('/').next().unwrap_or(arn);
    if !(managed && ADMIN_MANAGED_POLICIES.contains(&name)) {
        return Ok(Vec::new());
    }
    let resource = principal_resource(c);
    let who = resource.name_or_unknown().to_owned();
    let kind = resource
        .resource_type
        .rsplit("::")
        .next()
        .unwrap_or("principal")
        .to_lowercase();
    let target = match &resource.name {
        Some(n) => format!("{kind} `{n}`"),
        None => format!(
            "a {kind} the record does not name ({})",
            payload::lacks(&format!("requestParameters.{kind}Name"))
        ),
    };
    let mut evidence = payload::reasons(vec![format!("AWS managed policy `{name}` attached to {target}")]);
    evidence.details.insert("policy_arn".into(), json!(arn));
    Ok(vec![payload::payload_hit(
        resource,
        Severity::Critical,
        format!("{name} attached to {who} by {}", payload::who(c)),
        evidence,
    )])
}

/// Sweep: a managed policy's default version that allows `*` on `*`.
pub fn judge_managed_admin(doc: &Value) -> Result<Option<(Severity, Evidence)>, CheckError> {
    let policy = engine::parse(doc, "policy")?;
    if !policy::grants_full_admin(&policy) {
        return Ok(None);
    }
    let mut e = payload::reasons(vec![
        "the default version allows every action on every resource".into()
    ]);
    e.statements.push(doc.clone());
    Ok(Some((Severity::Critical, e)))
}

/// Sweep: the escalation combos a managed policy's default version enables.
pub fn judge_managed_escalation(doc: &Value) -> Result<Option<(Severity, Evidence)>, CheckError> {
    let policy = engine::parse(doc, "policy")?;
    let combos = policy::most_specific(policy::escalation_combos(&policy));
    if combos.is_empty() {
        return Ok(None);
    }
    let mut e = Evidence {
        reasons: combos
            .iter()
            .map(|c| {
                format!(
                    "enables `{}` ({}): {} [{}]{}",
                    c.id,
                    c.actions.join(" + "),
                    c.description,
                    c.source,
                    also_text(c)
                )
            })
            .collect(),
        ..Evidence::default()
    };
    e.details.insert(
        "combos".into(),
        json!(combos.iter().map(|c| c.id.as_str()).collect::<Vec<_>>()),
    );
    engine::add_statements(
        &mut e,
        doc,
        combos
            .iter()
            .flat_map(|c| c.statements.iter().map(String::as_str)),
    );
    Ok(Some((Severity::High, e)))
}
