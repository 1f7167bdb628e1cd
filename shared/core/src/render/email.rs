//! The plain-text email a person reads: what changed, who, when, from where, why it matters, the evidence,
//! the remediation status and how to exempt the resource.

use std::fmt::Write as _;

use crate::finding::Finding;
use crate::settings::RemediationMode;

/// Largest rendered evidence (statements and witnesses) in an email; SNS caps a whole publish at 256 KiB.
pub const MAX_EVIDENCE_CHARS: usize = 32 * 1024;

/// Cuts `s` to at most `max` characters on a char boundary, with a marker saying how much was cut.
pub fn truncate_chars(s: &str, max: usize, marker_hint: &str) -> String {
    let total = s.chars().count();
    if total <= max {
        return s.to_owned();
    }
    let marker = format!("... [truncated: {} more characters{marker_hint}]", total - max);
    let keep = max.saturating_sub(marker.chars().count());
    let mut out: String = s.chars().take(keep).collect();
    out.push_str(&marker);
    out
}

/// Wraps text at `width` columns on spaces, indenting each line.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

/// The evidence as text: reasons, new access, details, statements.
pub fn evidence_text(f: &Finding) -> String {
    let mut out = String::new();
    for r in &f.evidence.reasons {
        let _ = writeln!(out, "- {r}");
    }
    if !f.evidence.new_access.is_empty() {
        let _ = writeln!(out, "New access (allowed now, not before):");
        for w in &f.evidence.new_access {
            let _ = writeln!(out, "  {} on {}", w.action, w.resource);
        }
    }
    for (k, v) in &f.evidence.details {
        let _ = writeln!(out, "{k}: {v}");
    }
    for s in &f.evidence.statements {
        let pretty = serde_json::to_string_pretty(s).unwrap_or_else(|_| s.to_string());
        let _ = writeln!(out, "{pretty}");
    }
    out
}

fn remediation_text(f: &Finding) -> String {
    match &f.remediation {
        None => "No automatic remediation for this rule; act manually.".to_owned(),
        Some(_) if f.suppressed.is_some() => "None: the finding is suppressed.".to_owned(),
        Some(plan) => match plan.mode {
            RemediationMode::Off => format!("`{}` is available but remediation is off.", plan.id),
            RemediationMode::DryRun => format!(
                "`{}` will run in dry-run mode: it reports what it would change and changes nothing.",
                plan.id
            ),
            RemediationMode::Enforce => format!(
                "`{}` will be applied automatically (enforce mode) after re-reading the current state.",
                plan.id
            ),
        },
    }
}

/// The email body of a finding.
pub fn text(f: &Finding) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "[{}] {}", f.severity.label(), f.title);
    if let Some(s) = &f.suppressed {
        let _ = writeln!(o, "SUPPRESSED: {}", s.reason);
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "WHAT CHANGED");
    let _ = writeln!(o, "  {}", f.summary);
    let _ = writeln!(
        o,
        "  Resource: {} ({})",
        f.resource.arn_or_unknown(),
        f.resource.resource_type
    );
    let _ = writeln!(o, "  Account:  {} in {}", f.account, f.region);
    let _ = writeln!(o, "  Rule:     {}", f.rule);
    let _ = writeln!(o);
    let _ = writeln!(o, "WHO");
    let a = &f.actor;
    let _ = writeln!(
        o,
        "  {} ({}{})",
        a.name,
        a.identity_type,
        a.arn.as_deref().map(|x| format!(", {x}")).unwrap_or_default()
    );
    if let Some(i) = &a.session_issuer {
        let _ = writeln!(o, "  Session issued by: {i}");
    }
    if let Some(i) = &a.invoked_by {
        let _ = writeln!(o, "  Invoked by: {i}");
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "WHEN AND FROM WHERE");
    let _ = writeln!(
        o,
        "  {} ({} via {}, event {})",
        f.event.time, f.event.name, f.event.service, f.event.id
    );
    let _ = writeln!(o, "  Source IP:  {}", a.source_ip.as_deref().unwrap_or("unknown"));
    let _ = writeln!(
        o,
        "  User agent: {}",
        a.user_agent.as_deref().unwrap_or("unknown")
    );
    let _ = writeln!(o);
    let _ = writeln!(o, "WHY IT MATTERS");
    o.push_str(&wrap(&f.why, 76, "  "));
    let _ = writeln!(o);
    let _ = writeln!(o, "EVIDENCE");
    let ev = truncate_chars(&evidence_text(f), MAX_EVIDENCE_CHARS, "; see the JSON finding");
    for line in ev.lines() {
        let _ = writeln!(o, "  {line}");
    }
    let _ = writeln!(
        o,
        "  State: {}",
        if f.state_confirmed {
            "confirmed against the resource's current state"
        } else {
            "not confirmed (judged from the event payload alone)"
        }
    );
    let _ = writeln!(o);
    let _ = writeln!(o, "REMEDIATION");
    o.push_str(&wrap(&remediation_text(f), 76, "  "));
    if !f.notes.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "NOTES");
        for n in &f.notes {
            o.push_str(&wrap(&format!("- {n}"), 76, "  "));
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "HOW TO EXEMPT");
    o.push_str(&wrap(
        &format!(
            "If this is intended, tag the resource with key `tripline:exempt` (or your configured key) and \
             value `{rule}`, or `{rule}@YYYY-MM-DD` to expire the exemption after that date; separate \
             several rule ids with spaces. Or add the resource ARN (glob patterns allowed) under `{rule}` in \
             the TRIPLINE_ALLOW_LIST setting. Exempted findings are still reported, marked suppressed.",
            rule = f.rule
        ),
        76,
        "  ",
    ));
    let _ = writeln!(o);
    let _ = writeln!(o, "LINKS");
    if let Some(u) = &f.links.console {
        let _ = writeln!(o, "  Console:    {u}");
    }
    if let Some(u) = &f.links.cloudtrail {
        let _ = writeln!(o, "  CloudTrail: {u}");
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "Finding {} (Tripline)", f.id);
    o
}
