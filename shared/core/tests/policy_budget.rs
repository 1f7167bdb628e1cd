//! Complexity budgets (issue 15) on the adversarial worst cases of `policy::adversarial`: every document
//! within AWS's size limits gets an exact verdict or the conservative one with a reason saying
//! "complexity budget"; a policy compared with itself (or with a narrower version of itself) is never
//! widened, however complex. Timings and memory are measured outside the tests (`examples/budget_probe.rs`,
//! `benches/budget.rs`, `cli/tests/budget.rs` runs the binary under a memory limit).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use tripline_core::policy::adversarial::{self, Case, Place};
use tripline_core::policy::glob::Budget;
use tripline_core::policy::{self, Policy, Reason, ResourceKind};

/// Seeds of the cheap checks (a policy against itself or a narrower self); the checks that spend the
/// whole budget use the first only (debug builds are slow).
const SEEDS: [u64; 3] = [1, 2, 3];

fn cases() -> Vec<Case> {
    SEEDS.iter().flat_map(|&s| adversarial::worst_cases(s)).collect()
}

fn kind(place: Place) -> ResourceKind {
    match place {
        Place::SnsTopic => ResourceKind::SnsTopic,
        Place::SqsQueue => ResourceKind::SqsQueue,
        Place::KmsKey => ResourceKind::KmsKey,
        Place::EcrRepository => ResourceKind::EcrRepository,
        Place::SecretsManagerSecret => ResourceKind::SecretsManagerSecret,
        Place::LambdaFunction => ResourceKind::LambdaFunction,
        Place::RoleTrust => ResourceKind::IamRoleTrust,
        _ => ResourceKind::S3Bucket,
    }
}

/// A verdict is either exact (no reason mentions the budget) or the budget's single conservative reason.
fn exact_or_budget(name: &str, widened: bool, reasons: &[Reason]) {
    let budget: Vec<&Reason> = reasons
        .iter()
        .filter(|r| r.cause.contains("complexity budget"))
        .collect();
    if budget.is_empty() {
        return;
    }
    assert!(widened, "{name}: a budget answer must be the conservative one");
    assert_eq!(reasons.len(), 1, "{name}: {reasons:?}");
    assert_eq!(reasons[0].code, "cannot-prove", "{name}");
    assert!(
        reasons[0].cause.starts_with("complexity budget exceeded: "),
        "{name}: {}",
        reasons[0].cause
    );
}

#[test]
fn a_worst_case_diffed_with_itself_is_never_widened() {
    for case in cases() {
        let p = Policy::parse(&case.doc).unwrap();
        let d = policy::diff(&p, &p);
        assert!(!d.widened, "{}: {:?}", case.name, d.reasons);
        assert!(d.reasons.is_empty() && d.new_access.is_empty(), "{}", case.name);
        assert!(policy::newly_enabled_combos(&p, &p).is_empty(), "{}", case.name);
    }
}

#[test]
fn narrowing_a_worst_case_never_widens_it() {
    for case in cases() {
        let p = Policy::parse(&case.doc).unwrap();
        let mut fewer = case.doc.clone();
        let list = fewer["Statement"].as_array_mut().unwrap();
        let last_allow = list.iter().rposition(|s| s["Effect"] == "Allow").unwrap();
        list.remove(last_allow);
        let mut more = case.doc.clone();
        more["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Effect": "Deny", "Action": "iam:*", "Resource": "*"}));
        // One resource (or action) pattern fewer in the first statement that lists several.
        let mut narrower = case.doc.clone();
        for st in narrower["Statement"].as_array_mut().unwrap() {
            let field = ["Resource", "Action"]
                .into_iter()
                .find(|f| st[*f].as_array().is_some_and(|v| v.len() > 1));
            if let Some(f) = field {
                st[f].as_array_mut().unwrap().pop();
                break;
            }
        }
        for (what, doc) in [
            ("one Allow fewer", fewer),
            ("one Deny more", more),
            ("one pattern fewer", narrower),
        ] {
            let d = policy::diff(&p, &Policy::parse(&doc).unwrap());
            assert!(!d.widened, "{} ({what}): {:?}", case.name, d.reasons);
        }
    }
}

#[test]
fn every_worst_case_gets_an_exact_verdict_or_a_budget_reason() {
    let empty = Policy::parse(&json!({"Version": "2012-10-17", "Statement": []})).unwrap();
    for case in adversarial::worst_cases(SEEDS[0]) {
        let p = Policy::parse(&case.doc).unwrap();
        // Everything the document grants is new against an empty policy.
        let d = policy::diff(&empty, &p);
        assert!(d.widened, "{}", case.name);
        exact_or_budget(&case.name, d.widened, &d.reasons);
        // And the reverse is never widened (an empty policy allows nothing).
        assert!(!policy::diff(&p, &empty).widened, "{}", case.name);
        for combo in policy::escalation_combos(&p) {
            if let Some(b) = &combo.budget {
                assert!(
                    b.starts_with("complexity budget exceeded: "),
                    "{}: {b}",
                    case.name
                );
            }
        }
        let v = policy::resource_policy_public(&p, kind(case.place));
        assert!(!v.reasons.is_empty(), "{}", case.name);
    }
}

#[test]
fn the_rules_judge_every_worst_case_event() {
    let events = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let config = tripline_core::settings::RuleConfig::default();
    for case in adversarial::worst_cases(1) {
        let Some(t) = adversarial::event_template(case.place) else {
            continue;
        };
        let mut ev: Value = serde_json::from_slice(&std::fs::read(events.join(t)).unwrap()).unwrap();
        assert!(
            adversarial::embed(case.place, &mut ev, &case.doc),
            "{}",
            case.name
        );
        let outcome = tripline_core::intake(ev.to_string().as_bytes()).unwrap();
        let tripline_core::Intake::Change(change) = outcome else {
            panic!("{}: not a change", case.name);
        };
        let eval = tripline_core::rules::evaluate(&change, None, &config);
        assert!(eval.errors.is_empty(), "{}: {:?}", case.name, eval.errors);
        if case.place == Place::ManagedPolicy {
            // No previous version fetched: every grant counts as new, budget or not.
            assert!(
                eval.findings.iter().any(|f| f.rule == "iam-policy-widened"),
                "{}: {:?}",
                case.name,
                eval.findings.iter().map(|f| &f.rule).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn an_exhausted_budget_gives_the_conservative_answer_and_says_so() {
    let doc = |r: &str| {
        Policy::parse(&json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": r}]}))
        .unwrap()
    };
    let (old, new) = (doc("arn:aws:s3:::b/*"), doc("arn:aws:s3:::b/a*"));
    assert!(!policy::diff(&old, &new).widened);
    let tiny = Budget::new(10, 1 << 20);
    let d = policy::diff::diff_within(&old, &new, &tiny);
    assert!(d.widened);
    exact_or_budget("tiny budget", d.widened, &d.reasons);
    assert!(
        d.reasons[0].cause.contains("complexity budget"),
        "{:?}",
        d.reasons
    );
    // The cheap exact step needs no budget at all.
    let d = policy::diff::diff_within(&new, &new, &Budget::new(0, 0));
    assert!(!d.widened, "{:?}", d.reasons);
}
