//! "Cross-account": grants in a resource policy to accounts outside the zone of trust ([`Trusted`]: the own
//! account, configured account ids, the organization), as IAM Access Analyzer defines external access:
//! "a resource-based policy that grants access to a resource within your zone of trust to a principal that
//! is not within your zone of trust ... Any principal in the organization or account that you choose for
//! the analyzer is considered trusted"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-findings.html>).
//!
//! A principal names an account as a 12-digit id or inside an ARN (`arn:aws:iam::<id>:...`,
//! `arn:aws:sts::<id>:...`). A statement is trusted as a whole when a condition pins `aws:PrincipalOrgID`
//! to the trusted organization, `aws:PrincipalOrgPaths` to paths inside it (`o-.../r-.../ou-.../`, IAM
//! User Guide, global condition keys), or `aws:PrincipalAccount` to trusted accounts. Conservative choices:
//! `Principal: "*"` and `NotPrincipal` (with Allow) are grants to every account; a `CanonicalUser` cannot
//! be mapped to an account and is reported with `account: None`. A service principal pinned with
//! `aws:SourceAccount` or `aws:SourceArn` acts for that account and is judged by it; an unpinned one is
//! not an account and is left to [`super::resource_policy_public`]. The same zone judges shares
//! (snapshot, AMI and DB snapshot attributes) in [`super::zone`].

use std::collections::BTreeSet;

use serde::Serialize;

use super::grammar::{Condition, Effect, Operator, Policy, PrincipalType, Principals, SetOp};

/// The zone of trust: the accounts and organization whose access is expected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Trusted {
    /// The own account and the configured trusted accounts.
    pub accounts: BTreeSet<String>,
    pub organization_id: Option<String>,
    /// Accounts known to be members of `organization_id`; `None`: membership unknown (an account outside
    /// `accounts` is then reported, and the finding says its membership was not known).
    pub organization_accounts: Option<BTreeSet<String>>,
}

impl Trusted {
    /// Whether `account` is inside the zone: the own or a configured account, or a known member.
    pub fn trusts_account(&self, account: &str) -> bool {
        self.accounts.contains(account)
            || (self.organization_id.is_some()
                && self
                    .organization_accounts
                    .as_ref()
                    .is_some_and(|m| m.contains(account)))
    }

    /// Whether an account judged outside might still be a member of the organization: an organization is
    /// configured and its members are unknown.
    pub fn membership_unknown(&self) -> bool {
        self.organization_id.is_some() && self.organization_accounts.is_none()
    }

    /// Whether an `aws:PrincipalOrgID` value is the trusted organization (exact: a wildcard is not).
    pub fn trusts_org_id(&self, value: &str) -> bool {
        self.organization_id.as_deref() == Some(value)
    }

    /// Whether an `aws:PrincipalOrgPaths` value stays inside the trusted organization: it starts with
    /// `<org-id>/` (a path is `o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/`, IAM User Guide, "AWS global condition
    /// context keys", aws:PrincipalOrgPaths).
    pub fn trusts_org_path(&self, value: &str) -> bool {
        self.organization_id
            .as_deref()
            .is_some_and(|org| value.strip_prefix(org).is_some_and(|rest| rest.starts_with('/')))
    }

    /// Whether an organization ARN (`arn:aws:organizations::<management>:organization/o-...`) or an OU ARN
    /// (`arn:aws:organizations::<management>:ou/o-.../ou-...`) is inside the trusted organization
    /// (Organizations User Guide, "Resource types defined by AWS Organizations").
    pub fn trusts_org_arn(&self, arn: &str) -> bool {
        let Some(org) = self.organization_id.as_deref() else {
            return false;
        };
        org_of_arn(arn).is_some_and(|o| o == org)
    }
}

/// The organization id an organization or OU ARN names.
pub fn org_of_arn(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "organizations", _, _, resource] = parts.as_slice() else {
        return None;
    };
    let org = if let Some(rest) = resource.strip_prefix("organization/") {
        rest
    } else {
        resource.strip_prefix("ou/")?.split('/').next()?
    };
    (org.starts_with("o-") && !org.contains(['*', '?', '/'])).then_some(org)
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
    /// The account may be a member of the trusted organization, whose membership was not known.
    pub membership_unknown: bool,
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

/// Values of an ARN condition (`ArnEquals` / `ArnLike`, or a string operator) that must match.
fn pinned_arns(c: &Condition) -> Option<&[String]> {
    let arn_op = matches!(c.op, Operator::ArnEquals | Operator::ArnLike);
    if arn_op {
        return (!c.if_exists && c.set != SetOp::ForAllValues && !c.values.is_empty())
            .then_some(c.values.as_slice());
    }
    pinned_values(c)
}

fn has_wildcard(v: &str) -> bool {
    v.contains('*') || v.contains('?')
}

