//! Inputs the fuzzer (`make fuzz`) could not finish within its time and memory limits before the complexity
//! budgets (issue 15), replayed on the stable toolchain: each now ends with an exact verdict or the budget's
//! `cannot-prove` reason, and a policy diffed with itself is never widened. Inputs are kept in
//! `fuzz/regressions/<target>/` in the fuzz targets' format (two documents split on the first NUL byte).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use tripline_core::policy::{diff, Policy};
use tripline_core::rules;
use tripline_core::settings::RuleConfig;
use tripline_core::{intake, Intake, State};

fn dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target)
}

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir(target))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no inputs in fuzz/regressions/{target}");
    out
}

/// The fuzz targets' split: the input cut at the first NUL byte.
fn split(data: &[u8]) -> (&[u8], Option<&[u8]>) {
    match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], data.get(i + 1..)),
        None => (data, None),
    }
}

fn policy(bytes: &[u8]) -> Option<Policy> {
    Policy::parse(&serde_json::from_slice::<Value>(bytes).ok()?).ok()
}

#[test]
fn diff_inputs_end_exact_or_within_the_budget() {
    for (name, data) in inputs("diff") {
        let (a, b) = split(&data);
        let old = policy(a).unwrap_or_else(|| panic!("{name}: the first document is a policy"));
        let same = diff(&old, &old);
        assert!(
            !same.widened,
            "{name}: a policy diffed with itself is widened: {:?}",
            same.reasons
        );
        if let Some(new) = b.and_then(policy) {
            let d = diff(&old, &new);
            let budget = d.reasons.iter().any(|r| r.cause.contains("complexity budget"));
            assert!(
                !d.widened || budget || !d.new_access.is_empty(),
                "{name}: widened without a witness or budget reason: {:?}",
                d.reasons
            );
        }
    }
}

#[test]
fn render_inputs_evaluate() {
    for (name, data) in inputs("render") {
        let (payload, state) = split(&data);
        let Intake::Change(change) = intake(payload).unwrap_or_else(|e| panic!("{name}: {e}")) else {
            panic!("{name}: not a change");
        };
        let state: Option<State> = state.and_then(|s| serde_json::from_slice(s).ok());
        let e = rules::evaluate(&change, state.as_ref(), &RuleConfig::default());
        // The previous version is the same document: nothing widened, and nothing failed.
        assert!(state.is_some(), "{name}: the input carries the previous version");
        assert!(
            !e.findings.iter().any(|f| f.rule == "iam-policy-widened"),
            "{name}: a policy version equal to the previous one is reported widened"
        );
        assert!(e.errors.is_empty(), "{name}: {:?}", e.errors);
    }
}
