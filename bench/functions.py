"""Cold start, peak RSS and artifact size of the function binaries, next to the hello-world floor; and
`on-cloudtrail`'s handler time against the emulator per event kind, with its AWS calls counted.

Every binary starts under the fake runtime API (lambda_rt.py) with the production configuration surface:
the TRIPLINE_* variables validated at cold start, fake credentials, and AWS_ENDPOINT_URL pointing at the
emulator (through the counting proxy for handler runs).
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import time
import urllib.parse
import zipfile
from pathlib import Path

import boto3

from common import OUT, ROOT, Moto, clean_env, log, median
from count_proxy import Call, CountingProxy
from lambda_rt import run_function

FUNCTIONS = ["on-cloudtrail", "on-config", "sweep", "remediate", "notify-slack"]
RELEASE = ROOT / "target" / os.environ.get("TRIPLINE_BENCH_PROFILE", "release")
SLACK_SECRET = "tripline/slack-webhook"


def binaries() -> dict[str, Path]:
    out = {}
    for name in ["hello", *FUNCTIONS]:
        p = RELEASE / name
        if p.exists():
            out[name] = p
    return out


def seed_account(url: str, account: str) -> dict[str, str]:
    """What every function needs at cold start: the alert topic and the Slack webhook secret."""
    kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing")
    sns = boto3.client("sns", **kw)
    topic = sns.create_topic(Name="tripline-alerts")["TopicArn"]
    sm = boto3.client("secretsmanager", **kw)
    webhook = json.dumps({"webhook_url": "http://127.0.0.1:9/services/T000/B000/XXXX",
                          "url": "http://127.0.0.1:9/services/T000/B000/XXXX"})
    try:
        secret = sm.create_secret(Name=SLACK_SECRET, SecretString=webhook)["ARN"]
    except sm.exceptions.ResourceExistsException:
        secret = sm.describe_secret(SecretId=SLACK_SECRET)["ARN"]
    return {"topic": topic, "secret": secret, "account": account}


def function_env(url: str, seeded: dict[str, str]) -> dict[str, str]:
    acct = seeded["account"]
    return clean_env({
        "AWS_ENDPOINT_URL": url,
        "AWS_MAX_ATTEMPTS": "1",
        "RUST_LOG": "info,tripline::aws::calls=debug",  # production level plus per-call timing
        "TRIPLINE_ALERT_TOPIC_ARN": seeded["topic"],
        "TRIPLINE_REMEDIATION_MODE": "dry-run",
        "TRIPLINE_REMEDIATION_RULES": "",
        "TRIPLINE_TRUSTED_ACCOUNT_IDS": "",
        "TRIPLINE_ORGANIZATION_ID": "o-a1b2c3d4e5",
        "TRIPLINE_EXEMPT_TAG_KEY": "tripline:exempt",
        "TRIPLINE_NAME_PREFIX": "tripline",
        "TRIPLINE_SLACK_SECRET_ARN": seeded["secret"],
        "TRIPLINE_SLACK_MIN_SEVERITY": "low",
        "TRIPLINE_SWEEP_CONCURRENCY": "16",
        "TRIPLINE_REMEDIATION_ROLE_ARN": f"arn:aws:iam::{acct}:role/tripline-remediate",
    })


def zip_size(name: str, binary: Path) -> tuple[int, str]:
    """Size of the deployable zip: `make package`'s artifact when present, else the binary zipped as
    `bootstrap` (what `provided.al2023` runs) with maximum deflate compression (x86-64, when dist/ is
    missing or older than the release binary)."""
    dist = ROOT / "dist" / f"{name}.zip"
    # `make package` zips count only when built from the same sources as the binary measured here (not older).
    if dist.exists() and dist.stat().st_mtime >= binary.stat().st_mtime - 120:
        arch = (ROOT / "dist" / "ARCH").read_text().strip() if (ROOT / "dist" / "ARCH").exists() else "?"
        return dist.stat().st_size, f"make package ({arch})"
    z = OUT / "zips" / f"{name}.zip"
    z.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, binary.read_bytes())
    return z.stat().st_size, "bench (x86-64 binary zipped as bootstrap)"


# On this machine (Debian layout) /etc/ssl/certs holds ~150 individual CA files next to the bundle, and the
# SDK's default HTTPS client (rustls + native roots) reads them all when the clients are built. Lambda's
# provided.al2023 image keeps its CAs in one bundle (/etc/pki/tls/certs/ca-bundle.crt). The "bundle-only"
# variant reproduces that layout: the same bundle file, an empty certificate directory.
EMPTY_CERT_DIR = OUT / "empty-cert-dir"
CERT_VARIANTS = {
    "default": {},
    "bundle-only": {"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt", "SSL_CERT_DIR": str(EMPTY_CERT_DIR)},
}


def _summary(rs: list) -> dict:
    ok = [r for r in rs if r.first_poll_ms is not None and r.init_error is None]
    out = {
        "ok_runs": len(ok),
        "median_ms": median([r.first_poll_ms for r in ok]),
        "min_ms": min((r.first_poll_ms for r in ok), default=None),
        "max_ms": max((r.first_poll_ms for r in ok), default=None),
        "median_rss_kb": median([r.vmhwm_kb for r in ok if r.vmhwm_kb]),
        "median_cpu_ms": median([r.cpu_ms_at_end for r in ok if r.cpu_ms_at_end is not None]),
        "median_aws_ms": median([getattr(r, "aws_ms", 0.0) for r in ok]),
    }
    if len(ok) < len(rs):
        bad = next(r for r in rs if r not in ok)
        out["failure"] = (bad.init_error or "") + bad.stderr_tail[-600:]
    return out


def cold_starts(runs: int) -> dict:
    bins = binaries()
    if not bins:
        return {"error": "no release binaries in target/release"}
    EMPTY_CERT_DIR.mkdir(parents=True, exist_ok=True)
    results: dict = {"runs": runs, "functions": {}}
    with Moto() as moto:
        seeded = seed_account(moto.url, "123456789012")
        base = function_env(moto.url, seeded)
        samples: dict[tuple[str, str], list] = {(n, v): [] for n in bins for v in CERT_VARIANTS}
        # Round-robin so that background load hits every binary and variant alike.
        for _ in range(runs):
            for name, path in bins.items():
                for variant, extra in CERT_VARIANTS.items():
                    r = run_function(path, dict(base, **extra), name=name, timeout=20, keep_log=True)
                    # AWS calls made before the first poll (notify-slack reads its webhook secret at cold
                    # start, as issue 5 specifies), as the binary timed them.
                    r.aws_ms = sum(ms for _, _, ms in logged_calls(r.log))
                    r.log = ""
                    samples[(name, variant)].append(r)
        for name in bins:
            size, src = zip_size(name, bins[name])
            entry = _summary(samples[(name, "default")])
            entry["bundle_only"] = _summary(samples[(name, "bundle-only")])
            entry.update({"binary_bytes": bins[name].stat().st_size, "zip_bytes": size, "zip_source": src})
            results["functions"][name] = entry
            log(f"cold start {name}: median {entry['median_ms']:.2f} ms ({entry['bundle_only']['median_ms']:.2f} ms "
                f"bundle-only) over {entry['ok_runs']}/{runs} runs, RSS {entry['median_rss_kb'] / 1024:.1f} MB, "
                f"zip {size / 1e6:.2f} MB")
    hello = results["functions"].get("hello", {})
    for name, e in results["functions"].items():
        for d, h in ((e, hello.get("median_ms")), (e["bundle_only"], hello.get("bundle_only", {}).get("median_ms"))):
            d["x_hello"] = (d["median_ms"] / h) if h and d["median_ms"] == d["median_ms"] else None
        hc, hcb = hello.get("median_cpu_ms"), hello.get("bundle_only", {}).get("median_cpu_ms")
        e["x_hello_cpu"] = e["median_cpu_ms"] / hc if hc else None
        e["bundle_only"]["x_hello_cpu"] = e["bundle_only"]["median_cpu_ms"] / hcb if hcb else None
    return results


# --- handler time -------------------------------------------------------------------------------------

def trivial_call_latency(url: str, n: int = 60) -> float:
    """Median ms of STS GetCallerIdentity over one keep-alive connection (raw HTTP, no SDK overhead)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sts/aws4_request, "
                                "SignedHeaders=host, Signature=0"}
    xs = []
    for i in range(n + 5):
        t = time.perf_counter()
        conn.request("POST", "/", body=body, headers=headers)
        conn.getresponse().read()
        if i >= 5:
            xs.append((time.perf_counter() - t) * 1000)
    conn.close()
    return median(xs)


