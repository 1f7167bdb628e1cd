#!/usr/bin/env python3
"""`make demo`: Tripline end to end against a local AWS API emulator, no AWS account needed.

Run through `scripts/demo.sh` (it installs the emulator and cargo-lambda and builds the binaries first).
What happens, in order:

1. `moto_server` starts on a free loopback port and an account is seeded: buckets (one private with a harmless
   policy), a customer-managed IAM policy with two versions attached to a role, the alert topic with SQS
   queues subscribed (one per subscriber of the real template: an inbox standing in for email, and the
   remediate and notify-slack subscriptions with their filter policies), and the Slack webhook secret.
2. `cargo lambda watch` (the Lambda runtime API emulator) runs the real function binaries, configured as
   deployed: remediation `enforce` for the S3 rules, `dry-run` for everything else.
3. Risky changes are made through the AWS SDK (boto3) against the emulator; for each, the CloudTrail event AWS
   would deliver through EventBridge is built from the real request and response and fed to `on-cloudtrail`.
4. What lands on the topic is delivered to `remediate` and `notify-slack` as SNS events (respecting each
   subscription's filter policy); the Slack webhook is a loopback sink that prints what it receives; each
   alert is printed as an email reader sees it (rendered by Tripline's own renderer: `tripline-demo email`).
5. The remediation results are read back from the emulator, and `tripline scan --endpoint-url` runs before
   the changes and after.
6. A summary table closes the story; everything started is stopped (also on Ctrl-C) and nothing is left
   running. Exit 0 when every risky change alerted and was handled as configured, 1 otherwise.

`--quiet` (or DEMO_QUIET=1) prints only the summary table; `--summary-json PATH` writes the summary for tests.
Only the standard library and boto3 (installed with moto in `.venv-moto/`) are used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
FUNCTIONS = ("on-cloudtrail", "remediate", "notify-slack")
# Rules whose remediation is enforced in the demo (as in a deployment with RemediationRules set to these);
# every other rule stays in dry-run, the default ceiling.
ENFORCED_RULES = ("s3-bucket-policy-public", "s3-bucket-acl-public", "s3-bucket-public-access-block-weakened")
SLACK_MIN_SEVERITY = "high"
SLACK_LINES = 8  # lines of each Slack message shown (the email shows everything)
# template.yaml, Mappings.SeverityAtLeast: the notify-slack subscription's filter for a minimum severity.
SEVERITY_AT_LEAST = {"critical": ["critical"], "high": ["critical", "high"],
                     "medium": ["critical", "high", "medium"], "low": ["critical", "high", "medium", "low"]}


class DemoError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------
# Output


class Out:
    def __init__(self, quiet: bool):
        self.quiet = quiet

    def say(self, text: str = "") -> None:
        if not self.quiet:
            print(text, flush=True)

    def step(self, text: str) -> None:
        self.say()
        self.say(f"== {text} " + "=" * max(0, 100 - len(text)))

    def block(self, text: str, indent: str = "    ") -> None:
        self.say(textwrap.indent(text.rstrip("\n"), indent))

    def note(self, text: str) -> None:
        """Progress that also matters in quiet mode goes to stderr only when not quiet."""
        if not self.quiet:
            print(f"demo: {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------
# Processes: each in its own session (process group), stopped as a group; nothing may be left behind.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def live_processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every live (not zombie) process, from /proc."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and fields[0] != "Z":
            out[int(d.name)] = (int(fields[1]), int(fields[2]))
    return out


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is `pgid`."""
    return [pid for pid, (_, g) in live_processes().items() if g == pgid]


def tree(roots: list[int]) -> dict[int, int]:
    """Every live descendant of `roots` (roots included): pid -> process group. `cargo lambda watch` starts
    each function in a process group of its own, so groups alone do not cover everything."""
    procs = live_processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = {}, [r for r in roots if r in procs]
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out[pid] = procs[pid][1]
        todo.extend(children.get(pid, []))
    return out


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path


