"""Engine against engine, without the emulator: Custodian's filters and Tripline's verdict over the same
recorded bucket data.

1. Record: run Custodian once with a filter-less `aws.s3` policy against the seeded emulator; its
   resources.json holds every bucket as Custodian augments it (Policy, Acl, ...). Add each bucket's
   Block Public Access configuration (GetPublicAccessBlock) as the `c7n:PublicAccessBlock` annotation that
   c7n's check-public-block filter caches, so that filtering needs no API call.
2. Custodian: load bench/custodian/s3-public.yml with c7n's own loader and time
   `resource_manager.filter_resources(...)` over the recorded buckets (median of repeats).
3. Tripline: bench/engine-eval (Rust, release) evaluates the same buckets (policy parse + public check,
   ACL check, Block Public Access) and reports the median ns per bucket and the exposed set.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import time
from pathlib import Path

import boto3

from common import BENCH, BENCH_VENV, OUT, ROOT, Moto, clean_env, log, median

ENGINE_EVAL = ROOT / "target" / "release" / "tripline-bench-engine-eval"


def record(moto: Moto, n: int) -> list[dict]:
    policy = OUT / "c7n-all.yml"
    policy.write_text("policies:\n  - name: s3-all\n    resource: aws.s3\n")
    outdir = OUT / f"c7n-record-{n}"
    shutil.rmtree(outdir, ignore_errors=True)
    env = clean_env({"AWS_ENDPOINT_URL": moto.url, "HOME": str(OUT / "home")})
    subprocess.run([str(BENCH_VENV / "bin" / "custodian"), "run", "--cache-period", "0", "-r", "us-east-1",
                    "-s", str(outdir), str(policy)], env=env, check=True, capture_output=True, cwd=OUT)
    resources = json.loads((outdir / "s3-all" / "resources.json").read_text())
    s3 = boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    keys = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    for b in resources:
        try:
            cfg = s3.get_public_access_block(Bucket=b["Name"])["PublicAccessBlockConfiguration"]
            b["c7n:PublicAccessBlock"] = cfg
        except s3.exceptions.ClientError:
            b["c7n:PublicAccessBlock"] = {k: False for k in keys}
    return resources


PURE_POLICY = """policies:
  - name: s3-public-pure
    resource: aws.s3
    filters:
      - or:
          - type: cross-account
            everyone_only: true
            whitelist_orgids: [o-a1b2c3d4e5]
          - type: global-grants
            allow_website: false
"""


def time_custodian(resources: list[dict], repeats: int, pure: bool = False) -> tuple[float, set[str]]:
    """Median ns per bucket of c7n's filter pass. `pure`: without check-public-block, whose per-bucket
    boto3 client creation dominates c7n's filter time even when the configuration is already cached."""
    from c7n.config import Config
    from c7n.loader import PolicyLoader

    conf = Config.empty(region="us-east-1", account_id="123456789012", output_dir=str(OUT / "c7n-eval-out"))
    path = BENCH / "custodian" / "s3-public.yml"
    if pure:
        path = OUT / "c7n-pure.yml"
        path.write_text(PURE_POLICY)
    pol = next(iter(PolicyLoader(conf).load_file(str(path))))
    rm = pol.resource_manager
    samples, flagged = [], set()
    for _ in range(repeats):
        data = copy.deepcopy(resources)
        t = time.perf_counter()
        out = rm.filter_resources(data)
        samples.append((time.perf_counter() - t) / len(resources) * 1e9)
        flagged = {b["Name"] for b in out}
    return median(samples), flagged


def time_tripline(resources: list[dict], iterations: int) -> tuple[float, set[str]] | None:
    if not ENGINE_EVAL.exists():
        return None
    rec = [{"name": b["Name"], "policy": b.get("Policy"), "acl": b.get("Acl"),
            "bpa": b.get("c7n:PublicAccessBlock")} for b in resources]
    path = OUT / "recorded-buckets.json"
    path.write_text(json.dumps(rec))
    p = subprocess.run([str(ENGINE_EVAL), str(path), str(iterations)], capture_output=True, text=True, check=True)
    out = json.loads(p.stdout)
    return out["median_ns_per_bucket"], set(out["exposed"])


def engine_vs_engine(moto: Moto, expected: dict, repeats: int = 5) -> dict:
    import os

    from common import FAKE_ENV
    from sweep import compare

    os.environ.update(FAKE_ENV)  # c7n builds boto3 clients while filtering: no real credentials, no IMDS

    resources = record(moto, expected["n"])
    c_ns, c_flagged = time_custodian(resources, repeats)
    pure_ns, _ = time_custodian(resources, repeats, pure=True)
    res = {"n": len(resources), "custodian_ns_per_bucket": c_ns, "custodian_verdict": compare(expected, c_flagged),
           "custodian_pure_ns_per_bucket": pure_ns}
    t = time_tripline(resources, 50)
    if t:
        res["tripline_ns_per_bucket"], t_flagged = t
        res["tripline_verdict"] = compare(expected, t_flagged)
        res["ratio"] = c_ns / t[0] if t[0] else None
        res["ratio_pure"] = pure_ns / t[0] if t[0] else None
    log(f"engine vs engine over {len(resources)} recorded buckets: custodian {c_ns / 1e3:.1f} µs/bucket "
        f"({pure_ns / 1e3:.1f} µs without check-public-block), "
        f"tripline {res.get('tripline_ns_per_bucket', float('nan')) / 1e3:.2f} µs/bucket")
    return res


if __name__ == "__main__":
    import sys

    import seed_s3

    with Moto() as m:
        exp = seed_s3.seed(m.url, int(sys.argv[1]) if len(sys.argv) > 1 else 200)
        print(json.dumps(engine_vs_engine(m, exp), indent=2))
