#!/usr/bin/python3
"""Counts the test cases of one `bazel test` run.

Usage: count_tests.py BEP_JSON_FILE [BAZEL_EXIT_CODE]

BEP_JSON_FILE is the run's --build_event_json_file. Prints "N passed, N
failed[, N skipped]" on stdout, and on stderr one line for each case or target counted as
failed without a failure of its own (skipped, disabled, not built, ...).

Rules:
  * Only the JUnit XML files this run's test results name count (the last
    attempt of each run and shard); files of earlier runs that are still in
    bazel-testlogs do not.
  * A case passes only if it ran and has no failure, error or skip. Every
    other case counts as failed: failures and errors, disabled cases
    (DISABLED_, status="notrun"), and cases skipped in a target that did not
    pass (e.g. all cases of a suite whose SetUpTestSuite failed). A case
    skipped on purpose in a target that passed (GTEST_SKIP: the OpenAPI
    conformance test without ../shared) counts as skipped, printed as
    ", N skipped" after the other two; CI makes that test fail instead.
  * A test.xml that is missing or cannot be parsed counts one failure.
  * A test target whose result is not PASSED (or FLAKY) counts at least one
    failure, even when its XML shows none (a crash after the XML was written,
    a leak report at exit, a timeout).
  * A test target that could not be built counts one failure.
  * A non-zero BAZEL_EXIT_CODE with no failure counted above counts one.
A missing or unreadable BEP file is an error (exit status 2), not a count.

For each result that did not pass, stderr also gets a digest of its test.log
(at most DIGEST_LINES lines): googletest's failure lines, sanitizer warnings
with the top frames of each stack, and sanitizer summaries. CI keeps only the
end of a run's output, where the full logs printed by --test_output=errors
may have been cut.
"""
import collections
import json
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

_OK_STATUSES = ("PASSED", "FLAKY")
DIGEST_LINES = 40
_FRAMES_PER_STACK = 4
# Lines that say why a test failed, and what follows them.
_DIGEST_STARTS = (
    ("Failure", 6),  # googletest: "x.cc:12: Failure" and its Expected/Which is lines
    ("[  FAILED  ]", 0),
    ("WARNING: ThreadSanitizer", 0),
    ("ERROR: AddressSanitizer", 0),
    ("ERROR: LeakSanitizer", 0),
    ("runtime error:", 0),  # UBSan
    ("SUMMARY: ", 0),
    ("-- Test timed out", 0),
)
_STACK_HEADERS = ("Write of size", "Read of size", "Previous write", "Previous read",
                  "Atomic write", "Atomic read", "Location is")


def _label(event_id, kind):
    return event_id.get(kind, {}).get("label")


def _path(uri):
    if not uri.startswith("file://"):
        return None
    return urllib.request.url2pathname(urllib.parse.urlparse(uri).path)


