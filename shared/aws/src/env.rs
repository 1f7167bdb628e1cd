//! Function settings read from environment variables at cold start. Every error names the variable.
//!
//! Rule-level settings (remediation mode, trusted accounts, exemption tag...) are parsed by
//! `rules::config_from_env` in the pure part; this module covers what only the AWS shell uses.
//! Functions read the environment once (`env_map()`), validate everything, and refuse to start otherwise.

use std::collections::BTreeMap;

use thiserror::Error;

/// An invalid or missing environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("environment variable `{variable}` {problem}")]
pub struct EnvError {
    pub variable: String,
    pub problem: String,
}

impl EnvError {
    pub fn new(variable: &str, problem: impl Into<String>) -> Self {
        Self {
            variable: variable.to_owned(),
            problem: problem.into(),
        }
    }
}

pub const ALERT_TOPIC_ARN: &str = "TRIPLINE_ALERT_TOPIC_ARN";
pub const REMEDIATION_ROLE_ARN: &str = "TRIPLINE_REMEDIATION_ROLE_ARN";
pub const SWEEP_CONCURRENCY: &str = "TRIPLINE_SWEEP_CONCURRENCY";
pub const SLACK_SECRET_ARN: &str = "TRIPLINE_SLACK_SECRET_ARN";
pub const SLACK_MIN_SEVERITY: &str = "TRIPLINE_SLACK_MIN_SEVERITY";
pub const MEMBER_ROLE_NAME: &str = "TRIPLINE_MEMBER_ROLE_NAME";
pub const REMEDIATION_ATTEMPTS_TABLE: &str = "TRIPLINE_REMEDIATION_ATTEMPTS_TABLE";
pub const REMEDIATION_COOLDOWN_SECONDS: &str = "TRIPLINE_REMEDIATION_COOLDOWN_SECONDS";
pub const MEMBER_EXTERNAL_ID: &str = "TRIPLINE_MEMBER_EXTERNAL_ID";

/// Default of `TRIPLINE_SWEEP_CONCURRENCY`.
pub const DEFAULT_SWEEP_CONCURRENCY: usize = 16;

/// The process environment as a map (variables that are not UTF-8 are skipped).
pub fn env_map() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

fn get<'a>(env: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Checks `arn:<partition>:<service>:<region>:<account>:<resource>` with the given service, and that the
/// account is 12 digits (or empty when `global`).
fn check_arn(name: &str, value: &str, service: &str, global: bool) -> Result<(), EnvError> {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == service
        && (global || !parts[3].is_empty())
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[5].is_empty();
    if ok {
        Ok(())
    } else {
        Err(EnvError::new(
            name,
            format!("should be an `{service}` arn like `arn:aws:{service}:...`, found `{value}`"),
        ))
    }
}

/// `TRIPLINE_ALERT_TOPIC_ARN`: required, an SNS topic ARN.
pub fn alert_topic_arn(env: &BTreeMap<String, String>) -> Result<String, EnvError> {
    let v = get(env, ALERT_TOPIC_ARN).ok_or_else(|| EnvError::new(ALERT_TOPIC_ARN, "is required"))?;
    check_arn(ALERT_TOPIC_ARN, v, "sns", false)?;
    Ok(v.to_owned())
}

/// `TRIPLINE_REMEDIATION_ROLE_ARN`: optional, an IAM role ARN (loop protection).
pub fn remediation_role_arn(env: &BTreeMap<String, String>) -> Result<Option<String>, EnvError> {
    let Some(v) = get(env, REMEDIATION_ROLE_ARN) else {
        return Ok(None);
    };
    check_arn(REMEDIATION_ROLE_ARN, v, "iam", true)?;
    if !v.split(':').nth(5).is_some_and(|r| r.starts_with("role/")) {
        return Err(EnvError::new(
            REMEDIATION_ROLE_ARN,
            format!("should be a role arn, found `{v}`"),
        ));
    }
    Ok(Some(v.to_owned()))
}

/// `TRIPLINE_REMEDIATION_ATTEMPTS_TABLE` (a DynamoDB table name, 3-255 of `[A-Za-z0-9_.-]`) and
/// `TRIPLINE_REMEDIATION_COOLDOWN_SECONDS` (60..=604800, default 3600): remediate's attempt markers.
/// `None` when no table is set.
pub fn remediation_attempts(
    env: &BTreeMap<String, String>,
) -> Result<Option<crate::app::remediate::AttemptWindow>, EnvError> {
    let Some(table) = get(env, REMEDIATION_ATTEMPTS_TABLE) else {
        return Ok(None);
    };
    let ok = (3..=255).contains(&table.len())
        && table
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !ok {
        return Err(EnvError::new(
            REMEDIATION_ATTEMPTS_TABLE,
            format!("should be a dynamodb table name, found `{table}`"),
        ));
    }
    let cooldown_secs = match get(env, REMEDIATION_COOLDOWN_SECONDS) {
        None => 3600,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (60..=604_800).contains(&n) => n,
            _ => {
                return Err(EnvError::new(
                    REMEDIATION_COOLDOWN_SECONDS,
                    format!("should be a number of seconds from 60 to 604800, found `{v}`"),
                ))
            }
        },
    };
    Ok(Some(crate::app::remediate::AttemptWindow {
        table: table.to_owned(),
        cooldown_secs,
    }))
}

