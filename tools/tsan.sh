#!/usr/bin/env bash
# The gateway's C++ unit tests and end-to-end suites under ThreadSanitizer
# (`bazel test --config=tsan`), with a TSan build of Debian's Abseil (made
# once by tools/tsan_absl.sh), and prints "N passed, N failed" last like
# tools/test.sh. Extra arguments go to `bazel test`.
# $TSAN_BEP_FILE, if set, keeps the run's build events (JSON) there.
#
# Left out: //tests/clients/... (the Python, Go and Node clients run no
# gateway code that the C++ end-to-end tests do not, as in the asan stage).
# The load test stays in: under TSan its 2,000 RPCs take about 4 s here.
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh || exit 1
bash tools/tsan_absl.sh >/dev/null || exit 1
bep="${TSAN_BEP_FILE:-}"
if [[ -z "$bep" ]]; then
  bep="$(mktemp)"
  trap 'rm -f "$bep"' EXIT
fi
bazel test --config=tsan --build_event_json_file="$bep" "$@" -- \
  //server/... //tests/... -//tests/clients/...
rc=$?
/usr/bin/python3 tools/count_tests.py "$bep" "$rc" || exit 2
exit $rc
