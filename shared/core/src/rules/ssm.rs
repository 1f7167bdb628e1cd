//! `ssm-patch-noncompliant`: a managed node's patch compliance (AWS Config, `AWS::SSM::PatchCompliance`)
//! turned `NON_COMPLIANT`.

use serde_json::{json, Value};

use super::payload::{self, at, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule};
use crate::change::Payload;
use crate::finding::Severity;

pub static PATCH_NONCOMPLIANT: Rule = Rule {
    id: "ssm-patch-noncompliant",
    title: "Managed node missing patches",
    severity: Severity::Medium,
    cloudtrail: &[],
    config_types: &["AWS::SSM::PatchCompliance"],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "Platform duty (shared-responsibility model: the customer patches the guest operating systems of \
          its EC2 instances). AWS Config records each managed node's Patch Manager compliance as an \
          `AWS::SSM::PatchCompliance` item (`configuration.AWS:ComplianceItem`, one `Content.Patch` entry per \
          patch with its `Status`); the rule fires when an item lists patches `NON_COMPLIANT` (missing or failed \
          against the node's patch baseline) that the item's diff does not show as already non-compliant \
          before. High when a missing patch is rated `CRITICAL`. Config-only: no CloudTrail call marks a \
          node's compliance. The sweep judges the items AWS Config recorded (`ListDiscoveredResources`, \
          `BatchGetResourceConfig`) in every enabled region, every non-compliant node, with the same reader; \
          a recorder that does not record the type leaves nothing to judge. Patch with `AWS-RunPatchBaseline` (Systems Manager Run Command or a patch \
          policy).",
    fires: &["config-ssm-patch-compliance-non-compliant.json"],
    quiet: &["config-ssm-patch-compliance-compliant.json"],
    check: check_patch,
};

/// The patch entries of an item's `Content`: AWS Config records them under the compliance type
/// (`Content.Patch.<patch id>`: AWS's CloudTrail Lake sample queries over `AWS::SSM::PatchCompliance` items
/// read `$.eventData.configuration.AWS:ComplianceItem.Content.Patch`); a `Content` keyed by patch id directly
/// is read as is.
pub(super) fn patch_entries(content: &Value) -> &Value {
    match content.get("Patch") {
        Some(p @ Value::Object(_)) if p.get("Status").is_none() => p,
        _ => content,
    }
}

/// The non-compliant entries of a `Content` object: `(patch id, entry)`.
pub(super) fn non_compliant(content: &Value) -> Vec<(String, &Value)> {
    content
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, e)| {
                    str_at(e, &["Status"]).is_some_and(|s| s.eq_ignore_ascii_case("NON_COMPLIANT"))
                })
                .map(|(k, e)| (str_at(e, &["Id"]).unwrap_or(k).to_owned(), e))
                .collect()
        })
        .unwrap_or_default()
}

/// The patches a diff property's `previousValue` shows `NON_COMPLIANT`: the property is the whole item
/// (`Configuration.AWS:ComplianceItem`), its `Content`, or one entry (`...Content.<patch id>`).
fn previously_non_compliant(key: &str, prev: &Value) -> Vec<String> {
    if prev.get("Status").is_some() {
        let id = str_at(prev, &["Id"]).unwrap_or_else(|| key.rsplit('.').next().unwrap_or(key));
        return non_compliant(&json!({ id: prev }))
            .into_iter()
            .map(|(id, _)| id)
            .collect();
    }
    let content = [&["AWS:ComplianceItem", "Content"][..], &["Content"][..]]
        .iter()
        .map(|p| at(prev, p))
        .find(|v| !v.is_null())
        .unwrap_or(prev);
    non_compliant(patch_entries(content))
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

fn check_patch(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let Payload::Config { diff, status, .. } = &c.payload else {
        return Ok(Vec::new());
    };
    if status.starts_with("ResourceDeleted") {
        return Ok(Vec::new());
    }
    let item = at(payload::configuration(c), &["AWS:ComplianceItem"]);
    let now = non_compliant(patch_entries(at(item, &["Content"])));
    if now.is_empty() {
        return Ok(Vec::new());
    }
    // Entries the diff shows non-compliant before were reported then.
    let before: Vec<String> = diff
        .get("changedProperties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter(|(k, _)| k.starts_with("Configuration.AWS:ComplianceItem"))
                .flat_map(|(k, p)| previously_non_compliant(k, at(p, &["previousValue"])))
                .collect()
        })
        .unwrap_or_default();
    let new: Vec<&(String, &Value)> = now.iter().filter(|(id, _)| !before.contains(id)).collect();
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let node = c
        .resources
        .first()
        .and_then(|r| r.name.as_deref())
        .map(|n| n.rsplit('/').next().unwrap_or(n));
    let resource = match node.filter(|n| n.starts_with("i-")) {
        Some(i) => payload::registered(c, "AWS::EC2::Instance", Some(i)),
        None => payload::resource(c, "AWS::SSM::PatchCompliance", node, |_| String::new()),
    };
    let n = resource.name_or_unknown().to_owned();
    let owned: Vec<(String, &Value)> = new.iter().map(|(id, e)| (id.clone(), *e)).collect();
    let (severity, evidence) = patch_evidence(&owned);
    Ok(vec![payload::payload_hit(
        resource,
        severity,
        format!(
            "managed node {n} is missing patches ({} non-compliant)",
            new.len()
        ),
        evidence,
    )])
}

/// The severity (high when a non-compliant patch is rated `CRITICAL`) and evidence of non-compliant entries.
pub(super) fn patch_evidence(new: &[(String, &Value)]) -> (Severity, crate::finding::Evidence) {
    let critical = new.iter().any(|(_, e)| {
        str_at(e, &["Severity"])
            .or_else(|| str_at(e, &["PatchSeverity"]))
            .is_some_and(|s| s.eq_ignore_ascii_case("CRITICAL"))
    });
    let reasons = new
        .iter()
        .map(|(id, e)| {
            let mut r = format!("patch `{id}` is `NON_COMPLIANT`");
            if let Some(t) = str_at(e, &["Title"]) {
                r.push_str(&format!(" (`{t}`)"));
            }
            if let Some(s) = str_at(e, &["Severity"]) {
                r.push_str(&format!(", severity `{s}`"));
            }
            r
        })
        .collect();
    let mut evidence = payload::reasons(reasons);
    evidence.details.insert(
        "non_compliant".into(),
        json!(new.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>()),
    );
    if let Some(baseline) = new.iter().find_map(|(_, e)| str_at(e, &["PatchBaselineId"])) {
        evidence.details.insert("patch_baseline".into(), json!(baseline));
    }
    (
        if critical {
            Severity::High
        } else {
            Severity::Medium
        },
        evidence,
    )
}