/// `TRIPLINE_SWEEP_CONCURRENCY`: 1..=256, default 16.
pub fn sweep_concurrency(env: &BTreeMap<String, String>) -> Result<usize, EnvError> {
    match get(env, SWEEP_CONCURRENCY) {
        None => Ok(DEFAULT_SWEEP_CONCURRENCY),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=256).contains(&n) => Ok(n),
            _ => Err(EnvError::new(
                SWEEP_CONCURRENCY,
                format!("should be an integer from 1 to 256, found `{v}`"),
            )),
        },
    }
}

/// `TRIPLINE_SLACK_SECRET_ARN`: required by notify-slack, a Secrets Manager ARN.
pub fn slack_secret_arn(env: &BTreeMap<String, String>) -> Result<String, EnvError> {
    let v = get(env, SLACK_SECRET_ARN).ok_or_else(|| EnvError::new(SLACK_SECRET_ARN, "is required"))?;
    check_arn(SLACK_SECRET_ARN, v, "secretsmanager", false)?;
    Ok(v.to_owned())
}

/// `TRIPLINE_SLACK_MIN_SEVERITY`: critical | high | medium | low, default `low` (everything).
pub fn slack_min_severity(env: &BTreeMap<String, String>) -> Result<String, EnvError> {
    match get(env, SLACK_MIN_SEVERITY) {
        None => Ok("low".to_owned()),
        Some(v) => {
            let l = v.to_ascii_lowercase();
            if ["critical", "high", "medium", "low"].contains(&l.as_str()) {
                Ok(l)
            } else {
                Err(EnvError::new(
                    SLACK_MIN_SEVERITY,
                    format!("should be one of `critical`, `high`, `medium`, `low`, found `{v}`"),
                ))
            }
        }
    }
}

