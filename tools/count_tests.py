#!/usr/bin/python3
"""Counts test cases in the JUnit XML files under a bazel-testlogs folder.

Usage: count_tests.py TESTLOGS_DIR [BAZEL_EXIT_CODE]
Prints "N passed, N failed" (skipped cases are not counted as passed). When
Bazel failed without a failing test case (a build error), one failure is
counted.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET


def count(root):
    passed = failed = 0
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
    return passed, failed


if __name__ == "__main__":
    passed, failed = count(sys.argv[1])
    if len(sys.argv) > 2 and int(sys.argv[2]) != 0 and failed == 0:
        failed = 1
    print(f"{passed} passed, {failed} failed")
