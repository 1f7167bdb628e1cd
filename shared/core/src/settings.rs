//! Rule configuration ([`RuleConfig`]): what the rules need to know about the deployment (trusted accounts,
//! organization, exemption tag, allow-list, name prefix, extra admin ports) and the remediation mode of
//! each rule.
//!
//! [`RuleConfig::from_env_map`] (through `rules::config_from_env`) is pure: the function binaries pass `std::env::vars()` collected into a map,
//! tests pass literal maps. Environment variables (see `COMMON.md`):
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `TRIPLINE_REMEDIATION_MODE` | `off`, `dry-run` or `enforce`: the ceiling for every rule | `dry-run` |
//! | `TRIPLINE_REMEDIATION_RULES` | comma-separated rule ids that may be enforced | none |
//! | `TRIPLINE_TRUSTED_ACCOUNT_IDS` | comma-separated 12-digit account ids | none |
//! | `TRIPLINE_ORGANIZATION_ID` | `o-` followed by 10-32 lowercase letters or digits | none |
//! | `TRIPLINE_ORGANIZATION_ACCOUNT_IDS` | comma-separated 12-digit ids of the organization's member accounts (what `organizations:ListAccounts` lists) | unknown: findings say so |
//! | `TRIPLINE_EXEMPT_TAG_KEY` | the tag key that lists exempted rule ids | `tripline:exempt` |
//! | `TRIPLINE_NAME_PREFIX` | prefix of Tripline's own resources (`tripline-tampered`) | `tripline` |
//! | `TRIPLINE_ADMIN_PORTS` | comma-separated extra ports `ec2-security-group-open-to-world` treats as admin ports | none |
//! | `TRIPLINE_ALLOW_LIST` | JSON object: rule id -> list of resource ARN glob patterns (`*`, `?`) | `{}` |
//! | `TRIPLINE_PASSWORD_BASELINE` | JSON object: the account password policy `iam-password-policy-weakened` requires ([`PasswordBaseline`]) | CIS AWS Foundations Benchmark v3.0.0 |
//!
//! A rule's remediation mode: `off` if the mode is `off`; `enforce` if the mode is `enforce` and the rule is
//! listed in `TRIPLINE_REMEDIATION_RULES`; otherwise `dry-run`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Default tag key for exemptions.
pub const DEFAULT_EXEMPT_TAG_KEY: &str = "tripline:exempt";
/// Default name prefix of Tripline's own resources.
pub const DEFAULT_NAME_PREFIX: &str = "tripline";

/// What the `remediate` function does for a rule's findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RemediationMode {
    /// Nothing: the finding is only reported.
    Off,
    /// Report what would be done, change nothing.
    #[default]
    DryRun,
    /// Act.
    Enforce,
}

impl RemediationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RemediationMode::Off => "off",
            RemediationMode::DryRun => "dry-run",
            RemediationMode::Enforce => "enforce",
        }
    }

    /// Parses `off`, `dry-run` or `enforce` (case-insensitive, surrounding spaces ignored).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" => Some(RemediationMode::Off),
            "dry-run" => Some(RemediationMode::DryRun),
            "enforce" => Some(RemediationMode::Enforce),
            _ => None,
        }
    }
}

/// Why the configuration is invalid. Names the bad variable; the value is quoted with
/// [`crate::text::quote`] (at most 200 characters, controls escaped, one line).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettingsError {
    #[error(
        "invalid value `{}` for `{}`: {reason}",
        crate::text::quote(.value),
        crate::text::quote(.variable)
    )]
    InvalidValue {
        variable: String,
        value: String,
        reason: String,
    },
    #[error(
        "unknown rule id `{}` in `{}`; valid rule ids: {valid}",
        crate::text::quote(.id),
        crate::text::quote(.variable)
    )]
    UnknownRule {
        variable: String,
        id: String,
        valid: String,
    },
}

/// Configuration every rule evaluation reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleConfig {
    /// Accounts besides the change's own account that may be granted access.
    pub trusted_account_ids: BTreeSet<String>,
    /// The organization (`o-...`) whose members may be granted access.
    pub organization_id: Option<String>,
    /// The organization's member accounts when known (`None`: unknown; findings on accounts outside the
    /// trusted set then say that membership was not known).
    #[serde(default)]
    pub organization_accounts: Option<BTreeSet<String>>,
    /// Tag key listing the rule ids a resource is exempt from.
    pub exempt_tag_key: String,
    /// Rule id -> resource ARN glob patterns (`*`, `?`) exempted by configuration.
    pub allow_list: BTreeMap<String, Vec<String>>,
    /// Prefix of Tripline's own resource names.
    pub name_prefix: String,
    /// Ports treated like 22 and 3389 by `ec2-security-group-open-to-world`.
    pub extra_admin_ports: BTreeSet<u16>,
    /// The account password policy `iam-password-policy-weakened` requires (`TRIPLINE_PASSWORD_BASELINE`).
    pub password_baseline: PasswordBaseline,
    /// The ceiling (`TRIPLINE_REMEDIATION_MODE`).
    pub remediation_mode: RemediationMode,
    /// Rules that may be enforced (`TRIPLINE_REMEDIATION_RULES`).
    pub remediation_rules: BTreeSet<String>,
}

