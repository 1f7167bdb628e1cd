//! Times each check on each adversarial worst case and prints the work units it spent (calibration of
//! `glob::WORK_UNITS`; not a test: timings depend on the machine).
//! `cargo run --release -p tripline-core --example budget_probe [SEED]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use tripline_core::policy::{self, adversarial, glob::Budget, Policy};

/// One check: returns the work units left and whether it ran out of budget.
type Run<'a> = &'a dyn Fn() -> (u64, bool);

fn main() {
    let seed: u64 = std::env::args().nth(1).map_or(1, |s| s.parse().unwrap());
    let empty = Policy::parse(&serde_json::json!({"Version": "2012-10-17", "Statement": []})).unwrap();
    let _ = policy::actions::catalog();
    let mut worst = (0.0f64, String::new());
    for case in adversarial::worst_cases(seed) {
        let p = Policy::parse(&case.doc).unwrap();
        let runs: [(&str, Run); 3] = [
            ("diff-self", &|| {
                let b = Budget::default();
                let d = policy::diff::diff_within(&p, &p, &b);
                (b.left(), d.widened)
            }),
            ("diff-new", &|| {
                let b = Budget::default();
                let d = policy::diff::diff_within(&empty, &p, &b);
                (b.left(), b.exceeded().is_some() && d.widened)
            }),
            ("escalation", &|| {
                let (_, b) = policy::escalation::escalation_combos_within(&p, Budget::default());
                (b.left(), b.exceeded().is_some())
            }),
        ];
        for (name, run) in runs {
            let t = Instant::now();
            let (left, flag) = run();
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let spent = policy::glob::WORK_UNITS - left;
            println!(
                "{:>7.2} ms {:>9} units {:>6.1} ns/unit {name:<10} {} {}",
                ms,
                spent,
                ms * 1e6 / spent.max(1) as f64,
                case.name,
                if flag { "flag" } else { "" }
            );
            if ms > worst.0 {
                worst = (ms, format!("{name} {}", case.name));
            }
        }
    }
    println!("worst: {:.2} ms {}", worst.0, worst.1);
    for n in [50, 100, 200, 400] {
        let (old, new) = (ordinary(n, 0), ordinary(n, 1));
        let b = Budget::default();
        let t = Instant::now();
        let d = policy::diff::diff_within(&old, &new, &b);
        println!(
            "ordinary {n} statements: {:.2} ms, {} units, widened {} budget {:?}",
            t.elapsed().as_secs_f64() * 1e3,
            policy::glob::WORK_UNITS - b.left(),
            d.widened,
            b.exceeded()
        );
    }
}

/// A large but ordinary identity policy (the shape of the `policy` bench's, `n` statements).
#[allow(dead_code)]
pub fn ordinary(n: usize, shift: usize) -> Policy {
    const ACTIONS: &[&str] = &[
        "s3:Get*",
        "s3:PutObject",
        "dynamodb:Query",
        "sqs:SendMessage",
        "iam:PassRole",
        "lambda:InvokeFunction",
        "ec2:Describe*",
        "kms:Decrypt",
        "logs:PutLogEvents",
        "sns:Publish",
    ];
    let statements: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let k = i + shift;
            serde_json::json!({"Sid": format!("S{i}"), "Effect": if i % 10 == 9 { "Deny" } else { "Allow" },
                "Action": [ACTIONS[k % ACTIONS.len()], ACTIONS[(k * 7 + 3) % ACTIONS.len()]],
                "Resource": [format!("arn:aws:s3:::bucket-{}/*", k % 97), format!("arn:aws:dynamodb:us-east-1:111122223333:table/t{}", k % 89),
                    format!("arn:aws:lambda:us-east-1:111122223333:function:app-{}-*", k % 53)]})
        })
        .collect();
    Policy::parse(&serde_json::json!({"Version": "2012-10-17", "Statement": statements})).unwrap()
}
