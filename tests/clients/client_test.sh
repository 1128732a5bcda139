#!/usr/bin/env bash
# Runs one example client (python, go or node) against fivetran_gateway in
# front of fivetran_emulator and checks what it printed against the
# emulator's REST data (check_output.py).
#
#   client_test.sh python|go|node [secure]
#
# `secure`: the gateway serves TLS only and needs a bearer token; the client
# gets the CA, the server name and the token file from the environment
# (FIVETRAN_GATEWAY_CA_FILE, FIVETRAN_GATEWAY_SERVER_NAME,
# FIVETRAN_GATEWAY_TOKEN_FILE), and a wrong token must fail UNAUTHENTICATED.
#
# Generates the client code with tools/gen_clients.sh into the test's temp
# folder, so the source tree is not touched (Node still needs
# client/node/node_modules from tools/setup.sh).
set -euo pipefail
lang="${1:?usage: client_test.sh python|go|node [secure]}"
mode="${2:-plaintext}"
source "${TEST_SRCDIR:-$0.runfiles}/fivetran_gateway/tests/clients/stack.sh"

gen="$TMP/generated"
bash "$REPO/tools/gen_clients.sh" --out "$gen" "$lang" || fail "tools/gen_clients.sh $lang failed"

case "$lang" in
  python)
    client=(env PYTHONPATH="$gen/python" /usr/bin/python3 "$REPO/client/python/example_client.py")
    ;;
  go)
    # GOPATH mode with Debian's Go packages. The build cache is kept across
    # runs (a cold build of grpc-go takes about 30 s on 2 cores).
    export GO111MODULE=off GOFLAGS="" GOPATH="$gen/go:/usr/share/gocode"
    export GOCACHE="${FIVETRAN_GATEWAY_GOCACHE:-/tmp/fivetran-gateway-gocache-$(id -u)}"
    (cd "$REPO/client/go" && timeout 240 go build -o "$TMP/go_example_client" .) ||
      fail "go build of client/go failed"
    client=("$TMP/go_example_client")
    ;;
  node)
    [ -d "$REPO/client/node/node_modules/@grpc/grpc-js" ] ||
      fail "client/node/node_modules is missing: run tools/setup.sh"
    client=(env GATEWAY_PROTO_DIR="$gen/node/proto" node "$REPO/client/node/example_client.js")
    ;;
  *) fail "unknown language '$lang'" ;;
esac

secure_env=()
if [ "$mode" = secure ]; then
  make_tls_and_token
  start_stack --tls_cert="$TLS_CERT" --tls_key="$TLS_KEY" --auth_tokens_file="$TOKENS_FILE"
  tls_env=(FIVETRAN_GATEWAY_CA_FILE="$TLS_CERT" FIVETRAN_GATEWAY_SERVER_NAME=localhost)
  secure_env=("${tls_env[@]}" FIVETRAN_GATEWAY_TOKEN_FILE="$TOKEN_FILE")
  # The token is what lets it in: a wrong one is refused.
  status=0
  env "${tls_env[@]}" FIVETRAN_GATEWAY_TOKEN=tok-wrong-00000000000000 timeout 60 "${client[@]}" \
    "$GATEWAY_ADDR" >"$TMP/wrong_token.out" 2>&1 || status=$?
  [ "$status" != 0 ] || fail "the $lang client succeeded with a wrong token"
  grep -qi unauthenticated "$TMP/wrong_token.out" ||
    { cat "$TMP/wrong_token.out" >&2; fail "the wrong token did not fail UNAUTHENTICATED"; }
  ! grep -q "$TOKEN" "$TMP/gateway.log" || fail "the token is in the gateway's log"
else
  start_stack
fi

# One 429 on the first /v1/users request: the client must report
# RESOURCE_EXHAUSTED with its RetryInfo (1 s) and retry after it (the gateway
# sends nothing for these credentials until the Retry-After has passed).
admin POST /_emulator/faults '{"kind":"status","status":429,"code":"TooManyRequests","message":"slow down","retry_after":"1","path_prefix":"/v1/users","count":1}' >/dev/null ||
  fail "could not queue the 429 fault"

status=0
env ${secure_env[@]+"${secure_env[@]}"} GATEWAY_MAX_RETRY_WAIT=3 timeout 120 "${client[@]}" "$GATEWAY_ADDR" >"$TMP/client.out" 2>"$TMP/client.err" || status=$?
echo "--- $lang client output"
cat "$TMP/client.out"
if [ "$status" != 0 ]; then
  cat "$TMP/client.err" >&2
  fail "the $lang client exited with $status"
fi

/usr/bin/python3 "$RUNFILES/tests/clients/check_output.py" "$lang" "$TMP/client.out" ||
  fail "the $lang client's output does not match the emulator's data"
echo "PASS: $lang client ($mode)"