def logged_calls(log_text: str) -> list[tuple[float, str, float]]:
    """(end on the wall clock, "Service:Operation", ms) of every AWS call the binary logged: the per-call
    timing events of shared/aws/src/timing.rs (`RUST_LOG=...,tripline::aws::calls=debug`), i.e. each call as
    the function itself saw it, from before serialization to the deserialized answer."""
    return _timed_lines(log_text, "aws call", lambda v: f"{v['service']}:{v['operation']}")


def logged_handler_times(log_text: str) -> list[tuple[float, str, float]]:
    """(end on the wall clock, event name, ms) of each evaluated event: the handler's own time as it logged
    it ("event evaluated", `elapsed_us`: intake, state reads, rules and publishing, without the runtime
    API's round trip)."""
    return _timed_lines(log_text, "event evaluated", lambda v: v.get("event_name", ""))


def _timed_lines(log_text: str, message: str, label) -> list[tuple[float, str, float]]:
    out = []
    for line in log_text.splitlines():
        if f'"{message}"' not in line:
            continue
        try:
            v = json.loads(line)
            if v.get("message") != message or "elapsed_us" not in v:
                continue
            end = datetime.datetime.fromisoformat(v["timestamp"].replace("Z", "+00:00")).timestamp()
            out.append((end, label(v), v["elapsed_us"] / 1000))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def dependent_chain_ms(calls: list[Call]) -> float:
    """Lower bound of the handler's AWS time if every independent call ran concurrently.

    Levels (what depends on what in on-cloudtrail): state reads depend only on the event (level 1),
    except GetPolicyVersion, which needs the version id from GetPolicy/ListPolicyVersions when one of
    those ran (level 2); publishing depends on the evaluation, i.e. on all reads (last level). The chain
    is the sum over levels of the slowest call in each level.
    """
    ops = {c.operation for c in calls}
    levels: dict[int, float] = {}
    store = [c for c in calls if c.service == "dynamodb" or c.operation in STORE_OPS]
    for c in calls:
        if store and (c in store or c.operation in ("Publish", "PublishBatch")):
            continue
        if c.operation in ("Publish", "PublishBatch"):
            lvl = 3
        elif c.operation == "GetPolicyVersion" and ops & {"GetPolicy", "ListPolicyVersions"}:
            lvl = 2
        else:
            lvl = 1
        levels[lvl] = max(levels.get(lvl, 0.0), c.ms)
    if store:
        # With the findings store (issue 14), each finding's lifecycle after the evaluation is one sequence:
        # GetItem -> conditional PutItem -> (Publish -> PutItem confirming it). Findings run concurrently,
        # so the chain is the longest of those sequences; the calls cannot be told apart per finding here,
        # so a lower bound of the longest is used, which can only make the handler / chain ratio look
        # worse, never better.
        # Each of these is a lower bound of the longest sequence, so their maximum is too. A lane starts
        # with a read: GetItem, or one Query shared by the findings of one resource (then their PutItems run
        # at once). The mean over an upper bound of the number of lanes (every lane ends in a read or a
        # PutItem); the slowest single call; a lane that writes reads first, so the slowest PutItem follows
        # at least the fastest read; a lane that publishes is read -> PutItem -> Publish -> PutItem.
        post = [c for c in calls if c in store or c.operation in ("Publish", "PublishBatch")]
        by_op: dict[str, list[float]] = {}
        for c in post:
            by_op.setdefault(c.operation, []).append(c.ms)
        reads = by_op.get("GetItem", []) + by_op.get("Query", [])
        puts = by_op.get("PutItem", [])
        pubs = by_op.get("Publish", []) + by_op.get("PublishBatch", [])
        lanes = max(1, len(reads) + len(puts))
        bounds = [sum(c.ms for c in post) / lanes, max(c.ms for c in post) if post else 0.0]
        if reads and puts:
            bounds.append(min(reads) + max(puts))
        if reads and pubs and len(puts) >= 2:
            bounds.append(min(reads) + max(pubs) + 2 * min(puts))
        levels[3] = max(bounds)
    return sum(levels.values())


