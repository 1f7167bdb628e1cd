#!/usr/bin/env bash
# Runs one Tripline function under `cargo lambda watch` (the Lambda runtime API emulator), invokes it once with
# an events/ sample through `cargo lambda invoke`, prints the response, and stops the emulator and the
# function again — nothing is left running, also on Ctrl-C or failure.
#
#   scripts/invoke-local.sh FUNCTION [EVENT_FILE]
#
# The function talks to whatever the standard AWS configuration points at. Without AWS_ENDPOINT_URL (e.g. a
# local moto_server) pick an event the function handles without calling AWS (the default for on-cloudtrail
# is an ignored read-only call); with it, any sample works. Placeholders are set for the variables the
# functions validate at cold start, unless already set.
set -euo pipefail
cd "$(dirname "$0")/.."

function=${1:?usage: scripts/invoke-local.sh FUNCTION [EVENT_FILE]}
event=${2:-}

default_event() {
  case "$1" in
    on-cloudtrail) ls events/cloudtrail-*read-only*.json 2>/dev/null | head -n1 ;;
    on-config) ls events/config-*rule-invocation*.json 2>/dev/null | head -n1 ;;
    sweep) ls events/*scheduled*.json 2>/dev/null | head -n1 ;;
    remediate | notify-slack) ls events/sns-*finding*.json 2>/dev/null | head -n1 ;;
  esac
}

case "$function" in
  on-cloudtrail | on-config | sweep | remediate | notify-slack) ;;
  *) echo "invoke-local: unknown function \`$function\` (on-cloudtrail, on-config, sweep, remediate, notify-slack)" >&2; exit 2 ;;
esac
[ -n "$event" ] || event=$(default_event "$function")
if [ -z "$event" ] || [ ! -f "$event" ]; then
  echo "invoke-local: no event file \`${event:-}\`; pass one: make invoke-local FUNCTION=$function EVENT=events/<file>.json" >&2
  exit 2
fi

: "${AWS_REGION:=us-east-1}"
: "${TRIPLINE_ALERT_TOPIC_ARN:=arn:aws:sns:${AWS_REGION}:000000000000:tripline-alerts}"
: "${TRIPLINE_SLACK_SECRET_ARN:=arn:aws:secretsmanager:${AWS_REGION}:000000000000:secret:tripline-slack}"
export AWS_REGION TRIPLINE_ALERT_TOPIC_ARN TRIPLINE_SLACK_SECRET_ARN

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp -t tripline-watch.XXXXXX)
watch_pid=""

cleanup() {
  local rc=$?
  if [ -n "$watch_pid" ] && kill -0 "$watch_pid" 2>/dev/null; then
    # The emulator runs in its own process group (setsid): stop it and the function process it spawned.
    kill -TERM -- "-$watch_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$watch_pid" 2>/dev/null || true
    wait "$watch_pid" 2>/dev/null || true
  fi
  if [ -n "$watch_pid" ] && pgrep -g "$watch_pid" >/dev/null 2>&1; then
    echo "invoke-local: processes of group $watch_pid still running" >&2
    rc=1
  fi
  rm -f "$log"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "invoke-local: starting \`cargo lambda watch --bin $function\` on 127.0.0.1:$port (first run compiles)" >&2
setsid cargo lambda watch --bin "$function" --invoke-address 127.0.0.1 --invoke-port "$port" \
  --ignore-changes --wait >"$log" 2>&1 &
watch_pid=$!

# The invoke server answers as soon as it listens; with --wait the function compiles on the first invoke.
for _ in $(seq 1 600); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.5)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$watch_pid" 2>/dev/null; then
    echo "invoke-local: cargo lambda watch exited:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.5
done

echo "invoke-local: invoking $function with $event" >&2
status=0
cargo lambda invoke "$function" --invoke-address 127.0.0.1 --invoke-port "$port" --data-file "$event" || status=$?
if [ "$status" -ne 0 ]; then
  echo "invoke-local: the invocation failed (exit $status); emulator log:" >&2
  tail -n 40 "$log" >&2
fi
exit "$status"
