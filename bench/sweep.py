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

    The finding's evidence names the blocking setting (shared/core/src/finding.rs `Evidence.details`).
    """
    ev = f.get("evidence") or {}
    details = ev.get("details") or {}
    for k, v in details.items():
        if "block" in k.lower() and v not in (None, False, "", [], {}):
            return True
        if v == "public-but-blocked":
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


def emulator_capacity(moto: Moto, buckets: list[str], threads: int, seconds: float = 3.0) -> float:
    """Calls per second moto_server answers (S3 GetBucketAcl over raw keep-alive HTTP, `threads` clients):
    the ceiling any sweep against this emulator runs into."""
    import http.client
    import threading
    import time
    import urllib.parse

    u = urllib.parse.urlsplit(moto.url)
    headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, "
                                "SignedHeaders=host, Signature=0"}
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        k = i
        while time.perf_counter() < stop:
            conn.request("GET", f"/{buckets[k % len(buckets)]}?acl", headers=headers)
            conn.getresponse().read()
            counts[i] += 1
            k += threads
        conn.close()

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / seconds


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


def scheduled_event(account: str) -> bytes:
    """EventBridge scheduled event, as the `sweep` function receives it (EventBridge User Guide,
    "Creating a rule that runs on a schedule")."""
    return json.dumps({
        "version": "0", "id": "89d1a02d-5ec7-412e-82f5-13505f849b41", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": account, "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:{account}:rule/tripline-sweep"], "detail": {},
    }).encode()


def sweep_function(moto: Moto, n: int, expected: dict) -> dict | None:
    """The `sweep` Lambda binary under the fake runtime API: time of one scheduled invocation, its CPU and
    peak RSS; its findings are read back from an SQS queue subscribed to the alert topic."""
    import boto3

    import functions
    from lambda_rt import run_function

    binary = functions.RELEASE / "sweep"
    if not binary.exists():
        return None
    seeded = functions.seed_account(moto.url, expected["account"])
    kw = dict(endpoint_url=moto.url, region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing")
    sqs, sns = boto3.client("sqs", **kw), boto3.client("sns", **kw)
    q = sqs.create_queue(QueueName=f"bench-sweep-{n}")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=seeded["topic"], Protocol="sqs", Endpoint=qarn,
                  Attributes={"RawMessageDelivery": "true"})
    env = functions.function_env(moto.url, seeded)
    cpu0 = moto.cpu_seconds()
    r = run_function(binary, env, [scheduled_event(expected["account"])], name="sweep", timeout=900)
    emu = moto.cpu_seconds() - cpu0
    inv = r.invocations[0] if r.invocations else None
    bodies = []
    while True:
        msgs = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            break
        bodies += [m["Body"] for m in msgs]
        sqs.delete_message_batch(QueueUrl=q, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
    flagged, findings = tripline_flagged("\n".join(b.replace("\n", " ") for b in bodies))
    out = {"wall_s": (inv["ms"] or 0) / 1000 if inv and inv["ms"] else None, "cpu_s": r.cpu_s,
           "max_rss_kb": r.vmhwm_kb, "emulator_cpu_s": emu, "status": inv["status"] if inv else "no response",
           "messages": len(bodies), "findings": len(findings)}
    if not inv or inv["status"] != "response":
        out["error"] = (inv["body"] if inv else (r.init_error or r.stderr_tail))[-400:]
    else:
        out["verdict"] = compare(expected, flagged)
    log(f"sweep function N={n}: {out['wall_s']} s, {len(bodies)} messages, status {out['status']}")
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
            fn = sweep_function(moto, n, expected)
            if fn is not None:
                per_tool["tripline sweep function"] = {
                    "runs": [fn], "median_wall_s": fn["wall_s"], "median_cpu_s": fn["cpu_s"],
                    "median_rss_kb": fn["max_rss_kb"], "median_emulator_cpu_s": fn["emulator_cpu_s"],
                    "verdict": fn.get("verdict") or {"error": fn.get("error", "no verdict")}}
            results["runs"][str(n)] = per_tool
            if n == ns[0]:
                results["calls"] = count_calls(moto, tools_argv(custodian, policy, tripline, n), env, n)
                names = sorted(expected["buckets"])
                results["emulator_calls_per_s"] = {str(k): emulator_capacity(moto, names, k) for k in (1, 8)}
                log(f"emulator capacity: {results['emulator_calls_per_s']} calls/s")
    return results