/// `TRIPLINE_MEMBER_ROLE_NAME` (+ `TRIPLINE_MEMBER_EXTERNAL_ID`): the role assumed in member accounts of an
/// organization-wide deployment; `None` for a single-account deployment. IAM limits: role names are 1-64
/// characters of `[A-Za-z0-9+=,.@_-]`; external ids 2-1224 characters of `[A-Za-z0-9+=,.@:/_-]`.
pub fn member_role(env: &BTreeMap<String, String>) -> Result<Option<super::MemberRole>, EnvError> {
    let Some(name) = get(env, MEMBER_ROLE_NAME) else {
        return Ok(None);
    };
    let name_ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !name_ok {
        return Err(EnvError::new(
            MEMBER_ROLE_NAME,
            format!("should be an iam role name, found `{name}`"),
        ));
    }
    let external_id = match get(env, MEMBER_EXTERNAL_ID) {
        None => None,
        Some(id) => {
            let ok = (2..=1224).contains(&id.len())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c));
            if !ok {
                // The value is a shared secret of sorts: do not echo it.
                return Err(EnvError::new(
                    MEMBER_EXTERNAL_ID,
                    "should be 2-1224 characters of `[A-Za-z0-9+=,.@:/_-]`",
                ));
            }
            Some(id.to_owned())
        }
    };
    Ok(Some(super::MemberRole {
        role_name: name.to_owned(),
        external_id,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn alert_topic_table() {
        let cases: &[(Option<&str>, Result<&str, &str>)] = &[
            (Some("arn:aws:sns:us-east-1:111122223333:tripline-alerts"), Ok("arn:aws:sns:us-east-1:111122223333:tripline-alerts")),
            (Some(" arn:aws-us-gov:sns:us-gov-west-1:111122223333:t "), Ok("arn:aws-us-gov:sns:us-gov-west-1:111122223333:t")),
            (None, Err("environment variable `TRIPLINE_ALERT_TOPIC_ARN` is required")),
            (Some(""), Err("environment variable `TRIPLINE_ALERT_TOPIC_ARN` is required")),
            (Some("tripline-alerts"), Err("environment variable `TRIPLINE_ALERT_TOPIC_ARN` should be an `sns` arn like `arn:aws:sns:...`, found `tripline-alerts`")),
            (Some("arn:aws:sqs:us-east-1:111122223333:q"), Err("environment variable `TRIPLINE_ALERT_TOPIC_ARN` should be an `sns` arn like `arn:aws:sns:...`, found `arn:aws:sqs:us-east-1:111122223333:q`")),
            (Some("arn:aws:sns:us-east-1:1111:t"), Err("environment variable `TRIPLINE_ALERT_TOPIC_ARN` should be an `sns` arn like `arn:aws:sns:...`, found `arn:aws:sns:us-east-1:1111:t`")),
        ];
        for (value, want) in cases {
            let e = match value {
                Some(v) => env(&[(ALERT_TOPIC_ARN, v)]),
                None => env(&[]),
            };
            let got = alert_topic_arn(&e).map_err(|e| e.to_string());
            assert_eq!(got, want.map(str::to_owned).map_err(str::to_owned), "{value:?}");
        }
    }

    #[test]
    fn sweep_concurrency_table() {
        let cases: &[(Option<&str>, Option<usize>)] = &[
            (None, Some(16)),
            (Some("1"), Some(1)),
            (Some("64"), Some(64)),
            (Some("0"), None),
            (Some("257"), None),
            (Some("x"), None),
            (Some("-3"), None),
        ];
        for (value, want) in cases {
            let e = value.map(|v| env(&[(SWEEP_CONCURRENCY, v)])).unwrap_or_default();
            let got = sweep_concurrency(&e);
            assert_eq!(got.as_ref().ok().copied(), *want, "{value:?}");
            if let Err(err) = got {
                assert!(err.to_string().contains("`TRIPLINE_SWEEP_CONCURRENCY`"));
            }
        }
    }

    #[test]
    fn member_role_table() {
        /// (role name, external id) -> the member role read from them, or the error.
        type Want<'a> = Result<Option<(&'a str, Option<&'a str>)>, &'a str>;
        let cases: &[(Option<&str>, Option<&str>, Want)] = &[
            (None, None, Ok(None)),
            (Some("tripline-member-read"), None, Ok(Some(("tripline-member-read", None)))),
            (Some("tripline-member-read"), Some("ext-123:abc"), Ok(Some(("tripline-member-read", Some("ext-123:abc"))))),
            (Some("bad name!"), None, Err("environment variable `TRIPLINE_MEMBER_ROLE_NAME` should be an iam role name, found `bad name!`")),
            (Some("r"), Some("x"), Err("environment variable `TRIPLINE_MEMBER_EXTERNAL_ID` should be 2-1224 characters of `[A-Za-z0-9+=,.@:/_-]`")),
        ];
        for (name, ext, want) in cases {
            let mut pairs = Vec::new();
            if let Some(n) = name {
                pairs.push((MEMBER_ROLE_NAME, *n));
            }
            if let Some(e) = ext {
                pairs.push((MEMBER_EXTERNAL_ID, *e));
            }
            let got = member_role(&env(&pairs));
            let got = got.as_ref().map(|o| {
                o.as_ref()
                    .map(|m| (m.role_name.as_str(), m.external_id.as_deref()))
            });
            assert_eq!(
                got.map_err(|e| e.to_string()),
                (*want).map_err(str::to_owned),
                "{name:?} {ext:?}"
            );
        }
    }

    #[test]
    fn remediation_role_and_slack_table() {
        let role_cases: &[(&str, bool)] = &[
            ("arn:aws:iam::111122223333:role/tripline-remediate", true),
            ("arn:aws:iam::111122223333:user/alice", false),
            ("arn:aws:sts::111122223333:assumed-role/x/y", false),
            ("role/tripline", false),
        ];
        for (v, ok) in role_cases {
            assert_eq!(
                remediation_role_arn(&env(&[(REMEDIATION_ROLE_ARN, v)])).is_ok(),
                *ok,
                "{v}"
            );
        }
        assert_eq!(remediation_role_arn(&env(&[])), Ok(None));
        let sev_cases: &[(Option<&str>, Option<&str>)] = &[
            (None, Some("low")),
            (Some("HIGH"), Some("high")),
            (Some("critical"), Some("critical")),
            (Some("urgent"), None),
        ];
        for (v, want) in sev_cases {
            let e = v.map(|v| env(&[(SLACK_MIN_SEVERITY, v)])).unwrap_or_default();
            assert_eq!(slack_min_severity(&e).ok().as_deref(), *want, "{v:?}");
        }
        assert!(slack_secret_arn(&env(&[(
            SLACK_SECRET_ARN,
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:slack-AbCdEf"
        )]))
        .is_ok());
        assert_eq!(
            slack_secret_arn(&env(&[])).unwrap_err().to_string(),
            "environment variable `TRIPLINE_SLACK_SECRET_ARN` is required"
        );
    }
}
