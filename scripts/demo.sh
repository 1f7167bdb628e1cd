#!/usr/bin/env bash
# `make demo`: installs what is missing (the emulator venv, cargo-lambda), builds the binaries the demo runs
# (the functions, the `tripline` CLI, the `tripline-demo` email view), then runs the driver demo/demo.py with
# the emulator venv's Python (it has boto3). Arguments are passed to the driver:
#   scripts/demo.sh [--quiet] [--summary-json PATH]        (DEMO_QUIET=1 is the same as --quiet)
# The driver stops everything it starts, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}

quiet=${DEMO_QUIET:-}
for a in "$@"; do [ "$a" = --quiet ] && quiet=1; done
if [ -n "$quiet" ] && [ "$quiet" != 0 ]; then
  exec 3>/dev/null
  q=(-q)
else
  exec 3>&2
  q=()
fi

echo "demo: installing the emulator (.venv-moto) and cargo-lambda (.venv-tools) if missing" >&3
scripts/emulator-venv.sh >/dev/null 2>&3
scripts/tools.sh lambda 2>&3

# `cargo lambda watch` starts each function with `cargo run --bin <name>`: building them here, one at a time
# exactly like that, keeps compilation out of the demo's timings.
functions=()
for f in on-cloudtrail remediate notify-slack; do
  [ -f "functions/$f/Cargo.toml" ] && functions+=("$f")
done
echo "demo: building ${functions[*]}, tripline (CLI) and tripline-demo (first run compiles for a few minutes)" >&3
for f in "${functions[@]}"; do
  "$CARGO" build "${q[@]}" --bin "$f" 2>&3
done
"$CARGO" build "${q[@]}" -p tripline-cli 2>&3
"$CARGO" build "${q[@]}" -p tripline-demo 2>&3

exec .venv-moto/bin/python demo/demo.py "$@"
