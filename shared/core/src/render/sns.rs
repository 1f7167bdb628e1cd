//! SNS publishes: findings, remediation outcomes and sweep summaries.
//!
//! Every message uses `MessageStructure` `json`: `default` (and `sqs`, `lambda`, `https`; other protocols
//! fall back to `default`) carry the JSON document, `email` the readable text (SNS Developer Guide, "Amazon SNS
//! message publishing: sending custom platform-specific payloads"). Message attributes (all `String`):
//! `kind` = finding | remediation | summary, `severity`, `rule`, `account`, `remediation` = planned | none,
//! and with a findings store `transition` = new | changed | reopened | unsuppressed | unchanged | resolved
//! (findings) or the sweep's summary.
//!
//! Subjects follow the Publish API constraints (SNS API Reference, `Publish`, parameter `Subject`):
//! ASCII text that begins with a letter, number or punctuation mark, no line breaks or control
//! characters, and less than 100 characters long. [`subject_is_valid`] checks exactly that.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::email;
use crate::finding::{Finding, Severity};

/// Longest subject: the Publish API requires fewer than 100 characters.
pub const MAX_SUBJECT_CHARS: usize = 99;

/// One SNS publish request's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnsMessage {
    pub subject: String,
    /// The `Message`: a JSON object keyed by protocol.
    pub message: String,
    /// Always `json`.
    pub message_structure: String,
    /// `MessageAttributes`, all of data type `String`.
    pub attributes: BTreeMap<String, String>,
}

/// Whether `s` is a valid SNS subject (see the module doc).
pub fn subject_is_valid(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    s.chars().count() <= MAX_SUBJECT_CHARS
        && s.chars().all(|c| c.is_ascii() && !c.is_ascii_control())
        && (first.is_ascii_alphanumeric() || first.is_ascii_punctuation())
}

/// Makes any text a valid subject: non-ASCII and control characters become `?` or spaces, runs of white
/// space collapse, a bad first character gets a `-` in front, and a long text is cut with `...`.
pub fn sanitize_subject(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(128));
    let mut last_space = true;
    for c in s.chars() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else if c.is_ascii() {
            c
        } else {
            '?'
        };
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    let mut out = out.trim_end().to_owned();
    if out.is_empty() {
        out.push_str("Tripline");
    }
    if !out.starts_with(|c: char| c.is_ascii_alphanumeric() || c.is_ascii_punctuation()) {
        out.insert(0, '-');
    }
    if out.chars().count() > MAX_SUBJECT_CHARS {
        // All ASCII now: byte indices are char indices.
        out.truncate(MAX_SUBJECT_CHARS - 3);
        out = out.trim_end().to_owned();
        out.push_str("...");
    }
    out
}

/// `[HIGH] <summary> in <account>`, cut inside the summary if needed so the account stays visible.
pub fn finding_subject(f: &Finding) -> String {
    let tag = if f.suppressed.is_some() {
        format!("[{} suppressed]", f.severity.label())
    } else {
        format!("[{}]", f.severity.label())
    };
    let suffix = format!(" in {}", f.account);
    let summary = sanitize_subject(&f.summary);
    let room = MAX_SUBJECT_CHARS.saturating_sub(tag.len() + 1 + suffix.len());
    let summary = if summary.len() > room {
        let mut s = summary[..room.saturating_sub(3)].trim_end().to_owned();
        s.push_str("...");
        s
    } else {
        summary
    };
    sanitize_subject(&format!("{tag} {summary}{suffix}"))
}

fn structured(json_doc: &Value, email_text: String) -> String {
    let doc = json_doc.to_string();
    json!({
        "default": doc,
        "email": email_text,
        "sqs": doc,
        "lambda": doc,
        "https": doc,
    })
    .to_string()
}

