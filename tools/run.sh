#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs fivetran_gateway.
#
# With FIVETRAN_API_KEY and FIVETRAN_API_SECRET set, the gateway talks to the
# real Fivetran API (or FIVETRAN_BASE_URL). Without them, it starts the
# bundled fivetran_emulator on a free loopback port and serves that instead.
# Extra arguments go to fivetran_gateway (e.g. --listen=0.0.0.0:50051
# --auth_tokens_file=tokens.txt: a public address needs tokens, see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh
# Optimized binaries (tools/test.sh builds the default fastbuild ones, in
# their own output folder).
bazel build -c opt //server:fivetran_gateway //emulator:fivetran_emulator
bin=$(bazel info -c opt bazel-bin 2>/dev/null)

emulator_pid=""
cleanup() {
  if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

base_url="${FIVETRAN_BASE_URL:-https://api.fivetran.com}"
if [ -z "${FIVETRAN_API_KEY:-}" ] || [ -z "${FIVETRAN_API_SECRET:-}" ]; then
  port_file=$(mktemp)
  rm -f "$port_file"
  "$bin/emulator/fivetran_emulator" --listen=127.0.0.1:0 --port_file="$port_file" \
    --api_key=demo_api_key --api_secret=demo_api_secret &
  emulator_pid=$!
  for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.1; done
  if [ ! -s "$port_file" ]; then echo "run.sh: the emulator did not start" >&2; exit 1; fi
  base_url="http://127.0.0.1:$(cat "$port_file")"
  rm -f "$port_file"
  export FIVETRAN_API_KEY=demo_api_key FIVETRAN_API_SECRET=demo_api_secret
  echo "run.sh: no Fivetran credentials given: serving the bundled emulator at $base_url" >&2
fi

"$bin/server/fivetran_gateway" --fivetran_base_url="$base_url" "$@" &
gateway_pid=$!
trap 'kill -TERM $gateway_pid 2>/dev/null || true' INT TERM
# The gateway's exit status is this script's: a gateway that cannot start
# (a port in use, a bad flag) fails the command.
status=0
wait "$gateway_pid" || status=$?
if [ "$status" -gt 128 ] && kill -0 "$gateway_pid" 2>/dev/null; then
  # A signal to this script ended the wait; the trap passed it on, and the
  # gateway drains its calls before it exits.
  status=0
  wait "$gateway_pid" || status=$?
fi
exit "$status"
