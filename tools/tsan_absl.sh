#!/usr/bin/env bash
# Builds Debian's own Abseil (the exact version of the installed
# libabsl20220623, from Debian's source package) with -fsanitize=thread, as
# shared libraries with the same SONAMEs and inline namespace, into
#   /usr/local/lib/fivetran-gateway/tsan-absl/lib
# `bazel test --config=tsan` runs everything with that directory first on the
# library path, so our code, libgrpc and libgpr all use the instrumented
# absl::Mutex and ThreadSanitizer sees their synchronisation. Nothing of
# Abseil is committed: the source comes through apt (deb-src), the result
# lives outside the repository. Idempotent: a stamp naming the version skips
# the build when it is already there. Needs root (or sudo) and Debian's apt
# repositories. Prints the lib directory on success.
set -euo pipefail

PREFIX="${TSAN_ABSL_PREFIX:-/usr/local/lib/fivetran-gateway/tsan-absl}"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

version="$(dpkg-query -W -f='${Version}' libabsl20220623 2>/dev/null || true)"
if [ -z "$version" ]; then
  echo "tsan_absl: libabsl20220623 is not installed (run tools/setup.sh)" >&2
  exit 1
fi
stamp="$PREFIX/.built-from"
want="abseil $version -fsanitize=thread"
supp="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tsan.supp"
# The suppressions (.bazelrc's TSAN_OPTIONS names this copy), refreshed on
# every run: they change with the code, not with Abseil.
install_suppressions() {
  cmp -s "$supp" "$PREFIX/suppressions.txt" ||
    $SUDO install -D -m 644 "$supp" "$PREFIX/suppressions.txt"
}
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  install_suppressions
  echo "$PREFIX/lib"
  exit 0
fi

# Build tools, through apt.
missing=()
for p in dpkg-dev cmake make g++; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
# Debian's source repositories: the same URIs and suites as the binary ones.
src_list=/etc/apt/sources.list.d/fivetran-gateway-src.sources
need_update=0
if ! apt-cache showsrc abseil 2>/dev/null | grep -q "^Package: abseil"; then
  $SUDO tee "$src_list" >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  need_update=1
fi
if [ ${#missing[@]} -gt 0 ] || [ "$need_update" = 1 ]; then
  echo "tsan_absl: apt-get install ${missing[*]:-} (and deb-src lists)" >&2
  $SUDO apt-get update -qq
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "tsan_absl: apt-get source abseil=$version" >&2
apt-get source -qq "abseil=$version" >/dev/null 2>&1 ||
  apt-get source "abseil=$version" >&2
src="$(find . -maxdepth 1 -type d -name 'abseil-*' | head -n1)"
# The same configuration as the installed headers (inline namespace debian3,
# own string_view/optional/any/variant), or the ABI would not match.
if ! cmp -s "$src/absl/base/options.h" /usr/include/absl/base/options.h; then
  echo "tsan_absl: absl/base/options.h differs from the installed one" >&2
  exit 1
fi

# As debian/rules configures its shared build (build type None: no NDEBUG),
# plus ThreadSanitizer.
flags="-fsanitize=thread -O1 -g -fno-omit-frame-pointer"
cmake -S "$src" -B build -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_STANDARD=17 \
  -DBUILD_SHARED_LIBS=ON -DBUILD_TESTING=OFF -DABSL_BUILD_TESTING=OFF \
  -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >build.log 2>&1
# gcc's -Wtsan notes about atomic_thread_fence are expected and kept quiet.
if ! nice -n 10 cmake --build build -j"$(nproc)" >>build.log 2>&1; then
  tail -n 40 build.log >&2
  exit 1
fi
$SUDO rm -rf "$PREFIX"
$SUDO cmake --install build >/dev/null
# Only the shared libraries are needed; headers come from libabsl-dev.
$SUDO rm -rf "$PREFIX/include" "$PREFIX/lib/cmake" "$PREFIX/lib/pkgconfig"
echo "$want" | $SUDO tee "$stamp" >/dev/null
install_suppressions
echo "$PREFIX/lib"
