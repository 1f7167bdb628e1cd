//! Slack Block Kit payload of a finding, for an incoming webhook.
//!
//! Limits enforced (Slack Block Kit reference, "Blocks" and "Composition objects"): a header's text at most
//! 150 characters; a section's text at most 3000; at most 10 fields of at most 2000 characters each; a
//! button's text at most 75 and its URL at most 3000; at most 50 blocks per message. Text is escaped for
//! mrkdwn (`&`, `<`, `>`, per "Formatting text for app surfaces").

use serde_json::{json, Value};

use crate::finding::{Finding, Severity};
use crate::lifecycle::Transition;
use crate::render::lifecycle::LifecycleView;
use crate::render::sns::{RemediationOutcome, SweepSummary};

pub const MAX_HEADER_CHARS: usize = 150;
pub const MAX_SECTION_CHARS: usize = 3000;
pub const MAX_FIELD_CHARS: usize = 2000;
pub const MAX_FIELDS: usize = 10;
pub const MAX_BLOCKS: usize = 50;
pub const MAX_BUTTON_TEXT_CHARS: usize = 75;
pub const MAX_URL_CHARS: usize = 3000;

/// Escapes `&`, `<`, `>` for Slack mrkdwn and plain text.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Cuts already-escaped text to `max` characters on a char boundary, never inside an `&...;` entity,
/// appending `marker`.
pub fn truncate_escaped(s: &str, max: usize, marker: &str) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let keep = max.saturating_sub(marker.chars().count());
    let mut out: String = s.chars().take(keep).collect();
    // Drop a partial entity at the end (`&am`).
    if let Some(amp) = out.rfind('&') {
        if !out[amp..].contains(';') {
            out.truncate(amp);
        }
    }
    out.push_str(marker);
    out
}

fn cap(s: &str, max: usize) -> String {
    truncate_escaped(s, max, "...")
}

fn emoji(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => ":red_circle:",
        Severity::High => ":large_orange_circle:",
        Severity::Medium => ":large_yellow_circle:",
        Severity::Low => ":white_circle:",
    }
}

fn field(label: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": cap(&format!("*{label}*\n{}", escape(value)), MAX_FIELD_CHARS)})
}

fn button(text: &str, url: &str) -> Option<Value> {
    (url.chars().count() <= MAX_URL_CHARS).then(|| {
        json!({
            "type": "button",
            "text": {"type": "plain_text", "text": cap(text, MAX_BUTTON_TEXT_CHARS)},
            "url": url,
        })
    })
}

/// The Block Kit payload (`{"text": fallback, "blocks": [...]}`) of a finding.
pub fn blocks(f: &Finding) -> Value {
    blocks_with(f, None)
}

/// What the header says of a transition (the findings store): empty for none and for `suppressed`, which
/// the header already says.
fn transition_tag(l: Option<&LifecycleView>) -> &'static str {
    match l.map(|l| l.transition) {
        Some(Transition::New) => "NEW ",
        Some(Transition::Reopened) => "REOPENED ",
        Some(Transition::Changed) => "CHANGED ",
        Some(Transition::Unsuppressed) => "NO LONGER SUPPRESSED ",
        Some(Transition::Unchanged) => "REMINDER ",
        Some(Transition::Resolved) => "RESOLVED ",
        Some(Transition::Suppressed) | None => "",
    }
}

