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
  # google/rpc/*.proto (with ErrorInfo) are copied from here: no Debian package
  # ships them for C++, and libgoogle-common-protos-java's copy predates ErrorInfo
  golang-github-gogo-googleapis-dev
  # tests: conformance checks and Python client
  python3 python3-jsonschema python3-grpcio python3-protobuf openssl
  # formatting
  clang-format
)

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
echo "setup: ok" >&2
