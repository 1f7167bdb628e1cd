//! Glue between rules and the policy engine ([`crate::policy`]): parse documents, turn engine reasons into
//! evidence, pick the offending statements out of a document. No policy logic lives here.

use super::CheckError;
use serde_json::Value;

use crate::finding::Evidence;
use crate::policy::{ExternalGrant, Policy, PublicVerdict, Reason, Trusted};
use crate::settings::RuleConfig;

/// Parses a policy document, or says why it cannot (the rule then reports an error, not a finding).
pub fn parse(doc: &Value, what: &str) -> Result<Policy, CheckError> {
    Policy::parse(doc).map_err(|source| CheckError::Invalid {
        what: what.to_owned(),
        source,
    })
}

/// One engine reason as a sentence naming the statement.
pub fn reason_text(r: &Reason) -> String {
    format!("statement `{}`: {}", r.statement, r.cause)
}

/// The raw JSON of the statement an engine label names (`Sid`, or `#<index>`).
pub fn statement_json(doc: &Value, label: &str) -> Option<Value> {
    let stmts: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => return None,
    };
    if let Some(i) = label.strip_prefix('#').and_then(|n| n.parse::<usize>().ok()) {
        return stmts.get(i).map(|v| (*v).clone());
    }
    stmts
        .into_iter()
        .find(|s| s.get("Sid").and_then(Value::as_str) == Some(label))
        .cloned()
}

/// Evidence from a public verdict: every reason, and each named statement once.
pub fn public_evidence(doc: &Value, verdict: &PublicVerdict) -> Evidence {
    let mut e = Evidence {
        reasons: verdict.reasons.iter().map(reason_text).collect(),
        ..Evidence::default()
    };
    add_statements(&mut e, doc, verdict.reasons.iter().map(|r| r.statement.as_str()));
    e
}

/// Adds the statements named by `labels` (once each, in order).
pub fn add_statements<'a>(e: &mut Evidence, doc: &Value, labels: impl Iterator<Item = &'a str>) {
    let mut seen: Vec<&str> = Vec::new();
    for label in labels {
        if seen.contains(&label) {
            continue;
        }
        seen.push(label);
        if let Some(s) = statement_json(doc, label) {
            e.statements.push(s);
        }
    }
}

/// The trusted set: the change's own account, the configured accounts and the organization.
pub fn trusted(config: &RuleConfig, own_account: &str) -> Trusted {
    let mut accounts = config.trusted_account_ids.clone();
    if !own_account.is_empty() {
        accounts.insert(own_account.to_owned());
    }
    Trusted {
        accounts,
        organization_id: config.organization_id.clone(),
        organization_accounts: config.organization_accounts.clone(),
    }
}

/// External grants worth a cross-account finding: grants to `*` are left to the "public" rules when the
/// document is public (one finding per problem).
pub fn external_grants(policy: &Policy, trusted: &Trusted, public: bool) -> Vec<ExternalGrant> {
    crate::policy::cross_account(policy, trusted)
        .into_iter()
        .filter(|g| !(public && g.account.as_deref() == Some("*")))
        .collect()
}

/// Evidence from external grants.
pub fn external_evidence(doc: &Value, grants: &[ExternalGrant]) -> Evidence {
    let mut e = Evidence {
        reasons: grants
            .iter()
            .map(|g| {
                format!(
                    "statement `{}` grants {} to `{}` ({}): {}",
                    g.statement,
                    g.actions.join(", "),
                    g.principal,
                    g.account
                        .as_deref()
                        .map(|a| format!("account {a}"))
                        .unwrap_or_else(|| "account unknown".into()),
                    g.cause
                )
            })
            .collect(),
        ..Evidence::default()
    };
    let accounts: Vec<String> = grants.iter().filter_map(|g| g.account.clone()).collect();
    e.details
        .insert("external_accounts".into(), serde_json::json!(accounts));
    let unknown: Vec<&str> = grants
        .iter()
        .filter(|g| g.membership_unknown)
        .filter_map(|g| g.account.as_deref())
        .collect();
    membership_note(&mut e, &unknown);
    add_statements(&mut e, doc, grants.iter().map(|g| g.statement.as_str()));
    e
}

/// When the organization's membership is unknown, says so for the accounts it could hold.
pub fn membership_note(e: &mut Evidence, accounts: &[&str]) {
    if accounts.is_empty() {
        return;
    }
    let mut list: Vec<&str> = accounts.to_vec();
    list.sort_unstable();
    list.dedup();
    e.reasons.push(format!(
        "organization membership is unknown (not listed through Organizations and TRIPLINE_ORGANIZATION_ACCOUNT_IDS not set): {} may be members \
         of the trusted organization",
        list.iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    e.details.insert(
        "organization_membership".into(),
        serde_json::json!({"known": false, "accounts": list}),
    );
}

/// Evidence from external shares: one reason each, the outside accounts and organizations.
pub fn share_evidence(what: &str, shares: &[crate::policy::ExternalShare]) -> Evidence {
    let mut e = Evidence {
        reasons: shares
            .iter()
            .map(|s| format!("{what} shared with `{}`: {}", s.target, s.cause))
            .collect(),
        ..Evidence::default()
    };
    let accounts: Vec<&str> = shares.iter().filter_map(|s| s.account.as_deref()).collect();
    e.details
        .insert("external_accounts".into(), serde_json::json!(accounts));
    let orgs: Vec<&str> = shares
        .iter()
        .filter(|s| s.account.is_none())
        .map(|s| s.target.as_str())
        .collect();
    if !orgs.is_empty() {
        e.details
            .insert("external_targets".into(), serde_json::json!(orgs));
    }
    let unknown: Vec<&str> = shares
        .iter()
        .filter(|s| s.membership_unknown)
        .filter_map(|s| s.account.as_deref())
        .collect();
    membership_note(&mut e, &unknown);
    e
}
