#!/usr/bin/env bash
# Installs the AWS API emulator used by the integration tests (tests/) into `.venv-moto/` (gitignored).
# Idempotent: does nothing when the pinned version is already installed. Prints the path of the server to
# start: `tripline-moto-server`, moto_server with the one wire-format correction of scripts/moto_server.py
# (ARCHITECTURE.md, emulator table), taking moto_server's arguments.
set -euo pipefail
MOTO_VERSION="5.2.5"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${TRIPLINE_MOTO_VENV:-$ROOT/.venv-moto}"
PYTHON="${PYTHON:-python3}"

# Writes (when missing or different) and prints the launcher.
launcher() {
  local exe="$VENV/bin/tripline-moto-server"
  local body
  body="$(printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$VENV/bin/python" "$ROOT/scripts/moto_server.py")"
  if [[ ! -x "$exe" ]] || [[ "$(cat "$exe")" != "$body" ]]; then
    printf '%s\n' "$body" > "$exe.tmp.$$"
    chmod +x "$exe.tmp.$$"
    mv -f "$exe.tmp.$$" "$exe"
  fi
  echo "$exe"
}

if [[ -x "$VENV/bin/moto_server" ]] && "$VENV/bin/python" - "$MOTO_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("moto") == sys.argv[1] else 1)
PY
then
  launcher
  exit 0
fi

# Several test binaries may call this at once: serialize on a lock file.
mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9
if [[ ! -x "$VENV/bin/moto_server" ]]; then
  "$PYTHON" -m venv "$VENV" >&2
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
launcher
