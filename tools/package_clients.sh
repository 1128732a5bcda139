#!/usr/bin/env bash
# Builds installable client packages of fivetran.gateway.v1 from the generated
# code (tools/gen_clients.sh), versioned with the API (client/VERSION):
#
#   dist/fivetran_gateway_client-VERSION-py3-none-any.whl
#       modules fivetran.gateway.v1 (messages, stubs, .pyi types),
#       fivetran.gateway.connect (TLS and token from the environment) and
#       google.rpc (status, error_details, code); needs grpcio and protobuf
#       (Debian's python3-grpcio, python3-protobuf)
#   dist/fivetran-gateway-client-VERSION.tgz
#       npm package: the .proto files, load() and credentialsFromEnv(), and
#       TypeScript declarations; depends on @grpc/grpc-js and
#       @grpc/proto-loader (the versions of client/node/package.json)
#
#   tools/package_clients.sh [--out DIR] [python] [node]
#
# Default: both, into <repo>/dist. Offline: the wheel is built by Debian's pip,
# setuptools and wheel without build isolation (no PyPI), the npm package with
# `npm pack` and the tsc of client/node/node_modules (tools/setup.sh).
set -euo pipefail

repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
out="$repo/dist"
kinds=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    python|node) kinds+=("$1"); shift ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package_clients: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ ${#kinds[@]} -gt 0 ] || kinds=(python node)
die() { echo "package_clients: $*" >&2; exit 1; }

# One version source. Its major number is the API's: proto/fivetran/gateway/vN.
version="$(tr -d ' \n' <"$repo/client/VERSION")"
[[ "$version" =~ ^([0-9]+)\.[0-9]+\.[0-9]+$ ]] || die "client/VERSION: '$version' is not MAJOR.MINOR.PATCH"
[ -d "$repo/proto/fivetran/gateway/v${BASH_REMATCH[1]}" ] ||
  die "client/VERSION $version: its major number names no proto/fivetran/gateway/v${BASH_REMATCH[1]}"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bash "$repo/tools/gen_clients.sh" --out "$work/generated" "${kinds[@]}" 2>/dev/null ||
  die "tools/gen_clients.sh failed"

package_python() {
  local stage="$work/python"
  mkdir -p "$stage"
  cp -r "$work/generated/python/fivetran" "$work/generated/python/google" "$stage/"
  cp "$repo/client/python/fivetran/gateway/connect.py" "$stage/fivetran/gateway/"
  touch "$stage/fivetran/gateway/py.typed" "$stage/fivetran/gateway/v1/py.typed"
  cp "$repo/client/python/README.md" "$stage/README.md"
  cat >"$stage/pyproject.toml" <<TOML
[build-system]
requires = ["setuptools>=61", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "fivetran-gateway-client"
version = "$version"
description = "Generated gRPC client of fivetran-gateway (fivetran.gateway.v1), with TLS and token settings from the environment"
readme = "README.md"
requires-python = ">=3.9"
dependencies = ["grpcio>=1.51", "protobuf>=4.21"]

[tool.setuptools.packages.find]
include = ["fivetran*", "google*"]
namespaces = true

[tool.setuptools.package-data]
"*" = ["*.pyi", "py.typed"]
TOML
  rm -f "$out"/fivetran_gateway_client-*.whl
  (cd "$stage" && /usr/bin/python3 -m pip wheel --quiet --no-deps --no-build-isolation --no-index \
    --wheel-dir "$out" .) || die "pip wheel failed"
  echo "package_clients: $out/fivetran_gateway_client-$version-py3-none-any.whl" >&2
}

package_node() {
  local stage="$work/node" tsc="$repo/client/node/node_modules/.bin/tsc"
  [ -x "$tsc" ] || die "$tsc missing (run tools/setup.sh)"
  mkdir -p "$stage"
  cp -r "$work/generated/node/proto" "$stage/proto"
  cp "$repo/client/node/credentials.js" "$repo/client/node/package/index.js" \
    "$repo/client/node/package/index.d.ts" "$repo/client/node/package/README.md" "$stage/"
  # proto-loader-gen-types writes .ts files of types only: ship them as .d.ts.
  "$tsc" --declaration --emitDeclarationOnly --skipLibCheck --moduleResolution node \
    --typeRoots "$repo/client/node/node_modules/@types" \
    --baseUrl "$repo/client/node/node_modules" --outDir "$stage/types" \
    $(cd "$work/generated/node/types" && find "$PWD" -name '*.ts' | LC_ALL=C sort) ||
    die "tsc could not compile the generated types"
  /usr/bin/python3 - "$repo/client/node/package.json" "$stage/package.json" "$version" <<'PY'
import json, sys
deps = json.load(open(sys.argv[1]))["dependencies"]
package = {
    "name": "fivetran-gateway-client",
    "version": sys.argv[3],
    "description": "Generated gRPC client of fivetran-gateway (fivetran.gateway.v1): .proto files, "
                   "TypeScript types, TLS and token settings from the environment",
    "license": "UNLICENSED",
    "main": "index.js",
    "types": "index.d.ts",
    "files": ["index.js", "index.d.ts", "credentials.js", "proto/", "types/", "README.md"],
    "engines": {"node": ">=18"},
    "dependencies": {name: "^" + deps[name] for name in ("@grpc/grpc-js", "@grpc/proto-loader")},
}
json.dump(package, open(sys.argv[2], "w"), indent=2)
PY
  rm -f "$out"/fivetran-gateway-client-*.tgz
  (cd "$stage" && npm pack --silent --pack-destination "$out" >/dev/null) || die "npm pack failed"
  echo "package_clients: $out/fivetran-gateway-client-$version.tgz" >&2
}

for kind in "${kinds[@]}"; do "package_$kind"; done
