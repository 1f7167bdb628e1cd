//! `iam-password-policy-weakened`: the account password policy set below the configured baseline
//! ([`crate::settings::PasswordBaseline`], by default the CIS AWS Foundations Benchmark v3.0.0) or deleted.

use serde_json::{json, Map, Value};

use super::payload::{self, at};
use super::CheckError;
use super::{Ctx, Hit, Rule, Trigger};
use crate::finding::{FindingResource, Severity};

pub static PASSWORD_POLICY_WEAKENED: Rule = Rule {
    id: "iam-password-policy-weakened",
    title: "IAM account password policy below the baseline",
    severity: Severity::Medium,
    cloudtrail: &[Trigger {
        source: "iam.amazonaws.com",
        names: &["UpdateAccountPasswordPolicy", "DeleteAccountPasswordPolicy"],
    }],
    config_types: &[],
    needs: &[],
    extra_permissions: &[],
    remediation: None,
    doc: "Identity duty (shared-responsibility model: the customer sets strong password policies). The \
          account password policy was deleted, or set below the baseline: by default the CIS AWS Foundations \
          Benchmark v3.0.0 (1.8: minimum length 14 or more; 1.9: reuse prevention 24), which, unlike \
          v1.2.0, asks for no character classes or maximum age (NIST SP 800-63B); `TRIPLINE_PASSWORD_BASELINE` (JSON: \
          `minimum_password_length`, `password_reuse_prevention`, `max_password_age`, `require_uppercase_\
          characters`, `require_lowercase_characters`, `require_numbers`, `require_symbols`) sets another. \
          Short or reused passwords make IAM users' console passwords guessable. The finding lists each setting \
          below the baseline. `UpdateAccountPasswordPolicy` resets every parameter it omits to IAM's default, \
          but a setting absent from the record is reported as unknown, never assumed (the finding is then not \
          confirmed, at low severity when nothing known is below the baseline); the sweep reads \
          `GetAccountPasswordPolicy`.",
    fires: &[
        "cloudtrail-iam-update-account-password-policy-weak.json",
        "cloudtrail-iam-delete-account-password-policy.json",
    ],
    quiet: &["cloudtrail-iam-update-account-password-policy-cis.json"],
    check: check_password_policy,
};

/// `(setting in the record, the baseline's requirement)`.
enum Requirement {
    AtLeast(i64),
    AtMost(i64),
    True,
}

fn check_password_policy(ctx: &Ctx<'_>) -> Result<Vec<Hit>, CheckError> {
    let c = ctx.change;
    let resource = FindingResource {
        resource_type: "AWS::IAM::AccountPasswordPolicy".into(),
        arn: payload::arn_in(c, "AWS::IAM::AccountPasswordPolicy", &c.account),
        name: Some(c.account.clone()),
    };
    if c.event_name == "DeleteAccountPasswordPolicy" {
        return Ok(vec![payload::payload_hit(
            resource,
            Severity::Medium,
            format!(
                "account password policy of {} deleted by {}",
                c.account,
                payload::who(c)
            ),
            payload::reasons(vec![
                "the account password policy was deleted: IAM's default policy applies to IAM users' \
                 passwords (8 characters minimum, no reuse prevention)"
                    .into(),
            ]),
        )]);
    }
    let req = payload::req(c);
    let Judged {
        below,
        reasons,
        lacks,
    } = judge_settings(
        &ctx.config.password_baseline,
        |key| at(req, &[key]).clone(),
        |key| format!("requestParameters.{key}"),
        payload::lacks,
    );
    if below.is_empty() && lacks.is_empty() {
        return Ok(Vec::new());
    }
    let mut evidence = payload::reasons(reasons);
    let severity = if below.is_empty() {
        Severity::Low
    } else {
        evidence
            .details
            .insert("below_baseline".into(), Value::Object(below));
        Severity::Medium
    };
    if !lacks.is_empty() {
        evidence.details.insert("record_lacks".into(), json!(lacks));
    }
    let mut hit = payload::payload_hit(
        resource,
        severity,
        format!(
            "account password policy of {} {} by {}",
            c.account,
            if severity == Severity::Medium {
                "set below the baseline"
            } else {
                "changed, some settings unknown"
            },
            payload::who(c)
        ),
        evidence,
    );
    hit.state_confirmed = lacks.is_empty();
    Ok(vec![hit])
}

/// What a password policy's settings are, against the baseline.
pub(super) struct Judged {
    /// Settings below the baseline: name -> value.
    pub below: Map<String, Value>,
    pub reasons: Vec<String>,
    /// Paths of the settings the input lacks (unknown, never assumed).
    pub lacks: Vec<String>,
}

/// Judges the settings (`get` reads one by its `UpdateAccountPasswordPolicy` name, `null` when absent; `path`
/// names it in the input; `lacks` says the input does not include a path) against the baseline `b`.
pub(super) fn judge_settings(
    b: &crate::settings::PasswordBaseline,
    get: impl Fn(&str) -> Value,
    path_of: impl Fn(&str) -> String,
    lacks_msg: impl Fn(&str) -> String,
) -> Judged {
    let mut wanted: Vec<(&str, Requirement)> = vec![(
        "minimumPasswordLength",
        Requirement::AtLeast(i64::from(b.minimum_password_length)),
    )];
    if b.password_reuse_prevention > 0 {
        wanted.push((
            "passwordReusePrevention",
            Requirement::AtLeast(i64::from(b.password_reuse_prevention)),
        ));
    }
    if b.max_password_age > 0 {
        wanted.push((
            "maxPasswordAge",
            Requirement::AtMost(i64::from(b.max_password_age)),
        ));
    }
    for (on, key) in [
        (b.require_uppercase_characters, "requireUppercaseCharacters"),
        (b.require_lowercase_characters, "requireLowercaseCharacters"),
        (b.require_numbers, "requireNumbers"),
        (b.require_symbols, "requireSymbols"),
    ] {
        if on {
            wanted.push((key, Requirement::True));
        }
    }
    let mut below = Map::new();
    let mut reasons = Vec::new();
    let mut lacks = Vec::new();
    for (key, requirement) in wanted {
        let path = path_of(key);
        // The setting as the input names it (`minimumPasswordLength`, `MinimumPasswordLength`).
        let shown = path.rsplit('.').next().unwrap_or(key).to_owned();
        let (known, ok, want) = match requirement {
            Requirement::AtLeast(min) => {
                let v = get(key).as_i64();
                (
                    v.map(Value::from),
                    v.is_some_and(|v| v >= min),
                    format!("at least {min}"),
                )
            }
            Requirement::AtMost(max) => {
                let v = get(key).as_i64();
                // IAM: 0 (or absent) means passwords never expire.
                (
                    v.map(Value::from),
                    v.is_some_and(|v| (1..=max).contains(&v)),
                    format!("from 1 to {max} days"),
                )
            }
            Requirement::True => {
                let v = get(key).as_bool();
                (v.map(Value::from), v == Some(true), "true".to_owned())
            }
        };
        match known {
            None => {
                reasons.push(format!(
                    "{shown} is unknown: {} (the baseline requires {want})",
                    lacks_msg(&path)
                ));
                lacks.push(path);
            }
            Some(v) if !ok => {
                reasons.push(format!("`{shown}` is {v}, below the baseline ({want})"));
                below.insert(shown, v);
            }
            Some(_) => {}
        }
    }
    Judged {
        below,
        reasons,
        lacks,
    }
}