/// [`blocks`] of a finding published with its lifecycle (the findings store): the header names the
/// transition (NEW, REOPENED, CHANGED, REMINDER...) and the context line says since when and how often it
/// was seen.
pub fn blocks_with(f: &Finding, lifecycle: Option<&LifecycleView>) -> Value {
    let mut blocks: Vec<Value> = Vec::new();
    let suppressed = if f.suppressed.is_some() {
        " (suppressed)"
    } else {
        ""
    };
    let header = format!(
        "{}{} {}{suppressed}: {}",
        transition_tag(lifecycle),
        f.severity.label(),
        f.title,
        f.account
    );
    blocks.push(json!({
        "type": "header",
        "text": {"type": "plain_text", "text": cap(&header, MAX_HEADER_CHARS), "emoji": true},
    }));
    let mut intro = format!(
        "{} *{}*\n{}",
        emoji(f.severity),
        escape(&f.summary),
        escape(&f.why)
    );
    if let Some(s) = &f.suppressed {
        intro.push_str(&format!("\n_Suppressed: {}_", escape(&s.reason)));
    }
    blocks
        .push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap(&intro, MAX_SECTION_CHARS)}}));

    let actor = match &f.actor.arn {
        Some(arn) => format!("{} ({})\n{arn}", f.actor.name, f.actor.identity_type),
        None => format!("{} ({})", f.actor.name, f.actor.identity_type),
    };
    let remediation = match &f.remediation {
        Some(p) => format!("{} ({})", p.id, p.mode.as_str()),
        None => "none".to_owned(),
    };
    let fields: Vec<Value> = vec![
        field("Resource", f.resource.arn_or_unknown()),
        field("Account / region", &format!("{} / {}", f.account, f.region)),
        field("Actor", &actor),
        field("Time", &f.event.time),
        field("Source IP", f.actor.source_ip.as_deref().unwrap_or("unknown")),
        field("Event", &format!("{} ({})", f.event.name, f.event.service)),
        field("Rule", &f.rule),
        field("Remediation", &remediation),
        field(
            "State",
            if f.state_confirmed {
                "confirmed"
            } else {
                "not confirmed (payload only)"
            },
        ),
    ]
    .into_iter()
    .take(MAX_FIELDS)
    .collect();
    blocks.push(json!({"type": "section", "fields": fields}));

    let evidence = escape(super::email::evidence_text(f).trim_end());
    if !evidence.is_empty() {
        let head = "*Evidence*\n```";
        let tail = "```";
        let budget = MAX_SECTION_CHARS - head.chars().count() - tail.chars().count();
        let body = truncate_escaped(
            &evidence,
            budget,
            "\n... (truncated; the full evidence is in the JSON finding)",
        );
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("{head}{body}{tail}")},
        }));
    }

    let buttons: Vec<Value> = [
        f.links
            .console
            .as_deref()
            .and_then(|u| button("Open in console", u)),
        f.links
            .cloudtrail
            .as_deref()
            .and_then(|u| button("CloudTrail event", u)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !buttons.is_empty() {
        blocks.push(json!({"type": "actions", "elements": buttons}));
    }
    let mut context = match lifecycle {
        Some(l) => format!(
            "Finding `{}` | first seen {}, seen {} time(s)",
            escape(&l.id),
            escape(&l.first_seen),
            l.occurrences
        ),
        None => format!("Finding `{}`", f.id),
    };
    for n in &f.notes {
        context.push_str(&format!(" | {}", escape(n)));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": cap(&context, MAX_SECTION_CHARS)}],
    }));
    blocks.truncate(MAX_BLOCKS);
    json!({
        "text": super::sns::finding_subject(f),
        "blocks": blocks,
    })
}

/// The text of an organization sweep's run summary (`sweep-worker`'s `RunSummary` document): only the
/// fields present are read, counted as 0 when absent.
fn run_summary_text(v: &Value) -> String {
    let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    let len = |k: &str| v.get(k).and_then(Value::as_array).map_or(0, Vec::len);
    let sum = |k: &str| {
        v.get(k)
            .and_then(Value::as_object)
            .map_or(0, |m| m.values().filter_map(Value::as_u64).sum::<u64>())
    };
    let mut text = format!(
        "*Tripline organization sweep* `{}`: {} account(s), {} complete; {} of {} shard(s) done, {} failed; {} finding(s), {} suppressed",
        escape(v.get("run").and_then(Value::as_str).unwrap_or("")),
        len("accounts"),
        len("accounts_complete"),
        n("shards_done"),
        n("shards_planned"),
        len("failed"),
        sum("findings"),
        n("suppressed"),
    );
    if let Some(t) = v.get("transitions").and_then(Value::as_object) {
        let list: Vec<String> = t
            .iter()
            .filter_map(|(k, c)| Some(format!("{} {}", escape(k), c.as_u64()?)))
            .collect();
        if !list.is_empty() {
            text.push_str(&format!("\nChanges since the last run: {}", list.join(", ")));
        }
    }
    if v.get("deadline").and_then(Value::as_bool) == Some(true) {
        text.push_str("\nIncomplete: the run's deadline came before every shard reported.");
    }
    text
}

