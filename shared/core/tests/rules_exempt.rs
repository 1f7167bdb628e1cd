//! Exemptions (resource tag with optional expiry, configuration allow-list) and rule configuration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::json;
use tripline_core::exempt::{self, parse_date};
use tripline_core::rules::{self, SweepContext};
use tripline_core::settings::{RemediationMode, RuleConfig};
use tripline_core::state::BucketState;
use tripline_core::{intake, Intake, State};

const RULE: &str = "s3-bucket-policy-public";
const ARN: &str = "arn:aws:s3:::reports-prod";

fn tags(v: &str) -> BTreeMap<String, String> {
    [("tripline:exempt".to_owned(), v.to_owned())]
        .into_iter()
        .collect()
}

/// (tag value, today, suppressed?, a note containing)
#[rustfmt::skip]
const TAG_CASES: &[(&str, &str, bool, Option<&str>)] = &[
    ("s3-bucket-policy-public", "2026-11-29", true, None),
    ("s3-bucket-policy-public@2027-03-31", "2026-11-29", true, None),
    // The exemption applies up to and including its date.
    ("s3-bucket-policy-public@2026-11-29", "2026-11-29", true, None),
    ("s3-bucket-policy-public@2026-11-28", "2026-11-29", false, Some("expired on 2026-11-28")),
    // Spaces separate entries (AWS tag values allow letters, digits, spaces and `_ . : / = + - @`).
    ("iam-policy-widened s3-bucket-policy-public", "2026-11-29", true, None),
    ("iam-policy-widened   s3-bucket-policy-public@2030-01-01", "2026-11-29", true, None),
    // Commas are accepted where a service allows them.
    ("iam-policy-widened,s3-bucket-policy-public", "2026-11-29", true, None),
    ("iam-policy-widened", "2026-11-29", false, None),
    ("s3-bucket-policy-public-extra", "2026-11-29", false, None),
    ("s3-bucket-policy-public@2027-13-01", "2026-11-29", false, Some("is not a date")),
    ("s3-bucket-policy-public@tomorrow", "2026-11-29", false, Some("is not a date")),
    ("", "2026-11-29", false, None),
];

#[test]
fn tag_exemptions_and_expiry() {
    let config = RuleConfig::default();
    for (value, today, suppressed, note) in TAG_CASES {
        let t = tags(value);
        let got = exempt::check(RULE, ARN, Some(&t), &config, parse_date(today));
        assert_eq!(
            got.suppressed.is_some(),
            *suppressed,
            "tag `{value}` on {today}: {got:?}"
        );
        if let Some(s) = &got.suppressed {
            assert_eq!(s.by, "tag");
            assert!(s.reason.contains("tripline:exempt"), "{}", s.reason);
        }
        match note {
            Some(n) => assert!(
                got.notes.iter().any(|x| x.contains(n)),
                "tag `{value}`: notes {:?}",
                got.notes
            ),
            None => assert!(
                got.notes.is_empty(),
                "tag `{value}`: unexpected notes {:?}",
                got.notes
            ),
        }
    }
}

#[test]
fn configurable_tag_key() {
    let config = RuleConfig {
        exempt_tag_key: "security:exempt".into(),
        ..RuleConfig::default()
    };
    let t = tags(RULE);
    assert!(
        exempt::check(RULE, ARN, Some(&t), &config, parse_date("2026-11-29"))
            .suppressed
            .is_none()
    );
    let t: BTreeMap<String, String> = [("security:exempt".to_owned(), RULE.to_owned())]
        .into_iter()
        .collect();
    assert!(
        exempt::check(RULE, ARN, Some(&t), &config, parse_date("2026-11-29"))
            .suppressed
            .is_some()
    );
}

/// (patterns for the rule, resource ARN, suppressed?)
#[rustfmt::skip]
const ALLOW_CASES: &[(&[&str], &str, bool)] = &[
    (&["arn:aws:s3:::reports-prod"], ARN, true),
    (&["arn:aws:s3:::reports-*"], ARN, true),
    (&["arn:aws:s3:::report?-prod"], ARN, true),
    (&["arn:aws:s3:::public-*"], ARN, false),
    (&["arn:aws:s3:::reports"], ARN, false),
    (&[], ARN, false),
];

#[test]
fn allow_list_patterns() {
    for (patterns, arn, suppressed) in ALLOW_CASES {
        let config = RuleConfig {
            allow_list: [(
                RULE.to_owned(),
                patterns.iter().map(|p| (*p).to_owned()).collect(),
            )]
            .into_iter()
            .collect(),
            ..RuleConfig::default()
        };
        let got = exempt::check(RULE, arn, None, &config, parse_date("2026-11-29"));
        assert_eq!(got.suppressed.is_some(), *suppressed, "{patterns:?} vs {arn}");
        // The allow-list is per rule.
        assert!(exempt::check("s3-bucket-acl-public", arn, None, &config, None)
            .suppressed
            .is_none());
    }
}