impl Default for RuleConfig {
    fn default() -> Self {
        RuleConfig {
            trusted_account_ids: BTreeSet::new(),
            organization_id: None,
            organization_accounts: None,
            exempt_tag_key: DEFAULT_EXEMPT_TAG_KEY.to_owned(),
            allow_list: BTreeMap::new(),
            name_prefix: DEFAULT_NAME_PREFIX.to_owned(),
            extra_admin_ports: BTreeSet::new(),
            password_baseline: PasswordBaseline::default(),
            remediation_mode: RemediationMode::DryRun,
            remediation_rules: BTreeSet::new(),
        }
    }
}

impl RuleConfig {
    /// The remediation mode of one rule (see the module doc).
    pub fn remediation_mode_for(&self, rule_id: &str) -> RemediationMode {
        match self.remediation_mode {
            RemediationMode::Off => RemediationMode::Off,
            RemediationMode::Enforce if self.remediation_rules.contains(rule_id) => RemediationMode::Enforce,
            _ => RemediationMode::DryRun,
        }
    }

    /// Builds the configuration from environment variables (pure: pass `std::env::vars().collect()`).
    /// Unset or empty variables take their defaults. Rule ids in the variables must be among `rule_ids`:
    /// the catalog is the rules module's to know, so callers use `rules::config_from_env`, which passes it
    /// (settings never imports the rules).
    pub fn from_env_map(
        env: &BTreeMap<String, String>,
        rule_ids: &[&str],
    ) -> Result<RuleConfig, SettingsError> {
        let get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut cfg = RuleConfig::default();

        if let Some(v) = get("TRIPLINE_REMEDIATION_MODE") {
            cfg.remediation_mode = RemediationMode::parse(v).ok_or_else(|| SettingsError::InvalidValue {
                variable: "TRIPLINE_REMEDIATION_MODE".into(),
                value: v.into(),
                reason: "expected `off`, `dry-run` or `enforce`".into(),
            })?;
        }
        if let Some(v) = get("TRIPLINE_REMEDIATION_RULES") {
            for id in split_list(v) {
                check_rule_id("TRIPLINE_REMEDIATION_RULES", id, rule_ids)?;
                cfg.remediation_rules.insert(id.to_owned());
            }
        }
        if let Some(v) = get("TRIPLINE_TRUSTED_ACCOUNT_IDS") {
            for id in split_list(v) {
                if !crate::resource_kind::is_account_id(id) {
                    return Err(SettingsError::InvalidValue {
                        variable: "TRIPLINE_TRUSTED_ACCOUNT_IDS".into(),
                        value: id.into(),
                        reason: "an account id is 12 digits".into(),
                    });
                }
                cfg.trusted_account_ids.insert(id.to_owned());
            }
        }
        if let Some(v) = get("TRIPLINE_ORGANIZATION_ID") {
            if !is_org_id(v) {
                return Err(SettingsError::InvalidValue {
                    variable: "TRIPLINE_ORGANIZATION_ID".into(),
                    value: v.into(),
                    reason: "an organization id is `o-` followed by 10 to 32 lowercase letters or digits"
                        .into(),
                });
            }
            cfg.organization_id = Some(v.to_owned());
        }
        if let Some(v) = get("TRIPLINE_ORGANIZATION_ACCOUNT_IDS") {
            let mut members = BTreeSet::new();
            for id in split_list(v) {
                if !crate::resource_kind::is_account_id(id) {
                    return Err(SettingsError::InvalidValue {
                        variable: "TRIPLINE_ORGANIZATION_ACCOUNT_IDS".into(),
                        value: id.into(),
                        reason: "an account id is 12 digits".into(),
                    });
                }
                members.insert(id.to_owned());
            }
            cfg.organization_accounts = Some(members);
        }
        if let Some(v) = get("TRIPLINE_EXEMPT_TAG_KEY") {
            // Tag keys: 1-128 characters (IAM/S3 tagging rules).
            if v.chars().count() > 128 {
                return Err(SettingsError::InvalidValue {
                    variable: "TRIPLINE_EXEMPT_TAG_KEY".into(),
                    value: v.into(),
                    reason: "a tag key has at most 128 characters".into(),
                });
            }
            cfg.exempt_tag_key = v.to_owned();
        }
        if let Some(v) = get("TRIPLINE_NAME_PREFIX") {
            cfg.name_prefix = v.to_owned();
        }
        if let Some(v) = get("TRIPLINE_ADMIN_PORTS") {
            for p in split_list(v) {
                let port = p.parse::<u16>().map_err(|_| SettingsError::InvalidValue {
                    variable: "TRIPLINE_ADMIN_PORTS".into(),
                    value: p.into(),
                    reason: "a port is a number from 0 to 65535".into(),
                })?;
                cfg.extra_admin_ports.insert(port);
            }
        }
        if let Some(v) = get("TRIPLINE_ALLOW_LIST") {
            let bad = |reason: String| SettingsError::InvalidValue {
                variable: "TRIPLINE_ALLOW_LIST".into(),
                value: v.into(),
                reason,
            };
            let map: BTreeMap<String, Vec<String>> = serde_json::from_str(v).map_err(|e| {
                bad(format!(
                    "expected a json object of rule id -> list of arn patterns ({})",
                    crate::text::quote(&e.to_string())
                ))
            })?;
            for id in map.keys() {
                check_rule_id("TRIPLINE_ALLOW_LIST", id, rule_ids)?;
            }
            cfg.allow_list = map;
        }
        if let Some(v) = get("TRIPLINE_PASSWORD_BASELINE") {
            cfg.password_baseline =
                PasswordBaseline::parse(v).map_err(|reason| SettingsError::InvalidValue {
                    variable: "TRIPLINE_PASSWORD_BASELINE".into(),
                    value: v.into(),
                    reason,
                })?;
        }
        Ok(cfg)
    }
}

