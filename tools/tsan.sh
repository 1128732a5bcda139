#!/usr/bin/env bash
# The gateway's C++ unit tests and end-to-end suites under ThreadSanitizer
# (`bazel test --config=tsan`), with a TSan build of Debian's Abseil (made
# once by tools/tsan_absl.sh), and prints "N passed, N failed" last like
# tools/test.sh. Extra arguments go to `bazel test`.
# $TSAN_BEP_FILE, if set, keeps the run's build events (JSON) there.
#
# Left out, each for a reason:
#   //tests/clients/...  Python, Go and Node clients: no gateway code that the
#                        C++ end-to-end tests do not already run.
#   //tests:load_test    2,000 RPCs under injected faults: 5-15x slower under
#                        TSan on 2 cores for no new kind of concurrency;
#                        startup_e2e_test, coalescing_e2e_test and the
#                        sync-watch tests run the same paths concurrently.
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
  //server/... //tests/... -//tests/clients/... -//tests:load_test
rc=$?
/usr/bin/python3 tools/count_tests.py "$bep" "$rc" || exit 2
exit $rc