fn attributes(
    kind: &str,
    severity: Severity,
    rule: &str,
    account: &str,
    remediation: &str,
) -> BTreeMap<String, String> {
    [
        ("kind", kind),
        ("severity", severity.as_str()),
        ("rule", rule),
        ("account", account),
        ("remediation", remediation),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Largest `Message` Tripline publishes: SNS accepts at most 256 KiB per publish (SNS quotas); the rest
/// is room for the subject and attributes.
pub const MAX_MESSAGE_BYTES: usize = 240 * 1024;

/// The SNS publish of a finding. If the message would exceed [`MAX_MESSAGE_BYTES`] (huge policies), the
/// offending statements are replaced by a note and the reasons kept.
pub fn message(f: &Finding) -> SnsMessage {
    message_with(f, None, "")
}

/// [`message`] with the finding's lifecycle (the findings store): `lifecycle` added to the JSON document
/// (a new optional field of schema version 1), `email_header` put before the email text, and the
/// `transition` message attribute (see [`crate::render::lifecycle`]).
pub fn message_with(f: &Finding, lifecycle: Option<(&str, &Value)>, email_header: &str) -> SnsMessage {
    let with = |f: &Finding| {
        let mut doc = serde_json::to_value(f).unwrap_or(Value::Null);
        if let (Some((_, l)), Value::Object(o)) = (lifecycle, &mut doc) {
            o.insert("lifecycle".to_owned(), (*l).clone());
        }
        structured(&doc, format!("{email_header}{}", email::text(f)))
    };
    let mut message = with(f);
    if message.len() > MAX_MESSAGE_BYTES {
        let mut slim = f.clone();
        let n = slim.evidence.statements.len();
        slim.evidence.statements = vec![Value::String(format!(
            "{n} statement(s) omitted: the message would exceed the SNS size limit"
        ))];
        slim.evidence.new_access.truncate(50);
        message = with(&slim);
    }
    let mut attributes = attributes(
        "finding",
        f.severity,
        &f.rule,
        &f.account,
        f.remediation_attribute(),
    );
    if let Some((transition, _)) = lifecycle {
        attributes.insert("transition".to_owned(), transition.to_owned());
    }
    SnsMessage {
        subject: finding_subject(f),
        message,
        message_structure: "json".to_owned(),
        attributes,
    }
}

/// A message whose JSON document and email text are given (the lifecycle's resolved notices).
pub(crate) fn custom(
    subject: &str,
    doc: &Value,
    email_text: String,
    attrs: BTreeMap<String, String>,
) -> SnsMessage {
    SnsMessage {
        subject: sanitize_subject(subject),
        message: structured(doc, email_text),
        message_structure: "json".to_owned(),
        attributes: attrs,
    }
}

/// The standard message attributes (`kind`, `severity`, `rule`, `account`, `remediation`).
pub(crate) fn standard_attributes(
    kind: &str,
    severity: Severity,
    rule: &str,
    account: &str,
    remediation: &str,
) -> BTreeMap<String, String> {
    attributes(kind, severity, rule, account, remediation)
}

/// What `remediate` did with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemediationStatus {
    /// The change was applied and verified.
    Remediated,
    /// Dry-run: nothing changed; `actions` says what would have been done.
    DryRun,
    /// Not acted on; `detail` says why (exempt, stale finding, own remediation role, mode off...).
    Skipped,
    /// The action or its verification failed (and was rolled back where possible).
    Failed,
    /// The action was applied and read back, but the resource is still exposed or not as planned: the reason
    /// says what remains. Nothing is restored (remediation never puts an exposure back).
    Partial,
    /// The action was applied but could not be read back (after retries): whether it took is unknown, and
    /// an operator must check.
    Unverified,
    /// Not acted on because acting would be unsafe: the finding's account cannot be reached with its own
    /// credentials, the message contradicts the rule registry, or the planned change would widen access.
    /// Nothing was written anywhere; counted and alarmed like a failure.
    Refused,
}

impl RemediationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RemediationStatus::Remediated => "remediated",
            RemediationStatus::DryRun => "dry-run",
            RemediationStatus::Skipped => "skipped",
            RemediationStatus::Failed => "failed",
            RemediationStatus::Partial => "partial",
            RemediationStatus::Unverified => "unverified",
            RemediationStatus::Refused => "refused",
        }
    }
}

/// The outcome of one remediation, published by `remediate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediationOutcome {
    pub finding_id: String,
    pub rule: String,
    pub severity: Severity,
    pub account: String,
    pub region: String,
    pub resource_arn: String,
    pub remediation_id: String,
    pub status: RemediationStatus,
    /// The actions taken (or, in dry-run, that would be taken).
    pub actions: Vec<String>,
    /// Why skipped / failed, or the verification result.
    pub detail: String,
}

impl RemediationOutcome {
    /// The outcome of remediating `f` (its id, rule, severity, account, region and resource).
    pub fn of(
        f: &Finding,
        remediation_id: String,
        status: RemediationStatus,
        actions: Vec<String>,
        detail: String,
    ) -> Self {
        Self {
            finding_id: f.id.clone(),
            rule: f.rule.clone(),
            severity: f.severity,
            account: f.account.clone(),
            region: f.region.clone(),
            resource_arn: f.resource.arn.clone(),
            remediation_id,
            status,
            actions,
            detail,
        }
    }
}

/// The SNS publish of a remediation outcome (`kind` = remediation, `remediation` = none).
pub fn remediation_outcome(o: &RemediationOutcome) -> SnsMessage {
    let doc = serde_json::to_value(o).unwrap_or(Value::Null);
    let mut text = format!(
        "Tripline remediation {}: {}\n\nResource: {}\nAccount:  {} in {}\nRule:     {} (finding {})\n\n",
        o.status.as_str(),
        o.remediation_id,
        if o.resource_arn.is_empty() {
            crate::finding::UNKNOWN_RESOURCE
        } else {
            &o.resource_arn
        },
        o.account,
        o.region,
        o.rule,
        o.finding_id
    );
    if !o.actions.is_empty() {
        text.push_str(if o.status == RemediationStatus::DryRun {
            "Would do:\n"
        } else {
            "Actions:\n"
        });
        for a in &o.actions {
            text.push_str(&format!("- {a}\n"));
        }
        text.push('\n');
    }
    text.push_str(&o.detail);
    text.push('\n');
    let resource = o
        .resource_arn
        .rsplit([':', '/'])
        .next()
        .filter(|r| !r.is_empty())
        .unwrap_or("unknown resource");
    SnsMessage {
        subject: sanitize_subject(&format!(
            "[{}] Remediation {} for {resource} in {}",
            o.severity.label(),
            o.status.as_str(),
            o.account
        )),
        message: structured(&doc, text),
        message_structure: "json".to_owned(),
        attributes: attributes("remediation", o.severity, &o.rule, &o.account, "none"),
    }
}

