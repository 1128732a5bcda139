#!/usr/bin/env bash
# Installs everything fivetran-gateway needs on Debian 12 from Debian's apt
# repositories. Idempotent: re-running it only installs what is missing.
set -euo pipefail

APT_PACKAGES=(
  # build
  bazel-bootstrap protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libgrpc++-dev libabsl-dev libcurl4-openssl-dev nlohmann-json3-dev
  libcpp-httplib-dev grpc-proto libgtest-dev libgmock-dev libcli11-dev
  libspdlog-dev
  # the allocator of -c opt gateway builds (third_party/tcmalloc)
  libgoogle-perftools-dev
  # the fast path of connection listings (third_party/simdjson)
  libsimdjson-dev
  # fleet state (server/state): hiredis 0.14; tests run a real redis-server
  # and nginx (gRPC load balancing in front of replicas)
  libhiredis-dev redis-server nginx
  # google/rpc/*.proto (with ErrorInfo) are copied from here: no Debian package
  # ships them for C++, and libgoogle-common-protos-java's copy predates ErrorInfo
  golang-github-gogo-googleapis-dev
  # tests: conformance checks and Python client
  python3 python3-jsonschema python3-grpcio python3-protobuf openssl
  # metrics test: promtool check metrics (the prometheus package ships it)
  prometheus
  # formatting
  clang-format
  # client tests (tests/clients): Go client in GOPATH mode, REST checks
  golang-go golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev
  golang-google-protobuf-dev golang-google-genproto-dev protoc-gen-go
  protoc-gen-go-grpc curl
  # installable client packages (tools/package_clients.sh): the wheel is built
  # without PyPI and installed into a venv in tests/clients/package_test.sh
  python3-pip python3-setuptools python3-wheel python3-venv
)
# Node.js client and buf: Debian's nodejs/npm unless a node with npm is there.
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# google/rpc protos, outside the repository (third_party/googleapis points here).
GOOGLEAPIS_DIR=/usr/local/share/fivetran-gateway/googleapis
GOGO_RPC=/usr/share/gocode/src/github.com/gogo/googleapis/google/rpc
if ! grep -q "message ErrorInfo" "$GOOGLEAPIS_DIR/google/rpc/error_details.proto" 2>/dev/null; then
  $SUDO mkdir -p "$GOOGLEAPIS_DIR/google/rpc"
  for f in status error_details code; do
    $SUDO cp "$GOGO_RPC/$f.proto" "$GOOGLEAPIS_DIR/google/rpc/$f.proto"
  done
fi
# npm packages (@grpc/grpc-js, @grpc/proto-loader, protobufjs for the Node
# client; @bufbuild/buf for buf lint/breaking/curl; typescript for the npm
# package's declarations), from client/node's
# lockfile. Skipped while node_modules matches package.json + package-lock.json.
NODE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/client/node"
npm_want="$(cat "$NODE_DIR/package.json" "$NODE_DIR/package-lock.json" | sha256sum | cut -d' ' -f1)"
npm_stamp="$NODE_DIR/node_modules/.fivetran-gateway-setup"
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
  echo "setup: npm ci in client/node" >&2
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$npm_want" >"$npm_stamp"
fi
echo "setup: ok" >&2