# The findings store's calls (DynamoDB, and Security Hub's import when on): after the evaluation.
STORE_OPS = {"GetItem", "PutItem", "Query", "UpdateItem", "BatchImportFindings"}


def with_event_id(raw: bytes, k: int) -> bytes:
    """The event with its own ids (EventBridge `id`, CloudTrail `eventID`): with the findings store a
    repeated id is a redelivery; every invocation here is a new event about the same exposure."""
    v = json.loads(raw)
    v["id"] = f"{v.get('id', 'bench')}-{k}"
    if isinstance(v.get("detail"), dict):
        v["detail"]["eventID"] = f"{v['detail'].get('eventID', 'bench')}-{k}"
    return json.dumps(v).encode()


def findings_table(url: str) -> str:
    """The findings table as `tripline findings init` / the template create it (pk, sk; on demand)."""
    ddb = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    name = "tripline-findings-bench"
    try:
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "sk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                    {"AttributeName": "sk", "KeyType": "RANGE"}])
    except ddb.exceptions.ResourceInUseException:
        pass
    return name


def _detail(event: dict) -> dict:
    return event.get("detail") or {}


def seed_for_event(url: str, event: dict) -> None:
    """Creates the resources a CloudTrail event names, in the state the event left them (best effort)."""
    kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing")
    d = _detail(event)
    rp = d.get("requestParameters") or {}
    name = d.get("eventName", "")
    try:
        if d.get("eventSource") == "s3.amazonaws.com" and rp.get("bucketName"):
            s3 = boto3.client("s3", **kw)
            b = rp["bucketName"]
            try:
                s3.create_bucket(Bucket=b)
            except s3.exceptions.BucketAlreadyOwnedByYou:
                pass
            if name == "PutBucketPolicy" and rp.get("bucketPolicy"):
                pol = rp["bucketPolicy"]
                s3.put_bucket_policy(Bucket=b, Policy=pol if isinstance(pol, str) else json.dumps(pol))
            acl = rp.get("x-amz-acl")
            if name == "PutBucketAcl" and acl:
                s3.put_bucket_acl(Bucket=b, ACL=acl[0] if isinstance(acl, list) else acl)
        elif d.get("eventSource") == "iam.amazonaws.com":
            iam = boto3.client("iam", **kw)
            arn = rp.get("policyArn") or ""
            if arn.startswith("arn:aws:iam::") and ":policy/" in arn and "::aws:policy" not in arn:
                # Customer-managed policy: create it (narrow v1), then replay what the event did.
                path_name = arn.split(":policy/", 1)[1]
                pname = path_name.rsplit("/", 1)[-1]
                path = "/" + path_name[: -len(pname)] if "/" in path_name else "/"
                narrow = {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}]}
                try:
                    iam.create_policy(PolicyName=pname, Path=path, PolicyDocument=json.dumps(narrow))
                except iam.exceptions.EntityAlreadyExistsException:
                    pass
                doc = rp.get("policyDocument")
                if name == "CreatePolicyVersion" and doc:
                    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc,
                                              SetAsDefault=bool(rp.get("setAsDefault", True)))
                if name == "SetDefaultPolicyVersion" and rp.get("versionId"):
                    want = int(str(rp["versionId"]).lstrip("v") or 1)
                    have = len(iam.list_policy_versions(PolicyArn=arn)["Versions"])
                    wide = {"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
                    for _ in range(have, want):
                        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(wide), SetAsDefault=False)
                    iam.set_default_policy_version(PolicyArn=arn, VersionId=rp["versionId"])
            trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
                "Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
            for key, create in (("roleName", lambda v: iam.create_role(
                    RoleName=v, AssumeRolePolicyDocument=json.dumps(trust))),
                    ("userName", lambda v: iam.create_user(UserName=v)),
                    ("groupName", lambda v: iam.create_group(GroupName=v))):
                if rp.get(key):
                    try:
                        create(rp[key])
                    except iam.exceptions.EntityAlreadyExistsException:
                        pass
    except Exception as e:  # noqa: BLE001 - seeding is best effort; the handler's answer is recorded
        log(f"seeding for {name} failed: {e}")


