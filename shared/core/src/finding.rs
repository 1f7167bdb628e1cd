//! [`Finding`]: what a rule raises, and the stable JSON schema every consumer reads (SNS subscribers,
//! `remediate`, `notify-slack`, `tripline assess --format json`).
//!
//! # JSON schema (version 1)
//!
//! Fields are never removed or renamed within a schema version; new optional fields may be added.
//!
//! ```text
//! {
//!   "schema_version": 1,
//!   "id":        string   stable: first 32 hex digits of sha256(rule "\n" resource arn "\n" event id)
//!                         (the resource arn as in "resource", so "" when unknown)
//!   "rule":      string   rule id, e.g. "s3-bucket-policy-public"
//!   "severity":  "critical" | "high" | "medium" | "low"
//!   "title":     string   the rule's title
//!   "summary":   string   one line: what happened to which resource
//!   "resource":  { "type": string (CloudFormation type), "arn": string, "name": string|null }
//!                "arn" is "" when the record names no resource an ARN can be derived from (never a
//!                placeholder ARN); renderers then show "unknown resource (the record names none)".
//!                "name" is null when the record does not name the resource.
//!   "account":   string   12-digit account id
//!   "region":    string
//!   "actor":     { "name": string, "identity_type": string, "arn": string|null,
//!                  "session_issuer": string|null, "source_ip": string|null,
//!                  "user_agent": string|null, "invoked_by": string|null }
//!   "event":     { "id": string, "name": string, "service": string, "time": string (RFC 3339),
//!                  "source": "cloudtrail" | "config" | "sweep" }
//!   "why":       string   why it matters (the rule's doc)
//!   "evidence":  { "reasons": [string], "statements": [json],
//!                  "new_access": [{"action", "resource", "principal"?}],
//!                  "details": { string: json } }
//!                reasons never state a value the input (record, fetched state, configuration) lacks;
//!                what the record lacks is said so ("the record does not include `requestParameters.x`")
//!                and listed in details "record_lacks": [path] when it matters to the verdict
//!   "state_confirmed": bool   false when current state was not fetched (judged from the payload alone)
//!   "remediation": null | { "id": string, "mode": "off" | "dry-run" | "enforce", "permissions": [string] }
//!   "links":     { "console": string|null, "cloudtrail": string|null }
//!   "suppressed": null | { "reason": string, "by": "tag" | "allow-list" }
//!   "notes":     [string]  e.g. an expired exemption
//! }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::settings::RemediationMode;

/// The current schema version of [`Finding`].
pub const SCHEMA_VERSION: u32 = 1;

/// How bad a finding is. Orders from `Low` (least) to `Critical` (most).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    /// Upper-case label used in subjects and headers.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
        }
    }

    /// Parses `critical`, `high`, `medium` or `low` (case-insensitive).
    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Some(Severity::Critical),
            "high" => Some(Severity::High),
            "medium" => Some(Severity::Medium),
            "low" => Some(Severity::Low),
            _ => None,
        }
    }

    /// One step lower (`Low` stays `Low`).
    pub fn lower(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium | Severity::Low => Severity::Low,
        }
    }
}

/// The resource a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingResource {
    /// CloudFormation-style type, e.g. `AWS::S3::Bucket`.
    #[serde(rename = "type")]
    pub resource_type: String,
    pub arn: String,
    pub name: Option<String>,
}

/// What renderers show for a resource whose ARN cannot be derived from the record.
pub const UNKNOWN_RESOURCE: &str = "unknown resource (the record names none)";

impl FindingResource {
    /// The ARN, or [`UNKNOWN_RESOURCE`] when the record names no resource an ARN can be derived from.
    pub fn arn_or_unknown(&self) -> &str {
        if self.arn.is_empty() {
            UNKNOWN_RESOURCE
        } else {
            &self.arn
        }
    }

    /// The name for summaries: the resource's name, or a phrase saying the record does not name it.
    pub fn name_or_unknown(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or("(not named in the record)")
    }
}

/// Who made the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingActor {
    /// Short human name (`alice`, `root`, the role name...).
    pub name: String,
    pub identity_type: String,
    pub arn: Option<String>,
    pub session_issuer: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub invoked_by: Option<String>,
}

/// The event that raised the finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingEvent {
    pub id: String,
    pub name: String,
    pub service: String,
    pub time: String,
    /// `cloudtrail`, `config` or `sweep`.
    pub source: String,
}

/// One `(action, resource)` pair a new policy allows and the old one did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessWitness {
    pub action: String,
    pub resource: String,
    /// The principal, for resource and trust policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
}

/// Why the rule fired.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// Human-readable reasons (the engine's reasons, naming statement and cause).
    pub reasons: Vec<String>,
    /// The offending statements or documents, as JSON.
    pub statements: Vec<Value>,
    /// New access witnesses (`iam-policy-widened`).
    pub new_access: Vec<AccessWitness>,
    /// Further structured facts (ports, CIDRs, the blocking setting...).
    pub details: BTreeMap<String, Value>,
}

/// What `remediate` would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediationPlan {
    /// The remediation id, e.g. `s3-enable-bucket-public-access-block`.
    pub id: String,
    pub mode: RemediationMode,
    /// The IAM write permissions the remediation needs.
    pub permissions: Vec<String>,
}

/// Links a reader follows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Links {
    /// The resource in the AWS console.
    pub console: Option<String>,
    /// The event in CloudTrail event history (CloudTrail changes only).
    pub cloudtrail: Option<String>,
}

/// Why a finding is suppressed (it is still reported, never dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub reason: String,
    /// `tag` or `allow-list`.
    pub by: String,
}

/// One finding. See the module doc for the JSON schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub schema_version: u32,
    pub id: String,
    pub rule: String,
    pub severity: Severity,
    pub title: String,
    pub summary: String,
    pub resource: FindingResource,
    pub account: String,
    pub region: String,
    pub actor: FindingActor,
    pub event: FindingEvent,
    pub why: String,
    pub evidence: Evidence,
    pub state_confirmed: bool,
    pub remediation: Option<RemediationPlan>,
    pub links: Links,
    pub suppressed: Option<Suppression>,
    pub notes: Vec<String>,
}

impl Finding {
    /// `planned` when the finding's rule has a remediation whose mode is not off and the finding is not
    /// suppressed; `none` otherwise (the SNS `remediation` message attribute).
    pub fn remediation_attribute(&self) -> &'static str {
        match (&self.remediation, &self.suppressed) {
            (Some(plan), None) if plan.mode != RemediationMode::Off => "planned",
            _ => "none",
        }
    }
}

/// The stable finding id: the first 32 hex digits of sha256(rule, resource, event id).
pub fn finding_id(rule: &str, resource_arn: &str, event_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update(b"\n");
    h.update(resource_arn.as_bytes());
    h.update(b"\n");
    h.update(event_id.as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(32);
    for b in digest.iter().take(16) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The CloudTrail event history URL of an event.
pub fn cloudtrail_event_url(region: &str, event_id: &str) -> String {
    format!("https://{region}.console.aws.amazon.com/cloudtrail/home?region={region}#/events/{event_id}")
}
