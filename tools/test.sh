#!/usr/bin/env bash
# Installs what is missing, then builds and runs the whole test suite
# (`bazel test //...`) and prints "N passed, N failed" (test cases, from the
# JUnit XML that every test writes) as the last line. Exit code: Bazel's.
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh || exit 1
bazel test //... "$@"
rc=$?
/usr/bin/python3 - "$(bazel info bazel-testlogs 2>/dev/null)" "$rc" <<'PY'
import glob, os, sys
import xml.etree.ElementTree as ET
passed = failed = 0
root = sys.argv[1]
for path in glob.glob(os.path.join(root, "**", "test.xml"), recursive=True):
    # Left over from an earlier --runs_per_test; the target's own test.xml counts.
    if "/run_" in path and "_of_" in path:
        continue
    try:
        cases = list(ET.parse(path).getroot().iter("testcase"))
    except ET.ParseError:
        failed += 1
        continue
    for case in cases:
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is None:
            passed += 1
if int(sys.argv[2]) != 0 and failed == 0:
    failed = 1  # Bazel failed without a failing test case: a build error.
print(f"{passed} passed, {failed} failed")
PY
exit $rc
