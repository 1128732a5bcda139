#!/usr/bin/python3
"""Tests of count_tests.py with made-up build events and JUnit XML files."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "count_tests.py")
_spec = importlib.util.spec_from_file_location("count_tests", SCRIPT)
count_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(count_tests)

CONFIG = {"id": "c0ffee"}


def gtest_case(name, state="passed"):
    """One <testcase> as googletest 1.12 writes it."""
    if state == "passed":
        return f'<testcase name="{name}" status="run" result="completed" classname="S" />'
    if state == "failed":
        return (f'<testcase name="{name}" status="run" result="completed" classname="S">'
                f'<failure message="x.cc:1 boom" type=""><![CDATA[boom]]></failure></testcase>')
    if state == "skipped":  # GTEST_SKIP, or every case after SetUpTestSuite failed.
        return (f'<testcase name="{name}" status="run" result="skipped" classname="S">'
                f'<skipped message="x.cc:1"><![CDATA[x.cc:1]]></skipped></testcase>')
    if state == "disabled":
        return f'<testcase name="{name}" status="notrun" result="suppressed" classname="S" />'
    raise ValueError(state)


def gtest_xml(*cases):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="AllTests">'
            '<testsuite name="S">' + "".join(cases) + "</testsuite></testsuites>\n")


class CountTestsTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="count_tests_", dir=os.environ.get("TEST_TMPDIR") or None)
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.testlogs = os.path.join(self.dir, "testlogs")
        self.events = []

    def write(self, relpath, text):
        path = os.path.join(self.testlogs, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def target(self, label, built=True, test=True):
        configured = {"targetKind": "cc_test rule" if test else "cc_library rule"}
        if test:
            configured["testSize"] = "MEDIUM"
        self.events.append({"id": {"targetConfigured": {"label": label}}, "configured": configured})
        completed = {"success": True} if built else {"failureDetail": {"message": "link failed"}}
        self.events.append({
            "id": {"targetCompleted": {"label": label, "configuration": CONFIG}},
            "completed": completed
        })

    def result(self, label, xml_text, status="PASSED", run=1, shard=1, attempt=1, subdir="",
               log_text=None):
        """A test result of this run whose test.xml holds `xml_text` (None: no test.xml)
        and whose test.log holds `log_text` (None: no test.log)."""
        outputs = []
        if log_text is not None:
            path = self.write(os.path.join(label.strip("/").replace(":", "/"), subdir, "test.log"),
                              log_text)
            outputs.append({"name": "test.log", "uri": "file://" + path})
        if xml_text is not None:
            name = "test.xml" if attempt == 1 else f"test.attempt_{attempt}.xml"
            path = self.write(os.path.join(label.strip("/").replace(":", "/"), subdir, name),
                              xml_text)
            outputs.append({"name": "test.xml", "uri": "file://" + path})
        self.events.append({
            "id": {
                "testResult": {
                    "label": label,
                    "run": run,
                    "shard": shard,
                    "attempt": attempt,
                    "configuration": CONFIG
                }
            },
            "testResult": {
                "testActionOutput": outputs,
                "status": status
            }
        })

    def summary(self, label, status):
        self.events.append({
            "id": {"testSummary": {"label": label, "configuration": CONFIG}},
            "testSummary": {"overallStatus": status}
        })

    def passing_target(self, label, xml_text, status="PASSED"):
        self.target(label)
        self.result(label, xml_text, status=status)
        self.summary(label, status)

    def run_script(self, exit_code=None, bep=None):
        if bep is None:
            bep = os.path.join(self.dir, "bep.json")
            with open(bep, "w", encoding="utf-8") as f:
                for event in self.events:
                    f.write(json.dumps(event) + "\n")
        args = [sys.executable, SCRIPT, bep] + ([] if exit_code is None else [str(exit_code)])
        return subprocess.run(args, capture_output=True, text=True, check=False)

    def counted(self, exit_code=0, skipped=0):
        """(passed, failed) as the script prints them; `skipped` is checked."""
        done = self.run_script(exit_code)
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        self.assertEqual(len(lines), 1, done.stdout)
        words = lines[0].split()
        if skipped:
            self.assertEqual(words[4:], [str(skipped), "skipped"], lines[0])
            words = words[:4]
            words[3] = words[3].rstrip(",")
        passed, word1, failed, word2 = words
        self.assertEqual((word1, word2), ("passed,", "failed"), lines[0])
        return int(passed), int(failed)

    def test_passing_cases_pass(self):
        self.passing_target("//a:t", gtest_xml(gtest_case("A"), gtest_case("B")))
        self.assertEqual(self.counted(), (2, 0))

    def test_failing_case_fails(self):
        self.target("//a:t")
        self.result("//a:t", gtest_xml(gtest_case("A"), gtest_case("B", "failed")), "FAILED")
        self.summary("//a:t", "FAILED")
        self.assertEqual(self.counted(3), (1, 1))

    def test_failed_result_gets_a_digest_of_its_log(self):
        frames = "".join(f"    #{i} f{i} x.cc:{i}\n" for i in range(10))
        log = ("[ RUN      ] S.A\nnoise line\n"
               "x.cc:12: Failure\nExpected equality of these values:\n  a\n    Which is: 1\n"
               "  b\n    Which is: 2\nafter the failure\n" +
               "==================\nWARNING: ThreadSanitizer: data race (pid=1)\n"
               "  Write of size 8 at 0x1 by thread T10:\n" + frames +
               "  Previous read of size 8 at 0x1 by main thread:\n" + frames +
               "SUMMARY: ThreadSanitizer: data race x.cc:3 in f\n" +
               "filler\n" * 1000)
        self.target("//a:t")
        self.result("//a:t", gtest_xml(gtest_case("A", "failed")), "FAILED", log_text=log)
        self.summary("//a:t", "FAILED")
        self.passing_target("//a:ok", gtest_xml(gtest_case("B")))
        done = self.run_script(1)
        self.assertEqual(done.stdout, "1 passed, 1 failed\n")
        for wanted in ("//a:t: FAILED; from its test.log:", "x.cc:12: Failure", "Which is: 2",
                       "WARNING: ThreadSanitizer: data race", "Write of size 8", "#3 f3 x.cc:3",
                       "Previous read of size 8", "SUMMARY: ThreadSanitizer: data race"):
            self.assertIn(wanted, done.stderr)
        for unwanted in ("noise line", "#4 f4", "filler", "//a:ok"):
            self.assertNotIn(unwanted, done.stderr)

    def test_digest_is_bounded(self):
        log = "x.cc:1: Failure\n" * 500
        self.target("//a:t")
        self.result("//a:t", gtest_xml(gtest_case("A", "failed")), "FAILED", log_text=log)
        self.summary("//a:t", "FAILED")
        done = self.run_script(1)
        self.assertEqual(done.stderr.count("x.cc:1: Failure"), count_tests.DIGEST_LINES)
        self.assertIn("(digest cut)", done.stderr)

    def test_disabled_case_is_not_a_pass(self):
        self.passing_target("//a:t", gtest_xml(gtest_case("A"), gtest_case("DISABLED_B",
                                                                            "disabled")))
        self.assertEqual(self.counted(), (1, 1))
        self.assertIn("DISABLED_B", self.run_script(0).stderr)

    def test_skipped_case_is_not_a_pass(self):
        # GTEST_SKIP in a target that passed: shown as skipped, not passed.
        self.passing_target("//a:t", gtest_xml(gtest_case("A"), gtest_case("B", "skipped")))
        self.assertEqual(self.counted(skipped=1), (1, 0))
        self.assertIn("B: skipped", self.run_script(0).stderr)

    def test_suite_that_could_not_start_fails_every_case(self):
        # googletest 1.12 after SetUpTestSuite threw ("the emulator did not
        # start"): every case skipped, no failure in the XML, exit status 1.
        self.passing_target("//a:good", gtest_xml(gtest_case("A")))
        self.target("//a:e2e")
        self.result("//a:e2e", gtest_xml(*[gtest_case(f"C{i}", "skipped") for i in range(12)]),
                    "FAILED")
        self.summary("//a:e2e", "FAILED")
        self.assertEqual(self.counted(3), (1, 12))

    def test_leftovers_of_earlier_runs_do_not_count(self):
        self.passing_target("//a:t", gtest_xml(gtest_case("A")))
        # Earlier runs: a target not tested this time, and a --runs_per_test run.
        self.write("old/gone/test.xml", gtest_xml(gtest_case("X"), gtest_case("Y")))
        self.write("a/t/run_1_of_2/test.xml", gtest_xml(gtest_case("X", "failed")))
        self.assertEqual(self.counted(), (1, 0))

    def test_target_that_failed_to_build_keeps_no_old_passes(self):
        # Its test.xml of an earlier, passing run is still in bazel-testlogs.
        self.write("a/broken/test.xml", gtest_xml(gtest_case("A"), gtest_case("B")))
        self.target("//a:broken", built=False)
        self.target("//a:lib", built=False, test=False)
        self.assertEqual(self.counted(1), (0, 1))

    def test_every_run_and_shard_counts_and_only_the_last_attempt(self):
        self.target("//a:t")
        self.result("//a:t", gtest_xml(gtest_case("A")), run=1, subdir="run_1_of_2")
        self.result("//a:t", gtest_xml(gtest_case("A")), run=2, subdir="run_2_of_2")
        self.result("//a:t", gtest_xml(gtest_case("B", "failed")), "FAILED", run=1, shard=2,
                    attempt=1, subdir="shard_2_of_2")
        self.result("//a:t", gtest_xml(gtest_case("B")), "PASSED", run=1, shard=2, attempt=2,
                    subdir="shard_2_of_2")
        self.summary("//a:t", "FLAKY")
        self.assertEqual(self.counted(), (3, 0))

    def test_failed_target_without_a_failing_case_counts_one(self):
        # E.g. a leak report at exit, after googletest wrote its XML.
        self.passing_target("//a:ok", gtest_xml(gtest_case("A")))
        self.target("//a:leaky")
        self.result("//a:leaky", gtest_xml(gtest_case("A"), gtest_case("B")), "FAILED")
        self.summary("//a:leaky", "FAILED")
        self.assertEqual(self.counted(3), (3, 1))
        self.assertIn("//a:leaky", self.run_script(3).stderr)

    def test_missing_or_broken_xml_counts_one(self):
        self.target("//a:t")
        self.result("//a:t", "<testsuites><testsuite", "FAILED")
        self.target("//a:u")
        self.result("//a:u", None, "TIMEOUT")
        self.summary("//a:u", "TIMEOUT")
        self.assertEqual(self.counted(3), (0, 2))

    def test_bazel_failure_without_any_failure_counts_one(self):
        self.passing_target("//a:t", gtest_xml(gtest_case("A")))
        self.assertEqual(self.counted(1), (1, 1))

    def test_sh_test_xml_written_by_bazel(self):
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
               '<testsuite name="a/sh" tests="1" failures="0" errors="0">\n'
               '<testcase name="a/sh" status="run" duration="1" time="1"></testcase>\n'
               '</testsuite>\n</testsuites>\n')
        self.passing_target("//a:sh", xml)
        self.assertEqual(self.counted(), (1, 0))

    def test_missing_bep_file_is_an_error(self):
        done = self.run_script(0, bep=os.path.join(self.dir, "absent.json"))
        self.assertEqual(done.returncode, 2)
        self.assertEqual(done.stdout, "")
        self.assertIn("absent.json", done.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
