"""`make bench`: runs every measurement and rewrites the generated tables in BENCHMARKS.md.

Usage: run.py [--only criterion,cold,handler,sweep,engine,hostile] [--quick]
Results also go to bench/results.json (committed with BENCHMARKS.md, so the tables can be traced back to
the raw samples) and target/bench/ (scratch: emulator seeds, tool outputs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import BENCH, OUT, ROOT, log, machine, write_json  # noqa: E402

RESULTS = BENCH / "results.json"
DOC = ROOT / "BENCHMARKS.md"


def fmt_ms(x) -> str:
    return "n/a" if x is None or x != x else (f"{x:.1f}" if x >= 10 else f"{x:.2f}")


def fmt_ns(ns: float) -> str:
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns / 1e6:.2f} ms"


def mark(ok) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


# --- sections -----------------------------------------------------------------------------------------

def md_machine(r: dict) -> str:
    m = r["machine"]
    return "\n".join([
        "| | |", "| --- | --- |",
        f"| CPUs (nproc) | {m['nproc']} |", f"| CPU | {m['cpu']} |", f"| memory | {m['memory']} |",
        f"| kernel | {m['kernel']} |", f"| rustc | {m['rustc']} |", f"| python (harness, Custodian) | {m['python']} |",
        f"| load average at start | {m['load_at_start']} |", f"| run | {m['date']}, {r.get('duration_s', 0) / 60:.1f} min |",
    ])


CRITERION_GOALS = [
    (re.compile(r"no.?match|nothing|ignored|irrelevant", re.I), "per_s", 50_000, ">= 50k events/s"),
    (re.compile(r"full|match", re.I), "per_s", 10_000, ">= 10k events/s"),
    (re.compile(r"public", re.I), "median_ns", 20_000, "< 20 µs"),
    (re.compile(r"diff", re.I), "median_ns", 1_000_000, "< 1 ms"),
]


def criterion_goal(row: dict):
    for rx, key, bound, text in CRITERION_GOALS:
        if rx.search(row["id"]) and key in row:
            ok = row[key] >= bound if key == "per_s" else row[key] < bound
            return text, ok
    return "", None


def md_criterion(r: dict) -> str:
    c = r.get("criterion") or {}
    if "error" in c:
        return f"Not measured: {c['error']}"
    lines = [f"Load average after the runs: {c.get('load', 'n/a')}.", "",
             "| benchmark | median | throughput | goal | |", "| --- | ---: | ---: | --- | --- |"]
    for row in c.get("results", []):
        thr = (f"{row['per_s']:,.0f} /s" if "per_s" in row
               else f"{row['bytes_per_s'] / 1e6:,.0f} MB/s" if "bytes_per_s" in row else "")
        goal, ok = criterion_goal(row)
        lines.append(f"| `{row['id']}` | {fmt_ns(row['median_ns'])} | {thr} | {goal} | {mark(ok) if goal else ''} |")
    return "\n".join(lines)


def md_cold(r: dict) -> str:
    c = r.get("cold") or {}
    if "error" in c:
        return f"Not measured: {c['error']}"
    lines = [f"Load average after the runs: {c.get('load', 'n/a')}. Median of {c['runs']} starts per binary and variant, interleaved. Goals: start under 25 ms and within "
             "2x of hello-world; peak RSS under 32 MB; zip under 6 MB. \"bundle-only\": the same binaries with the "
             "CA certificates laid out as on Lambda (one bundle file, no per-certificate directory; see analysis).",
             "CPU: the process's CPU time up to the first poll (all threads, from /proc schedstat): unlike wall "
             "time it hardly moves with the machine's background load.",
             "AWS calls before the first poll: their time as the binary logged it (only `notify-slack` makes one: "
             "it reads its webhook secret at cold start, as issue 5 specifies).",
             "", "| binary | start -> first poll | x hello | bundle-only start | x hello | CPU to first poll | x hello | "
             "CPU bundle-only | x hello | min / max | AWS calls before first poll | peak RSS | zip | goals |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, e in c["functions"].items():
        if not e["ok_runs"]:
            lines.append(f"| `{name}` | failed: {e.get('failure', '')[:160].replace('|', '/')} | | | | | | | |")
            continue
        b = e.get("bundle_only") or {}
        goals = []
        if name != "hello":
            goals = [e["median_ms"] < 25, (e["x_hello"] or 99) <= 2, e["median_rss_kb"] < 32 * 1024,
                     e["zip_bytes"] < 6e6]
        names = ["start", "x hello", "RSS", "zip"]
        verdict = ("all met" if all(goals) else "**missed**: " + ", ".join(
            n for n, ok in zip(names, goals) if not ok)) if goals else "floor"
        if goals and not goals[1] and (b.get("x_hello") or 99) <= 2:
            verdict += " (met bundle-only)"
        bx = f"{b['x_hello']:.2f}" if b.get("x_hello") else "n/a"

        def x(v):
            return f"{v:.2f}" if v else "n/a"

        lines.append(f"| `{name}` | {fmt_ms(e['median_ms'])} ms | {e['x_hello']:.2f} | {fmt_ms(b.get('median_ms'))} ms | "
                     f"{bx} | {fmt_ms(e.get('median_cpu_ms'))} ms | {x(e.get('x_hello_cpu'))} | "
                     f"{fmt_ms(b.get('median_cpu_ms'))} ms | {x(b.get('x_hello_cpu'))} | {fmt_ms(e['min_ms'])} / {fmt_ms(e['max_ms'])} | "
                     f"{fmt_ms(e.get('median_aws_ms') or 0.0)} ms | {e['median_rss_kb'] / 1024:.1f} MB | "
                     f"{e['zip_bytes'] / 1e6:.2f} MB ({e['zip_source']}) | {verdict} |")
    return "\n".join(lines)


def md_handler(r: dict) -> str:
    h = r.get("handler") or {}
    if "error" in h:
        return f"Not measured: {h['error']}"
    lines = [f"Load average after the runs: {h.get('load', 'n/a')}. Emulator per-call latency (STS GetCallerIdentity, raw HTTP keep-alive, median): "
             f"{fmt_ms(h['trivial_call_ms_direct'])} ms direct, {fmt_ms(h['trivial_call_ms_proxy'])} ms through the "
             f"counting proxy. Invocation: event handed out by the fake runtime API -> response posted back, median of {h['repeats'] - 1} warm "
             "invocations (the first is shown separately: it opens the connections and sets up TLS). Handler: the "
             "handler's own time as it logs it (`elapsed_us` of \"event evaluated\": intake, state reads, rules, "
             "publishing; the invocation minus the runtime API round trip through the Python fake). Calls: counted "
             "by the proxy. Sum and chain: each call's time as the function measured it (its per-call timing log, "
             "shared/aws/src/timing.rs); chain = the slowest dependent chain of those calls (see method). The last "
             "column is the same chain from the proxy's timestamps, which leave out the proxy's own forwarding. "
             "Goal: handler <= 1.2x chain.", "",
             "| event | first | invocation | handler | AWS calls | sum of call times | slowest chain | handler - chain | handler / chain | invocation / chain | chain (proxy) | result |",
             "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    quiet = []
    for name, e in h["events"].items():
        if not e["calls"] and e["status"] == "response":
            quiet.append(e)
            continue
        x = e.get("x_chain")
        ok = None if x is None else x <= 1.2
        res = "ok" if e["status"] == "response" else f"{e['status']}: {e['body'][:80]}"
        ops = ", ".join(sorted({o.split(":", 1)[1] for o in e.get("ops", [])}))
        chain = e.get("warm_client_chain_ms")
        hm = e.get("warm_handler_ms")
        gap = hm - chain if chain is not None and chain == chain and hm is not None and hm == hm else None
        xi = e.get("x_chain_invocation")
        lines.append(f"| `{name.removeprefix('cloudtrail-')}` | {fmt_ms(e['first_ms'])} ms | {fmt_ms(e['warm_ms'])} ms | "
                     f"{fmt_ms(hm)} ms | {e['calls']} ({ops}) | {fmt_ms(e.get('warm_client_serial_ms'))} ms | "
                     f"{fmt_ms(chain)} ms | {fmt_ms(gap)} ms | "
                     f"{'n/a' if x is None else f'{x:.2f}'} {mark(ok) if ok is not None else ''} | "
                     f"{'n/a' if xi is None else f'{xi:.2f}'} | "
                     f"{fmt_ms(e['warm_chain_ms'])} ms | {res.replace('|', '/')} |")
    if quiet:
        lines += ["", f"{len(quiet)} further events need no AWS call at all (nothing to confirm, nothing found): "
                  f"median warm handler time {fmt_ms(sorted(q['warm_ms'] for q in quiet)[len(quiet) // 2])} ms "
                  "(the pure path plus the runtime API round trip)."]
    return "\n".join(lines)


def md_store(r: dict) -> str:
    """Section 3b: the same events with the findings store, side by side with section 3's run."""
    h, w = r.get("handler") or {}, r.get("handler_store") or {}
    if "error" in h or "error" in w or not w.get("events"):
        return f"Not measured: {w.get('error') or h.get('error') or 'no run with the store yet'}"
    lines = [f"Load average after the runs: {w.get('load', 'n/a')}. Warm invocations, medians; each one a new event "
             "id about the same exposure, so the first records `new` (and publishes) and the warm ones record "
             "`unchanged` (GetItem + conditional PutItem, nothing published: the notification policy). Handler: "
             "its own logged time. Chain: the slowest dependent chain of its calls as the function timed them, "
             "the store's calls included (see the method above). Goal: handler <= 1.2x chain.", "",
             "| event | handler without store | handler with store | added by the store | AWS calls with store | slowest chain | handler / chain | result |",
             "| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |"]
    added_all, worst, met, n = [], 0.0, 0, 0
    for name, e in w["events"].items():
        base = (h.get("events") or {}).get(name) or {}
        if not e["calls"] and e["status"] == "response":
            continue
        if not any(o.startswith("dynamodb:") for o in e.get("ops", [])):
            continue
        hm, hb = e.get("warm_handler_ms"), base.get("warm_handler_ms")
        added = hm - hb if hm is not None and hb is not None and hm == hm and hb == hb else None
        if added is not None:
            added_all.append(added)
        x = e.get("x_chain")
        ok = None if x is None else x <= 1.2
        if x is not None:
            n += 1
            met += bool(ok)
            worst = max(worst, x)
        ops = ", ".join(sorted({o.split(":", 1)[1] for o in e.get("ops", [])}))
        res = "ok" if e["status"] == "response" else f"{e['status']}: {e['body'][:80]}"
        lines.append(f"| `{name.removeprefix('cloudtrail-')}` | {fmt_ms(hb)} ms | {fmt_ms(hm)} ms | {fmt_ms(added)} ms | "
                     f"{e['calls']} ({ops}) | {fmt_ms(e.get('warm_client_chain_ms'))} ms | "
                     f"{'n/a' if x is None else f'{x:.2f}'} {mark(ok) if ok is not None else ''} | {res.replace('|', '/')} |")
    if added_all:
        med = sorted(added_all)[len(added_all) // 2]
        lines += ["", f"{n} events with findings: {met} of {n} within 1.2x of their chain (worst {worst:.2f}x); the store "
                  f"adds {fmt_ms(med)} ms per event (median; {fmt_ms(min(added_all))} to {fmt_ms(max(added_all))} ms), "
                  "the time of its two DynamoDB calls."]
    return "\n".join(lines)


def md_sweep(r: dict) -> str:
    s = r.get("sweep") or {}
    if "error" in s:
        return f"Not measured: {s['error']}"
    lines = []
    if not s.get("tripline_available"):
        lines += ["`tripline scan` was not available when this ran: only Custodian was measured.", ""]
    lines += [f"Load average after the runs: {s.get('load', 'n/a')}. Median of {s['repeats']} runs per tool and N. CPU = user + sys of the tool's process tree; "
              "emulator CPU = moto_server's CPU during the run. Verdict: exactly the expected exposed buckets?", "",
              "| N | tool | wall | CPU | peak RSS | emulator CPU | flagged / expected | missed | wrong |",
              "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for n, tools in s["runs"].items():
        for tool, t in tools.items():
            v = t.get("verdict") or {}
            if "error" in v:
                lines.append(f"| {n} | {tool} | failed: {v['error'][:150].replace('|', '/')} | | | | | | |")
                continue
            missed = ", ".join(f"{k} x{c}" for k, c in v.get("missed_by_category", {}).items()) or "none"
            wrong = ", ".join(f"{k} x{c}" for k, c in v.get("wrong_by_category", {}).items()) or "none"
            lines.append(f"| {n} | {tool} | {t['median_wall_s']:.2f} s | {t['median_cpu_s']:.2f} s | "
                         f"{t['median_rss_kb'] / 1024:.0f} MB | {t['median_emulator_cpu_s']:.2f} s | "
                         f"{v.get('flagged')} / {v.get('expected')} | {missed} | {wrong} |")
    calls = s.get("calls") or {}
    if calls:
        lines += ["", "AWS calls per run (one extra untimed run through the counting proxy, N = "
                  f"{next(iter(calls.values()))['n']}):", "", "| tool | calls | per bucket | by operation |",
                  "| --- | ---: | ---: | --- |"]
        for tool, c in calls.items():
            ops = ", ".join(f"{k} {v}" for k, v in c["ops"].items())
            lines.append(f"| {tool} | {c['calls']} | {c['per_bucket']:.1f} | {ops} |")
    ratios = []
    for n, tools in s["runs"].items():
        c = tools.get("custodian") or {}
        for tool, t in tools.items():
            if tool == "custodian" or not t.get("median_wall_s") or not c.get("median_wall_s"):
                continue
            if "error" in (t.get("verdict") or {}):
                continue
            tw, cw, tc, cc = t["median_wall_s"], c["median_wall_s"], t["median_cpu_s"], c["median_cpu_s"]
            cpu = f"{cc / tc:.1f}x" if tc else "n/a"
            ratios.append(f"| {n} | {tool} | {cw / tw:.1f}x | {cpu} | {mark(cw / tw >= 10)} |")
    if ratios:
        lines += ["", "| N | Tripline as | Custodian / Tripline wall | Custodian / Tripline CPU | goal >= 10x faster |",
                  "| ---: | --- | ---: | ---: | --- |", *ratios]
    return "\n".join(lines)


def md_growth(r: dict) -> str:
    s = r.get("sweep") or {}
    if "error" in s or not s.get("runs"):
        return "Not measured."
    ns = list(s["runs"])
    lines = ["| tool | " + " | ".join(f"N={n}" for n in ns) + " | marginal per bucket | emulator CPU share (largest N) |",
             "| --- | " + " | ".join("---:" for _ in ns) + " | ---: | ---: |"]
    tools = sorted({t for v in s["runs"].values() for t in v}, reverse=True)
    for tool in tools:
        cells, pts, last = [], [], None
        for n in ns:
            t = s["runs"][n].get(tool)
            if not t or not t.get("median_wall_s") or "error" in (t.get("verdict") or {}):
                cells.append("n/a")
                continue
            cells.append(f"{t['median_wall_s']:.2f} s ({t['median_wall_s'] / int(n) * 1000:.1f} ms/bucket)")
            pts.append((int(n), t["median_wall_s"]))
            last = t
        marginal = "n/a"
        if len(pts) >= 2:
            (n1, t1), (n2, t2) = pts[-2], pts[-1]
            marginal = f"{(t2 - t1) / (n2 - n1) * 1000:.1f} ms ({n1}->{n2})"
        share = "n/a"
        if last and last.get("median_emulator_cpu_s") is not None and last.get("median_cpu_s") is not None:
            tot = last["median_emulator_cpu_s"] + last["median_cpu_s"]
            share = f"{last['median_emulator_cpu_s'] / tot * 100:.0f}%" if tot else "n/a"
        lines.append(f"| {tool} | " + " | ".join(cells) + f" | {marginal} | {share} |")
    cap = s.get("emulator_calls_per_s")
    calls = s.get("calls") or {}
    if cap:
        lines += ["", "Emulator ceiling: moto_server answers " + ", ".join(
            f"{v:,.0f} calls/s with {k} client(s)" for k, v in cap.items()) + " (S3 GetBucketAcl, raw HTTP)."]
        best = max(cap.values())
        for tool, c in calls.items():
            lines.append(f"At {c['per_bucket']:.1f} calls per bucket, {tool} cannot sweep faster than "
                         f"{c['per_bucket'] / best * 1000:.1f} ms per bucket against this emulator.")
    return "\n".join(lines)


def md_engine(r: dict) -> str:
    e = r.get("engine") or {}
    if not e or "error" in e:
        return f"Not measured: {e.get('error', 'not run')}"
    cv, tv = e["custodian_verdict"], e.get("tripline_verdict") or {}

    def verdict(v: dict) -> str:
        if not v:
            return "n/a"
        miss = ", ".join(f"{k} x{c}" for k, c in v["missed_by_category"].items()) or "none"
        wrong = ", ".join(f"{k} x{c}" for k, c in v["wrong_by_category"].items()) or "none"
        return f"{v['flagged']} / {v['expected']} (missed: {miss}; wrong: {wrong})"

    t = e.get("tripline_ns_per_bucket")
    lines = [f"{e['n']} recorded buckets, median of repeated passes.", "",
             "| engine | time per bucket | x Tripline | flagged / expected |", "| --- | ---: | ---: | --- |",
             f"| Tripline (`bench/engine-eval`, release) | {fmt_ns(t) if t else 'n/a'} | 1 | {verdict(tv)} |",
             f"| Custodian filters (`s3-public.yml`) | {fmt_ns(e['custodian_ns_per_bucket'])} | "
             f"{e['ratio']:.0f}x | {verdict(cv)} |" if t else "",
             f"| Custodian filters without `check-public-block` | {fmt_ns(e['custodian_pure_ns_per_bucket'])} | "
             f"{e['ratio_pure']:.1f}x | (not comparable: ignores Block Public Access) |" if t else ""]
    return "\n".join(x for x in lines if x is not None)


def md_goals(r: dict) -> str:
    rows = []
    crit = (r.get("criterion") or {}).get("results") or []
    for row in crit:
        goal, ok = criterion_goal(row)
        if goal:
            val = f"{row['per_s']:,.0f} /s" if "per_s" in row and "/s" in goal else fmt_ns(row["median_ns"])
            rows.append((f"pure path: `{row['id']}` {goal}", val, ok))
    cold = (r.get("cold") or {}).get("functions") or {}
    fns = {k: v for k, v in cold.items() if k != "hello" and v.get("ok_runs")}
    if fns:
        worst = max(fns.values(), key=lambda e: e["median_ms"])
        rows.append(("cold start < 25 ms (slowest function)", f"{fmt_ms(worst['median_ms'])} ms",
                     worst["median_ms"] < 25))
        wname, we = max(fns.items(), key=lambda kv: kv[1]["x_hello"] or 99)
        wx = we["x_hello"] or 99
        wxb = max((e.get("bundle_only") or {}).get("x_hello") or 99 for e in fns.values())
        detail = f"{wx:.2f}x `{wname}` ({wxb:.2f}x bundle-only)"
        if we.get("median_aws_ms"):
            rest = {k: v for k, v in fns.items() if not v.get("median_aws_ms")}
            detail += (f", of which {fmt_ms(we['median_aws_ms'])} ms is its AWS call before the first poll")
            if rest:
                detail += f"; the functions without one: at most {max(v['x_hello'] or 99 for v in rest.values()):.2f}x"
        rows.append(("cold start within 2x of hello-world (worst function)", detail, wx <= 2))
        rss = max(e["median_rss_kb"] for e in fns.values())
        rows.append(("peak RSS < 32 MB (largest)", f"{rss / 1024:.1f} MB", rss < 32 * 1024))
        z = max(e["zip_bytes"] for e in fns.values())
        rows.append(("zip < 6 MB (largest)", f"{z / 1e6:.2f} MB", z < 6e6))
    h = (r.get("handler") or {}).get("events") or {}
    xs = [e["x_chain"] for e in h.values() if e.get("x_chain")]
    if xs:
        met = sum(1 for x in xs if x <= 1.2)
        xi = [e["x_chain_invocation"] for e in h.values() if e.get("x_chain") and e.get("x_chain_invocation")]
        also = (f"; invocation incl. the runtime API round trip: {sum(1 for x in xi if x <= 1.2)} of {len(xi)}, "
                f"worst {max(xi):.2f}x") if xi else ""
        rows.append(("handler <= 1.2x slowest dependent chain",
                     f"{met} of {len(xs)} events (worst {max(xs):.2f}x{also})", met == len(xs)))
    ws = (r.get("handler_store") or {}).get("events") or {}
    xs = [e["x_chain"] for e in ws.values()
          if e.get("x_chain") and any(o.startswith("dynamodb:") for o in e.get("ops", []))]
    if xs:
        met = sum(x <= 1.2 for x in xs)
        rows.append(("with the findings store: handler <= 1.2x slowest dependent chain",
                     f"{met} of {len(xs)} events (worst {max(xs):.2f}x)", met == len(xs)))
    sw = (r.get("sweep") or {}).get("runs") or {}
    if sw:
        n = max(sw, key=int)
        t, c = sw[n].get("tripline") or {}, sw[n].get("custodian") or {}
        if t.get("median_wall_s") and c.get("median_wall_s"):
            rows.append((f"sweep >= 10x faster than Custodian (N={n}, wall)", f"{c['median_wall_s'] / t['median_wall_s']:.1f}x",
                         c["median_wall_s"] / t["median_wall_s"] >= 10))
            rows.append((f"sweep >= 10x less CPU than Custodian (N={n})", f"{c['median_cpu_s'] / t['median_cpu_s']:.1f}x",
                         c["median_cpu_s"] / t["median_cpu_s"] >= 10))
        exact = all((v.get("verdict") or {}).get("exact") for tools in sw.values() for k, v in tools.items()
                    if k != "custodian")
        rows.append(("no wrong verdicts (Tripline, every N)", "exact" if exact else "not exact", exact))
    e = r.get("engine") or {}
    if e.get("ratio_pure"):
        rows.append(("engine >= 10x faster than Custodian's filters (same data)", f"{e['ratio_pure']:.0f}x", e["ratio_pure"] >= 10))
    if not rows:
        return "Not measured yet."
    return "\n".join(["| goal | measured | |", "| --- | --- | --- |",
                      *(f"| {g} | {v} | {mark(ok)} |" for g, v, ok in rows)])


def md_hostile(r: dict) -> str:
    import hostile

    return hostile.markdown(r["hostile"])


SECTIONS = {"goals": md_goals, "machine": md_machine, "criterion": md_criterion, "cold": md_cold, "handler": md_handler, "store": md_store,
            "sweep": md_sweep, "engine": md_engine, "growth": md_growth, "hostile": md_hostile}


def rewrite_doc(r: dict) -> None:
    text = DOC.read_text()
    for name, fn in SECTIONS.items():
        begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
        if begin not in text:
            continue
        try:
            body = fn(r)
        except (KeyError, TypeError, ValueError) as e:
            body = f"Not rendered: `{e!r}`"
        pre, rest = text.split(begin, 1)
        _, post = rest.split(end, 1)
        text = f"{pre}{begin}\n{body}\n{end}{post}"
    DOC.write_text(text)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="criterion,cold,handler,sweep,engine,hostile")
    ap.add_argument("--quick", action="store_true", help="fewer repeats, N up to 200")
    ap.add_argument("--render", action="store_true", help="only re-render BENCHMARKS.md from bench/results.json")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.render:
        rewrite_doc(json.loads(RESULTS.read_text()))
        return 0
    only = set(args.only.split(","))
    prev = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    r = dict(prev)
    r["machine"] = machine()
    started = time.time()
    import criterion_results
    import functions
    import sweep

    def load() -> str:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())

    if "criterion" in only:
        r["criterion"] = criterion_results.run_benches(1 if args.quick else 3)
        r["criterion"]["load"] = load()
    if "cold" in only:
        r["cold"] = functions.cold_starts(5 if args.quick else 20)
        r["cold"]["load"] = load()
    if "handler" in only:
        r["handler"] = functions.handler_times(4 if args.quick else 8)
        r["handler"]["load"] = load()
    if "handler" in only or "store" in only:
        r["handler_store"] = functions.handler_times(4 if args.quick else 8, store=True)
        r["handler_store"]["load"] = load()
    if "sweep" in only:
        tripline = ROOT / "target" / "release" / "tripline"
        has_scan = tripline.exists() and os.system(f"{tripline} scan --help >/dev/null 2>&1") == 0
        ns = [50, 200] if args.quick else [50, 200, 1000]
        r["sweep"] = sweep.run_sweeps(ns, 1 if args.quick else 3, tripline if has_scan else None)
        r["sweep"]["load"] = load()
    if "engine" in only:
        import c7n_eval
        import seed_s3
        from common import Moto

        with Moto() as moto:
            r["engine"] = c7n_eval.engine_vs_engine(moto, seed_s3.seed(moto.url, 200))
    if "hostile" in only:
        import hostile

        r["hostile"] = hostile.run(1 if args.quick else 3)
        r["hostile"]["load"] = load()
    r["duration_s"] = time.time() - started
    write_json(RESULTS, r)
    rewrite_doc(r)
    log(f"done in {r['duration_s'] / 60:.1f} min; BENCHMARKS.md rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
