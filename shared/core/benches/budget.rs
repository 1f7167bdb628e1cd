//! Complexity budgets (issue 15): the checks on the adversarial worst-case documents
//! (`policy::adversarial`, at AWS's size limits, seed 1). Goal: every check within 50 ms and 32 MiB extra.
//! `cargo bench -p tripline-core --bench budget`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tripline_core::policy::{self, adversarial, Policy, ResourceKind};

/// The worst cases per check on the reference machine (`examples/budget_probe.rs` ranks them all).
const CASES: &[&str] = &[
    "managed-resource-globs",
    "managed-notresource-globs",
    "managed-action-globs",
    "managed-principal-globs",
    "inline-role-action-globs",
    "inline-user-principal-globs",
    "s3-bucket-variables",
    "kms-key-principal-globs",
    "sns-topic-action-globs",
    "lambda-function-notresource-globs",
];

fn benches(c: &mut Criterion) {
    let _ = policy::actions::catalog();
    let empty = Policy::parse(&serde_json::json!({"Version": "2012-10-17", "Statement": []})).unwrap();
    let cases: Vec<(String, Policy)> = adversarial::worst_cases(1)
        .into_iter()
        .filter(|c| CASES.contains(&c.name.as_str()))
        .map(|c| (c.name, Policy::parse(&c.doc).unwrap()))
        .collect();
    let mut g = c.benchmark_group("worst case");
    g.sample_size(10).measurement_time(Duration::from_secs(2));
    for (name, p) in &cases {
        g.bench_function(format!("diff, empty -> {name}"), |b| {
            b.iter(|| policy::diff(black_box(&empty), black_box(p)))
        });
        g.bench_function(format!("diff, {name} with itself"), |b| {
            b.iter(|| policy::diff(black_box(p), black_box(p)))
        });
        g.bench_function(format!("escalation, {name}"), |b| {
            b.iter(|| policy::escalation_combos(black_box(p)))
        });
        g.bench_function(format!("public, {name}"), |b| {
            b.iter(|| policy::resource_policy_public(black_box(p), ResourceKind::S3Bucket))
        });
    }
    g.finish();
}

criterion_group!(budget, benches);
criterion_main!(budget);
