//! Safeguards switched off, judged from the payload: threat detection (`guardduty-detector-disabled`),
//! a key scheduled for deletion or disabled (`kms-key-deletion-scheduled`) and EBS encryption by default
//! (`ebs-default-encryption-disabled`).

use serde_json::json;

use super::payload::{self, bool_at, i64_at, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::finding::{FindingResource, Severity};

pub static GUARDDUTY_DISABLED: Rule = Rule {
    id: "guardduty-detector-disabled",
    title: "GuardDuty detector disabled or deleted",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: "guardduty.amazonaws.com",
        names: &["DeleteDetector", "UpdateDetector"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A GuardDuty detector was deleted or disabled (`enable` false). GuardDuty is the account's threat \
          detection; switching it off hides compromised credentials, crypto-mining and exfiltration.",
    fires: &["cloudtrail-guardduty-update-detector-disable.json"],
    quiet: &["cloudtrail-guardduty-update-detector-enable.json"],
    check: check_guardduty,
};

pub static KMS_KEY_DELETION: Rule = Rule {
    id: "kms-key-deletion-scheduled",
    title: "KMS key scheduled for deletion or disabled",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: "kms.amazonaws.com",
        names: &["ScheduleKeyDeletion", "DisableKey"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A customer managed KMS key was scheduled for deletion or disabled. Everything encrypted under it \
          becomes unreadable (irrecoverably once deleted): a ransom and sabotage technique. Cancel the \
          deletion (`CancelKeyDeletion`) within the waiting period if it was not planned.",
    fires: &["cloudtrail-kms-schedule-key-deletion.json"],
    quiet: &["cloudtrail-kms-enable-key.json"],
    check: check_kms,
};

pub static EBS_DEFAULT_ENCRYPTION_DISABLED: Rule = Rule {
    id: "ebs-default-encryption-disabled",
    title: "EBS encryption by default disabled",
    severity: Severity::Medium,
    cloudtrail: &[Trigger {
        source: "ec2.amazonaws.com",
        names: &["DisableEbsEncryptionByDefault"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "EBS encryption by default was turned off for the region: new volumes and snapshot copies are \
          created unencrypted unless each request asks otherwise.",
    fires: &["cloudtrail-ec2-disable-ebs-encryption-by-default.json"],
    quiet: &["cloudtrail-ec2-enable-ebs-encryption-by-default.json"],
    check: check_ebs,
};

fn check_guardduty(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    let reason = match c.event_name.as_str() {
        "DeleteDetector" => "the GuardDuty detector was deleted",
        _ if bool_at(req, &["enable"]) == Some(false) => {
            "the GuardDuty detector was disabled (`enable` false)"
        }
        _ => return Ok(Vec::new()),
    };
    let id = str_at(req, &["detectorId"]);
    let resource = payload::registered(c, "AWS::GuardDuty::Detector", id);
    Ok(vec![payload::payload_hit(
        resource,
        Severity::High,
        format!("GuardDuty disabled in {} by {}", c.region, payload::who(c)),
        payload::reasons(vec![reason.into()]),
    )])
}

fn check_kms(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    let key = str_at(req, &["keyId"]);
    let resource = payload::registered(c, "AWS::KMS::Key", key);
    let k = resource.name_or_unknown().to_owned();
    let quoted = payload::quoted_name(&resource, "requestParameters.keyId");
    let mut evidence = payload::reasons(Vec::new());
    if c.event_name == "ScheduleKeyDeletion" {
        let days = i64_at(req, &["pendingWindowInDays"]);
        evidence.reasons.push(format!(
            "key {quoted} scheduled for deletion{}",
            days.map(|d| format!(" in {d} days")).unwrap_or_default()
        ));
        if let Some(d) = str_at(payload::resp(c), &["deletionDate"]) {
            evidence.details.insert("deletion_date".into(), json!(d));
        }
    } else {
        evidence.reasons.push(format!("key {quoted} disabled"));
    }
    Ok(vec![payload::payload_hit(
        resource,
        Severity::High,
        format!(
            "KMS key {k} {} by {}",
            if c.event_name == "DisableKey" {
                "disabled"
            } else {
                "scheduled for deletion"
            },
            payload::who(c)
        ),
        evidence,
    )])
}

fn check_ebs(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let resource = FindingResource {
        resource_type: "AWS::EC2::EBSDefaultEncryption".into(),
        arn: payload::arn_in(c, "AWS::EC2::EBSDefaultEncryption", &c.region),
        name: Some(c.region.clone()),
    };
    Ok(vec![payload::payload_hit(
        resource,
        Severity::Medium,
        format!(
            "EBS encryption by default disabled in {} by {}",
            c.region,
            payload::who(c)
        ),
        payload::reasons(vec![format!(
            "EBS encryption by default is now off in `{}`",
            c.region
        )]),
    )])
}
