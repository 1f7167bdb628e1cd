#!/usr/bin/env python3
"""Seed corpora for the fuzz targets (issue 15): fuzz/corpus/<target>/, one file per input, named by content
hash (so reruns are idempotent). Sources: the payload samples in events/ and the JSON documents of the test
tables in shared/core/tests/*.rs (raw-string literals and `json!` blocks that are plain JSON; the
`to(principal)` / `anyone(condition)` statement templates of policy_docs.rs are expanded). Two documents in
one input are joined by a NUL byte (see fuzz/src/lib.rs). Run by `scripts/fuzz.sh seed`."""
import glob
import hashlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
PER_TARGET_MAX = 120


def doc_of_statement(s):
    return {"Version": "2012-10-17", "Statement": [s]}


def balanced(text, start):
    """The text from text[start] (an opening bracket) to its matching close, skipping string literals."""
    depth, i, in_str = 0, start, False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
        i += 1
    return None


def table_values(path):
    """Every JSON value written literally in one test file."""
    text = open(path, encoding="utf-8").read()
    out = []
    for m in re.finditer(r'r#"(.*?)"#', text, re.S):
        raw = m.group(1)
        before = text[max(0, m.start() - 7) : m.start()]
        try:
            v = json.loads(raw)
        except ValueError:
            continue
        if before.endswith("to(") and not isinstance(v, list):
            v = {"Effect": "Allow", "Principal": v, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
        elif before.endswith("anyone("):
            v = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                 "Condition": v}
        out.append(v)
    for m in re.finditer(r"json!\(", text):
        block = balanced(text, m.end() - 1)
        if not block:
            continue
        try:
            out.append(json.loads(block[1:-1]))
        except ValueError:
            pass
    return out


def is_policy(v):
    return isinstance(v, dict) and "Statement" in v


def is_statement(v):
    return isinstance(v, dict) and "Effect" in v and "Statement" not in v


def is_acl(v):
    if isinstance(v, str):
        return v in ("private", "public-read", "public-read-write", "authenticated-read", "log-delivery-write")
    return isinstance(v, dict) and any(k in v for k in ("Grants", "AccessControlPolicy", "accessControlList",
                                                        "x-amz-acl", "x-amz-grant-read", "AccessControlList"))


def embedded_docs(value):
    """Policies and ACLs inside a payload (request parameters hold them as JSON text or objects)."""
    found = []

    def walk(v):
        if isinstance(v, str) and v[:1] == "{":
            try:
                walk(json.loads(v))
            except ValueError:
                pass
        elif isinstance(v, dict):
            if is_policy(v) or is_acl(v):
                found.append(v)
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(value)
    return found


def enc(v):
    return json.dumps(v, separators=(",", ":")).encode()


def write(target, data, written):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if written.setdefault(target, 0) >= PER_TARGET_MAX:
        return
    name = hashlib.sha1(data).hexdigest()[:16]
    p = os.path.join(d, name)
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(data)
    written[target] += 1


def main():
    written = {}
    events = sorted(glob.glob(os.path.join(ROOT, "events", "*.json")))
    payloads = [open(e, "rb").read() for e in events]
    policies, acls, others = [], [], []
    for raw in payloads:
        try:
            for d in embedded_docs(json.loads(raw)):
                (policies if is_policy(d) else acls).append(d)
        except ValueError:
            pass
    for path in sorted(glob.glob(os.path.join(ROOT, "shared", "core", "tests", "*.rs"))):
        for v in table_values(path):
            if is_policy(v):
                policies.append(v)
            elif is_statement(v):
                policies.append(doc_of_statement(v))
            elif is_acl(v):
                acls.append(v)
            elif isinstance(v, dict) and path.endswith("intake.rs"):
                others.append(v)
    # Deduplicate, keep order.
    uniq = lambda xs: list({enc(x): x for x in xs}.values())
    policies, acls, others = uniq(policies), uniq(acls), uniq(others)

    for raw in payloads:
        write("intake", raw, written)
        write("render", raw, written)
    for v in others:
        write("intake", enc(v), written)
    # render with state: each payload with a Block Public Access / policy state the rules read.
    pab = lambda on: {"BlockPublicAcls": on, "IgnorePublicAcls": on, "BlockPublicPolicy": on,
                      "RestrictPublicBuckets": on}
    for raw, path in zip(payloads, events):
        name = os.path.basename(path)
        if name.startswith("cloudtrail-s3-") or name.startswith("config-s3"):
            state = {"bucket": {"tags": {"tripline:exempt": "s3-bucket-policy-public@2027-01-31"},
                                "public_access_block": pab(False)},
                     "account_public_access_block": pab(True)}
            write("render", raw + b"\0" + enc(state), written)
        if "create-policy-version" in name and policies:
            write("render", raw + b"\0" + enc({"previous_policy_document": policies[0]}), written)
    for p in policies:
        for t in ("policy_parse", "public", "escalation"):
            write(t, enc(p), written)
    for a in acls:
        write("acl", enc(a), written)
    # diff: each policy against itself, and consecutive pairs (both orders).
    for i, p in enumerate(policies):
        write("diff", enc(p), written)
        if i + 1 < len(policies):
            q = policies[i + 1]
            write("diff", enc(p) + b"\0" + enc(q), written)
            write("escalation", enc(q) + b"\0" + enc(p), written)
    for t in sorted(written):
        print(f"  {t:13} {len(os.listdir(os.path.join(OUT, t))):4} seeds")
    if not policies or not acls:
        sys.exit("fuzz-seeds: found no policies or no ACLs: the extraction needs updating")


if __name__ == "__main__":
    main()
