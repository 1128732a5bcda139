#!/usr/bin/env bash
# Installs what is missing, then builds and runs the whole test suite
# (`bazel test //...`) and prints "N passed, N failed" (test cases, from the
# JUnit XML that every test of this run writes; see tools/count_tests.py) as
# the last line. Exit code: Bazel's, or 2 if the count failed.
# $TEST_BEP_FILE, if set, keeps the run's build events (JSON) there.
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh || exit 1
bep="${TEST_BEP_FILE:-}"
if [[ -z "$bep" ]]; then
  bep="$(mktemp)"
  trap 'rm -f "$bep"' EXIT
fi
bazel test --build_event_json_file="$bep" //... "$@"
rc=$?
/usr/bin/python3 tools/count_tests.py "$bep" "$rc" || exit 2
exit $rc
