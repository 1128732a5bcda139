#!/usr/bin/env bash
# Proto checks with buf (npm @bufbuild/buf), offline, on the source tree's proto/:
#
#   buf_proto_test.sh lint      buf lint, STANDARD rules, no exceptions
#   buf_proto_test.sh breaking  buf breaking (FILE rules) against the last
#                               released API, proto/buf_image.binpb; and proof
#                               that a wire-incompatible change is caught
set -euo pipefail
mode="${1:?usage: buf_proto_test.sh lint|breaking}"
source "${TEST_SRCDIR:-$0.runfiles}/fivetran_gateway/tests/clients/stack.sh"
require_buf
proto="$REPO/proto"

case "$mode" in
  lint)
    # No exceptions: no except/ignore/ignore_only, no `// buf:lint:ignore`.
    if grep -nE '^\s*(except|ignore|ignore_only|allow_comment_ignores)\s*:' "$proto/buf.yaml"; then
      fail "proto/buf.yaml has lint exceptions"
    fi
    if grep -rn 'buf:lint:ignore' "$proto" --include='*.proto'; then
      fail "a .proto file has a buf:lint:ignore comment"
    fi
    "$BUF" config ls-lint-rules --configured-only --config "$proto/buf.yaml" >"$TMP/rules.txt"
    for rule in RPC_REQUEST_STANDARD_NAME ENUM_ZERO_VALUE_SUFFIX PACKAGE_VERSION_SUFFIX SERVICE_SUFFIX; do
      grep -q "^$rule " "$TMP/rules.txt" || fail "lint rule $rule (STANDARD) is not configured"
    done
    (cd "$proto" && timeout 60 "$BUF" lint) || fail "buf lint found problems (above)"
    echo "PASS: buf lint (STANDARD) on proto/"
    ;;
  breaking)
    [ -f "$proto/buf_image.binpb" ] || fail "proto/buf_image.binpb (the released API) is missing"
    (cd "$proto" && timeout 60 "$BUF" breaking . --against buf_image.binpb --exclude-imports) ||
      fail "buf breaking: proto/ is not compatible with the released API (above)"
    # The check must catch a wire-incompatible change: renumber Group.name.
    mkdir -p "$TMP/changed"
    cp -r "$proto/." "$TMP/changed/"
    sed -i 's/^\(  string name = \)2;/\199;/' "$TMP/changed/fivetran/gateway/v1/group.proto"
    grep -q 'string name = 99;' "$TMP/changed/fivetran/gateway/v1/group.proto" ||
      fail "could not make the test change in group.proto"
    if (cd "$TMP/changed" && "$BUF" breaking . --against buf_image.binpb --exclude-imports) >"$TMP/breaking.out" 2>&1; then
      fail "buf breaking did not notice a renumbered field"
    fi
    grep -q 'Group' "$TMP/breaking.out" || fail "unexpected buf breaking output: $(cat "$TMP/breaking.out")"
    echo "PASS: buf breaking (FILE) against proto/buf_image.binpb"
    ;;
  *) fail "unknown mode '$mode'" ;;
esac
