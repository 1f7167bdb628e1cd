"""Organization scan side by side: `tripline scan --accounts` and `c7n-org run` on the same emulator (issue 13).

For each number of accounts A, a fresh moto_server is seeded with A member accounts of N buckets each (the
round-robin categories of seed_s3.py, so the expected verdicts are known), reached by assuming
`tripline-member-read` (moto maps assumed-role credentials to the role's account, so both tools really
switch accounts). Then, `repeats` times each, under GNU time:

- `tripline scan --accounts ... --member-role tripline-member-read --format json` (global shards: every
  bucket of every account), and
- `c7n-org run -c accounts.yml -u bench/custodian/s3-public.yml` (the same policy as the single-account
  Custodian benchmark, one region per account, c7n-org's process pool).

Recorded: wall, CPU (user + sys of the process tree), peak RSS, the emulator's CPU, and the flagged buckets
per account against the expected ones. Calls per account come from one extra run through the counting proxy.

Usage: .venv-bench/bin/python bench/org_sweep.py --tripline PATH [--accounts 10,50] [--buckets 16] [--repeats 1]
Writes target/bench/org.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import boto3

from common import BENCH, BENCH_VENV, OUT, Moto, clean_env, log, median, run_timed, write_json
from count_proxy import CountingProxy
import seed_s3
from sweep import EXPOSURE_RULES, bucket_of, finding_is_blocked, walk_findings

ROLE = "tripline-member-read"
FIRST_ACCOUNT = 210_000_000_000


def member_session(url: str, account: str) -> boto3.Session:
    sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
    return boto3.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                         aws_session_token=c["SessionToken"], region_name="us-east-1")


def seed(url: str, accounts: list[str], n: int) -> dict[str, set[str]]:
    """N buckets per account; returns account -> the buckets that must be flagged."""
    expected: dict[str, set[str]] = {}
    cats = list(seed_s3.CATEGORIES)
    for a in accounts:
        s3 = member_session(url, a).client("s3", endpoint_url=url)
        exposed = set()
        for i in range(n):
            cat = cats[i % len(cats)]
            name = f"o{a[-5:]}-{i:03d}-{cat}"
            is_exposed, _, policy, acl, bpa = seed_s3.CATEGORIES[cat]
            s3.create_bucket(Bucket=name)
            if policy:
                s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy(name)))
            if acl:
                s3.put_bucket_acl(Bucket=name, ACL=acl)
            if bpa:
                s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=bpa)
            if is_exposed:
                exposed.add(name)
        expected[a] = exposed
    return expected


def tripline_flagged(stdout: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in walk_findings(json.loads(stdout)):
        if f.get("rule") in EXPOSURE_RULES and not finding_is_blocked(f) and not f.get("suppressed"):
            out.setdefault(f["account"], set()).add(bucket_of(f["resource"]["arn"]))
    return out


def c7n_flagged(outdir: Path, names: dict[str, str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for res in outdir.glob("*/*/s3-public/resources.json"):
        account = names[res.parts[-4]]
        out.setdefault(account, set()).update(b["Name"] for b in json.loads(res.read_text()))
    return out


def verdicts(expected: dict[str, set[str]], flagged: dict[str, set[str]]) -> dict:
    missed = sum(len(expected[a] - flagged.get(a, set())) for a in expected)
    wrong = sum(len(flagged.get(a, set()) - expected.get(a, set())) for a in flagged)
    return {"expected": sum(map(len, expected.values())), "flagged": sum(map(len, flagged.values())),
            "missed": missed, "wrong": wrong}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tripline", required=True, type=Path)
    ap.add_argument("--accounts", default="10,50")
    ap.add_argument("--buckets", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    c7n_org = BENCH_VENV / "bin" / "c7n-org"
    policy = BENCH / "custodian" / "s3-public.yml"
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for count in [int(x) for x in args.accounts.split(",")]:
        with Moto() as moto:
            accounts = [str(FIRST_ACCOUNT + i) for i in range(count)]
            expected = seed(moto.url, accounts, args.buckets)
            names = {f"acct-{a}": a for a in accounts}
            cfg = OUT / f"org-accounts-{count}.yml"
            cfg.write_text(json.dumps({"accounts": [
                {"account_id": a, "name": f"acct-{a}", "regions": ["us-east-1"],
                 "role": f"arn:aws:iam::{a}:role/{ROLE}"} for a in accounts]}))
            env = clean_env({"AWS_ENDPOINT_URL": moto.url})
            tools = {
                "tripline": lambda url: [str(args.tripline), "scan", "--endpoint-url", url, "--accounts",
                                         ",".join(accounts), "--member-role", ROLE, "--format", "json"],
                "c7n-org": lambda url: [str(c7n_org), "run", "-c", str(cfg), "-s", str(OUT / f"c7n-org-{count}"),
                                        "-u", str(policy), "--cache-period", "0"],
            }
            for tool, argv in tools.items():
                runs = []
                for _ in range(args.repeats):
                    shutil.rmtree(OUT / f"c7n-org-{count}", ignore_errors=True)
                    t = run_timed(argv(moto.url), env, moto=moto, cwd=OUT)
                    if tool == "tripline":
                        flagged = tripline_flagged(t.stdout)
                    else:
                        flagged = c7n_flagged(OUT / f"c7n-org-{count}", names)
                    runs.append((t, verdicts(expected, flagged)))
                    log(f"{tool} accounts={count}: wall {t.wall_s:.2f} s cpu {t.cpu_s:.2f} s "
                        f"exit {t.exit_code} {runs[-1][1]}")
                proxy = CountingProxy(moto.url)
                try:
                    run_timed(argv(proxy.url), dict(env, AWS_ENDPOINT_URL=proxy.url), cwd=OUT)
                    calls = len(proxy.calls)
                finally:
                    proxy.close()
                results.append({
                    "tool": tool, "accounts": count, "buckets_per_account": args.buckets,
                    "wall_s": median([r.wall_s for r, _ in runs]), "cpu_s": median([r.cpu_s for r, _ in runs]),
                    "max_rss_mb": max(r.max_rss_kb for r, _ in runs) / 1024,
                    "emulator_cpu_s": median([r.emulator_cpu_s or 0 for r, _ in runs]),
                    "calls_per_account": calls / count, "verdicts": runs[-1][1],
                })
    write_json(OUT / "org.json", results)
    print("| accounts x buckets | tool | wall | CPU | peak RSS | emulator CPU | calls / account | flagged / expected | missed | wrong |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        v = r["verdicts"]
        print(f"| {r['accounts']} x {r['buckets_per_account']} | {r['tool']} | {r['wall_s']:.2f} s | "
              f"{r['cpu_s']:.2f} s | {r['max_rss_mb']:.0f} MB | {r['emulator_cpu_s']:.2f} s | "
              f"{r['calls_per_account']:.1f} | {v['flagged']} / {v['expected']} | {v['missed']} | {v['wrong']} |")


if __name__ == "__main__":
    main()