/// The result of one scheduled sweep, published by `sweep`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SweepSummary {
    pub account: String,
    pub region: String,
    /// RFC 3339 start time.
    pub time: String,
    /// Resource kind (`buckets`, `policies`, `roles`) -> how many were checked.
    pub checked: BTreeMap<String, u64>,
    /// Severity -> number of unsuppressed findings.
    pub findings: BTreeMap<Severity, u64>,
    pub suppressed: u64,
    /// Resources that could not be read, with why.
    pub errors: Vec<String>,
    pub duration_ms: u64,
    /// Why the sweep is incomplete (`deadline`: it stopped starting reads before the function's timeout;
    /// `unread`: some resources could not be read); absent when complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    /// Resources not read because the deadline came first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
    /// With a findings store: transition (`new`, `unchanged`, `resolved`...) -> how many this sweep
    /// recorded; only the notified ones were published, this summary counts them all.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub transitions: BTreeMap<String, u64>,
}

/// The SNS publish of a sweep summary (`kind` = summary, `rule` = sweep, `remediation` = none, `severity` =
/// the highest severity found, or low).
/// At most this many errors and unread resources are listed in a summary's JSON document (it is sent four
/// times in one message: `default`, `sqs`, `lambda`, `https`), each quoted with [`crate::text::quote`]; the
/// totals say how many there were (`errors_total`, `unread_total`). The e-mail text lists up to 100, quoted.
/// A message stays within SNS's 256 KiB whatever the sweep could not read.
pub const SUMMARY_LISTED: usize = 20;

fn bounded_list(items: &[String], max: usize) -> Vec<String> {
    items.iter().take(max).map(|e| crate::text::quote(e)).collect()
}

pub fn summary(s: &SweepSummary) -> SnsMessage {
    let mut doc = serde_json::to_value(s).unwrap_or(Value::Null);
    if let Some(o) = doc.as_object_mut() {
        if s.errors.len() > SUMMARY_LISTED || s.errors.iter().any(|e| crate::text::quote(e) != *e) {
            o.insert("errors".into(), json!(bounded_list(&s.errors, SUMMARY_LISTED)));
            o.insert("errors_total".into(), json!(s.errors.len()));
        }
        if s.unread.len() > SUMMARY_LISTED || s.unread.iter().any(|e| crate::text::quote(e) != *e) {
            o.insert("unread".into(), json!(bounded_list(&s.unread, SUMMARY_LISTED)));
            o.insert("unread_total".into(), json!(s.unread.len()));
        }
    }
    let total: u64 = s.findings.values().sum();
    let highest = s
        .findings
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(sev, _)| *sev)
        .max()
        .unwrap_or(Severity::Low);
    let mut text = format!(
        "Tripline sweep of {} in {} at {} ({} ms)\n\nChecked:\n",
        s.account, s.region, s.time, s.duration_ms
    );
    for (k, n) in &s.checked {
        text.push_str(&format!("  {k}: {n}\n"));
    }
    text.push_str(&format!("\nFindings: {total} (suppressed: {})\n", s.suppressed));
    for sev in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ] {
        if let Some(n) = s.findings.get(&sev) {
            text.push_str(&format!("  {}: {n}\n", sev.as_str()));
        }
    }
    if !s.transitions.is_empty() {
        text.push_str("\nLifecycle (findings store):\n");
        for (t, n) in &s.transitions {
            text.push_str(&format!("  {t}: {n}\n"));
        }
    }
    if let Some(why) = &s.incomplete {
        text.push_str(&format!(
            "\nINCOMPLETE ({why}): this summary does not cover every resource.\n"
        ));
    }
    if !s.unread.is_empty() {
        text.push_str(&format!("\nNot read before the deadline ({}):\n", s.unread.len()));
        for u in bounded_list(&s.unread, 100) {
            text.push_str(&format!("  - {u}\n"));
        }
    }
    if !s.errors.is_empty() {
        text.push_str(&format!("\nCould not check ({}):\n", s.errors.len()));
        for e in bounded_list(&s.errors, 100) {
            text.push_str(&format!("  - {e}\n"));
        }
    }
    SnsMessage {
        subject: sanitize_subject(&format!(
            "[{}] Tripline sweep{}: {total} findings in {}",
            highest.label(),
            if s.incomplete.is_some() {
                " (incomplete)"
            } else {
                ""
            },
            s.account
        )),
        message: structured(&doc, text),
        message_structure: "json".to_owned(),
        attributes: attributes("summary", highest, "sweep", &s.account, "none"),
    }
}
