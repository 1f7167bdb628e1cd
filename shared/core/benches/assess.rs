//! `intake + evaluate` over the `events/` samples (the pure path of `on-cloudtrail` and `tripline assess`).
//!
//! - `no_match`: samples that trigger no rule (read-only, irrelevant, failed calls, config
//!   notifications without rules): goal >= 50k events/s/core.
//! - `full`: every sample, rules and all: goal >= 10k events/s/core.
//! - `evaluate_only`: the rules alone on pre-parsed changes.
//!
//! Throughput is reported in elements (events) per second. Run: `cargo bench -p tripline --bench assess`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tripline_core::rules;
use tripline_core::settings::RuleConfig;
use tripline_core::{intake, Intake};

fn samples() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn assess(bytes: &[u8], config: &RuleConfig) -> usize {
    match intake(bytes) {
        Ok(Intake::Change(c)) => rules::evaluate(&c, None, config).findings.len(),
        _ => 0,
    }
}

fn bench(c: &mut Criterion) {
    let config = RuleConfig::default();
    let all = samples();
    let no_match: Vec<Vec<u8>> = all
        .iter()
        .filter(|(_, b)| match intake(b) {
            Ok(Intake::Change(ch)) => rules::triggered(&ch).is_empty(),
            _ => true,
        })
        .map(|(_, b)| b.clone())
        .collect();
    let full: Vec<Vec<u8>> = all.iter().map(|(_, b)| b.clone()).collect();
    let changes: Vec<tripline_core::Change> = all
        .iter()
        .filter_map(|(_, b)| match intake(b) {
            Ok(Intake::Change(ch)) => Some(*ch),
            _ => None,
        })
        .collect();

    let mut g = c.benchmark_group("assess");
    g.throughput(Throughput::Elements(no_match.len() as u64));
    g.bench_function(format!("no_match_{}_events", no_match.len()), |b| {
        b.iter(|| {
            no_match
                .iter()
                .map(|e| assess(black_box(e), &config))
                .sum::<usize>()
        })
    });
    g.throughput(Throughput::Elements(full.len() as u64));
    g.bench_function(format!("full_{}_events", full.len()), |b| {
        b.iter(|| full.iter().map(|e| assess(black_box(e), &config)).sum::<usize>())
    });
    g.throughput(Throughput::Elements(changes.len() as u64));
    g.bench_function(format!("evaluate_only_{}_changes", changes.len()), |b| {
        b.iter(|| {
            changes
                .iter()
                .map(|ch| rules::evaluate(black_box(ch), None, &config).findings.len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
