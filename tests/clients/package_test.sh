#!/usr/bin/env bash
# Builds one client package with tools/package_clients.sh, installs it into a
# clean place, and makes real calls through it to fivetran_gateway (TLS
# listener, tokens file) in front of fivetran_emulator:
#
#   package_test.sh python   the wheel, into `python3 -m venv
#                            --system-site-packages` (Debian's grpcio and
#                            protobuf) with `pip install --no-index`
#   package_test.sh node     the .tgz, with `npm install` into an empty folder
#                            (its dependencies come from the npm registry);
#                            then tsc type-checks a TypeScript caller against
#                            it, and must refuse one with a misspelt field
#
# The calls (installed_client.py / .js) run outside the source tree and must
# load the installed modules; their output is compared with the emulator's data.
set -euo pipefail
kind="${1:?usage: package_test.sh python|node}"
source "${TEST_SRCDIR:-$0.runfiles}/fivetran_gateway/tests/clients/stack.sh"
here="$RUNFILES/tests/clients"

version="$(tr -d ' \n' <"$REPO/client/VERSION")"
bash "$REPO/tools/package_clients.sh" --out "$TMP/dist" "$kind" ||
  fail "tools/package_clients.sh $kind failed"

make_tls_and_token
start_stack --tls_cert="$TLS_CERT" --tls_key="$TLS_KEY" --auth_tokens_file="$TOKENS_FILE"
secure_env=(FIVETRAN_GATEWAY_CA_FILE="$TLS_CERT" FIVETRAN_GATEWAY_SERVER_NAME=localhost
  FIVETRAN_GATEWAY_TOKEN_FILE="$TOKEN_FILE")
app="$TMP/app"
mkdir -p "$app"

case "$kind" in
  python)
    wheel="$TMP/dist/fivetran_gateway_client-$version-py3-none-any.whl"
    [ -f "$wheel" ] || fail "no $wheel"
    /usr/bin/python3 -m venv --system-site-packages "$TMP/venv" || fail "python3 -m venv failed"
    "$TMP/venv/bin/python" -m pip install --quiet --no-index --disable-pip-version-check "$wheel" ||
      fail "pip install --no-index of the wheel failed"
    cp "$here/installed_client.py" "$app/"
    (cd "$app" && env -u PYTHONPATH "${secure_env[@]}" timeout 60 "$TMP/venv/bin/python" \
      installed_client.py "$GATEWAY_ADDR") >"$TMP/out" 2>"$TMP/err" ||
      { cat "$TMP/err" >&2; fail "the call through the installed wheel failed"; }
    installed_in="$TMP/venv/"
    want_error="not_found reason=FIVETRAN_NOT_FOUND"
    ;;
  node)
    tgz="$TMP/dist/fivetran-gateway-client-$version.tgz"
    [ -f "$tgz" ] || fail "no $tgz"
    echo '{"name": "package-test-app", "version": "1.0.0", "private": true}' >"$app/package.json"
    (cd "$app" && npm_config_cache="$TMP/npm-cache" timeout 180 npm install --no-audit --no-fund \
      --loglevel=error "$tgz") || fail "npm install of the package failed"
    cp "$here/installed_client.js" "$app/"
    (cd "$app" && env "${secure_env[@]}" timeout 60 node installed_client.js "$GATEWAY_ADDR") \
      >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err" >&2; fail "the call through the installed package failed"; }
    installed_in="$app/node_modules/fivetran-gateway-client/"
    want_error="not_found code=5"

    # The declarations: a correct caller compiles, a misspelt request field does not.
    tsc="$REPO/client/node/node_modules/.bin/tsc"
    [ -x "$tsc" ] || fail "$tsc is missing: run tools/setup.sh"
    tsc_flags=(--noEmit --strict --skipLibCheck --moduleResolution node --lib es2020)
    cp "$here/installed_types.ts" "$app/good.ts"
    sed 's/page_size: 2/page_sise: 2/' "$here/installed_types.ts" >"$app/bad.ts"
    (cd "$app" && "$tsc" "${tsc_flags[@]}" good.ts) >"$TMP/tsc.out" 2>&1 ||
      { cat "$TMP/tsc.out" >&2; fail "tsc refused a correct TypeScript caller"; }
    if (cd "$app" && "$tsc" "${tsc_flags[@]}" bad.ts) >"$TMP/tsc_bad.out" 2>&1; then
      fail "tsc accepted a request with a misspelt field: the types are not checked"
    fi
    grep -q "page_sise" "$TMP/tsc_bad.out" || { cat "$TMP/tsc_bad.out" >&2; fail "tsc failed for another reason"; }
    ;;
  *) fail "unknown package kind '$kind'" ;;
esac

echo "--- output of the installed $kind client"
cat "$TMP/out"
want_groups="$(rest '/v1/groups?limit=1000' | /usr/bin/python3 -c \
  'import json, sys; print(",".join(sorted(g["id"] for g in json.load(sys.stdin)["data"]["items"])))')"
got_groups="$(sed -n 's/^groups=//p' "$TMP/out" | tr ',' '\n' | LC_ALL=C sort | paste -sd, -)"
[ -n "$want_groups" ] || fail "the emulator has no groups"
[ "$got_groups" = "$want_groups" ] || fail "groups: got '$got_groups', want '$want_groups'"
grep -qx "version=$version" "$TMP/out" || fail "the installed package's version is not $version"
for module in $(sed -n 's/^\(rpc_\)\{0,1\}module=//p' "$TMP/out"); do
  case "$module" in
    "$installed_in"*) ;;
    *) fail "$module was not loaded from the installed package ($installed_in)" ;;
  esac
done
grep -qx "$want_error" "$TMP/out" || fail "no '$want_error' line"
! grep -q "$TOKEN" "$TMP/gateway.log" "$TMP/out" "$TMP/err" || fail "the token was printed or logged"
echo "PASS: installed $kind package $version"