fn public_policy_change() -> tripline_core::Change {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events/cloudtrail-s3-put-bucket-policy-public.json");
    match intake(&std::fs::read(path).unwrap()).unwrap() {
        Intake::Change(c) => *c,
        other => panic!("{other:?}"),
    }
}

#[test]
fn exempted_findings_are_kept_suppressed_and_expired_ones_say_so() {
    let change = public_policy_change();
    assert!(change.time.starts_with("2026-11-28"));
    let config = RuleConfig::default();
    let with_tag = |v: &str| State {
        bucket: Some(BucketState {
            tags: tags(v),
            ..BucketState::default()
        }),
        ..State::default()
    };
    // Exempt: still reported, suppressed, remediation attribute none.
    let eval = rules::evaluate(
        &change,
        Some(&with_tag("s3-bucket-policy-public@2026-12-31")),
        &config,
    );
    let f = eval.findings.iter().find(|f| f.rule == RULE).unwrap();
    assert!(f.suppressed.is_some());
    assert_eq!(f.remediation_attribute(), "none");
    // Expired the day before the event: applies no more, and the finding says so.
    let eval = rules::evaluate(
        &change,
        Some(&with_tag("s3-bucket-policy-public@2026-11-27")),
        &config,
    );
    let f = eval.findings.iter().find(|f| f.rule == RULE).unwrap();
    assert!(f.suppressed.is_none());
    assert!(
        f.notes.iter().any(|n| n.contains("expired on 2026-11-27")),
        "{:?}",
        f.notes
    );
    assert_eq!(f.remediation_attribute(), "planned");
}

