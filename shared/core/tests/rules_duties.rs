//! The customer's duties of the shared-responsibility model (issue 18): the password baseline and its
//! configuration, network ACL entries, RDS instances and clusters, TLS-only buckets and patch compliance,
//! beyond the `events/` samples pinned in `rules_samples.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use tripline_core::finding::{Finding, Severity};
use tripline_core::rules;
use tripline_core::settings::{PasswordBaseline, RuleConfig};
use tripline_core::{intake, Intake};

fn sample(file: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(file);
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

/// The findings of `rule` for a payload, and the rule errors.
fn run(v: &Value, rule: &str, config: &RuleConfig) -> (Vec<Finding>, usize) {
    let Intake::Change(c) = intake(&serde_json::to_vec(v).unwrap()).unwrap() else {
        panic!("not a change")
    };
    let eval = rules::evaluate(&c, None, config);
    let errors = eval.errors.iter().filter(|e| e.rule == rule).count();
    (
        eval.findings.into_iter().filter(|f| f.rule == rule).collect(),
        errors,
    )
}

fn with_request(file: &str, req: Value) -> Value {
    let mut v = sample(file);
    v["detail"]["requestParameters"] = req;
    v
}

#[test]
fn password_baseline_default_configured_and_unknown() {
    let cfg = RuleConfig::default();
    assert_eq!(cfg.password_baseline.minimum_password_length, 14);
    assert_eq!(cfg.password_baseline.password_reuse_prevention, 24);
    let cis = "cloudtrail-iam-update-account-password-policy-cis.json";
    assert!(run(&sample(cis), "iam-password-policy-weakened", &cfg)
        .0
        .is_empty());

    // A stricter configured baseline: the CIS sample allows passwords to live 90 days, the baseline 60.
    let env = BTreeMap::from([(
        "TRIPLINE_PASSWORD_BASELINE".to_owned(),
        r#"{"minimum_password_length": 16, "max_password_age": 60}"#.to_owned(),
    )]);
    let strict = rules::config_from_env(&env).unwrap();
    assert_eq!(
        strict.password_baseline.password_reuse_prevention, 24,
        "absent keys keep defaults"
    );
    let (f, _) = run(&sample(cis), "iam-password-policy-weakened", &strict);
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].evidence.details["below_baseline"],
        json!({"minimumPasswordLength": 14, "maxPasswordAge": 90})
    );

    // Invalid baselines: one-line errors naming the variable.
    for bad in [
        r#"{"minimum_password_length": 4}"#,
        r#"{"password_reuse_prevention": 25}"#,
        r#"{"minimum_length": 14}"#,
        "14",
    ] {
        let env = BTreeMap::from([("TRIPLINE_PASSWORD_BASELINE".to_owned(), bad.to_owned())]);
        let e = rules::config_from_env(&env).unwrap_err().to_string();
        assert!(
            e.contains("TRIPLINE_PASSWORD_BASELINE") && !e.contains('\n'),
            "{e}"
        );
    }
    assert_eq!(
        PasswordBaseline::parse("{}").unwrap(),
        PasswordBaseline::default()
    );

    // An absent setting is unknown, never its default: reported as such, not confirmed, low.
    let partial = with_request(
        cis,
        json!({"minimumPasswordLength": 14, "requireSymbols": true, "allowUsersToChangePassword": true}),
    );
    let (f, _) = run(&partial, "iam-password-policy-weakened", &cfg);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Low);
    assert!(!f[0].state_confirmed);
    assert_eq!(
        f[0].evidence.details["record_lacks"],
        json!(["requestParameters.passwordReusePrevention"])
    );
    assert!(!f[0].evidence.details.contains_key("below_baseline"));
}
