"""Sweep side by side: `tripline scan` and `custodian run` against the same seeded emulator.

For each N, the emulator is reset and seeded (seed_s3.py records the expected verdicts), then each tool
runs `repeats` times under GNU time. Wall time, CPU time (user+sys), peak RSS, the emulator's own CPU
time during the run, and which buckets each tool flagged versus the expected set are recorded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from common import BENCH, BENCH_VENV, OUT, Moto, clean_env, log, median, run_timed
from count_proxy import CountingProxy
import seed_s3

# Tripline rules whose findings mean "this bucket is exposed" (when not neutralised by Block Public Access).
EXPOSURE_RULES = {"s3-bucket-policy-public", "s3-bucket-acl-public"}


def bucket_of(arn_or_name: str) -> str:
    return arn_or_name.split(":::", 1)[1].split("/", 1)[0] if ":::" in arn_or_name else arn_or_name


def walk_findings(value):
    """Every JSON object that looks like a finding (has `rule` and `resource`), wherever it is nested."""
    if isinstance(value, dict):
        if "rule" in value and "resource" in value:
            yield value
        else:
            for v in value.values():
                yield from walk_findings(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk_findings(v)


def finding_is_blocked(f: dict) -> bool:
    """True when Block Public Access neutralises the exposure (Tripline reports it at lower severity).

    The finding's evidence names the blocking setting (shared/src/finding.rs `Evidence.details`).
    """
    ev = f.get("evidence") or {}
    details = ev.get("details") or {}
    for k, v in details.items():
        if "block" in k.lower() and v not in (None, False, "", [], {}):
            return True
    return False


def tripline_flagged(stdout: str) -> tuple[set[str], list[dict]]:
    text = stdout.strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:  # JSON lines
        data = [json.loads(line) for line in text.splitlines() if line.strip().startswith(("{", "["))]
    findings = list(walk_findings(data))
    flagged = set()
    for f in findings:
        res = f.get("resource")
        arn = res.get("arn") or res.get("name") if isinstance(res, dict) else str(res)
        if f.get("rule") in EXPOSURE_RULES and not finding_is_blocked(f) and not f.get("suppressed"):
            flagged.add(bucket_of(arn or ""))
    return flagged, findings


def custodian_flagged(outdir: Path) -> set[str]:
    res = json.loads((outdir / "s3-public" / "resources.json").read_text())
    return {b["Name"] for b in res}


def compare(expected: dict, flagged: set[str]) -> dict:
    exp = set(expected["expected_exposed"])
    missed = sorted(exp - flagged)
    wrong = sorted(flagged - exp)
    cats = expected["buckets"]

    def by_cat(names):
        out: dict[str, int] = {}
        for n in names:
            c = cats.get(n, {}).get("category", "unknown")
            out[c] = out.get(c, 0) + 1
        return out

    return {"expected": len(exp), "flagged": len(flagged), "exact": not missed and not wrong,
            "missed": len(missed), "wrong": len(wrong), "missed_by_category": by_cat(missed),
            "wrong_by_category": by_cat(wrong), "missed_sample": missed[:5], "wrong_sample": wrong[:5]}


def tripline_cmd(tripline: Path, url: str) -> list[str]:
    return [str(tripline), "scan", "--endpoint-url", url, "--format", "json"]


def tools_argv(custodian: Path, policy: Path, tripline: Path | None, n: int) -> dict:
    out = {"custodian": lambda url: [str(custodian), "run", "--cache-period", "0", "-r", "us-east-1", "-s",
                                     str(OUT / f"c7n-calls-{n}"), str(policy)]}
    if tripline:
        out["tripline"] = lambda url: tripline_cmd(tripline, url)
    return out


def count_calls(moto: Moto, tools: dict, env: dict, n: int) -> dict:
    """One extra, untimed run per tool through the counting proxy: how many AWS calls, of which kinds."""
    out = {}
    proxy = CountingProxy(moto.url)
    try:
        for tool, argv in tools.items():
            proxy.clear()
            e = dict(env, AWS_ENDPOINT_URL=proxy.url)
            run_timed(argv(proxy.url), e, cwd=OUT)
            ops: dict[str, int] = {}
            for c in proxy.calls:
                ops[c.operation] = ops.get(c.operation, 0) + 1
            out[tool] = {"n": n, "calls": len(proxy.calls), "per_bucket": len(proxy.calls) / n,
                         "ops": dict(sorted(ops.items(), key=lambda kv: -kv[1]))}
            log(f"{tool} N={n}: {len(proxy.calls)} AWS calls ({len(proxy.calls) / n:.1f} per bucket)")
    finally:
        proxy.close()
    return out


def run_sweeps(ns: list[int], repeats: int, tripline: Path | None) -> dict:
    custodian = BENCH_VENV / "bin" / "custodian"
    policy = BENCH / "custodian" / "s3-public.yml"
    results: dict = {"ns": ns, "repeats": repeats, "tripline_available": tripline is not None, "runs": {}}
    with Moto() as moto:
        for n in ns:
            moto.reset()
            expected = seed_s3.seed(moto.url, n)
            (OUT / f"expected-{n}.json").write_text(json.dumps(expected, indent=2, sort_keys=True))
            log(f"sweep N={n}: seeded, {len(expected['expected_exposed'])} exposed buckets expected")
            env = clean_env({"AWS_ENDPOINT_URL": moto.url,
                             "TRIPLINE_ORGANIZATION_ID": seed_s3.ORG_ID,
                             "HOME": str(OUT / "home")})  # c7n's cache file lives under HOME
            per_tool: dict = {}
            tools = [("custodian", None)]
            if tripline:
                tools.insert(0, ("tripline", None))
            for tool, _ in tools:
                runs = []
                verdict = None
                for i in range(repeats):
                    if tool == "custodian":
                        outdir = OUT / f"c7n-{n}"
                        shutil.rmtree(outdir, ignore_errors=True)
                        argv = [str(custodian), "run", "--cache-period", "0", "-r", "us-east-1", "-s", str(outdir),
                                str(policy)]
                    else:
                        argv = tripline_cmd(tripline, moto.url)
                    t = run_timed(argv, env, moto=moto, cwd=OUT)
                    ok = t.exit_code == 0 or (tool == "tripline" and t.exit_code == 1)
                    runs.append({"wall_s": t.wall_s, "cpu_s": t.cpu_s, "max_rss_kb": t.max_rss_kb,
                                 "emulator_cpu_s": t.emulator_cpu_s, "exit_code": t.exit_code})
                    if not ok:
                        log(f"{tool} N={n} failed ({t.exit_code}): {t.stderr[-800:]}")
                        verdict = {"error": f"exit {t.exit_code}: {t.stderr.strip()[-400:]}"}
                        break
                    if i == 0:
                        if tool == "custodian":
                            flagged = custodian_flagged(outdir)
                        else:
                            (OUT / f"tripline-scan-{n}.json").write_text(t.stdout)
                            flagged, _ = tripline_flagged(t.stdout)
                        verdict = compare(expected, flagged)
                    log(f"{tool} N={n} run {i + 1}: {t.wall_s:.2f}s wall, {t.cpu_s:.2f}s cpu, "
                        f"{t.max_rss_kb / 1024:.0f} MB, emulator {t.emulator_cpu_s:.2f}s cpu")
                per_tool[tool] = {
                    "runs": runs,
                    "median_wall_s": median([r["wall_s"] for r in runs]),
                    "median_cpu_s": median([r["cpu_s"] for r in runs]),
                    "median_rss_kb": median([r["max_rss_kb"] for r in runs]),
                    "median_emulator_cpu_s": median([r["emulator_cpu_s"] for r in runs]),
                    "verdict": verdict,
                }
            results["runs"][str(n)] = per_tool
            if n == ns[0]:
                results["calls"] = count_calls(moto, tools_argv(custodian, policy, tripline, n), env, n)
    return results
