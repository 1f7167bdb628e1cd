#!/usr/bin/env bash
# `make bench`: installs what the benchmarks need, builds the release binaries once, runs every
# measurement (bench/run.py) and rewrites the tables in BENCHMARKS.md. Not part of `make test`.
# Arguments are passed to bench/run.py (e.g. `--only sweep`, `--quick`).
set -euo pipefail
cd "$(dirname "$0")/.."

C7N_VERSION=0.9.53          # Cloud Custodian, PyPI `c7n`
C7N_ORG_VERSION=0.6.52      # its multi-account runner, PyPI `c7n-org` (bench/org_sweep.py)
PYTHON=${PYTHON:-python3}
VENV=.venv-bench
CARGO=${CARGO:-cargo}

# 1. Custodian in its own venv, pinned (boto3 comes with it; the harness uses the same interpreter).
if [ "$("$VENV/bin/python" -m pip show c7n 2>/dev/null | sed -n 's/^Version: //p')" != "$C7N_VERSION" ] ||
   [ "$("$VENV/bin/python" -m pip show c7n-org 2>/dev/null | sed -n 's/^Version: //p')" != "$C7N_ORG_VERSION" ]; then
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  echo "bench: installing c7n==$C7N_VERSION c7n-org==$C7N_ORG_VERSION into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "c7n==$C7N_VERSION" "c7n-org==$C7N_ORG_VERSION"
fi

# 2. The emulator (moto_server, pinned) shared with the integration tests.
scripts/emulator-venv.sh >/dev/null

# 3. Release binaries: the floor, the functions that exist, the CLI. One cargo invocation so the
#    workspace's fat-LTO release profile links them in one go.
pkgs=(-p tripline-bench-hello -p tripline-cli)
for dir in functions/*/; do
  [ -f "$dir/Cargo.toml" ] || continue
  pkgs+=(-p "$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$dir/Cargo.toml" | head -n1)")
done
echo "bench: cargo build --release ${pkgs[*]}" >&2
if ! "$CARGO" build --release "${pkgs[@]}"; then
  # A package that does not build is reported as missing in BENCHMARKS.md; measure the rest.
  echo "bench: the combined release build failed; building package by package" >&2
  for ((i = 1; i < ${#pkgs[@]}; i += 2)); do
    "$CARGO" build --release -p "${pkgs[$i]}" || echo "bench: WARNING: ${pkgs[$i]} does not build; not measured" >&2
  done
fi

# Tripline's engine over recorded bucket data (its own workspace: never part of `make test`).
"$CARGO" build --release --manifest-path bench/engine-eval/Cargo.toml --target-dir target ||
  echo "bench: WARNING: bench/engine-eval does not build; engine comparison not measured" >&2

# 4. Measure and rewrite BENCHMARKS.md.
exec "$VENV/bin/python" bench/run.py "$@"