/// The Slack payload of one message of the alert topic (`kind` is its `kind` attribute): a finding's
/// Block Kit blocks, a short text for remediation outcomes, sweep summaries and anything else (a CloudWatch
/// alarm...); or the reason to skip it (a finding below `min_severity`, a message that does not parse).
pub fn payload_for(
    kind: Option<&str>,
    subject: Option<&str>,
    message: &str,
    min_severity: Severity,
) -> Result<Value, String> {
    let parsed: Option<Value> = serde_json::from_str(message).ok();
    match (kind, parsed) {
        (Some("finding") | None, Some(v)) if super::lifecycle::resolved_slack_text(&v).is_some() => Ok(
            text_payload(&super::lifecycle::resolved_slack_text(&v).unwrap_or_default()),
        ),
        (Some("finding") | None, Some(v)) if v.get("rule").is_some() && v.get("evidence").is_some() => {
            let lifecycle: Option<LifecycleView> = v
                .get("lifecycle")
                .and_then(|l| serde_json::from_value(l.clone()).ok());
            let f: Finding = serde_json::from_value(v).map_err(|e| format!("finding does not parse: {e}"))?;
            if f.severity < min_severity {
                return Err(format!(
                    "severity `{}` is below the minimum `{}`",
                    f.severity.as_str(),
                    min_severity.as_str()
                ));
            }
            Ok(blocks_with(&f, lifecycle.as_ref()))
        }
        (Some("remediation"), Some(v)) => {
            let o: RemediationOutcome =
                serde_json::from_value(v).map_err(|e| format!("remediation outcome does not parse: {e}"))?;
            let mut text = format!(
                "*Remediation {}* `{}` on `{}` ({} in {})\n{}",
                o.status.as_str(),
                o.remediation_id,
                o.resource_arn,
                o.account,
                o.region,
                o.detail
            );
            for a in &o.actions {
                text.push_str(&format!("\n• {a}"));
            }
            Ok(text_payload(&text))
        }
        (Some("summary"), Some(v)) if v.get("run").is_some() && v.get("shards_planned").is_some() => {
            Ok(text_payload(&run_summary_text(&v)))
        }
        (Some("summary"), Some(v)) => {
            let s: SweepSummary =
                serde_json::from_value(v).map_err(|e| format!("summary does not parse: {e}"))?;
            let total: u64 = s.findings.values().sum();
            let mut text = format!(
                "*Tripline sweep* of {} in {}: {total} finding(s), {} suppressed, {} resource(s) unreadable",
                s.account,
                s.region,
                s.suppressed,
                s.errors.len()
            );
            if !s.transitions.is_empty() {
                let list: Vec<String> = s.transitions.iter().map(|(t, n)| format!("{t} {n}")).collect();
                text.push_str(&format!(
                    "\nChanges since the last sweep: {}",
                    escape(&list.join(", "))
                ));
            }
            Ok(text_payload(&text))
        }
        _ => {
            // Anything else on the topic (a CloudWatch alarm...): its subject and start of the message.
            let head: String = message.chars().take(2800).collect();
            Ok(text_payload(&format!(
                "*{}*\n{head}",
                subject.unwrap_or("Tripline notification")
            )))
        }
    }
}

/// A plain Slack message: a fallback `text` and one mrkdwn section (Slack caps section text at 3000).
fn text_payload(text: &str) -> Value {
    let t = crate::text::truncate_chars(text, 2900);
    json!({"text": t, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": t}}]})
}