/// Condition keys whose value is the caller's (or, for a service, the source resource's) account
/// ([KEYS] IAM User Guide, global condition context keys; `kms:CallerAccount`, KMS Developer Guide).
const ACCOUNT_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:sourceaccount",
    "aws:sourceowner",
    "kms:calleraccount",
];
/// Condition keys whose value is an ARN carrying the account (`aws:PrincipalArn`, `aws:SourceArn`).
const ARN_KEYS: &[&str] = &["aws:principalarn", "aws:sourcearn"];
/// What pins a service principal to the account it acts for.
const SERVICE_ACCOUNT_KEYS: &[&str] = &["aws:sourceaccount", "aws:sourceowner"];
const SERVICE_ARN_KEYS: &[&str] = &["aws:sourcearn"];

/// The accounts a statement's conditions pin the caller to, through `account_keys` (values are account
/// ids) or `arn_keys` (the account field of ARNs), when every pinned value names one exact account; `None`
/// when nothing pins it or when a value leaves the account open (a wildcard, an ARN without account). Two
/// pins must both hold: the accounts both allow.
fn pinned_accounts(
    conditions: &[Condition],
    account_keys: &[&str],
    arn_keys: &[&str],
) -> Option<Vec<String>> {
    let mut pinned: Option<Vec<String>> = None;
    for c in conditions {
        let values = if account_keys.contains(&c.key.as_str()) {
            pinned_values(c)
        } else if arn_keys.contains(&c.key.as_str()) {
            pinned_arns(c)
        } else {
            continue;
        };
        let Some(values) = values else { continue };
        let accounts: Vec<String> = if account_keys.contains(&c.key.as_str()) {
            values.to_vec()
        } else {
            values.iter().filter_map(|a| principal_account(a)).collect()
        };
        if accounts.len() != values.len() || accounts.iter().any(|a| has_wildcard(a)) {
            continue;
        }
        pinned = Some(match pinned {
            None => accounts,
            Some(prev) => prev.into_iter().filter(|a| accounts.contains(a)).collect(),
        });
    }
    pinned
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
        let account_pin = pinned_accounts(&stmt.conditions, ACCOUNT_KEYS, ARN_KEYS);
        // `aws:PrincipalOrgID` / `aws:PrincipalOrgPaths` pinned to organizations outside the zone.
        let mut other_orgs: Option<Vec<String>> = None;
        for c in &stmt.conditions {
            let Some(values) = pinned_values(c) else { continue };
            if c.key == "aws:principalorgid" || c.key == "aws:principalorgpaths" {
                let inside = |v: &String| {
                    if c.key == "aws:principalorgid" {
                        trusted.trusts_org_id(v)
                    } else {
                        trusted.trusts_org_path(v)
                    }
                };
                if values.iter().all(inside) {
                    org_pinned = true;
                } else if values
                    .iter()
                    .all(|v| !has_wildcard(v.split('/').next().unwrap_or(v)))
                {
                    other_orgs = Some(values.to_vec());
                }
            }
        }
        if org_pinned {
            continue;
        }
        let is_trusted = |acct: &str| trusted.trusts_account(acct);
        let unknown_membership = trusted.membership_unknown();
        let mut push = |principal: &str, account: Option<String>, cause: String| {
            let membership_unknown = unknown_membership
                && account
                    .as_deref()
                    .is_some_and(crate::resource_kind::is_account_id);
            out.push(ExternalGrant {
                statement: label.clone(),
                principal: principal.to_string(),
                account,
                actions: actions.clone(),
                cause,
                membership_unknown,
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
                            format!(
                                "a condition on the caller's account (aws:PrincipalAccount, aws:SourceAccount, \
                                 aws:SourceOwner, an ARN key) allows untrusted account `{a}`"
                            ),
                        );
                    }
                }
                None if other_orgs.is_some() => {
                    let orgs = other_orgs.clone().unwrap_or_default();
                    push(
                        "*",
                        None,
                        format!(
                            "every account of {} (aws:PrincipalOrgID / aws:PrincipalOrgPaths), outside the \
                             zone of trust",
                            orgs.iter()
                                .map(|o| format!("`{o}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
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
                            match (&account_pin, &other_orgs) {
                                (Some(accts), _) => {
                                    for a in accts.iter().filter(|a| !is_trusted(a)) {
                                        push(
                                            v,
                                            Some(a.clone()),
                                            format!("`AWS: *` pinned to untrusted account `{a}`"),
                                        );
                                    }
                                }
                                (None, Some(orgs)) => {
                                    push(
                                        v,
                                        None,
                                        format!(
                                        "every account of {} (aws:PrincipalOrgID / aws:PrincipalOrgPaths), \
                                         outside the zone of trust",
                                        orgs.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
                                    ),
                                    )
                                }
                                (None, None) => {
                                    push(v, Some("*".into()), "`AWS: *` grants every account".into())
                                }
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
                    PrincipalType::Service => {
                        let pinned =
                            pinned_accounts(&stmt.conditions, SERVICE_ACCOUNT_KEYS, SERVICE_ARN_KEYS)
                                .unwrap_or_default();
                        for a in pinned.iter().filter(|a| !is_trusted(a)) {
                            push(
                                v,
                                Some(a.clone()),
                                format!(
                                    "service `{v}` acts for account `{a}` (aws:SourceAccount / aws:SourceArn), \
                                     which is not trusted"
                                ),
                            );
                        }
                    }
                    PrincipalType::Federated => {}
                }
            }
        }
    }
    out
}