/// The account password policy Tripline requires (`TRIPLINE_PASSWORD_BASELINE`, a JSON object with any of
/// these keys; absent keys keep their defaults).
///
/// The default is the CIS AWS Foundations Benchmark v3.0.0: recommendation 1.8 (minimum length 14 or
/// greater) and 1.9 (prevent reuse of the last 24 passwords). Unlike v1.2.0 (recommendations 1.5-1.8 and
/// 1.11: each character class and a 90-day maximum age), v3.0.0 requires no character classes (uppercase,
/// lowercase, numbers, symbols) and no maximum age, in line with NIST SP 800-63B; those requirements are off
/// by default and can be switched on here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "snake_case")]
pub struct PasswordBaseline {
    /// `MinimumPasswordLength` must be at least this (IAM allows 6 to 128).
    pub minimum_password_length: u8,
    /// `PasswordReusePrevention` must be at least this (IAM allows 1 to 24; 0: not required).
    pub password_reuse_prevention: u8,
    /// `MaxPasswordAge` must be set and at most this many days (0: not required).
    pub max_password_age: u16,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
}

impl Default for PasswordBaseline {
    fn default() -> Self {
        PasswordBaseline {
            minimum_password_length: 14,
            password_reuse_prevention: 24,
            max_password_age: 0,
            require_uppercase_characters: false,
            require_lowercase_characters: false,
            require_numbers: false,
            require_symbols: false,
        }
    }
}

impl PasswordBaseline {
    /// Parses and validates the JSON object; the error is one line.
    pub fn parse(v: &str) -> Result<PasswordBaseline, String> {
        let b: PasswordBaseline = serde_json::from_str(v).map_err(|e| {
            format!(
                "expected a json object with minimum_password_length (6-128), password_reuse_prevention (0-24), \
                 max_password_age (0-1095) and require_* booleans ({})",
                crate::text::quote(&e.to_string())
            )
        })?;
        if !(6..=128).contains(&b.minimum_password_length) {
            return Err("minimum_password_length must be from 6 to 128 (IAM's limits)".into());
        }
        if b.password_reuse_prevention > 24 {
            return Err("password_reuse_prevention must be from 0 to 24 (IAM's limits)".into());
        }
        if b.max_password_age > 1095 {
            return Err("max_password_age must be from 0 to 1095 days (IAM's limits)".into());
        }
        Ok(b)
    }
}

fn split_list(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn check_rule_id(variable: &str, id: &str, rule_ids: &[&str]) -> Result<(), SettingsError> {
    if rule_ids.contains(&id) {
        return Ok(());
    }
    Err(SettingsError::UnknownRule {
        variable: variable.into(),
        id: id.into(),
        valid: rule_ids.join(", "),
    })
}

/// `o-` followed by 10-32 lowercase letters or digits (AWS Organizations id pattern `^o-[a-z0-9]{10,32}$`).
pub fn is_org_id(s: &str) -> bool {
    s.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}
