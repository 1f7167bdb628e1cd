//! Privilege-escalation combos and full-admin detection.
//!
//! The catalog (`shared/core/data/escalation.json`) holds the 21 methods of Rhino Security Labs
//! (<https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/>) and the further paths
//! Cloudsplaining and Pacu list, each with its required actions and source URL.
//!
//! A combo is enabled when every required action is allowed by some `Allow` statement on a resource that
//! could be that action's target, and not removed by an unconditional `Deny` on all resources.
//!
//! Targets. An action acts on ARNs of its own service (`arn:<partition>:<service>:...` for the known
//! partitions: the Service Authorization Reference lists each action's resource types with their ARN
//! formats, e.g. `arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}` for `iam:PassRole`), plus a
//! few services
//! whose actions act on another service's ARNs: `sts:AssumeRole` on IAM roles, `ssm:SendCommand` /
//! `ssm:StartSession` and `ec2-instance-connect:SendSSHPublicKey` on EC2 instances. A statement counts for
//! an action when its `Resource` is absent or `*`, or one of its patterns can match an ARN of a target
//! service (decided exactly on the glob automaton), or, for `NotResource`, its patterns leave some such
//! ARN out. `NotResource: "*"` grants nothing; `Action: "*"` on `arn:aws:s3:::b/*` enables no IAM method.
//!
//! Conservative choices (a combo is reported whenever it may be enabled): within a target service the
//! resource *type* is not checked (a scoped `iam:PassRole` on one role still enables the combo: that role
//! may be privileged; `iam:CreateAccessKey` on a role ARN counts although it acts on users), a pattern with
//! a policy variable counts (its value may be any ARN), conditions on the `Allow` side are ignored, and
//! only unconditional, all-resource Denies are credited.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::glob::{self, Glob};
use super::grammar::{Effect, Policy, Statement};

const DATA: &str = include_str!("../../data/escalation.json");

#[derive(Debug, Clone, Deserialize)]
struct Method {
    id: String,
    actions: Vec<String>,
    description: String,
    source: String,
}

#[derive(Debug, Deserialize)]
struct Raw {
    methods: Vec<Method>,
}

fn methods() -> &'static [Method] {
    static METHODS: OnceLock<Vec<Method>> = OnceLock::new();
    METHODS.get_or_init(|| {
        serde_json::from_str::<Raw>(DATA)
            .map(|r| r.methods)
            .unwrap_or_default()
    })
}

/// Number of methods in the catalog (0 if it failed to load).
pub fn catalog_size() -> usize {
    methods().len()
}

/// One escalation method a policy enables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Combo {
    pub id: String,
    /// The required actions.
    pub actions: Vec<String>,
    /// Where the method is documented.
    pub source: String,
    pub description: String,
    /// The `Allow` statements granting the actions (`Sid` or `#<index>`).
    pub statements: Vec<String>,
}

fn action_in(stmt: &Statement, action: &str) -> bool {
    let hit = stmt
        .action
        .values
        .iter()
        .any(|p| Glob::parse(&p.to_ascii_lowercase(), false).matches(action));
    hit != stmt.action.negated
}

fn all_resources(stmt: &Statement) -> bool {
    match &stmt.resource {
        None => true,
        Some(r) => !r.negated && r.values.iter().any(|v| v == "*"),
    }
}

/// Services besides its own whose ARNs an action prefix acts on (Service Authorization Reference:
/// AWS STS resource types `role`/`user` are `arn:${Partition}:iam::...`; Systems Manager and EC2 Instance
/// Connect list `instance` as `arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}`).
const OTHER_TARGETS: &[(&str, &[&str])] = &[
    ("sts", &["iam"]),
    ("ssm", &["ec2"]),
    ("ec2-instance-connect", &["ec2"]),
];

/// The AWS partitions (an ARN's second component; `*` would also span the `:` separators).
const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// The ARN patterns (`arn:<partition>:<service>:*`) of the resources `action` (lowercase) may act on,
/// or `None` when the action has no service prefix (any resource).
fn target_patterns(action: &str) -> Option<Vec<Glob>> {
    let (svc, _) = action.split_once(':')?;
    let mut services = vec![svc];
    if let Some((_, more)) = OTHER_TARGETS.iter().find(|(p, _)| *p == svc) {
        services.extend_from_slice(more);
    }
    Some(
        services
            .into_iter()
            .flat_map(|s| {
                PARTITIONS
                    .iter()
                    .map(move |p| Glob::parse(&format!("arn:{p}:{s}:*"), false))
            })
            .collect(),
    )
}

