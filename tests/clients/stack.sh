# Sourced by the tests in this folder. Finds the repository, starts
# fivetran_emulator and fivetran_gateway on OS-chosen loopback ports, and stops
# them (SIGTERM, then SIGKILL) when the test exits.
#
# `start_stack [GATEWAY_FLAG...]` passes the flags on to the gateway;
# `make_tls_and_token` first writes a certificate and a tokens file for a
# secured gateway (TLS_CERT, TLS_KEY, TOKENS_FILE, TOKEN_FILE, TOKEN).
# After `start_stack`: EMU_URL (http://127.0.0.1:PORT), GATEWAY_ADDR
# (127.0.0.1:PORT), API_KEY, API_SECRET; helpers rest PATH, admin METHOD PATH
# [JSON], fail MESSAGE. Also set on sourcing: REPO (the source tree, found
# through the runfile symlinks, as emulator/conformance_test.sh does), TMP,
# RUNFILES, BUF (client/node/node_modules/.bin/buf).
set -euo pipefail

RUNFILES="${TEST_SRCDIR:-$0.runfiles}/fivetran_gateway"
REPO="$(cd "$(dirname "$(readlink -f "$RUNFILES/tests/clients/stack.sh")")/../.." && pwd)"
TMP="${TEST_TMPDIR:-$(mktemp -d)}"
BUF="$REPO/client/node/node_modules/.bin/buf"
API_KEY="clients_key_3d8e"
API_SECRET="clients_secret_b71f"
export BUF_CACHE_DIR="$TMP/buf-cache"
export PYTHONDONTWRITEBYTECODE=1

_pids=()
_stop_stack() {
  local pid
  for pid in "${_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap _stop_stack EXIT

fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "$TMP/emulator.log" "$TMP/gateway.log"; do
    if [ -s "$log" ]; then
      echo "--- last lines of $log" >&2
      tail -n 30 "$log" >&2
    fi
  done
  exit 1
}

# _wait_port FILE PID NAME: prints the port once FILE holds it (20 s at most).
_wait_port() {
  local _
  for _ in $(seq 1 200); do
    if [ -s "$1" ]; then cat "$1"; return 0; fi
    kill -0 "$2" 2>/dev/null || fail "$3 exited early"
    sleep 0.1
  done
  fail "$3 did not write $1"
}

# A self-signed certificate naming only DNS:localhost (so a client that dials
# 127.0.0.1 must be told the name to expect), and a tokens file with one
# write token (the example clients create and sync).
make_tls_and_token() {
  TLS_CERT="$TMP/tls/server.crt"
  TLS_KEY="$TMP/tls/server.key"
  mkdir -p "$TMP/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -keyout "$TLS_KEY" -out "$TLS_CERT" >/dev/null 2>&1 || fail "openssl could not make a certificate"
  TOKEN="tok-clients-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  TOKENS_FILE="$TMP/tls/tokens"
  TOKEN_FILE="$TMP/tls/token"
  printf 'write %s\n' "$TOKEN" >"$TOKENS_FILE"
  printf '%s\n' "$TOKEN" >"$TOKEN_FILE"
  chmod 600 "$TOKENS_FILE" "$TOKEN_FILE"
}

start_stack() {
  local emulator="$RUNFILES/emulator/fivetran_emulator"
  local gateway="$RUNFILES/server/fivetran_gateway"
  rm -f "$TMP/emulator.port" "$TMP/gateway.port"
  # Syncs take 2 s: a WatchConnectionSync (polling every second) sees one run.
  "$emulator" --listen=127.0.0.1:0 --port_file="$TMP/emulator.port" \
    --api_key="$API_KEY" --api_secret="$API_SECRET" --sync_duration=2s \
    --keep_alive_timeout_sec=1 >"$TMP/emulator.log" 2>&1 &
  _pids+=("$!")
  local emu_port
  emu_port="$(_wait_port "$TMP/emulator.port" "$!" fivetran_emulator)"
  EMU_URL="http://127.0.0.1:$emu_port"

  printf 'FIVETRAN_API_KEY=%s\nFIVETRAN_API_SECRET=%s\n' "$API_KEY" "$API_SECRET" >"$TMP/credentials.env"
  chmod 600 "$TMP/credentials.env"
  # A Retry-After over 500 ms reaches the client at once (RESOURCE_EXHAUSTED
  # with RetryInfo), for the clients' retry tests.
  "$gateway" --listen=127.0.0.1:0 --port_file="$TMP/gateway.port" \
    --fivetran_base_url="$EMU_URL" --credentials_file="$TMP/credentials.env" \
    --grace_period=1s --max_retry_wait=500ms "$@" >"$TMP/gateway.log" 2>&1 &
  _pids+=("$!")
  local gw_port
  gw_port="$(_wait_port "$TMP/gateway.port" "$!" fivetran_gateway)"
  GATEWAY_ADDR="127.0.0.1:$gw_port"
  export EMU_URL GATEWAY_ADDR API_KEY API_SECRET
}

# Authenticated REST call to the emulator (what the gateway should mirror).
rest() { curl -fsS --max-time 10 -u "$API_KEY:$API_SECRET" "$EMU_URL$1"; }

# Emulator admin endpoint (no auth).
admin() {
  curl -fsS --max-time 10 -X "$1" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} "$EMU_URL$2"
}

# buf from the npm package, installed by tools/setup.sh.
require_buf() {
  [ -x "$BUF" ] || fail "$BUF is missing: run tools/setup.sh (npm ci in client/node)"
}
