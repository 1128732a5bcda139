#!/usr/bin/env bash
# Runs count_tests_test.py (unittest) with Debian's Python.
set -euo pipefail
exec /usr/bin/python3 "${TEST_SRCDIR:-$0.runfiles}/fivetran_gateway/tools/count_tests_test.py"
