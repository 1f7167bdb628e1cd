//! Privilege-escalation combos and full-admin detection.
//!
//! The catalog (`shared/core/data/escalation.json`) holds the 21 methods of Rhino Security Labs
//! (<https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/>) and their method 26
//! (`lambda:UpdateFunctionConfiguration`: a layer on a privileged function), the further paths
//! Cloudsplaining and Pacu list, and the paths Datadog's pathfinding.cloud published since
//! (<https://pathfinding.cloud/paths/>), each with its required actions and source URL.
//! [`escalation_combos`] lists every method enabled; [`most_specific`] keeps the most specific ones (what
//! the rules report).
//!
//! `iam:CreateAccessKey`, `iam:CreateLoginProfile` and `iam:UpdateLoginProfile` escalate only on another
//! user: a statement whose `Resource` values all end with `/${aws:username}` grants them on the caller's
//! own user only and does not count for them (see `own_user_only`).
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

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::glob::{self, Budget, Glob};
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
    /// Set when the combo is reported because deciding it exceeded the complexity budget (a
    /// `NotResource` whose patterns could not be compared with the action's targets): the reason, starting
    /// "complexity budget".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<String>,
    /// Set by [`most_specific`]: the less specific methods this one stands for (their actions are a
    /// strict subset of its own, and the policy enables them too).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
}

/// The most specific of `combos`: a method whose required actions are a strict subset of another
/// enabled method's is left out and named in that method's `also` (e.g. `iam:CreateAccessKey` +
/// `iam:DeleteAccessKey` stands for `iam:CreateAccessKey` alone; `iam:UpdateAssumeRolePolicy` +
/// `sts:AssumeRole` for `iam:UpdateAssumeRolePolicy` alone). The more specific method describes the
/// whole path the policy allows; the subsumed one is the same path with steps left out. Order kept.
pub fn most_specific(combos: Vec<Combo>) -> Vec<Combo> {
    let sets: Vec<Vec<String>> = combos
        .iter()
        .map(|c| {
            let mut v: Vec<String> = c.actions.iter().map(|a| a.to_ascii_lowercase()).collect();
            v.sort();
            v.dedup();
            v
        })
        .collect();
    let strict_subset = |a: &[String], b: &[String]| a.len() < b.len() && a.iter().all(|x| b.contains(x));
    let mut out = Vec::new();
    for (i, c) in combos.iter().enumerate() {
        if sets
            .iter()
            .enumerate()
            .any(|(j, s)| j != i && strict_subset(&sets[i], s))
        {
            continue;
        }
        let mut c = c.clone();
        c.also = combos
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i && strict_subset(&sets[*j], &sets[i]))
            .map(|(_, d)| d.id.clone())
            .collect();
        out.push(c);
    }
    out
}

/// A policy's action and resource patterns, parsed once per check.
struct Prepared<'a> {
    policy: &'a Policy,
    /// Per statement: its action patterns (lowercase).
    actions: Vec<Vec<Glob>>,
    /// Per statement: its `Resource` / `NotResource` patterns (variables not read: see `may_target`).
    resources: Vec<Vec<Glob>>,
    /// `(statement, service)` -> whether the statement may target that service's resources.
    targets: HashMap<(usize, String), bool>,
    budget: Budget,
}

