//! Messages of the finding lifecycle (the findings store, [`crate::lifecycle`]): a finding published with
//! its transition, and the notice that a finding resolved.
//!
//! Both carry the `transition` message attribute (`new`, `changed`, `reopened`, `unsuppressed`,
//! `unchanged` for a re-notification, `resolved`) so subscriptions can filter on it, e.g. Slack only
//! `new` and `reopened`: `{"transition": ["new", "reopened"]}`. A resolved notice has `kind` = finding,
//! `remediation` = none (never routed to `remediate`) and a JSON document with `"transition":
//! "resolved"`, the rule, resource, account and the stored lifecycle; its email says RESOLVED and why.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::sns::{self, SnsMessage};
use crate::finding::{Finding, Severity, UNKNOWN_RESOURCE};
use crate::lifecycle::{LifecycleItem, ResolveReason, Transition};

/// The lifecycle facts a message carries (`lifecycle` in the JSON document; `tripline scan --store`
/// prints the same object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleView {
    /// The lifecycle id (stable across events: account, rule, resource).
    pub id: String,
    pub transition: Transition,
    pub state: String,
    pub first_seen: String,
    pub last_seen: String,
    pub occurrences: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_reason: Option<ResolveReason>,
}

impl LifecycleView {
    pub fn of(item: &LifecycleItem, transition: Transition) -> Self {
        Self {
            id: item.id.clone(),
            transition,
            state: item.state.as_str().to_owned(),
            first_seen: item.first_seen.clone(),
            last_seen: item.last_seen.clone(),
            occurrences: item.occurrences,
            resolved_reason: item.resolved_reason,
        }
    }
}

/// The line put before a finding's email text.
fn header(v: &LifecycleView) -> String {
    let what = match v.transition {
        Transition::New => "NEW finding".to_owned(),
        Transition::Reopened => "REOPENED: this finding had been resolved and is exposed again".to_owned(),
        Transition::Changed => "CHANGED: the severity or evidence changed".to_owned(),
        Transition::Unsuppressed => "NO LONGER SUPPRESSED: the exemption ended".to_owned(),
        Transition::Unchanged => "REMINDER: still open".to_owned(),
        Transition::Resolved => "RESOLVED".to_owned(),
        Transition::Suppressed => "SUPPRESSED".to_owned(),
    };
    format!(
        "{what} (first seen {}, seen {} time(s), finding {})\n\n",
        v.first_seen, v.occurrences, v.id
    )
}

/// A finding's publish with its lifecycle.
pub fn finding_message(f: &Finding, view: &LifecycleView) -> SnsMessage {
    let doc = serde_json::to_value(view).unwrap_or(Value::Null);
    sns::message_with(f, Some((view.transition.as_str(), &doc)), &header(view))
}

/// The JSON document of a resolved notice.
pub fn resolved_doc(item: &LifecycleItem) -> Value {
    json!({
        "schema_version": crate::finding::SCHEMA_VERSION,
        "transition": "resolved",
        "id": item.id,
        "rule": item.key.rule,
        "title": item.title,
        "severity": item.severity,
        "account": item.key.account,
        "region": item.region,
        "resource": { "type": item.resource_type, "arn": item.key.resource_arn },
        "lifecycle": LifecycleView::of(item, Transition::Resolved),
    })
}

fn reason_sentence(item: &LifecycleItem) -> &'static str {
    item.resolved_reason
        .map_or("judged again: no longer exposed", ResolveReason::sentence)
}

/// The email text of a resolved notice.
pub fn resolved_text(item: &LifecycleItem) -> String {
    let arn = if item.key.resource_arn.is_empty() {
        UNKNOWN_RESOURCE
    } else {
        &item.key.resource_arn
    };
    format!(
        "RESOLVED: {title}\n\nWHAT\n  Resource: {arn} ({ty})\n  Account:  {account} in {region}\n  Rule:     {rule} (was {sev})\n\n\
         WHY RESOLVED\n  {why} ({last_seen})\n\nHISTORY\n  First seen {first_seen}, seen {n} time(s); finding {id}\n",
        title = item.title,
        ty = item.resource_type,
        account = item.key.account,
        region = item.region,
        rule = item.key.rule,
        sev = item.severity.as_str(),
        why = reason_sentence(item),
        last_seen = item.last_seen,
        first_seen = item.first_seen,
        n = item.occurrences,
        id = item.id,
    )
}

/// The SNS publish of a resolved finding.
pub fn resolved_message(item: &LifecycleItem) -> SnsMessage {
    let name = item
        .key
        .resource_arn
        .rsplit([':', '/'])
        .next()
        .filter(|r| !r.is_empty())
        .unwrap_or("unknown resource");
    let mut attrs = sns::standard_attributes(
        "finding",
        item.severity,
        &item.key.rule,
        &item.key.account,
        "none",
    );
    attrs.insert("transition".to_owned(), "resolved".to_owned());
    sns::custom(
        &format!("[RESOLVED] {} on {name} in {}", item.key.rule, item.key.account),
        &resolved_doc(item),
        resolved_text(item),
        attrs,
    )
}

/// The Slack text of a resolved notice (from its JSON document); `None` when `v` is not one.
pub fn resolved_slack_text(v: &Value) -> Option<String> {
    if v.get("transition").and_then(Value::as_str) != Some("resolved") {
        return None;
    }
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("");
    let severity = v
        .get("severity")
        .and_then(|x| serde_json::from_value::<Severity>(x.clone()).ok())
        .map_or("", Severity::as_str);
    let why = v
        .pointer("/lifecycle/resolved_reason")
        .and_then(|x| serde_json::from_value::<ResolveReason>(x.clone()).ok())
        .map_or("judged again: no longer exposed", ResolveReason::sentence);
    Some(format!(
        ":white_check_mark: *Resolved* ({severity}) `{}` on `{}` ({} in {})\n{why}; first seen {}",
        s("/rule"),
        if s("/resource/arn").is_empty() {
            UNKNOWN_RESOURCE
        } else {
            s("/resource/arn")
        },
        s("/account"),
        s("/region"),
        s("/lifecycle/first_seen"),
    ))
}