def read_events(bep_file):
    """The events of a BEP JSON file (one JSON object per line)."""
    events = []
    with open(bep_file, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{bep_file}:{number}: not JSON: {e}") from e
    return events


def count_xml(path, label, notes, target_passed):
    """(passed, failed, skipped) of one JUnit XML file."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        notes.append(f"{label}: test.xml unreadable ({e})")
        return 0, 1, 0
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        name = f"{label} {case.get('classname', '')}.{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None or case.get("result") == "skipped":
            if target_passed:
                notes.append(f"{name}: skipped")
                skipped += 1
            else:
                notes.append(f"{name}: skipped in a failed target, counted as failed")
                failed += 1
        elif case.get("status", "run") != "run" or case.get("result") == "suppressed":
            notes.append(f"{name}: not run ({case.get('status')}), counted as failed")
            failed += 1
        else:
            passed += 1
    return passed, failed, skipped


def digest(path, limit=DIGEST_LINES):
    """The lines of a test.log that say why it failed, at most `limit`."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        return [f"(test.log unreadable: {e})"]
    out = []
    keep = 0  # lines still to keep after a start
    frames = 0  # stack frames still to keep
    for line in lines:
        text = line.strip()
        start = next((after for marker, after in _DIGEST_STARTS if marker in text), None)
        if start is not None:
            out.append(line)
            keep = start
        elif any(text.startswith(h) for h in _STACK_HEADERS):
            out.append(line)
            frames = _FRAMES_PER_STACK
            keep = 0
        elif frames and text.startswith("#"):
            out.append(line)
            frames -= 1
        elif keep:
            out.append(line)
            keep -= 1
        if len(out) >= limit:
            out.append("(digest cut)")
            break
    return out


def count(events, bazel_exit_code=0):
    """(passed, failed, skipped, notes) over the events of one run."""
    notes = []
    test_targets = set()
    unbuilt = set()
    # (label, configuration, run, shard) -> (attempt, result)
    results = {}
    summaries = {}
    for event in events:
        event_id = event.get("id", {})
        if "targetConfigured" in event_id:
            configured = event.get("configured", {})
            if "testSize" in configured or configured.get("targetKind", "").endswith("_test rule"):
                test_targets.add(_label(event_id, "targetConfigured"))
        elif "targetCompleted" in event_id:
            if "aborted" in event or not event.get("completed", {}).get("success", False):
                unbuilt.add(_label(event_id, "targetCompleted"))
        elif "testResult" in event_id:
            rid = event_id["testResult"]
            key = (rid.get("label"), json.dumps(rid.get("configuration", {}), sort_keys=True),
                   rid.get("run", 1), rid.get("shard", 1))
            attempt = rid.get("attempt", 1)
            if key not in results or results[key][0] < attempt:
                results[key] = (attempt, event.get("testResult", {}))
        elif "testSummary" in event_id:
            status = event.get("testSummary", {}).get("overallStatus", "NO_STATUS")
            if "aborted" in event:
                status = "ABORTED"
            summaries[_label(event_id, "testSummary")] = status

    passed = failed = skipped = 0
    failed_by_label = collections.Counter()
    status_by_label = dict(summaries)
    for (label, _, _, _), (_, result) in sorted(results.items()):
        status = result.get("status", "NO_STATUS")
        if status not in _OK_STATUSES:
            status_by_label[label] = status
            logs = [o for o in result.get("testActionOutput", []) if o.get("name") == "test.log"]
            log_path = _path(logs[0].get("uri", "")) if logs else None
            if log_path is not None:
                notes.append(f"{label}: {status}; from its test.log:\n  " +
                             "\n  ".join(digest(log_path)))
        xml = [o for o in result.get("testActionOutput", []) if o.get("name") == "test.xml"]
        path = _path(xml[0].get("uri", "")) if xml else None
        if path is None:
            notes.append(f"{label}: no test.xml in the result, counted as one failure")
            p, f, k = 0, 1, 0
        else:
            p, f, k = count_xml(path, label, notes, status in _OK_STATUSES)
        passed += p
        failed += f
        skipped += k
        failed_by_label[label] += f
    for label, status in sorted(status_by_label.items()):
        if status not in _OK_STATUSES and failed_by_label[label] == 0:
            notes.append(f"{label}: {status} without a failing case, counted as one failure")
            failed += 1
            failed_by_label[label] += 1
    for label in sorted(test_targets & unbuilt):
        if failed_by_label[label] == 0:
            notes.append(f"{label}: not built, counted as one failure")
            failed += 1
            failed_by_label[label] += 1
    if bazel_exit_code != 0 and failed == 0:
        notes.append(f"bazel exited with {bazel_exit_code}, counted as one failure")
        failed = 1
    return passed, failed, skipped, notes


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        events = read_events(argv[1])
        exit_code = int(argv[2]) if len(argv) == 3 else 0
    except (OSError, ValueError) as e:
        print(f"count_tests: {e}", file=sys.stderr)
        return 2
    passed, failed, skipped, notes = count(events, exit_code)
    for note in notes:
        print(f"count_tests: {note}", file=sys.stderr)
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