impl<'a> Prepared<'a> {
    fn new(policy: &'a Policy, budget: Budget) -> Prepared<'a> {
        Prepared {
            policy,
            actions: policy
                .statements
                .iter()
                .map(|s| {
                    s.action
                        .values
                        .iter()
                        .map(|p| Glob::parse(&p.to_ascii_lowercase(), false))
                        .collect()
                })
                .collect(),
            resources: policy
                .statements
                .iter()
                .map(|s| {
                    s.resource
                        .iter()
                        .flat_map(|r| r.values.iter().map(|v| Glob::parse(v, false)))
                        .collect()
                })
                .collect(),
            targets: HashMap::new(),
            budget,
        }
    }
}

fn action_in(stmt: &Statement, globs: &[Glob], action: &str) -> bool {
    let hit = globs.iter().any(|g| g.matches(action));
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

/// The services whose ARNs (`arn:<partition>:<service>:...`) `action` (lowercase) may act on, or `None`
/// when the action has no service prefix (any resource).
fn target_services(action: &str) -> Option<Vec<&str>> {
    let (svc, _) = action.split_once(':')?;
    let mut services = vec![svc];
    if let Some((_, more)) = OTHER_TARGETS.iter().find(|(p, _)| *p == svc) {
        services.extend_from_slice(more);
    }
    Some(services)
}

/// The ARN prefixes `arn:<partition>:<service>:` of a service, one per partition (the target languages
/// are these prefixes followed by anything).
fn target_prefixes(service: &str) -> Vec<String> {
    PARTITIONS.iter().map(|p| format!("arn:{p}:{service}:")).collect()
}

/// Whether statement `i`'s `Resource` / `NotResource` may match a resource of `service`.
fn may_target_service(prep: &mut Prepared<'_>, i: usize, service: &str) -> bool {
    if let Some(&known) = prep.targets.get(&(i, service.to_string())) {
        return known;
    }
    let stmt = &prep.policy.statements[i];
    let vars = prep.policy.version.has_variables();
    let answer = match &stmt.resource {
        None => true,
        Some(r) if r.negated => {
            if r.values.iter().any(|v| v == "*") {
                false
            } else if vars && r.values.iter().any(|v| glob::has_variable(v)) {
                true
            } else {
                // Some ARN of the service left out by the excluded patterns (undecided: assume so). Only
                // the patterns that can match such an ARN can cover them (exact, cheap first step).
                target_prefixes(service).iter().any(|pre| {
                    let refs: Vec<&Glob> = prep.resources[i]
                        .iter()
                        .filter(|g| g.may_start_with(pre))
                        .collect();
                    if refs.is_empty() {
                        return true;
                    }
                    let t = Glob::parse(&format!("{pre}*"), false);
                    !matches!(glob::uncovered_within(&t, &refs, &prep.budget), Ok(None))
                })
            }
        }
        Some(r) => {
            let prefixes = target_prefixes(service);
            r.values.iter().zip(&prep.resources[i]).any(|(v, g)| {
                v == "*"
                    || (vars && glob::has_variable(v))
                    || prefixes.iter().any(|pre| g.may_start_with(pre))
            })
        }
    };
    prep.targets.insert((i, service.to_string()), answer);
    answer
}

/// Whether statement `i` may match a resource `action` (lowercase) acts on.
fn may_target(prep: &mut Prepared<'_>, i: usize, action: &str) -> bool {
    if prep.policy.statements[i].resource.is_none() {
        return true;
    }
    let Some(services) = target_services(action) else {
        return true;
    };
    services.into_iter().any(|s| may_target_service(prep, i, s))
}

/// Actions that escalate only when they act on *another* user: an access key or a console password for
/// oneself grants nothing one does not already have (Rhino Security Labs methods 4-6; pathfinding.cloud
/// iam-002, iam-004, iam-006: "for another user").
const OTHER_USER_ACTIONS: &[&str] = &[
    "iam:createaccesskey",
    "iam:createloginprofile",
    "iam:updateloginprofile",
];

/// The policy variable naming the caller's own user.
const OWN_USER_VARIABLE: &str = "${aws:username}";

/// Whether a `Resource` value can only name the caller's own IAM user: it ends with
/// `/${aws:username}` and has no other variable. IAM User Guide, "IAM policy elements: Variables and
/// tags" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html): "policy
/// variables are replaced with values that come from the conditional context of the request itself";
/// `aws:username` is the requesting user's friendly name, and a statement whose variable has no value
/// (a role session has no `aws:username`) does not match. The IAM User Guide's own policy for "access keys
/// for your own IAM user" is exactly `"Resource": "arn:aws:iam::*:user/${aws:username}"`
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-keys_required-permissions.html). Whatever a
/// wildcard before the slash spans, an IAM user ARN matched ends with `/<name>` where `<name>` is the
/// caller's user name (names contain no `/` and are unique in the account; IAM calls act on the caller's
/// own account), so the user is the caller. Under Version 2008-10-17 (no variables) the value is literal
/// text naming a user called `${aws:username}`, which cannot exist (`$`, `{`, `:` are not allowed in user
/// names), so it enables nothing either.
fn own_user_only(value: &str) -> bool {
    let n = OWN_USER_VARIABLE.len();
    if value.len() <= n || !value.is_char_boundary(value.len() - n) {
        return false;
    }
    let (prefix, var) = value.split_at(value.len() - n);
    var.eq_ignore_ascii_case(OWN_USER_VARIABLE) && prefix.ends_with('/') && !prefix.contains('$')
}

/// Whether statement `i` grants `action` only on the caller's own user (see [`own_user_only`]).
fn only_own_user(stmt: &Statement, action: &str) -> bool {
    OTHER_USER_ACTIONS.contains(&action)
        && stmt
            .resource
            .as_ref()
            .is_some_and(|r| !r.negated && !r.values.is_empty() && r.values.iter().all(|v| own_user_only(v)))
}

/// The `Allow` statements that grant `action` (lowercase), or empty when it is not allowed.
fn granted_by(prep: &mut Prepared<'_>, action: &str) -> Vec<String> {
    let policy = prep.policy;
    let denied = policy.statements.iter().enumerate().any(|(i, s)| {
        s.effect == Effect::Deny
            && s.conditions.is_empty()
            && all_resources(s)
            && action_in(s, &prep.actions[i], action)
    });
    if denied {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, s) in policy.statements.iter().enumerate() {
        if s.effect == Effect::Allow
            && action_in(s, &prep.actions[i], action)
            && !only_own_user(s, action)
            && may_target(prep, i, action)
        {
            out.push(s.label());
        }
    }
    out
}

/// The escalation combos `policy` enables.
pub fn escalation_combos(policy: &Policy) -> Vec<Combo> {
    escalation_combos_within(policy, escalation_budget()).0
}

/// Half the default budget: `policy diff` and the identity-policy rules run the report for both
/// policies besides the diff itself, all within one check's time.
fn escalation_budget() -> Budget {
    Budget::new(glob::WORK_UNITS / 2, glob::MAX_EXPLORATION_BYTES)
}

/// [`escalation_combos`] within `budget`; also returns the budget, spent.
pub fn escalation_combos_within(policy: &Policy, budget: Budget) -> (Vec<Combo>, Budget) {
    let mut prep = Prepared::new(policy, budget);
    let mut out = Vec::new();
    'methods: for m in methods() {
        let mut statements: Vec<String> = Vec::new();
        let before = prep.budget.exceeded().is_some();
        for a in &m.actions {
            let by = granted_by(&mut prep, &a.to_ascii_lowercase());
            if by.is_empty() {
                continue 'methods;
            }
            for s in by {
                if !statements.contains(&s) {
                    statements.push(s);
                }
            }
        }
        // Once the budget is out, undecided targets are assumed reachable: say so on the combos found since.
        let budget = if before || prep.budget.exceeded().is_some() {
            prep.budget.message()
        } else {
            None
        };
        out.push(Combo {
            id: m.id.clone(),
            actions: m.actions.clone(),
            source: m.source.clone(),
            description: m.description.clone(),
            statements,
            budget,
            also: Vec::new(),
        });
    }
    (out, prep.budget)
}

