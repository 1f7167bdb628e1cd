#!/usr/bin/env bash
# Installs Tripline's deployment tools into local virtualenvs with pinned versions.
#   scripts/tools.sh sam        -> .venv-tools/   aws-sam-cli + cfn-lint
#   scripts/tools.sh lambda     -> .venv-tools/   cargo-lambda (ships zig, used for arm64 cross-builds)
#   scripts/tools.sh checkov    -> .venv-checkov/ checkov (own venv: it pins an older boto3 than SAM)
#   scripts/tools.sh arm64      -> rustup target aarch64-unknown-linux-gnu (best effort, see below)
# Idempotent: a tool already at the pinned version is not reinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LAMBDA_VERSION=1.9.2
SAM_CLI_VERSION=1.170.0
CFN_LINT_VERSION=1.58.0
CHECKOV_VERSION=3.3.30
PYTHON=${PYTHON:-python3}

venv() { # venv DIR
  [ -x "$1/bin/python" ] || "$PYTHON" -m venv "$1"
}

have() { # have VENV PACKAGE VERSION
  [ "$("$1/bin/python" -m pip show "$2" 2>/dev/null | sed -n 's/^Version: //p')" = "$3" ]
}

install() { # install VENV PACKAGE==VERSION...
  local dir=$1; shift
  local missing=()
  for spec in "$@"; do
    have "$dir" "${spec%%==*}" "${spec##*==}" || missing+=("$spec")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "tools: installing ${missing[*]} into $dir" >&2
    "$dir/bin/python" -m pip install --quiet "${missing[@]}"
  fi
}

case "${1:-}" in
  sam)
    venv .venv-tools
    install .venv-tools "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION"
    ;;
  lambda)
    venv .venv-tools
    install .venv-tools "cargo-lambda==$CARGO_LAMBDA_VERSION"
    ;;
  checkov)
    venv .venv-checkov
    install .venv-checkov "checkov==$CHECKOV_VERSION"
    ;;
  arm64)
    # Lambda runs the functions on arm64 (Graviton). cargo-lambda cross-compiles with zig, but it still
    # needs the Rust standard library for the target, which only rustup can provide.
    if rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
      exit 0
    fi
    if rustup target add aarch64-unknown-linux-gnu >&2; then
      exit 0
    fi
    echo "tools: cannot add the rust target aarch64-unknown-linux-gnu (rustup's dist server unreachable?)." >&2
    echo "tools: arm64 builds are unavailable here; 'make build ARCH=x86-64' builds x86_64 binaries instead" >&2
    echo "tools: (template.yaml still declares arm64: deploy from a machine where the target can be added)." >&2
    exit 1
    ;;
  *)
    echo "usage: scripts/tools.sh sam|lambda|checkov|arm64" >&2
    exit 2
    ;;
esac