/// Whether two glob languages share a string.
fn intersect(a: &Glob, b: &Glob) -> bool {
    match glob::atoms(&[a, b]) {
        Some(atoms) => atoms.iter().any(|x| x.signature[0] & 0b11 == 0b11),
        None => true, // too complex to decide: assume it may
    }
}

/// Whether the statement's `Resource` / `NotResource` may match a resource `action` acts on.
fn may_target(stmt: &Statement, vars: bool, action: &str) -> bool {
    let Some(r) = &stmt.resource else { return true };
    let Some(targets) = target_patterns(action) else {
        return true;
    };
    if r.negated {
        if r.values.iter().any(|v| v == "*") {
            return false;
        }
        if vars && r.values.iter().any(|v| glob::has_variable(v)) {
            return true;
        }
        let excluded: Vec<Glob> = r.values.iter().map(|v| Glob::parse(v, false)).collect();
        let refs: Vec<&Glob> = excluded.iter().collect();
        return targets
            .iter()
            .any(|t| !matches!(glob::uncovered(t, &refs), Ok(None)));
    }
    r.values.iter().any(|v| {
        v == "*"
            || (vars && glob::has_variable(v))
            || targets.iter().any(|t| intersect(&Glob::parse(v, false), t))
    })
}

/// The `Allow` statements that grant `action` (lowercase), or empty when it is not allowed.
fn granted_by(policy: &Policy, action: &str) -> Vec<String> {
    let denied = policy.statements.iter().any(|s| {
        s.effect == Effect::Deny && s.conditions.is_empty() && all_resources(s) && action_in(s, action)
    });
    if denied {
        return Vec::new();
    }
    policy
        .statements
        .iter()
        .filter(|s| {
            s.effect == Effect::Allow
                && action_in(s, action)
                && may_target(s, policy.version.has_variables(), action)
        })
        .map(Statement::label)
        .collect()
}

/// The escalation combos `policy` enables.
pub fn escalation_combos(policy: &Policy) -> Vec<Combo> {
    let mut out = Vec::new();
    'methods: for m in methods() {
        let mut statements: Vec<String> = Vec::new();
        for a in &m.actions {
            let by = granted_by(policy, &a.to_ascii_lowercase());
            if by.is_empty() {
                continue 'methods;
            }
            for s in by {
                if !statements.contains(&s) {
                    statements.push(s);
                }
            }
        }
        out.push(Combo {
            id: m.id.clone(),
            actions: m.actions.clone(),
            source: m.source.clone(),
            description: m.description.clone(),
            statements,
        });
    }
    out
}

/// The combos `new` enables that `old` does not.
pub fn newly_enabled_combos(old: &Policy, new: &Policy) -> Vec<Combo> {
    let before: Vec<String> = escalation_combos(old).into_iter().map(|c| c.id).collect();
    escalation_combos(new)
        .into_iter()
        .filter(|c| !before.contains(&c.id))
        .collect()
}

/// Whether the policy grants full administrator access: an `Allow` of `*` (or `*:*`) on all resources
/// with no condition, not cut by an unconditional `Deny`. Conservative choices: a `Deny` with conditions
/// does not cut (it may not apply); an `Allow` with conditions does not count as full admin (it is cut by
/// its condition); `NotAction` with an empty effect is not considered.
pub fn grants_full_admin(policy: &Policy) -> bool {
    let admin = policy.statements.iter().any(|s| {
        s.effect == Effect::Allow
            && !s.action.negated
            && s.action.values.iter().any(|a| a == "*" || a == "*:*")
            && all_resources(s)
            && s.conditions.is_empty()
            && s.principal.as_ref().is_none_or(|p| !p.negated)
    });
    let cut = policy
        .statements
        .iter()
        .any(|s| s.effect == Effect::Deny && s.conditions.is_empty());
    admin && !cut
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn catalog_loads_and_names_real_actions() {
        assert!(catalog_size() >= 21 + 20);
        assert_eq!(
            methods()
                .iter()
                .filter(|m| m.source.contains("rhinosecuritylabs"))
                .count(),
            21
        );
        let cat = super::super::actions::catalog();
        for m in methods() {
            for a in &m.actions {
                assert!(
                    cat.index.contains_key(&a.to_ascii_lowercase()),
                    "{} names unknown action {a}",
                    m.id
                );
            }
        }
    }
}