/// The combos `new` enables that `old` does not. A combo of `old` reported only because of the
/// complexity budget does not count as enabled before (conservative).
pub fn newly_enabled_combos(old: &Policy, new: &Policy) -> Vec<Combo> {
    // Cheap exact step: when every `Allow` of `new` is an `Allow` of `old` and every `Deny` of `old` is a
    // `Deny` of `new`, `new` grants no action on no resource that `old` does not: nothing is newly enabled
    // (however complex the patterns, e.g. a policy compared with itself).
    let same = |a: &Statement, b: &Statement| {
        a.effect == b.effect
            && a.principal == b.principal
            && a.action == b.action
            && a.resource == b.resource
            && a.conditions == b.conditions
    };
    let has = |p: &Policy, s: &Statement| p.statements.iter().any(|t| same(s, t));
    if old.version.has_variables() == new.version.has_variables()
        && new
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
            .all(|s| has(old, s))
        && old
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Deny)
            .all(|s| has(new, s))
    {
        return Vec::new();
    }
    let before: Vec<String> = escalation_combos(old)
        .into_iter()
        .filter(|c| c.budget.is_none())
        .map(|c| c.id)
        .collect();
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
        assert!(catalog_size() >= 21 + 1 + 28 + 21 + 21);
        // Rhino Security Labs: the 21 original methods and method 26.
        assert_eq!(
            methods()
                .iter()
                .filter(|m| m.source.contains("rhinosecuritylabs"))
                .count(),
            22
        );
        // No two methods with the same action set (`most_specific` orders them by strict inclusion).
        let mut sets: Vec<Vec<String>> = methods()
            .iter()
            .map(|m| {
                let mut v: Vec<String> = m.actions.iter().map(|a| a.to_ascii_lowercase()).collect();
                v.sort();
                v
            })
            .collect();
        sets.sort();
        let n = sets.len();
        sets.dedup();
        assert_eq!(sets.len(), n, "two methods share an action set");
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
