"""Seeds the emulator with N buckets of a known mix and records the expected verdicts.

Each bucket gets one category (round-robin, so every N >= 16 holds every category). The expected verdict
follows the Amazon S3 User Guide, "Blocking public access to your Amazon S3 storage", section "The meaning
of 'public'" (quoted in shared/reference/aws-public-definition.md):

- `exposed`: the bucket is public right now (public policy not neutralised by RestrictPublicBuckets, or a
  public ACL not neutralised by IgnorePublicAcls). This is the set both tools must flag.
- `blocked`: public policy or ACL, but bucket-level Block Public Access neutralises it (Tripline still
  reports it at lower severity; it must not be counted as exposed).

Usage: seed_s3.py ENDPOINT_URL N OUT.json
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from botocore.config import Config

ACCOUNT = "123456789012"  # moto's default account
OTHER_ACCOUNT = "999988887777"
ORG_ID = "o-a1b2c3d4e5"  # configured as trusted for both tools (Custodian whitelist_orgids, TRIPLINE_ORGANIZATION_ID)

ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def stmt(bucket: str, principal, action="s3:GetObject", condition=None, sid="S"):
    s = {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": action,
         "Resource": f"arn:aws:s3:::{bucket}/*"}
    if condition:
        s["Condition"] = condition
    return s


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def cloudtrail_stmt(bucket: str):
    return {"Sid": "CloudTrail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*",
            "Condition": {"StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"}}}


# name -> (exposed, blocked, policy(bucket) or None, canned ACL or None, bucket BPA or None)
CATEGORIES = {
    "private": (False, False, None, None, None),
    "private-policy": (False, False, lambda b: doc(
        stmt(b, {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}), cloudtrail_stmt(b)), None, None),
    "cross-account": (False, False, lambda b: doc(
        stmt(b, {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"})), None, None),
    "public-policy": (True, False, lambda b: doc(stmt(b, "*")), None, None),
    # The guide's mixed example: public because of the third statement.
    "public-policy-mixed": (True, False, lambda b: doc(
        cloudtrail_stmt(b), stmt(b, {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}, sid="Account2"),
        stmt(b, "*", sid="Public")), None, None),
    "public-acl-read": (True, False, None, "public-read", None),
    "public-acl-auth": (True, False, None, "authenticated-read", None),
    "blocked-policy": (False, True, lambda b: doc(stmt(b, "*")), None, ALL_ON),
    "blocked-acl": (False, True, None, "public-read", ALL_ON),
    "acl-ignored": (False, True, None, "public-read", {
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False}),
    # Guide note: aws:SourceIp broader than /8 (IPv4) is public.
    "sourceip-broad": (True, False, lambda b: doc(
        stmt(b, "*", condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}})), None, None),
    "sourceip-narrow": (False, False, lambda b: doc(
        stmt(b, "*", condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})), None, None),
    # Guide example: StringLike aws:SourceVpc vpc-* is public (wildcard value); fixed vpc-91237329 is not.
    "vpce-wildcard": (True, False, lambda b: doc(
        stmt(b, "*", condition={"StringLike": {"aws:SourceVpce": "vpce-*"}})), None, None),
    "vpc-fixed": (False, False, lambda b: doc(
        stmt(b, "*", condition={"StringEquals": {"aws:SourceVpc": "vpc-91237329"}})), None, None),
    # Guide example: a Federated principal is public.
    "federated": (True, False, lambda b: doc(
        stmt(b, {"Federated": "graph.facebook.com"}, action="s3:PutObject")), None, None),
    "org-fixed": (False, False, lambda b: doc(
        stmt(b, "*", condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}})), None, None),
}


def bucket_names(n: int) -> list[tuple[str, str]]:
    cats = list(CATEGORIES)
    return [(f"tl-{i:04d}-{cats[i % len(cats)]}", cats[i % len(cats)]) for i in range(n)]


def seed(endpoint: str, n: int) -> dict:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing",
                      config=Config(retries={"max_attempts": 2}, max_pool_connections=16))

    def one(item):
        name, cat = item
        exposed, blocked, policy, acl, bpa = CATEGORIES[cat]
        s3.create_bucket(Bucket=name)
        if policy:
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy(name)))
        if acl:
            s3.put_bucket_acl(Bucket=name, ACL=acl)
        if bpa:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=bpa)
        return name, {"category": cat, "exposed": exposed, "blocked": blocked}

    with ThreadPoolExecutor(max_workers=8) as pool:
        buckets = dict(pool.map(one, bucket_names(n)))
    return {"account": ACCOUNT, "organization_id": ORG_ID, "n": n, "buckets": buckets,
            "expected_exposed": sorted(b for b, v in buckets.items() if v["exposed"])}


if __name__ == "__main__":
    endpoint, n, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(seed(endpoint, n), indent=2, sort_keys=True) + "\n")
