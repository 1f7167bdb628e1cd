"""Runs the criterion benches of the pure path (shared/core/benches/*.rs, owned by the engine and rule-catalog
work) and collects their medians from target/criterion/**/new/{estimates,benchmark}.json."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from common import ROOT, log


def run_benches(measurement_s: int = 3, warmup_s: int = 1) -> dict:
    benches = sorted(p.stem for p in (ROOT / "shared" / "benches").glob("*.rs"))
    if not benches:
        return {"error": "no criterion benches in shared/core/benches/"}
    started = time.time()
    argv = ["cargo", "bench", "-p", "tripline-core"]
    for b in benches:
        argv += ["--bench", b]
    argv += ["--", "--warm-up-time", str(warmup_s), "--measurement-time", str(measurement_s)]
    log("criterion: " + " ".join(argv))
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": f"cargo bench failed ({p.returncode}): {p.stderr.strip()[-800:]}", "benches": benches}
    return {"benches": benches, "results": collect(started)}


def collect(since: float = 0.0) -> list[dict]:
    out = []
    for est in sorted((ROOT / "target" / "criterion").glob("**/new/estimates.json")):
        if est.stat().st_mtime < since:
            continue
        bench_json = est.parent / "benchmark.json"
        meta = json.loads(bench_json.read_text()) if bench_json.exists() else {}
        e = json.loads(est.read_text())
        median_ns = e["median"]["point_estimate"]
        row = {"id": meta.get("full_id") or str(est.parent.parent.relative_to(ROOT / "target" / "criterion")),
               "median_ns": median_ns,
               "ci_ns": [e["median"]["confidence_interval"]["lower_bound"],
                         e["median"]["confidence_interval"]["upper_bound"]]}
        thr = meta.get("throughput") or {}
        if "Elements" in thr:
            row["elements"] = thr["Elements"]
            row["per_s"] = thr["Elements"] / (median_ns / 1e9)
        elif "Bytes" in thr:
            row["bytes"] = thr["Bytes"]
            row["bytes_per_s"] = thr["Bytes"] / (median_ns / 1e9)
        out.append(row)
    return out


if __name__ == "__main__":
    print(json.dumps(collect(), indent=2))
