//! Usage: engine-eval RECORDED.json ITERATIONS
//!
//! RECORDED.json: `[{"name": ..., "policy": "<json text>" | null, "acl": <GetBucketAcl response> | null,
//! "bpa": {"BlockPublicAcls": bool, ...} | null}]`, recorded from the emulator by bench/c7n_eval.py.
//! Prints `{"buckets": N, "iterations": I, "median_ns_per_bucket": ..., "exposed": [names]}`: the time of
//! the full per-bucket verdict (parse the policy, public check, ACL check, combine with Block Public
//! Access), the same work Custodian's filters do on the same data.

use std::time::Instant;

use serde_json::{json, Value};
use tripline_core::policy::{acl_public, bucket_exposure, bucket_policy_public, Policy};
use tripline_core::PublicAccessBlock;

struct Bucket {
    name: String,
    policy: Option<String>,
    acl: Option<Value>,
    bpa: Option<PublicAccessBlock>,
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn load(path: &str) -> Result<Vec<Bucket>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading `{path}`: {e}"))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("parsing `{path}`: {e}"))?;
    let items = v.as_array().ok_or("expected a json array")?;
    Ok(items
        .iter()
        .map(|b| Bucket {
            name: b["name"].as_str().unwrap_or_default().to_owned(),
            policy: b["policy"].as_str().map(str::to_owned),
            acl: b.get("acl").filter(|a| !a.is_null()).cloned(),
            bpa: b.get("bpa").filter(|a| !a.is_null()).map(|p| PublicAccessBlock {
                block_public_acls: flag(p, "BlockPublicAcls"),
                ignore_public_acls: flag(p, "IgnorePublicAcls"),
                block_public_policy: flag(p, "BlockPublicPolicy"),
                restrict_public_buckets: flag(p, "RestrictPublicBuckets"),
            }),
        })
        .collect())
}

/// The full verdict for one bucket; `true` when it is public now.
fn exposed(b: &Bucket) -> bool {
    let policy = b.policy.as_deref().map(|t| match Policy::from_json_str(t) {
        Ok(p) => bucket_policy_public(&p),
        // An unparsable stored policy cannot be proven non-public.
        Err(_) => tripline_core::policy::PublicVerdict {
            public: true,
            reasons: Vec::new(),
        },
    });
    let acl = b.acl.as_ref().and_then(|a| acl_public(a).ok());
    bucket_exposure(policy.as_ref(), acl.as_ref(), b.bpa.as_ref(), None).public
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(iters)) = (args.get(1), args.get(2).and_then(|s| s.parse::<usize>().ok())) else {
        eprintln!("usage: engine-eval RECORDED.json ITERATIONS");
        return std::process::ExitCode::from(2);
    };
    let buckets = match load(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("engine-eval: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut samples = Vec::with_capacity(iters);
    let mut count = 0usize;
    for _ in 0..iters.max(1) {
        let t = Instant::now();
        count = buckets
            .iter()
            .filter(|b| std::hint::black_box(exposed(b)))
            .count();
        samples.push(t.elapsed().as_nanos() as f64 / buckets.len().max(1) as f64);
    }
    samples.sort_by(f64::total_cmp);
    let names: Vec<&str> = buckets
        .iter()
        .filter(|b| exposed(b))
        .map(|b| b.name.as_str())
        .collect();
    debug_assert_eq!(names.len(), count);
    println!(
        "{}",
        json!({
            "buckets": buckets.len(),
            "iterations": samples.len(),
            "median_ns_per_bucket": samples[samples.len() / 2],
            "exposed": names,
        })
    );
    std::process::ExitCode::SUCCESS
}
