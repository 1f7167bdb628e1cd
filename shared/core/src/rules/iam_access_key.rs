//! `iam-access-key-created-for-other-user`: `CreateAccessKey` by one principal for a different IAM user
//! (a persistence technique: a long-lived credential for an identity the caller is not). Judged from the
//! payload alone.
//!
//! Whose key it is: `requestParameters.userName`, else `responseElements.accessKey.userName`. Without
//! either, the key is the caller's own: IAM API Reference, `CreateAccessKey`, `UserName`: "If you do not
//! specify a user name, IAM determines the user name implicitly based on the AWS access key ID signing
//! the request" (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html>).
//!
//! What "different" means, per `userIdentity.type`:
//! - `IAMUser`: the named user is not the caller. The caller's name is the last segment of
//!   `userIdentity.arn` (`arn:aws:iam::<account>:user/<path><name>`). Names are compared without regard to
//!   case: IAM User Guide, "IAM identifiers": user names "are not distinguished by case"
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html>), so `Alice` and
//!   `alice` are one user. Both are in the caller's account (IAM acts on the signing account's users).
//!   Without a name in the record: the caller's own key, quiet.
//! - `Root`: the root user is not an IAM user, so every named user is a different one (root creating a key
//!   for itself names none and is `iam-root-access-key-created`'s).
//! - `AssumedRole`, `FederatedUser`, `IdentityCenterUser`, `AWSService`, `AWSAccount` and any other type:
//!   a role session, a federated session, an Identity Center user or a service is never the IAM user it
//!   names, so every named user is a different one. For these callers a record naming no user cannot be
//!   judged (the implicit user comes from the signing key, which is not a user's): an `errors` entry says
//!   what the record lacks, no finding.

use serde_json::json;

use super::payload::{self, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::change::{Change, IdentityType};
use crate::finding::Severity;

pub static ACCESS_KEY_FOR_OTHER_USER: Rule = Rule {
    id: "iam-access-key-created-for-other-user",
    title: "Access key created for another IAM user",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: "iam.amazonaws.com",
        names: &["CreateAccessKey"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A principal created an access key for a different IAM user (a role session, the root user or \
          another user acting on someone else's account). Whoever made the call holds a long-lived \
          credential of that user: a known persistence and privilege-escalation technique (Rhino Security \
          Labs' CreateAccessKey method, MITRE ATT&CK T1098.001 Additional Cloud Credentials). Users creating \
          their own keys raise nothing. Confirm the key was requested by its user; otherwise deactivate it.",
    fires: &[
        "cloudtrail-iam-create-access-key-user.json",
        "cloudtrail-iam-create-access-key-assumed-role.json",
    ],
    quiet: &[
        "cloudtrail-iam-create-access-key-self.json",
        "cloudtrail-iam-create-access-key-root.json",
    ],
    check,
};

/// The caller's IAM user name (the last segment of its ARN), when the caller is an IAM user.
fn caller_user(c: &Change) -> Option<&str> {
    if c.actor.identity_type != IdentityType::IAMUser {
        return None;
    }
    c.actor
        .arn
        .as_deref()
        .and_then(|a| a.split_once(":user/"))
        .and_then(|(_, rest)| rest.rsplit('/').next())
        .filter(|n| !n.is_empty())
}

fn check(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let named = str_at(payload::req(c), &["userName"])
        .or_else(|| str_at(payload::resp(c), &["accessKey", "userName"]));
    let is_user = c.actor.identity_type == IdentityType::IAMUser;
    let Some(target) = named else {
        // No user named: the signing identity's own key (IAMUser; the root user's is another rule's).
        if is_user || c.actor.identity_type == IdentityType::Root {
            return Ok(Vec::new());
        }
        return Err(CheckError::Lacks {
            subject: "whose access key this is",
            missing: vec!["requestParameters.userName".into()],
            nor: Some("`responseElements.accessKey.userName`"),
        });
    };
    let caller = if is_user {
        match caller_user(c) {
            Some(name) if name.eq_ignore_ascii_case(target) => return Ok(Vec::new()),
            Some(name) => format!("IAM user `{name}`"),
            None => {
                return Err(CheckError::Lacks {
                    subject: "whether the calling IAM user is the key's user",
                    missing: vec!["userIdentity.arn".into()],
                    nor: None,
                })
            }
        }
    } else {
        match c.actor.identity_type {
            IdentityType::Root => "the root user".to_owned(),
            _ => format!(
                "{} ({}, not an IAM user)",
                c.actor
                    .arn
                    .as_deref()
                    .map_or_else(|| payload::who(c), |a| format!("`{a}`")),
                c.actor.identity_type.as_str()
            ),
        }
    };
    let mut evidence = payload::reasons(vec![format!(
        "{caller} created an access key for IAM user `{target}`, a different identity"
    )]);
    if let Some(id) = str_at(payload::resp(c), &["accessKey", "accessKeyId"]) {
        evidence.details.insert("access_key_id".into(), json!(id));
    }
    Ok(vec![payload::payload_hit(
        payload::registered(c, "AWS::IAM::User", Some(target)),
        Severity::High,
        format!("access key created for IAM user {target} by {}", payload::who(c)),
        evidence,
    )])
}