def event_files() -> list[Path]:
    return sorted((ROOT / "events").glob("cloudtrail-*.json"))


def handler_times(repeats: int, store: bool = False) -> dict:
    """Section 3: every CloudTrail sample through on-cloudtrail. `store`: with the findings table
    (`TRIPLINE_FINDINGS_TABLE`), each invocation a new event id about the same exposure (the first `new`,
    the warm ones `unchanged`)."""
    binary = RELEASE / "on-cloudtrail"
    if not binary.exists():
        return {"error": "target/release/on-cloudtrail does not exist"}
    files = event_files()
    if not files:
        return {"error": "no events/cloudtrail-*.json"}
    accounts = [(json.loads(f.read_text()).get("account") or _detail(json.loads(f.read_text())).get(
        "recipientAccountId")) for f in files]
    account = max(set(a for a in accounts if a), key=accounts.count, default="123456789012")
    out: dict = {"account": account, "repeats": repeats, "events": {}}
    with Moto(account_id=account) as moto:
        proxy = CountingProxy(moto.url)
        try:
            seeded = seed_account(moto.url, account)
            out["trivial_call_ms_direct"] = trivial_call_latency(moto.url)
            out["trivial_call_ms_proxy"] = trivial_call_latency(proxy.url)
            env = function_env(proxy.url, seeded)
            if store:
                env["TRIPLINE_FINDINGS_TABLE"] = findings_table(moto.url)
                out["store"] = env["TRIPLINE_FINDINGS_TABLE"]
            for f in files:
                raw = f.read_bytes()
                event = json.loads(raw)
                seed_for_event(moto.url, event)
                proxy.clear()
                raws = [with_event_id(raw, k) for k in range(repeats)] if store else [raw] * repeats
                r = run_function(binary, env, raws, name="on-cloudtrail", timeout=60, keep_log=True)
                invs = [i for i in r.invocations if i["done_at"] is not None]
                logged = logged_calls(r.log)
                handled = logged_handler_times(r.log)
                rows = []
                for k, inv in enumerate(invs):
                    calls = proxy.between(inv["sent_at"], inv["done_at"])
                    # The same calls as the function timed them: a call's log line is written when it ends,
                    # after its event was handed out and before the next one was.
                    upto = invs[k + 1]["sent_wall"] if k + 1 < len(invs) else float("inf")
                    mine = [Call(op.split(":", 1)[0], op.split(":", 1)[1], 0.0, ms / 1000, 0)
                            for end, op, ms in logged if inv["sent_wall"] <= end < upto]
                    inner = [ms for end, _, ms in handled if inv["sent_wall"] <= end < upto]
                    rows.append({"ms": inv["ms"], "status": inv["status"], "calls": len(calls),
                                 "ops": sorted(f"{c.service}:{c.operation}" for c in calls),
                                 "serial_ms": sum(c.ms for c in calls),
                                 "chain_ms": dependent_chain_ms(calls),
                                 "handler_ms": inner[0] if inner else None,
                                 "client_calls": len(mine),
                                 "client_serial_ms": sum(c.ms for c in mine),
                                 "client_chain_ms": dependent_chain_ms(mine) if mine else None})
                warm = rows[1:] or rows
                entry = {
                    "event_name": _detail(event).get("eventName"),
                    "first_ms": rows[0]["ms"] if rows else None,
                    "warm_ms": median([x["ms"] for x in warm]),
                    "calls": warm[0]["calls"] if warm else None,
                    "ops": warm[0]["ops"] if warm else [],
                    "warm_serial_ms": median([x["serial_ms"] for x in warm]),
                    "warm_chain_ms": median([x["chain_ms"] for x in warm]),
                    "warm_handler_ms": median([x["handler_ms"] for x in warm if x["handler_ms"] is not None]),
                    "client_calls": warm[0]["client_calls"] if warm else None,
                    "warm_client_serial_ms": median([x["client_serial_ms"] for x in warm]),
                    "warm_client_chain_ms": median([x["client_chain_ms"] for x in warm
                                                    if x["client_chain_ms"] is not None]),
                    "status": rows[0]["status"] if rows else "no response",
                    "body": invs[0]["body"][:300] if invs else (r.init_error or r.stderr_tail[-300:]),
                }
                c = entry["warm_chain_ms"]
                entry["x_chain_proxy"] = entry["warm_ms"] / c if c and c == c and c > 0 else None
                c = entry["warm_client_chain_ms"]
                entry["x_chain_invocation"] = entry["warm_ms"] / c if c and c == c and c > 0 else None
                hm = entry["warm_handler_ms"]
                entry["x_chain"] = hm / c if c and c == c and c > 0 and hm == hm else None
                out["events"][f.stem] = entry
                log(f"handler {f.stem}: warm {entry['warm_ms']:.1f} ms, {entry['calls']} calls, "
                    f"chain {entry['warm_chain_ms']:.1f} ms, status {entry['status']}")
        finally:
            proxy.close()
    return out


if __name__ == "__main__":
    import sys

    os.chdir(Path(__file__).parent)
    what = sys.argv[1]
    res = cold_starts(int(sys.argv[2])) if what == "cold" else handler_times(int(sys.argv[2]))
    print(json.dumps(res, indent=2, default=str))
