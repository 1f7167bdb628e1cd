//! Placeholder replaced below.
use criterion::{criterion_group, criterion_main, Criterion};
fn bench(c: &mut Criterion) {
    c.bench_function("registry", |b| b.iter(|| tripline::rules::ids().len()));
}
criterion_group!(benches, bench);
criterion_main!(benches);
