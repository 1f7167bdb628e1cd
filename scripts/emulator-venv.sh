#!/usr/bin/env bash
# Installs the AWS API emulator used by the integration tests (tests/) into `.venv-moto/` (gitignored).
# Idempotent: does nothing when the pinned version is already installed. Prints the moto_server path.
set -euo pipefail
MOTO_VERSION="5.2.5"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${TRIPLINE_MOTO_VENV:-$ROOT/.venv-moto}"
PYTHON="${PYTHON:-python3}"

if [[ -x "$VENV/bin/moto_server" ]] && "$VENV/bin/python" - "$MOTO_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("moto") == sys.argv[1] else 1)
PY
then
  echo "$VENV/bin/moto_server"
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
echo "$VENV/bin/moto_server"
