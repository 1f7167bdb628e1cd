#!/bin/sh
# The OCSF schema the OCSF output is validated against (shared/core/tests/ocsf.rs): the schema server's
# export of OCSF 1.5.0 as shipped, with its Apache-2.0 licence, by the PyPI package ocsf-json-schema
# (pinned). Extracted into .venv-ocsf/ (gitignored). Idempotent.
set -eu
VERSION=1.2.0
OCSF=1.5.0
DIR="$(cd "$(dirname "$0")/.." && pwd)/.venv-ocsf"
[ -f "$DIR/ocsf-$OCSF.json" ] && [ -f "$DIR/PACKAGE-$VERSION" ] && exit 0
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: "ocsf-json-schema==$VERSION" -d "$TMP"
python3 - "$TMP" "$DIR" "$OCSF" <<'PY'
import glob, os, sys, zipfile
tmp, out, ocsf = sys.argv[1:]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(glob.glob(os.path.join(tmp, "*.whl"))[0]) as z:
    for src, dst in [(f"ocsf_json_schema/ocsf/{ocsf}.json", f"ocsf-{ocsf}.json"),
                     ("ocsf_json_schema/ocsf/LICENSE.txt", "LICENSE.txt"),
                     ("ocsf_json_schema/ocsf/README.md", "README.md")]:
        with open(os.path.join(out, dst), "wb") as f:
            f.write(z.read(src))
PY
touch "$DIR/PACKAGE-$VERSION"
