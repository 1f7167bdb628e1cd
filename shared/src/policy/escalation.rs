//! Privilege-escalation combos and full-admin detection.
//!
//! The catalog (`shared/data/escalation.json`) holds the 21 methods of Rhino Security Labs
//! (<https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/>) and the further paths
//! Cloudsplaining and Pacu list, each with its required actions and source URL.
//!
//! A combo is enabled when every required action is allowed by some `Allow` statement (on any resource,
//! whatever its conditions) and not removed by an unconditional `Deny` on all resources. Conservative
//! choices: conditions and resource scoping on the `Allow` side are ignored (a scoped `iam:PassRole` still
//! enables the combo: the scope may include a privileged role); only unconditional, all-resource Denies
//! are credited.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::glob::Glob;
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
        .filter(|s| s.effect == Effect::Allow && action_in(s, action))
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
