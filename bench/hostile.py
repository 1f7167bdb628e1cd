"""Hostile documents (issue 15): the release `tripline` on the adversarial worst cases at AWS's size limits.

The documents come from the engine's own generator (`tripline_core::policy::adversarial`, written to disk by
`cargo run --release -p tripline-core --example adversarial`). Each command runs as a whole process under
`/usr/bin/time`, so the figures are what a Lambda function would pay: wall time and peak RSS, next to the floor
(`policy diff` of two empty policies) measured in the same run. Budget: 32 MiB and 50 ms above the floor
(the floor is the process itself: start-up and the action catalog).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from common import ROOT, clean_env, log

RELEASE = ROOT / "target" / "release"
EMPTY = '{"Version": "2012-10-17", "Statement": []}'


def timed(argv: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak RSS KiB, exit code) of one process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        p = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", "-o", t.name, *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=clean_env(),
        )
        wall, rss = Path(t.name).read_text().split()[-2:]
    return float(wall), int(rss), p.returncode


def run(repeats: int = 3) -> dict:
    tripline = RELEASE / "tripline"
    work = Path(tempfile.mkdtemp(prefix="tripline-hostile-"))
    subprocess.run(
        ["cargo", "run", "-q", "--release", "-p", "tripline-core", "--example", "adversarial", "--", str(work)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    empty = work / "empty.json"
    empty.write_text(EMPTY)
    docs = sorted(p for p in work.glob("*.json") if not p.name.endswith(".event.json") and p != empty)
    events = sorted(work.glob("*.event.json"))

    def best(argv: list[str]) -> dict:
        runs = [timed(argv) for _ in range(repeats)]
        return {"wall_s": min(r[0] for r in runs), "rss_kib": max(r[1] for r in runs), "exit": runs[0][2]}

    floor = best([str(tripline), "policy", "diff", str(empty), str(empty)])
    rows = []
    for d in docs:
        for check, argv in [
            ("diff self", ["policy", "diff", str(d), str(d)]),
            ("diff new", ["policy", "diff", str(empty), str(d)]),
            ("escalation", ["policy", "escalation", str(d)]),
            ("public", ["policy", "public", str(d)]),
        ]:
            rows.append({"doc": d.stem, "check": check, **best([str(tripline), *argv])})
    for e in events:
        rows.append({"doc": e.name.removesuffix(".event.json"), "check": "assess", **best([str(tripline), "assess", str(e)])})
    log(f"hostile: {len(docs)} documents, {len(events)} events, {len(rows)} runs")
    return {"floor": floor, "rows": rows, "documents": len(docs), "events": len(events)}


def markdown(r: dict) -> str:
    floor = r["floor"]
    rows = r["rows"]
    lines = [
        f"{r['documents']} generated documents and {r['events']} events carrying them, every check as a whole "
        f"`tripline` process (release), best of the repeats for time, worst for memory. Floor (`policy diff` "
        f"of two empty policies): {floor['wall_s'] * 1e3:.0f} ms, {floor['rss_kib'] / 1024:.1f} MiB.",
        "",
        "| check | runs | worst wall | worst peak RSS | worst above the floor (time, memory) | failed (exit 2 or crash) | goal (+50 ms, +32 MiB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for check in ["diff self", "diff new", "escalation", "public", "assess"]:
        mine = [x for x in rows if x["check"] == check]
        if not mine:
            continue
        w = max(mine, key=lambda x: x["wall_s"])
        m = max(mine, key=lambda x: x["rss_kib"])
        above = (m["rss_kib"] - floor["rss_kib"]) / 1024
        slower = (w["wall_s"] - floor["wall_s"]) * 1e3
        bad = sum(1 for x in mine if x["exit"] not in (0, 1))
        ok = slower <= 50 and above <= 32 and bad == 0
        lines.append(
            f"| `{check}` | {len(mine)} | {w['wall_s'] * 1e3:.0f} ms (`{w['doc']}`) | "
            f"{m['rss_kib'] / 1024:.1f} MiB (`{m['doc']}`) | {slower:+.0f} ms, {above:+.1f} MiB | {bad} | {'met' if ok else '**missed**'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    out = run(1)
    print(json.dumps(out["floor"]))
    print(markdown(out))
