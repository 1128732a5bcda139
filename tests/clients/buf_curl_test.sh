#!/usr/bin/env bash
# grpcurl-style debugging through server reflection, with `buf curl` (npm
# @bufbuild/buf) and no .proto files: list services and methods (including
# grpc.health.v1.Health), call ListGroups (paging) and GetConnection with
# JSON, the health check, and a NOT_FOUND whose details carry ErrorInfo.
set -euo pipefail
source "${TEST_SRCDIR:-$0.runfiles}/fivetran_gateway/tests/clients/stack.sh"
require_buf
start_stack

url="http://$GATEWAY_ADDR"
bufcurl() { timeout 30 "$BUF" curl --protocol grpc --http2-prior-knowledge "$@"; }

# --list-services
bufcurl --list-services "$url" >"$TMP/services.txt" || fail "buf curl --list-services failed"
for s in fivetran.gateway.v1.ConnectionService fivetran.gateway.v1.GroupService \
         fivetran.gateway.v1.UserService grpc.health.v1.Health; do
  grep -qx "$s" "$TMP/services.txt" || fail "--list-services lacks $s: $(cat "$TMP/services.txt")"
done

# --list-methods (describing every service, grpc.health.v1.Health included)
bufcurl --list-methods "$url" >"$TMP/methods.txt" || fail "buf curl --list-methods failed"
for m in ConnectionService/GetConnection ConnectionService/CreateConnection \
         ConnectionService/CreateFtpConnection ConnectionService/SyncConnection \
         ConnectionService/WatchConnectionSync \
         GroupService/ListGroups GroupService/ListGroupConnections UserService/ListUsers; do
  grep -qx "fivetran.gateway.v1.$m" "$TMP/methods.txt" || fail "--list-methods lacks $m"
done
grep -qx "grpc.health.v1.Health/Check" "$TMP/methods.txt" || fail "--list-methods lacks grpc.health.v1.Health/Check"

# grpc.health.v1.Health/Check, described through reflection
bufcurl "$url/grpc.health.v1.Health/Check" >"$TMP/health.json" || fail "Health/Check failed"

# ListGroups with JSON, paging with nextPageToken until it is empty
: >"$TMP/groups.jsonl"
token=""
for page in 1 2 3 4 5 6; do
  body="$(/usr/bin/python3 -c 'import json,sys; print(json.dumps({"page_size": 2, "page_token": sys.argv[1]}))' "$token")"
  bufcurl -d "$body" "$url/fivetran.gateway.v1.GroupService/ListGroups" >"$TMP/groups_$page.json" ||
    fail "ListGroups page $page failed"
  /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$TMP/groups_$page.json" >>"$TMP/groups.jsonl"
  token="$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("nextPageToken", ""))' "$TMP/groups_$page.json")"
  [ -n "$token" ] || break
done
[ -z "$token" ] || fail "ListGroups did not end after 6 pages"

# GetConnection with JSON
bufcurl -d '{"connection_id":"decent_dropsy"}' \
  "$url/fivetran.gateway.v1.ConnectionService/GetConnection" >"$TMP/get.json" || fail "GetConnection failed"

# NOT_FOUND: buf curl exits non-zero and prints the error as JSON
set +e
bufcurl -d '{"connection_id":"no_such_connection"}' \
  "$url/fivetran.gateway.v1.ConnectionService/GetConnection" >"$TMP/notfound.out" 2>"$TMP/notfound.err"
nf_status=$?
set -e
[ "$nf_status" != 0 ] || fail "GetConnection(no_such_connection) succeeded"

# The google.rpc.ErrorInfo detail is printed as base64: decode it with the
# Python code of tools/gen_clients.sh.
bash "$REPO/tools/gen_clients.sh" --out "$TMP/generated" python || fail "tools/gen_clients.sh python failed"

rest /v1/groups?limit=1000 >"$TMP/rest_groups.json" || fail "REST /v1/groups failed"
rest /v1/connections/decent_dropsy >"$TMP/rest_conn.json" || fail "REST decent_dropsy failed"

PYTHONPATH="$TMP/generated/python" /usr/bin/python3 - "$TMP" <<'PY' || fail "buf curl output does not match"
import base64, json, os, sys
from google.rpc import error_details_pb2

tmp = sys.argv[1]
bad = []
load = lambda name: json.load(open(os.path.join(tmp, name)))

health = load("health.json")
if health.get("status") != "SERVING":
    bad.append(f"health: {health}")

pages = [json.loads(l) for l in open(os.path.join(tmp, "groups.jsonl"))]
got = [g["id"] for p in pages for g in p.get("groups", [])]
want = [g["id"] for g in load("rest_groups.json")["data"]["items"]]
if got != want:
    bad.append(f"ListGroups ids {got}, REST {want}")
if len(pages) < 2 or any(len(p.get("groups", [])) > 2 for p in pages):
    bad.append(f"ListGroups did not page by 2: {len(pages)} pages")
if "name" not in pages[0]["groups"][0] or "createdAt" not in pages[0]["groups"][0]:
    bad.append(f"ListGroups JSON lacks name/createdAt: {pages[0]['groups'][0]}")

conn = load("get.json")["connection"]
rest = load("rest_conn.json")["data"]
for json_key, rest_key in (("id", "id"), ("groupId", "group_id"), ("service", "service"), ("schema", "schema")):
    if conn.get(json_key) != rest[rest_key]:
        bad.append(f"GetConnection {json_key}={conn.get(json_key)!r}, REST {rest[rest_key]!r}")
if conn.get("config", {}).get("password") != "******":
    bad.append("GetConnection config.password is not masked")

text = open(os.path.join(tmp, "notfound.out")).read() + open(os.path.join(tmp, "notfound.err")).read()
start = text.find("{")
err = json.loads(text[start:]) if start >= 0 else {}
if err.get("code") != "not_found":
    bad.append(f"NOT_FOUND: code {err.get('code')!r} in {text!r}")
infos = [d for d in err.get("details", []) if d.get("type") == "google.rpc.ErrorInfo"]
if len(infos) != 1:
    bad.append(f"NOT_FOUND: expected one google.rpc.ErrorInfo detail, got {err.get('details')}")
else:
    value = infos[0]["value"]
    raw = base64.b64decode(value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4))
    info = error_details_pb2.ErrorInfo.FromString(raw)
    if (info.reason, info.domain, info.metadata.get("fivetran_code"), info.metadata.get("http_status")) != \
            ("FIVETRAN_NOT_FOUND", "fivetran-gateway", "NotFound_Connection", "404"):
        bad.append(f"NOT_FOUND ErrorInfo: {info}")
    print(f"NOT_FOUND details: reason={info.reason} fivetran_code={info.metadata['fivetran_code']}")

for b in bad:
    print("MISMATCH:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
echo "PASS: buf curl lists and calls everything through reflection"