#[test]
fn sweep_uses_the_same_rules_and_exemptions() {
    let sweep = SweepContext {
        account: "111122223333",
        region: "us-east-1",
        time: "2026-11-29T03:00:00Z",
    };
    let config = RuleConfig::default();
    let public = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
    let state = BucketState {
        policy: Some(public.clone()),
        ..BucketState::default()
    };
    let pab_on = tripline_core::PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
    let eval = rules::assess_bucket(
        &sweep,
        "b",
        &state,
        Some(&tripline_core::PublicAccessBlock::default()),
        &config,
    );
    let sev: Vec<(&str, &str)> = eval
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity.as_str()))
        .collect();
    // The sweep reports every bucket without the TLS requirement, at low severity (issue 18).
    assert_eq!(
        sev,
        vec![
            ("s3-bucket-policy-public", "critical"),
            ("s3-bucket-tls-not-required", "low")
        ]
    );
    assert_eq!(eval.findings[0].event.source, "sweep");
    assert!(eval.findings[0].links.cloudtrail.is_none());
    let eval = rules::assess_bucket(&sweep, "b", &state, Some(&pab_on), &config);
    assert_eq!(eval.findings[0].severity.as_str(), "medium");
    let exempt = BucketState {
        tags: tags("s3-bucket-policy-public"),
        ..state.clone()
    };
    let eval = rules::assess_bucket(&sweep, "b", &exempt, None, &config);
    assert!(eval.findings[0].suppressed.is_some() && !eval.findings[0].state_confirmed);
    // Public ACL from a GetBucketAcl response.
    let acl = BucketState {
        acl: Some(
            json!({"Owner": {"ID": "abc"}, "Grants": [{"Grantee": {"Type": "Group",
            "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}),
        ),
        ..BucketState::default()
    };
    let eval = rules::assess_bucket(
        &sweep,
        "b",
        &acl,
        Some(&tripline_core::PublicAccessBlock::default()),
        &config,
    );
    assert_eq!(eval.findings.len(), 2);
    assert_eq!(eval.findings[0].rule, "s3-bucket-acl-public");
    assert_eq!(eval.findings[1].rule, "s3-bucket-tls-not-required");
    // Trust policies and managed policies.
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": "sts:AssumeRole"}]});
    let eval = rules::assess_role_trust(&sweep, "arn:aws:iam::111122223333:role/r", &trust, None, &config);
    assert_eq!(
        eval.findings.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
        vec!["iam-trust-policy-public"]
    );
    let admin =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let eval = rules::assess_managed_policy(&sweep, "arn:aws:iam::111122223333:policy/p", &admin, &config);
    let ids: Vec<&str> = eval.findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(
        ids.contains(&"iam-admin-access-granted") && ids.contains(&"iam-privilege-escalation"),
        "{ids:?}"
    );
    // A broken document is an error, not a panic, and hides nothing else.
    let eval = rules::assess_managed_policy(
        &sweep,
        "arn:aws:iam::111122223333:policy/p",
        &json!({"Statement": 3}),
        &config,
    );
    assert!(eval.findings.is_empty() && eval.errors.len() == 2, "{eval:?}");
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// (TRIPLINE_REMEDIATION_MODE, TRIPLINE_REMEDIATION_RULES, rule, mode): COMMON.md semantics.
#[rustfmt::skip]
const MODE_CASES: &[(&str, &str, &str, RemediationMode)] = &[
    ("", "", "s3-bucket-policy-public", RemediationMode::DryRun),
    ("off", "s3-bucket-policy-public", "s3-bucket-policy-public", RemediationMode::Off),
    ("dry-run", "s3-bucket-policy-public", "s3-bucket-policy-public", RemediationMode::DryRun),
    ("enforce", "s3-bucket-policy-public", "s3-bucket-policy-public", RemediationMode::Enforce),
    ("enforce", "s3-bucket-policy-public", "s3-bucket-acl-public", RemediationMode::DryRun),
    ("enforce", "", "s3-bucket-policy-public", RemediationMode::DryRun),
    ("ENFORCE", " s3-bucket-acl-public , s3-bucket-policy-public ", "s3-bucket-policy-public", RemediationMode::Enforce),
];

#[test]
fn remediation_modes() {
    for (mode, list, rule, want) in MODE_CASES {
        let cfg = tripline_core::rules::config_from_env(&env(&[
            ("TRIPLINE_REMEDIATION_MODE", mode),
            ("TRIPLINE_REMEDIATION_RULES", list),
        ]))
        .unwrap();
        assert_eq!(
            cfg.remediation_mode_for(rule),
            *want,
            "mode `{mode}`, rules `{list}`, rule {rule}"
        );
    }
}

/// (variable, value, error mentions)
#[rustfmt::skip]
const BAD_ENV: &[(&str, &str, &str)] = &[
    ("TRIPLINE_REMEDIATION_MODE", "yes", "TRIPLINE_REMEDIATION_MODE"),
    ("TRIPLINE_REMEDIATION_RULES", "s3-bucket-policy-public,bogus-rule", "`bogus-rule`"),
    ("TRIPLINE_TRUSTED_ACCOUNT_IDS", "111122223333,12345", "`12345`"),
    ("TRIPLINE_ORGANIZATION_ID", "org-123", "TRIPLINE_ORGANIZATION_ID"),
    ("TRIPLINE_ADMIN_PORTS", "22,http", "`http`"),
    ("TRIPLINE_ADMIN_PORTS", "70000", "`70000`"),
    ("TRIPLINE_ALLOW_LIST", "not json", "TRIPLINE_ALLOW_LIST"),
    ("TRIPLINE_ALLOW_LIST", "{\"no-such-rule\": [\"arn:*\"]}", "`no-such-rule`"),
];

#[test]
fn bad_configuration_names_the_variable() {
    for (var, value, mention) in BAD_ENV {
        let err = tripline_core::rules::config_from_env(&env(&[(var, value)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(var) && err.contains(mention), "{var}={value}: {err}");
    }
}

#[test]
fn good_configuration() {
    let cfg = tripline_core::rules::config_from_env(&env(&[
        ("TRIPLINE_TRUSTED_ACCOUNT_IDS", "111122223333, 444455556666"),
        ("TRIPLINE_ORGANIZATION_ID", "o-a1b2c3d4e5"),
        ("TRIPLINE_EXEMPT_TAG_KEY", "sec:exempt"),
        ("TRIPLINE_NAME_PREFIX", "tl"),
        ("TRIPLINE_ADMIN_PORTS", "5432,6379"),
        (
            "TRIPLINE_ALLOW_LIST",
            "{\"s3-bucket-policy-public\": [\"arn:aws:s3:::public-*\"]}",
        ),
        ("UNRELATED", "ignored"),
    ]))
    .unwrap();
    assert_eq!(cfg.trusted_account_ids.len(), 2);
    assert_eq!(cfg.organization_id.as_deref(), Some("o-a1b2c3d4e5"));
    assert_eq!(cfg.exempt_tag_key, "sec:exempt");
    assert_eq!(cfg.name_prefix, "tl");
    assert!(cfg.extra_admin_ports.contains(&5432));
    assert_eq!(
        cfg.allow_list["s3-bucket-policy-public"],
        vec!["arn:aws:s3:::public-*"]
    );
    let defaults = tripline_core::rules::config_from_env(&BTreeMap::new()).unwrap();
    assert_eq!(defaults, RuleConfig::default());
    assert_eq!(defaults.exempt_tag_key, "tripline:exempt");
    assert_eq!(defaults.name_prefix, "tripline");
}
