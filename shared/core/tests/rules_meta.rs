//! Meta-test of the rule registry: every rule has a unique id, a severity, a doc, triggers, declared
//! permissions, and `events/` samples that really fire it (and a similar one that really does not), run
//! through intake + evaluate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use tripline_core::rules::{self, REGISTRY};
use tripline_core::settings::RuleConfig;
use tripline_core::{intake, Intake};

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events")
}

fn change_of(file: &str) -> tripline_core::Change {
    let bytes = std::fs::read(events_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    match intake(&bytes).unwrap_or_else(|e| panic!("{file}: {e}")) {
        Intake::Change(c) => *c,
        other => panic!("{file}: expected a change, got {other:?}"),
    }
}

/// The rule ids issue 4 requires, exactly.
const REQUIRED_IDS: &[&str] = &[
    "s3-bucket-policy-public",
    "s3-bucket-acl-public",
    "s3-bucket-public-access-block-weakened",
    "s3-account-public-access-block-weakened",
    "s3-bucket-cross-account-access",
    "s3-object-acl-public",
    "iam-policy-widened",
    "iam-admin-access-granted",
    "iam-privilege-escalation",
    "iam-trust-policy-public",
    "iam-trust-policy-external-account",
    "iam-root-access-key-created",
    "iam-login-profile-created",
    "iam-mfa-deactivated",
    "cloudtrail-logging-disabled",
    "config-recording-stopped",
    "tripline-tampered",
    "ec2-security-group-open-to-world",
    "ec2-snapshot-public",
    "ec2-image-public",
    "rds-snapshot-public",
    "kms-key-policy-public",
    "sns-topic-policy-public",
    "sqs-queue-policy-public",
    "ecr-repository-policy-public",
    "secretsmanager-secret-policy-public",
    "lambda-function-public",
    // issue 16 (catalog)
    "iam-access-key-created-for-other-user",
    "rds-cluster-snapshot-public",
    // Issue 16 (new policy kinds) and issue 19 (their cross-account twins).
    "s3-access-point-policy-public",
    "efs-file-system-policy-public",
    "dynamodb-table-policy-public",
    "opensearch-domain-policy-public",
    "glacier-vault-policy-public",
    "s3-access-point-cross-account-access",
    "efs-file-system-cross-account-access",
    "dynamodb-table-cross-account-access",
    "opensearch-domain-cross-account-access",
    "glacier-vault-cross-account-access",
];

#[test]
fn ids_are_unique_kebab_case_and_resolvable() {
    let mut seen = BTreeSet::new();
    for r in REGISTRY {
        assert!(seen.insert(r.id), "duplicate rule id `{}`", r.id);
        assert!(
            r.id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "rule id `{}` is not kebab-case",
            r.id
        );
        assert_eq!(rules::by_id(r.id).map(|x| x.id), Some(r.id));
    }
    assert!(rules::by_id("no-such-rule").is_none());
}

#[test]
fn every_required_id_is_registered() {
    let missing: Vec<&str> = REQUIRED_IDS
        .iter()
        .copied()
        .filter(|id| rules::by_id(id).is_none())
        .collect();
    assert!(missing.is_empty(), "rules missing from the registry: {missing:?}");
}

#[test]
fn every_rule_declares_doc_triggers_permissions_and_samples() {
    for r in REGISTRY {
        assert!(!r.title.trim().is_empty(), "{}: empty title", r.id);
        assert!(r.doc.split_whitespace().count() >= 10, "{}: doc too short", r.id);
        assert!(
            !r.cloudtrail.is_empty() || !r.config_types.is_empty(),
            "{}: no trigger",
            r.id
        );
        for t in r.cloudtrail {
            assert!(
                t.source.ends_with(".amazonaws.com"),
                "{}: bad event source `{}`",
                r.id,
                t.source
            );
            assert!(!t.names.is_empty(), "{}: trigger without event names", r.id);
        }
        if !r.needs.is_empty() {
            assert!(
                !r.permissions().is_empty(),
                "{}: needs state but declares no permission",
                r.id
            );
        }
        for p in r.permissions() {
            assert!(
                p.contains(':'),
                "{}: permission `{p}` is not `service:Action`",
                r.id
            );
        }
        if let Some(rem) = r.remediation {
            assert!(
                !rem.id.is_empty() && !rem.permissions.is_empty(),
                "{}: remediation without permissions",
                r.id
            );
        }
        assert!(!r.fires.is_empty(), "{}: no sample that fires it", r.id);
        assert!(
            !r.quiet.is_empty(),
            "{}: no similar sample that does not fire it",
            r.id
        );
    }
}

#[test]
fn fires_samples_fire_and_quiet_samples_do_not() {
    let config = RuleConfig::default();
    for r in REGISTRY {
        for file in r.fires {
            let change = change_of(file);
            assert!(r.matches(&change), "{}: `{file}` does not trigger the rule", r.id);
            let eval = rules::evaluate(&change, None, &config);
            assert!(
                eval.errors.is_empty(),
                "{}: `{file}` errors {:?}",
                r.id,
                eval.errors
            );
            assert!(
                eval.findings.iter().any(|f| f.rule == r.id),
                "{}: `{file}` raises no finding of the rule",
                r.id
            );
        }
        for file in r.quiet {
            let change = change_of(file);
            let eval = rules::evaluate(&change, None, &config);
            assert!(
                eval.errors.is_empty(),
                "{}: `{file}` errors {:?}",
                r.id,
                eval.errors
            );
            assert!(
                !eval.findings.iter().any(|f| f.rule == r.id),
                "{}: quiet sample `{file}` fires the rule",
                r.id
            );
        }
    }
}

#[test]
fn quiet_samples_are_similar_same_service() {
    // "A similar sample": the quiet sample is an event of one of the services the rule watches.
    for r in REGISTRY {
        let services: BTreeSet<&str> = r
            .cloudtrail
            .iter()
            .map(|t| t.source)
            .chain(r.config_types.iter().copied())
            .collect();
        for file in r.quiet {
            let change = change_of(file);
            assert!(
                services.contains(change.service.as_str()),
                "{}: quiet sample `{file}` is from `{}`, not a watched service",
                r.id,
                change.service
            );
        }
    }
}

#[test]
fn event_patterns_cover_every_trigger_sorted_and_unique() {
    let patterns = rules::event_patterns();
    for r in REGISTRY {
        for t in r.cloudtrail {
            let short = t.source.trim_end_matches(".amazonaws.com");
            let p = &patterns[short];
            assert_eq!(p["source"][0], format!("aws.{short}"));
            assert_eq!(p["detail-type"][0], "AWS API Call via CloudTrail");
            assert_eq!(p["detail"]["eventSource"][0], t.source);
            let names: Vec<&str> = p["detail"]["eventName"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(names, sorted, "{short}: event names not sorted and unique");
            for n in t.names {
                assert!(
                    names.contains(n),
                    "{}: `{n}` missing from the `{short}` pattern",
                    r.id
                );
            }
        }
    }
    // Deterministic output.
    assert_eq!(
        serde_json::to_string(&rules::event_patterns()).unwrap(),
        serde_json::to_string(&patterns).unwrap()
    );
    let types = rules::config_resource_types();
    let mut sorted = types.clone();
    sorted.sort_unstable();
    assert_eq!(types, sorted);
}

#[test]
fn unknown_rule_ids_in_configuration_list_the_valid_ones() {
    let env = [(
        "TRIPLINE_REMEDIATION_RULES".to_owned(),
        "s3-bucket-policy-public,nope".to_owned(),
    )]
    .into_iter()
    .collect();
    let err = tripline_core::rules::config_from_env(&env)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`nope`") && err.contains("TRIPLINE_REMEDIATION_RULES"),
        "{err}"
    );
    for r in REGISTRY {
        assert!(err.contains(r.id), "error does not list `{}`: {err}", r.id);
    }
}

/// The resource-kind registry covers every rule: each finding a rule raises on its samples names a
/// registered kind with a console page, and every AWS Config type a rule evaluates is registered. A rule
/// registered without its resource kind or console link fails here.
#[test]
fn every_rule_s_resource_kinds_are_registered_with_a_console_page() {
    use tripline_core::resource_kind;
    let cfg = RuleConfig::default();
    for r in REGISTRY {
        for file in r.fires {
            let change = change_of(file);
            for f in rules::evaluate(&change, None, &cfg)
                .findings
                .iter()
                .filter(|f| f.rule == r.id)
            {
                let kind = resource_kind::by_type(&f.resource.resource_type).unwrap_or_else(|| {
                    panic!(
                        "rule `{}` on {file}: resource type `{}` has no row in resource_kind::KINDS",
                        r.id, f.resource.resource_type
                    )
                });
                assert!(
                    kind.console.is_some(),
                    "rule `{}`: kind `{}` has no console page",
                    r.id,
                    kind.resource_type
                );
                if !f.resource.arn.is_empty() {
                    assert!(
                        f.links.console.is_some(),
                        "rule `{}` on {file}: the finding has no console link",
                        r.id
                    );
                }
            }
        }
        for t in r.config_types {
            assert!(
                resource_kind::by_type(t).is_some(),
                "rule `{}` evaluates Config type `{t}`, which has no row in resource_kind::KINDS",
                r.id
            );
        }
    }
}
