//! "Cross-account": grants in a resource policy to accounts outside a trusted set (the own account,
//! configured account ids, the organization).
//!
//! A principal names an account as a 12-digit id or inside an ARN (`arn:aws:iam::<id>:...`,
//! `arn:aws:sts::<id>:...`). A statement is trusted as a whole when a condition pins `aws:PrincipalOrgID`
//! to the trusted organization, or `aws:PrincipalAccount` to trusted accounts. Conservative choices:
//! `Principal: "*"` and `NotPrincipal` (with Allow) are grants to every account; a `CanonicalUser` cannot
//! be mapped to an account and is reported with `account: None`. Service principals are not accounts and
//! are not reported (use [`super::resource_policy_public`] for unscoped service principals).

use std::collections::BTreeSet;

use serde::Serialize;

use super::grammar::{Condition, Effect, Operator, Policy, PrincipalType, Principals, SetOp};

/// The accounts and organization whose access is expected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Trusted {
    pub accounts: BTreeSet<String>,
    pub organization_id: Option<String>,
}

/// One grant to a principal outside the trusted set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalGrant {
    /// `Sid` or `#<index>`.
    pub statement: String,
    /// The principal as written (`*` for everyone).
    pub principal: String,
    /// The account id, `*` for any account, `None` when it cannot be determined.
    pub account: Option<String>,
    /// The statement's actions as written (prefixed `not ` for `NotAction`).
    pub actions: Vec<String>,
    pub cause: String,
}

/// The account a principal value names, if it names one.
pub fn principal_account(value: &str) -> Option<String> {
    if crate::resource_kind::is_account_id(value) {
        return Some(value.to_string());
    }
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, _, _, account, _] if !account.is_empty() => Some((*account).to_string()),
        _ => None,
    }
}

fn pinned_values(c: &Condition) -> Option<&[String]> {
    let positive = matches!(
        c.op,
        Operator::StringEquals | Operator::StringEqualsIgnoreCase | Operator::StringLike
    );
    (positive && !c.if_exists && c.set != SetOp::ForAllValues && !c.values.is_empty())
        .then_some(c.values.as_slice())
}

/// Grants to principals outside `trusted`.
pub fn cross_account(policy: &Policy, trusted: &Trusted) -> Vec<ExternalGrant> {
    let mut out = Vec::new();
    for stmt in policy.statements.iter().filter(|s| s.effect == Effect::Allow) {
        let Some(block) = &stmt.principal else { continue };
        let label = stmt.label();
        let actions: Vec<String> = stmt
            .action
            .values
            .iter()
            .map(|a| {
                if stmt.action.negated {
                    format!("not {a}")
                } else {
                    a.clone()
                }
            })
            .collect();
        let mut org_pinned = false;
        let mut account_pin: Option<Vec<String>> = None;
        for c in &stmt.conditions {
            let Some(values) = pinned_values(c) else { continue };
            if c.key == "aws:principalorgid" {
                if let Some(org) = &trusted.organization_id {
                    if values.iter().all(|v| v == org) {
                        org_pinned = true;
                    }
                }
            }
            if c.key == "aws:principalaccount" && values.iter().all(|v| !v.contains('*') && !v.contains('?'))
            {
                account_pin = Some(values.to_vec());
            }
        }
        if org_pinned {
            continue;
        }
        let is_trusted = |acct: &str| trusted.accounts.contains(acct);
        let mut push = |principal: &str, account: Option<String>, cause: String| {
            out.push(ExternalGrant {
                statement: label.clone(),
                principal: principal.to_string(),
                account,
                actions: actions.clone(),
                cause,
            });
        };
        let everyone = block.negated || matches!(block.principals, Principals::Any);
        if everyone {
            match &account_pin {
                Some(accts) => {
                    for a in accts.iter().filter(|a| !is_trusted(a)) {
                        push(
                            "*",
                            Some(a.clone()),
                            format!("aws:PrincipalAccount allows untrusted account `{a}`"),
                        );
                    }
                }
                None => {
                    let what = if block.negated {
                        "`NotPrincipal` with `Allow`"
                    } else {
                        "`Principal: *`"
                    };
                    push("*", Some("*".into()), format!("{what} grants every account"));
                }
            }
            continue;
        }
        let Principals::Map(map) = &block.principals else {
            continue;
        };
        for (ptype, values) in map {
            for v in values {
                match ptype {
                    PrincipalType::Aws => {
                        if v == "*" {
                            if account_pin.is_none() {
                                push(v, Some("*".into()), "`AWS: *` grants every account".into());
                            }
                            continue;
                        }
                        match principal_account(v) {
                            Some(a) if a.contains('*') || a.contains('?') => {
                                push(v, Some(a.clone()), format!("account `{a}` is a wildcard"))
                            }
                            Some(a) if !is_trusted(&a) => {
                                push(v, Some(a.clone()), format!("account `{a}` is not trusted"))
                            }
                            Some(_) => {}
                            None => push(v, None, format!("principal `{v}` names no account")),
                        }
                    }
                    PrincipalType::CanonicalUser => push(
                        v,
                        None,
                        "a canonical user id cannot be mapped to an account (conservative)".into(),
                    ),
                    PrincipalType::Service | PrincipalType::Federated => {}
                }
            }
        }
    }
    out
}