class Procs:
    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.procs: list[Proc] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        log = self.logdir / f"{name}.log"
        with open(log, "wb") as f:
            p = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        proc = Proc(name, p, log)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> tuple[list[int], list[str]]:
        """Stops every process started and all their descendants: TERM to each group (cargo lambda watch
        stops the functions it started), KILL to whatever is left after 10 s. Returns the process groups seen
        and what is still running (should be empty)."""
        procs = tree([p.popen.pid for p in self.procs])
        groups = sorted(set(procs.values()) | {p.popen.pid for p in self.procs})
        for p in reversed(self.procs):
            try:
                os.killpg(p.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for p in self.procs:
                p.popen.poll()
            if not any(group_members(g) for g in groups):
                break
            time.sleep(0.05)
        for g in groups:
            if group_members(g):
                try:
                    os.killpg(g, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        time.sleep(0.1)
        left = [f"group {g}: pid {pid}" for g in groups for pid in group_members(g)]
        return groups, left

    def tail(self, name: str, lines: int = 30) -> str:
        """The last lines of a process's log, without cargo-lambda's multi-kilobyte configuration dumps."""
        for p in self.procs:
            if p.name == name:
                try:
                    text = p.log.read_text(errors="replace").splitlines()
                except OSError:
                    return ""
                keep = [ln[:300] for ln in text if not ln.startswith(" INFO run{config")]
                return "\n".join(keep[-lines:])
        return ""


def wait_http(url: str, proc: Proc, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise DemoError(f"`{proc.name}` exited with {proc.popen.returncode}; log: {proc.log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                r.read()
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise DemoError(f"`{proc.name}` did not answer on {url} within {seconds:.0f} s; log: {proc.log}")


def wait_port(port: int, proc: Proc, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise DemoError(f"`{proc.name}` exited with {proc.popen.returncode}; log: {proc.log}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise DemoError(f"`{proc.name}` did not listen on port {port} within {seconds:.0f} s; log: {proc.log}")


# ---------------------------------------------------------------------------------------------------------
# The Slack webhook: a loopback sink that records what it receives.


class SlackSink:
    def __init__(self):
        self.received: list[dict] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = {"unparsed": body.decode(errors="replace")}
                with sink.lock:
                    sink.received.append({"path": self.path, "body": doc, "at": time.perf_counter()})
                reply = b"ok"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/TDEMO/BDEMO/loopback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def take(self) -> list[dict]:
        with self.lock:
            out, self.received = self.received, []
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def slack_text(payload: dict) -> str:
    """The readable content of a Slack Block Kit payload, one line per text element."""
    lines = []
    if payload.get("text") and not payload.get("blocks"):
        lines.append(payload["text"])

    def walk(v):
        if isinstance(v, dict):
            t = v.get("text")
            if isinstance(t, str) and v.get("type") in ("plain_text", "mrkdwn"):
                lines.append(t)
            for k, x in v.items():
                if k != "text" or not isinstance(x, str):
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(payload.get("blocks") or payload.get("attachments") or [])
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# CloudTrail events built from the real requests


def lower_camel(k: str) -> str:
    return k[:1].lower() + k[1:]


def cloudtrail_time(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iam_date(v: dt.datetime) -> str:
    # IAM's CloudTrail records render dates like "Nov 28, 2026, 4:02:17 PM".
    v = v.astimezone(dt.timezone.utc)
    return f"{v.strftime('%b')} {v.day}, {v.year}, {v.hour % 12 or 12}:{v.strftime('%M:%S')} {v.strftime('%p')}"


def response_elements(resp: dict):
    def conv(v):
        if isinstance(v, dict):
            return {lower_camel(k): conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        if isinstance(v, dt.datetime):
            return iam_date(v)
        return v

    body = {k: v for k, v in resp.items() if k != "ResponseMetadata"}
    return conv(body) if body else None


class Recorder:
    """Keeps the last request each client sent (botocore's `before-send` hook): method, URL, headers, body."""

    def __init__(self):
        self.last = None

    def __call__(self, request, **_):
        self.last = request


@dataclass
class Identity:
    account: str
    arn: str
    user_id: str
    access_key: str

    def user_identity(self) -> dict:
        return {"type": "IAMUser", "principalId": self.user_id, "arn": self.arn, "accountId": self.account,
                "accessKeyId": self.access_key, "userName": self.arn.rsplit("/", 1)[-1]}


def cloudtrail_event(service: str, event_name: str, request, resp: dict, who: Identity) -> dict:
    """The EventBridge "AWS API Call via CloudTrail" event for one real request (see events/ for shapes)."""
    url = urllib.parse.urlsplit(request.url)
    headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    now = dt.datetime.now(dt.timezone.utc)
    detail: dict = {
        "eventVersion": "1.10",
        "userIdentity": who.user_identity(),
        "eventTime": cloudtrail_time(now),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": event_name,
        "awsRegion": REGION,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": headers.get("user-agent", ""),
    }
    if service == "s3":
        bucket = url.path.lstrip("/").split("/", 1)[0]
        params: dict = {"bucketName": bucket, "Host": url.netloc}
        # Subresources (`?policy`, `?acl`, `?publicAccessBlock`) are logged as keys with empty values.
        for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True):
            params[k] = v
        for h in ("x-amz-acl", "x-amz-grant-read", "x-amz-grant-full-control"):
            if h in headers:
                params[h] = headers[h]
        if event_name == "PutBucketPolicy":
            params["bucketPolicy"] = json.loads(body)
        detail.update({
            "requestParameters": params,
            "responseElements": None,
            "additionalEventData": {"SignatureVersion": "SigV4", "AuthenticationMethod": "AuthHeader",
                                    "bytesTransferredIn": len(body), "bytesTransferredOut": 0},
            "requestID": resp["ResponseMetadata"].get("RequestId", ""),
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "resources": [{"accountId": who.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
        })
    else:
        # Query protocol: the form body is the request; CloudTrail logs its parameters in lowerCamelCase,
        # documents as JSON strings, flags as booleans.
        params = {}
        for k, v in urllib.parse.parse_qsl(body.decode(), keep_blank_values=True):
            if k in ("Action", "Version"):
                continue
            params[lower_camel(k)] = {"true": True, "false": False}.get(v, v)
        detail.update({
            "requestParameters": params,
            "responseElements": response_elements(resp),
            "requestID": resp["ResponseMetadata"].get("RequestId", ""),
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
        })
    detail.update({"eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": who.account,
                   "eventCategory": "Management"})
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": f"aws.{service}",
        "account": who.account,
        "time": cloudtrail_time(now),
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def sns_lambda_event(envelope: dict, subscription_arn: str) -> dict:
    """The SNS event Lambda delivers, from the SNS envelope the SQS subscription received."""
    return {"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": envelope.get("Type", "Notification"),
            "MessageId": envelope["MessageId"],
            "TopicArn": envelope["TopicArn"],
            "Subject": envelope.get("Subject"),
            "Message": envelope["Message"],
            "Timestamp": envelope.get("Timestamp"),
            "SignatureVersion": envelope.get("SignatureVersion", "1"),
            "Signature": envelope.get("Signature", ""),
            "SigningCertUrl": envelope.get("SigningCertURL", ""),
            "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
            "MessageAttributes": envelope.get("MessageAttributes", {}),
        },
    }]}


# ---------------------------------------------------------------------------------------------------------
# The demo


@dataclass
class Change:
    label: str
    service: str
    event_name: str
    resource: str
    expect_rule: str
    expect_remediation: tuple  # acceptable outcomes: remediated | dry-run | skipped
    do: object  # callable returning (request, response)
    event_id: str = ""
    findings: list[dict] = field(default_factory=list)
    alert_ms: float | None = None
    remediation: list[dict] = field(default_factory=list)
    slack: int = 0
    error: str = ""


class Demo:
    def __init__(self, args, out: Out, logdir: Path):
        self.args = args
        self.out = out
        self.logdir = logdir
        self.procs = Procs(logdir)
        self.sink: SlackSink | None = None
        self.suffix = uuid.uuid4().hex[:8]
        self.summary: dict = {"ok": False, "changes": [], "readback": {}, "scan": {}, "processes": {}}
        self.started = time.perf_counter()

    # -- infrastructure ---------------------------------------------------------------------------------

    def start_emulator(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.summary["processes"]["ports"] = [port]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        # One bundled Amazon image, not moto's ~1,300 (whose snapshots it lists as the account's own).
        env["MOTO_AMIS_PATH"] = str(ROOT / "tests" / "moto-amis.json")
        moto = self.procs.start("moto_server", [self.args.moto_server, "-H", "127.0.0.1", "-p", str(port)], env)
        wait_http(f"{self.url}/moto-api/data.json", moto, 60)
        self.out.say(f"moto_server (moto 5.2.5) listening on {self.url}")

    def clients(self) -> None:
        cfg = Config(region_name=REGION, retries={"max_attempts": 2, "mode": "standard"},
                     s3={"addressing_style": "path"})
        kw = {"endpoint_url": self.url, "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
              "region_name": REGION, "config": cfg}
        for name in ("s3", "iam", "sns", "sqs", "secretsmanager", "sts"):
            setattr(self, name, boto3.client(name, **kw))
        self.account = self.sts.get_caller_identity()["Account"]
        # The risky changes are made by an ordinary IAM user with her own access key, as in a real account;
        # the recorder keeps each request she sends, from which her CloudTrail events are built.
        self.iam.create_user(UserName="alice")
        key = self.iam.create_access_key(UserName="alice")["AccessKey"]
        alice = dict(kw, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        self.rec = Recorder()
        self.alice = {}
        for name in ("s3", "iam", "sts"):
            c = boto3.client(name, **alice)
            c.meta.events.register("before-send", self.rec)
            self.alice[name] = c
        ident = self.alice["sts"].get_caller_identity()
        self.who = Identity(ident["Account"], ident["Arn"], ident["UserId"], key["AccessKeyId"])

    def seed(self) -> None:
        o, acct, s = self.out, self.account, self.suffix
        self.reports, self.assets, self.backups = f"acme-reports-{s}", f"acme-assets-{s}", f"acme-backups-{s}"
        for b in (self.reports, self.assets, self.backups):
            self.s3.create_bucket(Bucket=b)
        self.ci_role = "acme-ci-deploy"
        self.ci_trust = {"Version": "2012-10-17", "Statement": [{
            "Sid": "Ec2Builders", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}
        role = self.iam.create_role(RoleName=self.ci_role, AssumeRolePolicyDocument=json.dumps(self.ci_trust))
        self.ci_role_arn = role["Role"]["Arn"]
        self.harmless_policy = {"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [f"arn:aws:s3:::{self.reports}", f"arn:aws:s3:::{self.reports}/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "CiReadsReports", "Effect": "Allow", "Principal": {"AWS": self.ci_role_arn},
             "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{self.reports}", f"arn:aws:s3:::{self.reports}/*"]}]}
        self.s3.put_bucket_policy(Bucket=self.reports, Policy=json.dumps(self.harmless_policy))
        self.s3.put_public_access_block(Bucket=self.backups, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})

        v1 = {"Version": "2012-10-17", "Statement": [{"Sid": "ReadArtifacts", "Effect": "Allow",
              "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{self.assets}/*"}]}
        v2 = {"Version": "2012-10-17", "Statement": [{"Sid": "ReadArtifacts", "Effect": "Allow",
              "Action": ["s3:GetObject", "s3:ListBucket"],
              "Resource": [f"arn:aws:s3:::{self.assets}", f"arn:aws:s3:::{self.assets}/*"]}]}
        self.deployer_v2 = v2
        pol = self.iam.create_policy(PolicyName="acme-deployer", PolicyDocument=json.dumps(v1),
                                     Description="what the CI role may do")
        self.deployer_arn = pol["Policy"]["Arn"]
        self.iam.create_policy_version(PolicyArn=self.deployer_arn, PolicyDocument=json.dumps(v2),
                                       SetAsDefault=True)
        self.iam.attach_role_policy(RoleName=self.ci_role, PolicyArn=self.deployer_arn)

        self.topic_arn = self.sns.create_topic(Name="tripline-alerts")["TopicArn"]
        self.queues = {}
        subs = {
            "email": None,  # stands in for the AlertEmail subscription: everything
            "remediate": {"remediation": ["planned"]},
            "notify-slack": {"severity": SEVERITY_AT_LEAST[SLACK_MIN_SEVERITY]},
        }
        for name, filt in subs.items():
            q = self.sqs.create_queue(QueueName=f"tripline-demo-{name}")["QueueUrl"]
            qarn = self.sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            attrs = {}
            if filt:
                attrs = {"FilterPolicyScope": "MessageAttributes", "FilterPolicy": json.dumps(filt)}
            sub = self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=qarn, Attributes=attrs,
                                     ReturnSubscriptionArn=True)
            self.queues[name] = (q, sub["SubscriptionArn"])
        self.sink = SlackSink()
        sec = self.secretsmanager.create_secret(Name="tripline/slack-webhook", SecretString=self.sink.url)
        self.slack_secret_arn = sec["ARN"]

        o.say(f"account {acct} seeded (the risky changes below are made by IAM user alice, {self.who.arn}):")
        o.say(f"  s3://{self.reports}   private, policy: DenyInsecureTransport + CiReadsReports (role {self.ci_role})")
        o.say(f"  s3://{self.assets}    second bucket, no bucket-level Block Public Access")
        o.say(f"  s3://{self.backups}   bucket-level Block Public Access: all four settings on")
        o.say(f"  {self.deployer_arn}   versions v1, v2 (default), attached to role {self.ci_role}")
        o.say(f"  {self.ci_role_arn}   trusted by ec2.amazonaws.com only")
        o.say(f"  {self.topic_arn} -> SQS: tripline-demo-email (all), tripline-demo-remediate "
              f"(remediation=planned), tripline-demo-notify-slack (severity>={SLACK_MIN_SEVERITY})")
        o.say(f"  {self.slack_secret_arn}   the Slack webhook URL (a loopback sink)")

    def function_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRIPLINE_"))}
        env.update({
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "TRIPLINE_ALERT_TOPIC_ARN": self.topic_arn,
            "TRIPLINE_REMEDIATION_MODE": "enforce",
            "TRIPLINE_REMEDIATION_RULES": ",".join(ENFORCED_RULES),
            "TRIPLINE_REMEDIATION_ROLE_ARN": f"arn:aws:iam::{self.account}:role/tripline-remediate",
            "TRIPLINE_SLACK_SECRET_ARN": self.slack_secret_arn,
            "TRIPLINE_SLACK_MIN_SEVERITY": SLACK_MIN_SEVERITY,
            "RUST_LOG": "info",
        })
        env["PATH"] = f"{ROOT / '.venv-tools' / 'bin'}:{env.get('PATH', '')}"
        return env

    def start_functions(self) -> None:
        self.available = [f for f in FUNCTIONS if (ROOT / "functions" / f / "Cargo.toml").is_file()]
        missing = [f for f in FUNCTIONS if f not in self.available]
        port = free_port()
        self.summary["processes"]["ports"].append(port)
        self.invoke_base = f"http://127.0.0.1:{port}/2015-03-31/functions"
        argv = [self.args.cargo_lambda, "lambda", "watch", "--invoke-address", "127.0.0.1", "--invoke-port",
                str(port), "--ignore-changes", "--quiet"]
        watch = self.procs.start("cargo-lambda-watch", argv, self.function_env())
        wait_port(port, watch, 120)
        self.out.say(f"cargo lambda watch (Lambda runtime API emulator) on 127.0.0.1:{port}, functions: "
                     f"{', '.join(self.available)}")
        self.out.say(f"  remediation: enforce for {', '.join(ENFORCED_RULES)}; dry-run for the other rules")
        if missing:
            self.out.say(f"  NOT YET IN THE REPOSITORY: {', '.join(missing)} (that part of the story is skipped)")
        # Start each function once (cold start) so the timings below are warm: an empty SNS event is
        # accepted by remediate and notify-slack; on-cloudtrail gets a read-only call it ignores.
        for f in self.available:
            t = time.perf_counter()
            self.invoke(f, self.warmup_event(f), allow_error=True, timeout=600)
            self.out.note(f"{f} started ({(time.perf_counter() - t) * 1000:.0f} ms incl. cold start)")

    def warmup_event(self, function: str) -> dict:
        if function == "on-cloudtrail":
            ev = json.loads((ROOT / "events" / "cloudtrail-s3-get-bucket-policy-read-only.json").read_text())
            ev["account"] = self.account
            ev["detail"]["recipientAccountId"] = self.account
            return ev
        return {"Records": []}

    def invoke(self, function: str, event: dict, allow_error: bool = False, timeout: float = 120) -> dict:
        """POSTs to the emulator's Invoke API. `cargo lambda watch` starts (and compiles, if needed) the
        function on its first invocation and never answers if that fails: its log is watched meanwhile."""
        req = urllib.request.Request(f"{self.invoke_base}/{function}/invocations",
                                     data=json.dumps(event).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        result: dict = {}

        def call():
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    result["body"] = r.read()
                    result["failed"] = bool(r.headers.get("X-Amz-Function-Error"))
            except urllib.error.HTTPError as e:
                result["body"], result["failed"] = e.read(), True
            except (urllib.error.URLError, OSError) as e:
                result["error"] = e

        watch = next(p for p in self.procs.procs if p.name == "cargo-lambda-watch")
        log_from = watch.log.stat().st_size
        thread = threading.Thread(target=call, daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.25)
            if watch.popen.poll() is not None:
                raise DemoError(f"cargo lambda watch exited while invoking `{function}`:\n"
                                f"{self.procs.tail('cargo-lambda-watch')}")
            with open(watch.log, "rb") as f:
                f.seek(log_from)
                new = f.read().decode(errors="replace")
            if re.search(r"^error(\[E\d+\])?: ", new, re.M):
                lines = [ln for ln in new.splitlines() if not ln.startswith((" INFO", " DEBUG", "{"))]
                raise DemoError(f"`{function}` does not build (cargo run under cargo lambda watch):\n"
                                + "\n".join(lines[:40]))
        if "error" in result:
            raise DemoError(f"invoking `{function}` failed: {result['error']}\n"
                            f"{self.procs.tail('cargo-lambda-watch')}")
        body, failed = result["body"], result["failed"]
        try:
            doc = json.loads(body) if body else None
        except ValueError:
            doc = {"raw": body.decode(errors="replace")}
        if isinstance(doc, dict) and "errorType" in doc:
            failed = True
        if failed and not allow_error:
            raise DemoError(f"`{function}` returned an error: {json.dumps(doc)[:2000]}")
        return {"ok": not failed, "body": doc}

    # -- queues -------------------------------------------------------------------------------------------

    def drain(self, queue: str, wait_for: int = 0, seconds: float = 5) -> list[dict]:
        """Every message in the queue (deleted once read); waits up to `seconds` for at least `wait_for`."""
        url, _ = self.queues[queue]
        out: list[dict] = []
        deadline = time.monotonic() + seconds
        while True:
            r = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                         MessageAttributeNames=["All"])
            msgs = r.get("Messages", [])
            for m in msgs:
                env = json.loads(m["Body"])
                env["_received"] = time.perf_counter()
                out.append(env)
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            if msgs:
                continue
            if len(out) >= wait_for or time.monotonic() > deadline:
                return out
            time.sleep(0.02)

    def email_view(self, envelopes: list[dict]) -> list[dict]:
        if not envelopes:
            return []
        clean = [{k: v for k, v in e.items() if not k.startswith("_")} for e in envelopes]
        r = subprocess.run([str(self.args.demo_helper), "email"], input=json.dumps(clean), text=True,
                           capture_output=True, check=False)
        if r.returncode != 0:
            raise DemoError(f"tripline-demo email failed: {r.stderr.strip()}")
        return json.loads(r.stdout)

    def show_emails(self, envelopes: list[dict]) -> None:
        for e, view in zip(envelopes, self.email_view(envelopes)):
            o = self.out
            o.say("    +--- email to the security team " + "-" * 66)
            o.say(f"    | Subject: {view['subject']}")
            o.say("    |")
            for line in view["body"].rstrip("\n").splitlines():
                o.say(f"    | {line}".rstrip())
            o.say("    +" + "-" * 99)
            if not view["exact"]:
                o.say("    (warning: re-rendering this message did not reproduce the published document)")

    # -- the risky changes ---------------------------------------------------------------------------------

    def changes(self) -> list[Change]:
        s3, iam = self.alice["s3"], self.alice["iam"]
        public_policy = json.loads(json.dumps(self.harmless_policy))
        public_policy["Statement"].append({
            "Sid": "PublicReadForPartners", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{self.reports}/*"})
        escalation = json.loads(json.dumps(self.deployer_v2))
        escalation["Statement"].append({"Sid": "DeployFunctions", "Effect": "Allow",
                                        "Action": ["iam:PassRole", "lambda:CreateFunction"], "Resource": "*"})
        open_trust = {"Version": "2012-10-17", "Statement": [{
            "Sid": "AnyoneMayAssume", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
        return [
            Change("bucket policy adds Principal \"*\"", "s3", "PutBucketPolicy", self.reports,
                   "s3-bucket-policy-public", ("remediated",),
                   lambda: s3.put_bucket_policy(Bucket=self.reports, Policy=json.dumps(public_policy))),
            Change("bucket ACL set to public-read", "s3", "PutBucketAcl", self.assets,
                   "s3-bucket-acl-public", ("remediated",),
                   lambda: s3.put_bucket_acl(Bucket=self.assets, ACL="public-read")),
            Change("bucket Block Public Access deleted", "s3", "DeleteBucketPublicAccessBlock", self.backups,
                   "s3-bucket-public-access-block-weakened", ("remediated",),
                   lambda: s3.delete_public_access_block(Bucket=self.backups)),
            Change("policy version adds iam:PassRole + lambda:CreateFunction", "iam", "CreatePolicyVersion",
                   "acme-deployer", "iam-policy-widened", ("dry-run",),
                   lambda: iam.create_policy_version(PolicyArn=self.deployer_arn,
                                                     PolicyDocument=json.dumps(escalation), SetAsDefault=True)),
            Change("role trust policy opened to \"*\"", "iam", "UpdateAssumeRolePolicy", self.ci_role,
                   "iam-trust-policy-public", ("dry-run", "skipped"),
                   lambda: iam.update_assume_role_policy(RoleName=self.ci_role,
                                                         PolicyDocument=json.dumps(open_trust))),
        ]

    def run_change(self, n: int, total: int, c: Change) -> None:
        o = self.out
        o.step(f"{n}/{total}  {c.label}  ({c.service}:{c.event_name} on {c.resource})")
        resp = c.do()
        request = self.rec.last
        event = cloudtrail_event(c.service, c.event_name, request, resp, self.who)
        c.event_id = event["detail"]["eventID"]
        saved = self.logdir / "events" / f"{n}-{c.event_name}.json"
        saved.parent.mkdir(exist_ok=True)
        saved.write_text(json.dumps(event, indent=2) + "\n")
        o.say(f"  made through the SDK: {request.method} {urllib.parse.urlsplit(request.url).path or '/'}"
              f"{'?' + urllib.parse.urlsplit(request.url).query if urllib.parse.urlsplit(request.url).query else ''}"
              f" -> {resp['ResponseMetadata']['HTTPStatusCode']}")
        o.say(f"  CloudTrail event {c.event_id} ({c.event_name}, requestParameters: "
              f"{', '.join(event['detail']['requestParameters'])}) -> on-cloudtrail")
        o.say(f"  (the event as delivered: {saved.relative_to(ROOT) if saved.is_relative_to(ROOT) else saved})")
        t0 = time.perf_counter()
        r = self.invoke("on-cloudtrail", event, allow_error=True)
        if not r["ok"]:
            c.error = f"on-cloudtrail failed: {json.dumps(r['body'])[:500]}"
            o.say(f"  ERROR {c.error}")
            return
        alerts = self.drain("email", wait_for=1, seconds=5)
        findings = [a for a in alerts if attr(a, "kind") == "finding"]
        if findings:
            c.alert_ms = (min(a["_received"] for a in findings) - t0) * 1000
        c.findings = [json.loads(a["Message"]) for a in findings]
        o.say(f"  on-cloudtrail published {len(findings)} finding(s) "
              f"({', '.join(f['rule'] + ' ' + f['severity'] for f in c.findings) or 'none'}); "
              f"on the alert topic {c.alert_ms or 0:.0f} ms after the event")
        self.show_emails(alerts)
        self.deliver(c)

    def deliver(self, c: Change) -> None:
        o = self.out
        if "remediate" in self.available:
            for env in self.drain("remediate"):
                o.say(f"  alert topic -> remediate (filter remediation=planned): finding "
                      f"{json.loads(env['Message']).get('id', '?')}")
                r = self.invoke("remediate", sns_lambda_event(env, self.queues["remediate"][1]), allow_error=True)
                if not r["ok"]:
                    c.error = f"remediate failed: {json.dumps(r['body'])[:500]}"
                    o.say(f"  ERROR {c.error}")
            outcomes = self.drain("email", wait_for=1 if c.findings else 0, seconds=3)
            for env in outcomes:
                if attr(env, "kind") == "remediation":
                    c.remediation.append(json.loads(env["Message"]))
            self.show_emails(outcomes)
        if "notify-slack" in self.available:
            for env in self.drain("notify-slack"):
                r = self.invoke("notify-slack", sns_lambda_event(env, self.queues["notify-slack"][1]),
                                allow_error=True)
                if not r["ok"]:
                    c.error = f"notify-slack failed: {json.dumps(r['body'])[:500]}"
                    o.say(f"  ERROR {c.error}")
                for got in self.sink.take() if self.sink else []:
                    c.slack += 1
                    o.say(f"  alert topic -> notify-slack -> Slack sink received ({attr(env, 'kind')}, "
                          f"{attr(env, 'severity')}):")
                    lines = (slack_text(got["body"]) or json.dumps(got["body"])[:600]).splitlines()
                    shown = lines[:SLACK_LINES] + ([f"... ({len(lines) - SLACK_LINES} more lines)"]
                                                   if len(lines) > SLACK_LINES else [])
                    o.block("\n".join(shown), "    slack> ")

    # -- read back, scan ----------------------------------------------------------------------------------

    def readback(self) -> dict:
        o = self.out
        o.step("Read back from the emulator")
        rb: dict = {}
        try:
            pol = json.loads(self.s3.get_bucket_policy(Bucket=self.reports)["Policy"])
            sids = [s.get("Sid", "?") for s in pol.get("Statement", [])]
        except self.s3.exceptions.ClientError as e:
            sids = [f"(no policy: {e.response['Error']['Code']})"]
        rb["reports_policy_sids"] = sids
        rb["reports_public_statement_removed"] = "PublicReadForPartners" not in sids
        rb["reports_other_statements_intact"] = {"DenyInsecureTransport", "CiReadsReports"} <= set(sids)
        o.say(f"  s3://{self.reports} policy statements now: {', '.join(sids)}")
        acl = self.s3.get_bucket_acl(Bucket=self.assets)
        grants = [f"{g['Grantee'].get('URI') or g['Grantee'].get('DisplayName') or g['Grantee'].get('ID')}:"
                  f"{g['Permission']}" for g in acl["Grants"]]
        rb["assets_acl_grants"] = grants
        rb["assets_acl_private"] = not any("AllUsers" in g or "AuthenticatedUsers" in g for g in grants)
        o.say(f"  s3://{self.assets} ACL grants now: {', '.join(grants)}")
        try:
            bpa = self.s3.get_public_access_block(Bucket=self.backups)["PublicAccessBlockConfiguration"]
        except self.s3.exceptions.ClientError:
            bpa = {}
        rb["backups_block_public_access"] = bpa
        rb["backups_bpa_restored"] = bool(bpa) and all(bpa.values())
        o.say(f"  s3://{self.backups} Block Public Access now: "
              f"{', '.join(f'{k}={v}' for k, v in bpa.items()) or 'none'}")
        default = next(v["VersionId"] for v in self.iam.list_policy_versions(PolicyArn=self.deployer_arn)["Versions"]
                       if v["IsDefaultVersion"])
        rb["deployer_default_version"] = default
        o.say(f"  {self.deployer_arn} default version: {default} (dry-run: left as is, the alert says what "
              "remediation would do)")
        trust = self.iam.get_role(RoleName=self.ci_role)["Role"]["AssumeRolePolicyDocument"]
        if isinstance(trust, str):
            trust = json.loads(urllib.parse.unquote(trust))
        rb["ci_trust_principals"] = [s.get("Principal") for s in trust.get("Statement", [])]
        o.say(f"  {self.ci_role} trust principals: {json.dumps(rb['ci_trust_principals'])} (dry-run: left as is)")
        rb["iam_unchanged"] = default == "v3" and rb["ci_trust_principals"] == [{"AWS": "*"}]
        return rb

    def scan(self, when: str) -> dict:
        o = self.out
        o.step(f"tripline scan --endpoint-url {self.url}  ({when} the changes)")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRIPLINE_"))}
        env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
                    "AWS_EC2_METADATA_DISABLED": "true"})
        base = [str(self.args.tripline), "scan", "--endpoint-url", self.url]
        t = time.perf_counter()
        r = subprocess.run(base + ["--format", "json"], env=env, capture_output=True, text=True, check=False)
        ms = (time.perf_counter() - t) * 1000
        if r.returncode == 2 and "unrecognized subcommand" in r.stderr:
            o.say("  `tripline scan` is not in this build yet")
            return {"available": False}
        findings = []
        try:
            findings = list(walk_findings(json.loads(r.stdout))) if r.stdout.strip() else []
        except ValueError:
            pass
        if not o.quiet:
            t2 = subprocess.run(base + ["--format", "table"], env=env, capture_output=True, text=True, check=False)
            o.block(t2.stdout or "(no output)", "  ")
            if t2.returncode == 2:
                o.block(t2.stderr, "  ")
            o.say(f"  exit code {t2.returncode} ({ {0: 'nothing found', 1: 'findings', 2: 'error'}.get(t2.returncode, '?') }), "
                  f"{ms:.0f} ms")
        return {"available": True, "exit": r.returncode, "ms": round(ms),
                "findings": sorted({(f.get("rule"), (f.get("resource") or {}).get("arn")) for f in findings}),
                "stderr": r.stderr.strip()[-500:] if r.returncode == 2 else ""}

    # -- whole run ----------------------------------------------------------------------------------------

    def run(self) -> int:
        o = self.out
        o.step("Tripline demo: a local AWS account (moto_server), the real Lambda binaries, risky changes")
        self.start_emulator()
        self.clients()
        self.seed()
        self.start_functions()
        self.summary["scan"]["before"] = self.scan("before")
        changes = self.changes()
        t_changes = time.perf_counter()
        for i, c in enumerate(changes, 1):
            try:
                self.run_change(i, len(changes), c)
            except DemoError as e:
                c.error = str(e)
                o.say(f"  ERROR {e}")
        pipeline_s = time.perf_counter() - t_changes
        rb = self.readback()
        self.summary["readback"] = rb
        self.summary["scan"]["after"] = self.scan("after")
        rows = []
        for c in changes:
            rules = [f["rule"] for f in c.findings]
            sev = ", ".join(sorted({f["severity"] for f in c.findings})) or "-"
            statuses = sorted({r.get("status", "?") for r in c.remediation})
            rows.append({
                "change": c.label, "resource": c.resource, "event": c.event_name, "event_id": c.event_id,
                "rules": rules, "severity": sev,
                "alert_ms": None if c.alert_ms is None else round(c.alert_ms),
                "remediation": ", ".join(statuses) or "-", "slack_messages": c.slack,
                "remediation_detail": "; ".join(r.get("detail", "") for r in c.remediation
                                                if r.get("status") in ("skipped", "failed")),
                "expected_rule": c.expect_rule, "expected_remediation": c.expect_remediation,
                "alerted": c.expect_rule in rules, "error": c.error,
            })
        self.summary["changes"] = rows
        self.summary["pipeline_seconds"] = round(pipeline_s, 2)
        checks = {
            "every change alerted": all(r["alerted"] for r in rows),
            "remediation as configured (S3 enforced, IAM dry-run)":
                all(set(r["remediation"].split(", ")) <= set(r["expected_remediation"]) for r in rows),
            "every alert reached Slack": all(r["slack_messages"] >= 1 for r in rows),
            "bucket policy: public statement removed, others intact":
                rb["reports_public_statement_removed"] and rb["reports_other_statements_intact"],
            "bucket ACL private again": rb["assets_acl_private"],
            "bucket Block Public Access restored": rb["backups_bpa_restored"],
            "IAM left as it was (dry-run)": rb["iam_unchanged"],
            "no function errors": not any(r["error"] for r in rows),
        }
        self.summary["checks"] = checks
        self.print_table(rows, checks)
        return 0 if all(checks.values()) else 1

    def print_table(self, rows: list[dict], checks: dict) -> None:
        head = ("#", "change", "rule", "severity", "event->alert", "remediation")
        table = [head] + [(str(i), r["change"], ", ".join(r["rules"]) or "NO ALERT", r["severity"],
                           "-" if r["alert_ms"] is None else f"{r['alert_ms']} ms", r["remediation"])
                          for i, r in enumerate(rows, 1)]
        widths = [max(len(row[i]) for row in table) for i in range(len(head))]
        print()
        print("Tripline demo summary")
        for k, row in enumerate(table):
            print("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
            if k == 0:
                print("  " + "  ".join("-" * w for w in widths))
        for i, r in enumerate(rows, 1):
            if r["remediation_detail"]:
                print(f"  #{i} {r['remediation']}: {r['remediation_detail']}")
        print()
        for name, ok in checks.items():
            print(f"  [{'ok' if ok else 'FAILED'}] {name}")
        sys.stdout.flush()


def attr(envelope: dict, name: str) -> str:
    return ((envelope.get("MessageAttributes") or {}).get(name) or {}).get("Value", "")


def walk_findings(v):
    if isinstance(v, dict):
        if "rule" in v and "resource" in v:
            yield v
        else:
            for x in v.values():
                yield from walk_findings(x)
    elif isinstance(v, list):
        for x in v:
            yield from walk_findings(x)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quiet", action="store_true", default=os.environ.get("DEMO_QUIET", "") not in ("", "0"),
                    help="print only the summary table (also DEMO_QUIET=1)")
    ap.add_argument("--summary-json", type=Path, help="write the summary as JSON to this file")
    ap.add_argument("--moto-server", default=str(ROOT / ".venv-moto" / "bin" / "tripline-moto-server"))
    ap.add_argument("--cargo-lambda", default=str(ROOT / ".venv-tools" / "bin" / "cargo-lambda"))
    ap.add_argument("--tripline", type=Path, default=ROOT / "target" / "debug" / "tripline")
    ap.add_argument("--demo-helper", type=Path, default=ROOT / "target" / "debug" / "tripline-demo")
    ap.add_argument("--logs", type=Path, default=ROOT / "target" / "demo", help="process logs go here")
    args = ap.parse_args()

    out = Out(args.quiet)
    args.logs.mkdir(parents=True, exist_ok=True)
    demo = Demo(args, out, args.logs)

    def on_term(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    # Ctrl-C interrupts even when started with SIGINT ignored (e.g. as a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    rc = 1
    try:
        rc = demo.run()
    except KeyboardInterrupt:
        print("\ndemo: interrupted; stopping everything it started", file=sys.stderr)
        rc = 130
    except DemoError as e:
        print(f"demo: error: {e}", file=sys.stderr)
        rc = 1
    except Exception:  # noqa: BLE001 - report anything, then clean up
        traceback.print_exc()
        rc = 1
    finally:
        # A second Ctrl-C must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if demo.sink:
            demo.sink.close()
        groups, left = demo.procs.stop_all()
        demo.summary["processes"].update({"groups": groups, "left": left})
        demo.summary["seconds"] = round(time.perf_counter() - demo.started, 1)
        demo.summary["exit"] = rc
        if left:
            print(f"demo: error: still running after cleanup: {'; '.join(left)}", file=sys.stderr)
            rc = rc or 1
        if rc == 0:
            demo.summary["ok"] = True
        if args.summary_json:
            args.summary_json.write_text(json.dumps(demo.summary, indent=2, default=str))
        if rc in (0, 1) and not left:
            print(f"  everything stopped; {demo.summary['seconds']} s in all (logs: {args.logs})")
        elif rc != 130:
            print(f"  logs: {args.logs}", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
