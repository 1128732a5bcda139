#!/usr/bin/python3
"""List scaling of tools/bench.sh, section (e): one group's connections, all pages.

Three ways to get every connection of GROUP as JSON lines, run alternately
ROUNDS times each (the median is reported):
  python   a plain Python pager over the REST API straight to the emulator
           (keep-alive, limit=1000, one json.dumps per item): the script the
           gateway and fivetranctl replace
  jsonl    fivetranctl groups connections GROUP --all -o jsonl, via the gateway
  table    the same with the default table output
For each: wall time, the process's own CPU (user+sys from wait4), peak RSS,
and for the two fivetranctl runs the gateway's CPU over the run (utime+stime
of /proc/PID/stat before and after) per listed item. Prints one key=value line
per way; rows must equal ITEMS or it fails.

usage: list_bench.py EMULATOR_URL GATEWAY_ADDR GATEWAY_PID FIVETRANCTL GROUP ITEMS ROUNDS [BASELINE]

With BASELINE (another fivetranctl binary, e.g. one built before a change), it also runs
jsonl_baseline and table_baseline in the same rounds, for a before/after of one run.
"""
import os
import statistics
import subprocess
import sys
import time

PAGER = r"""
import base64, http.client, json, sys
host, port = sys.argv[1].rsplit("/", 1)[-1].split(":")
auth = base64.b64encode(b"demo_api_key:demo_api_secret").decode()
conn = http.client.HTTPConnection(host, int(port))
cursor, out = None, sys.stdout
while True:
    path = "/v1/groups/%s/connections?limit=1000" % sys.argv[2]
    if cursor:
        path += "&cursor=" + cursor
    conn.request("GET", path, headers={"Authorization": "Basic " + auth,
                                       "Accept": "application/json;version=2"})
    body = json.loads(conn.getresponse().read())
    for item in body["data"]["items"]:
        out.write(json.dumps(item) + "\n")
    cursor = body["data"].get("next_cursor")
    if not cursor:
        break
"""


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(argv, gateway_pid):
    """Runs argv with stdout counted; (wall s, cpu s, peak RSS MB, rows, gateway cpu s)."""
    g0 = cpu_seconds(gateway_pid) if gateway_pid else 0.0
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    rows = 0
    for _ in proc.stdout:
        rows += 1
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    if status != 0:
        sys.exit("list_bench: %s exited with status %d" % (argv[0], status))
    gw = cpu_seconds(gateway_pid) - g0 if gateway_pid else 0.0
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, rows, gw


def main():
    emulator_url, gateway_addr, gateway_pid, ctl, group, items, rounds = sys.argv[1:8]
    baseline = sys.argv[8] if len(sys.argv) > 8 else ""
    gateway_pid, items, rounds = int(gateway_pid), int(items), int(rounds)
    ways = {
        "python": ([sys.executable, "-c", PAGER, emulator_url, group], 0),
        "jsonl": ([ctl, "--server=" + gateway_addr, "--timeout=120s", "groups", "connections",
                   group, "--all", "-o", "jsonl"], gateway_pid),
        "table": ([ctl, "--server=" + gateway_addr, "--timeout=120s", "groups", "connections",
                   group, "--all"], gateway_pid),
    }
    if baseline:
        for name in ("jsonl", "table"):
            argv, pid = ways[name]
            ways[name + "_baseline"] = ([baseline] + argv[1:], pid)
    results = {name: [] for name in ways}
    for _ in range(rounds):
        for name, (argv, pid) in ways.items():
            results[name].append(run(argv, pid))
    for name, runs in results.items():
        want = items + (1 if name.startswith("table") else 0)  # The table's header line.
        if any(r[3] != want for r in runs):
            sys.exit("list_bench: %s printed %s rows, not %d" % (name, [r[3] for r in runs], want))
        med = lambda i: statistics.median(r[i] for r in runs)
        print("way=%s items=%d wall_s=%.2f cpu_s=%.2f rss_mb=%.0f gateway_cpu_us_per_item=%.1f"
              % (name, items, med(0), med(1), med(2), med(4) * 1e6 / items))


if __name__ == "__main__":
    main()
