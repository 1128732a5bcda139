#!/usr/bin/env bash
# Installs what is missing, then builds and runs the whole test suite
# (`bazel test //...`) and prints "N passed, N failed" (test cases, from the
# JUnit XML that every test writes) as the last line. Exit code: Bazel's.
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh || exit 1
bazel test //... "$@"
rc=$?
/usr/bin/python3 tools/count_tests.py "$(bazel info bazel-testlogs 2>/dev/null)" "$rc"
exit $rc
