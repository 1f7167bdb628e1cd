#!/usr/bin/env bash
# Coverage-guided fuzzing of tripline-core (issue 15) with the STABLE toolchain: libFuzzer comes from the
# libfuzzer-sys crate (pinned in fuzz/Cargo.lock, its C++ built by the crate's build script with the
# machine's g++), and the coverage instrumentation is rustc's SanitizerCoverage pass, enabled with stable
# `-C` flags (the flags cargo-fuzz passes with `--sanitizer none`). No nightly, no cargo-fuzz, no download
# beyond crates.io.
#
#   scripts/fuzz.sh build                 build every target (release, debug assertions, overflow checks)
#   scripts/fuzz.sh run SECONDS [T...]    fuzz each target (default: all) for SECONDS, one after another
#   scripts/fuzz.sh smoke [SECONDS]       build, replay the seed corpus, then fuzz each target SECONDS (2)
#   scripts/fuzz.sh seed                  regenerate the seed corpora fuzz/corpus/<target>/ (scripts/fuzz-seeds.py)
#
# Inputs: fuzz/corpus/<target>/ (committed seeds, read-only) and fuzz/corpus-grown/<target>/ (where libFuzzer
# writes what it finds; gitignored). Crashes, timeouts and out-of-memory inputs go to fuzz/artifacts/<target>/,
# libFuzzer's output to fuzz/logs/<target>.log. Env: FUZZ_TIMEOUT (s per input, 10; smoke: FUZZ_SMOKE_TIMEOUT,
# 60), FUZZ_RSS_MB (2048), FUZZ_TARGET_DIR (fuzz/target), FUZZ_KEEP_GOING (1 for `run`: libFuzzer fork mode,
# which goes on past timeouts and out-of-memory inputs, saving them; 0 for `smoke`: stop at the first).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGETS=(intake policy_parse public acl diff escalation render)
HOST=$(rustc -vV | sed -n 's/^host: //p')
TARGET_DIR=${FUZZ_TARGET_DIR:-$ROOT/fuzz/target}
BIN=$TARGET_DIR/$HOST/release
TIMEOUT=${FUZZ_TIMEOUT:-10}
RSS_MB=${FUZZ_RSS_MB:-2048}

build() {
  # --target: RUSTFLAGS then apply to the fuzzed code only, not to build scripts and proc macros.
  local flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
  flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table"
  flags+=" -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cforce-frame-pointers"
  RUSTFLAGS="$flags" CARGO_TARGET_DIR="$TARGET_DIR" \
    cargo build --locked --release --manifest-path fuzz/Cargo.toml --target "$HOST" --bins
}

# run TARGET SECONDS [libFuzzer flags...]
run_one() {
  local t=$1 secs=$2
  shift 2
  mkdir -p "fuzz/corpus-grown/$t" "fuzz/artifacts/$t" fuzz/logs
  local mode=()
  if [ "${FUZZ_KEEP_GOING:-1}" = 1 ]; then mode=(-fork=1 -ignore_timeouts=1 -ignore_ooms=1); fi
  "$BIN/$t" "fuzz/corpus-grown/$t" "fuzz/corpus/$t" -max_total_time="$secs" -timeout="$TIMEOUT" \
    -rss_limit_mb="$RSS_MB" -max_len=65536 -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 \
    "${mode[@]}" "$@" >"fuzz/logs/$t.log" 2>&1
}

# One line per target: executions and exec/s from libFuzzer's final stats, or (fork mode) its last status line,
# and the out-of-memory/timeout/crash counts fork mode went on past.
report() {
  local t=$1 status=$2 log="fuzz/logs/$1.log" runs rate extra=""
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ -z "$runs" ]; then
    local last
    last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1)
    runs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
    local secs
    secs=$(sed -E 's/.* time: ([0-9]+)s.*/\1/' <<<"$last")
    [ -n "$runs" ] && [ "${secs:-0}" -gt 0 ] && rate=$((runs / secs))
    extra=" oom/timeout/crash $(sed -E 's/.*oom\/timeout\/crash: ([0-9/]+).*/\1/' <<<"$last")"
  fi
  printf '  %-13s %-6s %12s execs %8s exec/s%s\n' "$t" "$status" "${runs:-?}" "${rate:-?}" "$extra"
}

run_all() {
  local secs=$1
  shift
  local ts=("$@") failed=0
  [ ${#ts[@]} -gt 0 ] || ts=("${TARGETS[@]}")
  for t in "${ts[@]}"; do
    local before
    # A fresh clone has no artifacts folder yet (find would fail the pipeline under pipefail).
    mkdir -p "fuzz/artifacts/$t"
    before=$(find "fuzz/artifacts/$t" -type f | wc -l)
    if run_one "$t" "$secs"; then
      if [ "$(find "fuzz/artifacts/$t" -type f | wc -l)" -gt "$before" ]; then
        report "$t" FOUND
        failed=1
        ls -t "fuzz/artifacts/$t" | head -5 | sed "s|^|      fuzz/artifacts/$t/|" >&2
      else report "$t" ok; fi
    else
      report "$t" FAILED
      failed=1
      grep -E 'ERROR|panicked|Test unit written|SUMMARY' "fuzz/logs/$t.log" | head -5 | sed 's/^/      /' >&2
    fi
  done
  [ $failed = 0 ] || { echo "fuzz: findings above; inputs in fuzz/artifacts/, logs in fuzz/logs/" >&2; exit 1; }
}

case "${1:-}" in
  build) build ;;
  seed) python3 scripts/fuzz-seeds.py ;;
  run)
    shift
    secs=${1:-60}
    shift || true
    build
    run_all "$secs" "$@"
    ;;
  smoke)
    secs=${2:-2}
    # A slow input is the complexity budget's business (fuzz/regressions/), not a reason to fail CI: the smoke
    # fails on crashes, and on hangs past FUZZ_SMOKE_TIMEOUT (60 s).
    TIMEOUT=${FUZZ_SMOKE_TIMEOUT:-60}
    build
    echo "fuzz-smoke: replaying the seed corpora, then ${secs}s of fuzzing per target"
    for t in "${TARGETS[@]}"; do
      mkdir -p fuzz/logs
      # -runs=0 with a corpus: every seed is executed once, nothing mutated.
      "$BIN/$t" "fuzz/corpus/$t" -runs=0 -timeout="$TIMEOUT" -rss_limit_mb="$RSS_MB" \
        >"fuzz/logs/$t.replay.log" 2>&1 || { echo "fuzz-smoke: $t failed on a seed:" >&2; tail -20 "fuzz/logs/$t.replay.log" >&2; exit 1; }
      # The inputs that once exceeded the limits must now finish well inside them (complexity budgets).
      if [ -d "fuzz/regressions/$t" ]; then
        "$BIN/$t" fuzz/regressions/$t/* -runs=1 -timeout=10 -rss_limit_mb=512 \
          >"fuzz/logs/$t.regressions.log" 2>&1 || { echo "fuzz-smoke: $t failed on a regression input:" >&2; tail -20 "fuzz/logs/$t.regressions.log" >&2; exit 1; }
      fi
    done
    FUZZ_KEEP_GOING=0 run_all "$secs"
    ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
