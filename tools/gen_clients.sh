#!/usr/bin/env bash
# Generates the client code of fivetran.gateway.v1 for Python, Go and Node.js
# from proto/, plus what the clients need of google/rpc (error details) and
# grpc.health.v1. Nothing it writes is committed (client/generated/ is in
# .gitignore). See client/README.md for how each language imports the result.
#
#   tools/gen_clients.sh [--out DIR] [python] [go] [node]
#
# Default: all three languages into <repo>/client/generated. Layout:
#   python/  fivetran/gateway/v1/*_pb2.py, *_pb2_grpc.py, *_pb2.pyi,
#            google/rpc/*_pb2.py, health/v1/health_pb2*.py   (put on PYTHONPATH)
#   go/src/fivetran-gateway/gen/gatewayv1/*.pb.go             (a GOPATH entry;
#            import "fivetran-gateway/gen/gatewayv1"; google/rpc and health
#            come from Debian's genproto and grpc-go packages)
#   node/proto/  the .proto files @grpc/proto-loader loads at run time
#            (fivetran/..., google/rpc/..., grpc/health/v1/...)
#   node/types/  TypeScript definitions (proto-loader-gen-types)
#
# Needs: protoc, grpc_python_plugin (protobuf-compiler-grpc), protoc-gen-go and
# protoc-gen-go-grpc (Go), client/node/node_modules (Node types), and the
# google/rpc protos installed by tools/setup.sh. All are set up by
# tools/setup.sh. Override the google/rpc location with FIVETRAN_GOOGLEAPIS_DIR.
set -euo pipefail

repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
out="$repo/client/generated"
googleapis="${FIVETRAN_GOOGLEAPIS_DIR:-/usr/local/share/fivetran-gateway/googleapis}"
grpc_proto="${GRPC_PROTO_DIR:-/usr/share/grpc-proto}"
langs=()

while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    python|go|node) langs+=("$1"); shift ;;
    -h|--help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gen_clients: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ ${#langs[@]} -gt 0 ] || langs=(python go node)
mkdir -p "$out"
out="$(cd "$out" && pwd)"

die() { echo "gen_clients: $*" >&2; exit 1; }
[ -f "$googleapis/google/rpc/error_details.proto" ] ||
  die "google/rpc protos not found in $googleapis (run tools/setup.sh)"
[ -f "$grpc_proto/grpc/health/v1/health.proto" ] ||
  die "grpc health.proto not found in $grpc_proto (apt-get install grpc-proto)"

# The API's files, relative to proto/ (their import paths).
mapfile -t api < <(cd "$repo/proto" && find fivetran -name '*.proto' | LC_ALL=C sort)
[ ${#api[@]} -gt 0 ] || die "no .proto files under $repo/proto"
rpc=(google/rpc/status.proto google/rpc/error_details.proto google/rpc/code.proto)

gen_python() {
  local dir="$out/python"
  rm -rf "$dir" && mkdir -p "$dir"
  # googleapis first: a file reachable through two -I paths is "already defined".
  protoc -I"$googleapis" --python_out="$dir" --pyi_out="$dir" "${rpc[@]}"
  (cd "$repo/proto" && protoc -I. --python_out="$dir" --pyi_out="$dir" \
    --grpc_python_out="$dir" --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin "${api[@]}")
  # -I.../grpc, so the module is health.v1.health_pb2: a generated grpc/ package
  # would shadow grpcio's `grpc`.
  protoc -I"$grpc_proto/grpc" --python_out="$dir" --pyi_out="$dir" \
    --grpc_python_out="$dir" --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
    health/v1/health.proto
}

go_import="fivetran-gateway/gen/gatewayv1"
gen_go() {
  command -v protoc-gen-go >/dev/null || die "protoc-gen-go missing (run tools/setup.sh)"
  command -v protoc-gen-go-grpc >/dev/null || die "protoc-gen-go-grpc missing (run tools/setup.sh)"
  local dir="$out/go/src" opts=() f
  rm -rf "$out/go" && mkdir -p "$dir"
  # The .proto files have no go_package option: map them here.
  for f in "${api[@]}"; do
    opts+=("--go_opt=M$f=$go_import;gatewayv1" "--go-grpc_opt=M$f=$go_import;gatewayv1")
  done
  (cd "$repo/proto" && protoc -I. --go_out="$dir" --go-grpc_out="$dir" "${opts[@]}" "${api[@]}")
}

gen_node() {
  local dir="$out/node" f
  rm -rf "$dir" && mkdir -p "$dir/proto"
  for f in "${api[@]}"; do install -D -m 0644 "$repo/proto/$f" "$dir/proto/$f"; done
  for f in "${rpc[@]}"; do install -D -m 0644 "$googleapis/$f" "$dir/proto/$f"; done
  install -D -m 0644 "$grpc_proto/grpc/health/v1/health.proto" "$dir/proto/grpc/health/v1/health.proto"
  local gen_types="$repo/client/node/node_modules/.bin/proto-loader-gen-types"
  if [ -x "$gen_types" ]; then
    (cd "$dir/proto" && "$gen_types" --keepCase --longs=String --enums=String --defaults \
      --oneofs --grpcLib=@grpc/grpc-js -I . -O "$dir/types" \
      "${api[@]}" "${rpc[@]}" grpc/health/v1/health.proto >/dev/null)
  else
    echo "gen_clients: $gen_types missing (run tools/setup.sh); skipped the TypeScript types" >&2
  fi
}

for lang in "${langs[@]}"; do "gen_$lang"; done
echo "gen_clients: wrote ${langs[*]} to $out" >&2
