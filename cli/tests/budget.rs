//! Complexity budgets end to end (issue 15): the `tripline` binary judges the adversarial worst-case
//! documents (`tripline_core::policy::adversarial`, at AWS's size limits) under an address-space limit of
//! its own baseline plus 32 MiB, and succeeds. The baseline is measured here: the smallest limit (in
//! 1 MiB steps) under which the binary diffs two empty policies (the action catalog loaded). Before the
//! budgets, a generated managed policy took 1 GiB and more (`policy diff` of it with itself) and aborted
//! under this limit. Timings are not asserted (see `BENCHMARKS.md`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tripline_core::policy::adversarial::{self, Place};

/// Extra memory a check may take (KiB).
const EXTRA_KIB: u64 = 32 * 1024;

/// Runs the binary with `args` under `ulimit -v limit_kib`; exit code and stdout.
fn run_limited(limit_kib: u64, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {limit_kib}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_tripline"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("tripline-budget-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(d: &Path, name: &str, v: &Value) -> String {
    let p = d.join(name);
    std::fs::write(&p, v.to_string()).unwrap();
    p.to_string_lossy().into_owned()
}

/// The smallest address-space limit (KiB, 1 MiB steps) under which the binary diffs two empty policies.
fn baseline_kib(empty: &str) -> u64 {
    (4..512u64)
        .map(|mib| mib * 1024)
        .find(|&kib| run_limited(kib, &["policy", "diff", empty, empty]).0 == Some(0))
        .expect("the binary runs at all under 512 MiB")
}

fn kind(place: Place) -> &'static str {
    match place {
        Place::SnsTopic => "sns-topic",
        Place::SqsQueue => "sqs-queue",
        Place::KmsKey => "kms-key",
        Place::EcrRepository => "ecr-repository",
        Place::SecretsManagerSecret => "secrets-manager-secret",
        Place::LambdaFunction => "lambda-function",
        Place::RoleTrust => "iam-role-trust",
        _ => "s3-bucket",
    }
}

#[test]
fn every_check_judges_the_worst_documents_within_32_mib() {
    let d = dir();
    let empty = write(
        &d,
        "empty.json",
        &serde_json::json!({"Version": "2012-10-17", "Statement": []}),
    );
    let limit = baseline_kib(&empty) + EXTRA_KIB;
    let events = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    for case in adversarial::worst_cases(1) {
        let doc = write(&d, &format!("{}.json", case.name), &case.doc);
        // Every check on the identity policies, the heaviest (diff against an empty policy) on the rest.
        let full = matches!(
            case.place,
            Place::ManagedPolicy | Place::InlineRole | Place::KmsKey
        );
        let mut runs: Vec<Vec<String>> =
            vec![vec!["policy".into(), "diff".into(), empty.clone(), doc.clone()]];
        if full {
            runs.push(vec!["policy".into(), "diff".into(), doc.clone(), doc.clone()]);
            runs.push(vec!["policy".into(), "escalation".into(), doc.clone()]);
            runs.push(vec![
                "policy".into(),
                "public".into(),
                "--kind".into(),
                kind(case.place).into(),
                doc.clone(),
            ]);
            if let Some(t) = adversarial::event_template(case.place) {
                let mut ev: Value = serde_json::from_slice(&std::fs::read(events.join(t)).unwrap()).unwrap();
                assert!(adversarial::embed(case.place, &mut ev, &case.doc));
                let file = write(&d, &format!("{}.event.json", case.name), &ev);
                runs.push(vec!["assess".into(), file]);
            }
        }
        for args in runs {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, stdout) = run_limited(limit, &args);
            assert_eq!(code, Some(0), "{} {:?} under {limit} KiB", case.name, &args[..2]);
            let v: Value = serde_json::from_str(&stdout).unwrap();
            if args[1] == "diff" {
                let self_diff = args[2] == args[3];
                assert_eq!(v["widened"], Value::Bool(!self_diff), "{}: {v}", case.name);
                for r in v["reasons"].as_array().unwrap() {
                    let cause = r["cause"].as_str().unwrap();
                    if cause.contains("complexity budget") {
                        assert_eq!(r["code"], "cannot-prove", "{}", case.name);
                        assert!(cause.starts_with("complexity budget exceeded: "), "{cause}");
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}
