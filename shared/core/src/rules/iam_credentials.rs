//! Credentials: `iam-root-access-key-created`, `iam-login-profile-created`, `iam-mfa-deactivated`.
//! Judged from the payload alone.

use serde_json::json;

use super::payload::{self, str_at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::change::{Change, IdentityType};
use crate::finding::{FindingResource, Severity};

const IAM: &str = "iam.amazonaws.com";

pub static ROOT_ACCESS_KEY: Rule = Rule {
    id: "iam-root-access-key-created",
    title: "Access key created for the root user",
    severity: Severity::Critical,
    cloudtrail: &[Trigger {
        source: IAM,
        names: &["CreateAccessKey"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "The root user created an access key for itself. Root access keys carry unrestricted access to the \
          whole account and cannot be limited by IAM policies; AWS recommends never having one (IAM User \
          Guide, \"Root user best practices\"). Delete the key unless this is a planned, short-lived task.",
    fires: &["cloudtrail-iam-create-access-key-root.json"],
    quiet: &["cloudtrail-iam-create-access-key-user.json"],
    check: check_root_key,
};

pub static LOGIN_PROFILE: Rule = Rule {
    id: "iam-login-profile-created",
    title: "Console password set for an IAM user",
    severity: Severity::Medium,
    cloudtrail: &[Trigger {
        source: IAM,
        names: &["CreateLoginProfile", "UpdateLoginProfile"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "A console password was created for an IAM user, or another principal reset a user's password. \
          Both give console access to whoever knows the password; creating or resetting another user's \
          login profile is a known privilege-escalation and persistence technique.",
    fires: &["cloudtrail-iam-create-login-profile.json"],
    quiet: &["cloudtrail-iam-update-login-profile-self.json"],
    check: check_login_profile,
};

pub static MFA_DEACTIVATED: Rule = Rule {
    id: "iam-mfa-deactivated",
    title: "MFA device deactivated",
    severity: Severity::High,
    cloudtrail: &[Trigger {
        source: IAM,
        names: &["DeactivateMFADevice", "DeleteVirtualMFADevice"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "An MFA device was deactivated or deleted. The user (or the root user) can now sign in with a \
          password alone; attackers remove MFA to keep access to a compromised identity.",
    fires: &["cloudtrail-iam-deactivate-mfa-device.json"],
    quiet: &["cloudtrail-iam-enable-mfa-device.json"],
    check: check_mfa,
};

fn user_resource(c: &Change, user: Option<&str>) -> FindingResource {
    payload::registered(c, "AWS::IAM::User", user)
}

fn root_resource(c: &Change) -> FindingResource {
    FindingResource {
        resource_type: "AWS::IAM::RootAccount".into(),
        arn: payload::arn_in(c, "AWS::IAM::RootAccount", "root"),
        name: Some("root".into()),
    }
}

fn check_root_key(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    // Root creating a key for itself logs no `userName`; root creating a key for an IAM user names the user.
    if c.actor.identity_type != IdentityType::Root || str_at(payload::req(c), &["userName"]).is_some() {
        return Ok(Vec::new());
    }
    let resp = payload::resp(c);
    let mut evidence = payload::reasons(vec!["the root user created an access key for itself".into()]);
    if let Some(id) = str_at(resp, &["accessKey", "accessKeyId"]) {
        evidence.details.insert("access_key_id".into(), json!(id));
    }
    Ok(vec![payload::payload_hit(
        root_resource(c),
        Severity::Critical,
        format!("root access key created in {}", c.account),
        evidence,
    )])
}

/// The IAM user name of the actor, when the actor is an IAM user.
fn actor_user(c: &Change) -> Option<&str> {
    if c.actor.identity_type != IdentityType::IAMUser {
        return None;
    }
    c.actor.arn.as_deref().and_then(|a| a.rsplit('/').next())
}

fn check_login_profile(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    // Without `userName` the API acts on the calling IAM user; for any other caller the record does not
    // say whose password it is.
    let user = str_at(req, &["userName"])
        .or_else(|| str_at(payload::resp(c), &["loginProfile", "userName"]))
        .or_else(|| actor_user(c));
    let updating = c.event_name == "UpdateLoginProfile";
    // A user changing their own password is routine; another principal resetting it is not.
    if updating && user.is_some() && user == actor_user(c) {
        return Ok(Vec::new());
    }
    let target = match user {
        Some(u) => format!("IAM user `{u}`"),
        None => format!("an IAM user ({})", payload::lacks("requestParameters.userName")),
    };
    let reason = if updating {
        format!("{} reset the console password of {target}", payload::who(c))
    } else {
        format!("{} created a console password for {target}", payload::who(c))
    };
    let mut evidence = payload::reasons(vec![reason]);
    if let Some(reset) = payload::bool_at(req, &["passwordResetRequired"]) {
        evidence
            .details
            .insert("password_reset_required".into(), json!(reset));
    }
    Ok(vec![payload::payload_hit(
        user_resource(c, user),
        Severity::Medium,
        format!(
            "console password set for IAM user {} by {}",
            user.unwrap_or("(not named in the record)"),
            payload::who(c)
        ),
        evidence,
    )])
}

fn check_mfa(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let req = payload::req(c);
    let serial = str_at(req, &["serialNumber"]);
    let user = str_at(req, &["userName"]);
    let (resource, whose) = match user {
        Some(u) => (user_resource(c, Some(u)), format!("IAM user {u}")),
        None if c.actor.identity_type == IdentityType::Root => (root_resource(c), "the root user".into()),
        // Without `userName` the API acts on the calling IAM user; for any other caller the record does
        // not say whose device it is.
        None => match actor_user(c) {
            Some(u) => (user_resource(c, Some(u)), format!("IAM user {u}")),
            None => (
                user_resource(c, None),
                "an IAM user the record does not name".to_owned(),
            ),
        },
    };
    let mut evidence = payload::reasons(vec![format!(
        "{} {} an MFA device of {whose}",
        payload::who(c),
        if c.event_name == "DeleteVirtualMFADevice" {
            "deleted"
        } else {
            "deactivated"
        }
    )]);
    if let Some(s) = serial {
        evidence.details.insert("serial_number".into(), json!(s));
    }
    Ok(vec![payload::payload_hit(
        resource,
        Severity::High,
        format!("MFA deactivated for {whose} by {}", payload::who(c)),
        evidence,
    )])
}
