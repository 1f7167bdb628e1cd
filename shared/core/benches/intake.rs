//! Intake speed per payload kind (`cargo bench -p tripline --bench intake`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// One sample per payload kind, embedded so the bench does no I/O while measuring.
const SAMPLES: &[(&str, &str)] = &[
    (
        "cloudtrail-s3-policy",
        include_str!("../../../events/cloudtrail-s3-put-bucket-policy-public.json"),
    ),
    (
        "cloudtrail-iam-document",
        include_str!("../../../events/cloudtrail-iam-create-policy-version-widening.json"),
    ),
    (
        "config-item-url-encoded",
        include_str!("../../../events/config-iam-role-item-change.json"),
    ),
    (
        "config-rule-invocation",
        include_str!("../../../events/configrule-s3-bucket-invocation.json"),
    ),
    (
        "sns-config-notification",
        include_str!("../../../events/sns-config-item-change.json"),
    ),
];

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("intake");
    for (name, payload) in SAMPLES {
        group.throughput(Throughput::Bytes(payload.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), payload, |b, p| {
            b.iter(|| tripline_core::intake(p.as_bytes()).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
