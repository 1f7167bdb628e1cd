//! Load: 10,000 mixed CloudTrail events (every `events/cloudtrail-*.json` sample, round robin, each with
//! its own event id) through on-cloudtrail's handler in one process, on the in-memory fakes.
//!
//! A memory-leak check, not a timing assertion: after a warm-up (lazy statics, allocator pools), the peak
//! resident set (`VmHWM`) may grow by less than 16 MiB over the 10,000 events. The handler's p50 / p99 /
//! max time are printed (BENCHMARKS.md quotes them); they are not asserted. The fake's own records of calls
//! and publications are cleared every 100 events (they are the test double's memory, not the handler's).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use tripline_aws::app::DetectorConfig;
use tripline_aws::fakes::{FakeAws, FakeBucket};
use tripline_aws::handlers::cloudtrail::{handle_cloudtrail, Outcome};
use tripline_core::settings::RuleConfig;
use tripline_core::Envelope;

const EVENTS: usize = 10_000;
const WARM_UP: usize = 1_000;
const MAX_GROWTH_KIB: u64 = 16 * 1024;

/// `VmRSS` and `VmHWM` of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/self/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn samples() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("cloudtrail-") && n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 50, "{names:?}");
    names
        .iter()
        .map(|n| std::fs::read(dir.join(n)).unwrap())
        .collect()
}

/// The sample with a distinct event id (`"id"` of the EventBridge envelope).
fn with_id(sample: &[u8], i: usize) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(sample).unwrap();
    if let Some(o) = v.as_object_mut() {
        o.insert("id".into(), format!("load-{i}").into());
    }
    serde_json::to_vec(&v).unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::test(flavor = "current_thread")]
async fn ten_thousand_mixed_events_keep_memory_flat() {
    let aws = FakeAws::new();
    for name in ["reports-prod", "my-bucket", "data-lake", "public-assets"] {
        aws.add_bucket(name, FakeBucket::default());
    }
    let cfg = DetectorConfig {
        alert_topic_arn: "arn:aws:sns:us-east-1:111122223333:tripline-alerts".into(),
        rules: RuleConfig::default(),
    };
    let samples = samples();
    // Payloads are prepared up front so only the handler's memory is measured.
    let events: Vec<Vec<u8>> = (0..WARM_UP + EVENTS)
        .map(|i| with_id(&samples[i % samples.len()], i))
        .collect();

    let run = |range: std::ops::Range<usize>| {
        let aws = &aws;
        let cfg = &cfg;
        let events = &events;
        async move {
            let mut times = Vec::with_capacity(range.len());
            let (mut evaluated, mut findings, mut errors) = (0usize, 0usize, 0usize);
            for i in range {
                let t = Instant::now();
                let out = handle_cloudtrail(aws, cfg, &Envelope::read(&events[i])).await;
                times.push(t.elapsed());
                match out {
                    Ok(Outcome::Evaluated { findings: f, .. }) => {
                        evaluated += 1;
                        findings += f.len();
                    }
                    Ok(Outcome::Ignored { .. }) => {}
                    Err(_) => errors += 1,
                }
                if i % 100 == 0 {
                    let mut w = aws.world();
                    w.published.clear();
                    w.calls.clear();
                }
            }
            (times, evaluated, findings, errors)
        }
    };
    let _ = run(0..WARM_UP).await;
    {
        let mut w = aws.world();
        w.published.clear();
        w.calls.clear();
    }
    let (rss_before, hwm_before) = memory_kib();
    let (mut times, evaluated, findings, errors) = run(WARM_UP..WARM_UP + EVENTS).await;
    let (rss_after, hwm_after) = memory_kib();
    times.sort();
    let total: Duration = times.iter().sum();
    println!(
        "load on-cloudtrail (fakes): {EVENTS} events from {} samples: {evaluated} evaluated, {findings} findings, {errors} errors",
        samples.len()
    );
    println!(
        "load on-cloudtrail handler time: p50 {:.1} us, p99 {:.1} us, max {:.1} us, mean {:.1} us",
        percentile(&times, 0.50).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        times.last().unwrap().as_secs_f64() * 1e6,
        total.as_secs_f64() * 1e6 / EVENTS as f64
    );
    println!(
        "load on-cloudtrail memory: VmRSS {rss_before} -> {rss_after} KiB, VmHWM {hwm_before} -> {hwm_after} KiB (peak growth over the warm RSS: {} KiB)",
        hwm_after.saturating_sub(rss_before)
    );
    assert!(evaluated > EVENTS / 2, "{evaluated}");
    assert!(findings > 0);
    let growth = hwm_after.saturating_sub(rss_before);
    assert!(
        growth < MAX_GROWTH_KIB,
        "peak RSS grew by {growth} KiB over {EVENTS} events (limit {MAX_GROWTH_KIB} KiB)"
    );
}
