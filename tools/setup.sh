#!/usr/bin/env bash
# Installs everything fivetran-gateway needs on Debian 12, offline except for
# Debian's apt repositories and the npm registry. Idempotent: re-running it
# only installs what is missing.
set -euo pipefail

APT_PACKAGES=(
  # build
  bazel-bootstrap protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libgrpc++-dev libabsl-dev libcurl4-openssl-dev nlohmann-json3-dev
  libcpp-httplib-dev grpc-proto libgtest-dev libgmock-dev libcli11-dev
  libspdlog-dev
  # google/rpc/*.proto are extracted from this jar (no Debian package ships them for C++)
  libgoogle-common-protos-java unzip
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
JAR=/usr/share/java/proto-google-common-protos.jar
if [ ! -f "$GOOGLEAPIS_DIR/google/rpc/error_details.proto" ]; then
  $SUDO mkdir -p "$GOOGLEAPIS_DIR"
  (cd "$GOOGLEAPIS_DIR" && $SUDO unzip -o -q "$JAR" 'google/rpc/status.proto' \
      'google/rpc/error_details.proto' 'google/rpc/code.proto')
fi
echo "setup: ok" >&2
