#!/usr/bin/python3
"""Checks what an example client printed against the emulator's REST data.

    check_output.py LANG OUTPUT_FILE

Reads EMU_URL, API_KEY and API_SECRET from the environment (set by
stack.sh). Every example client prints the same lines:

    health status=SERVING
    get_connection id=... group_id=... service=... schema=... setup_state=... sync_state=... sync_frequency=N succeeded_at=RFC3339 setup_tests=N
    list_groups pages=N count=N ids=a,b,...
    list_group_connections group_id=amber_fjord pages=N count=N distinct=N first=ID last=ID
    error call=ListUsers code=RESOURCE_EXHAUSTED reason=... domain=... fivetran_code=... http_status=429 retry_delay=1s message=...
    retry call=ListUsers attempt=2 wait=...
    list_users pages=N count=N active=N
    create_connection id=... (as get_connection) ready=true setup_tests=PASSED,...
    create_ftp_connection id=... ready=true host=...
    sync_connection id=... triggered_at=... message=...
    watch_connection_sync id=... updates=N outcome=SYNC_OUTCOME_... sync_state=... succeeded_at=...
    error call=GetConnection code=NOT_FOUND reason=FIVETRAN_NOT_FOUND ... message=...
"""

import base64
import datetime
import json
import os
import re
import sys
import urllib.request

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def rest(path):
    req = urllib.request.Request(os.environ["EMU_URL"] + path)
    token = base64.b64encode(f"{os.environ['API_KEY']}:{os.environ['API_SECRET']}".encode()).decode()
    req.add_header("Authorization", "Basic " + token)
    req.add_header("Accept", "application/json;version=2")
    with urllib.request.urlopen(req, timeout=10) as reply:
        return json.load(reply)


def admin(path):
    with urllib.request.urlopen(os.environ["EMU_URL"] + path, timeout=10) as reply:
        return json.load(reply)


def rest_all(path):
    items, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        page = rest(path + (f"{sep}cursor={cursor}" if cursor else ""))["data"]
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def parse(text):
    """Lines of `kind k=v k=v ... message=rest of line`."""
    lines = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        kind, _, rest_ = raw.partition(" ")
        fields = {}
        msg = re.search(r"(?:^| )message=(.*)$", rest_)
        if msg:
            fields["message"] = msg.group(1)
            rest_ = rest_[: msg.start()]
        for token in rest_.split():
            key, _, value = token.partition("=")
            fields[key] = value
        lines.append((kind, fields))
    return lines


def instant(text):
    """RFC 3339 UTC with 0-9 fraction digits -> (seconds, microseconds)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z", text or "")
    if not m:
        return None
    base = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(base.timestamp()), int((m.group(2) or "0").ljust(9, "0")[:6])


def one(lines, kind, **match):
    found = [f for k, f in lines if k == kind and all(f.get(a) == b for a, b in match.items())]
    check(len(found) == 1, f"expected exactly one '{kind}' line {match or ''}, got {len(found)}")
    return found[0] if found else {}


def check_connection(line, label, rest_conn):
    for key in ("id", "group_id", "service", "schema"):
        check(line.get(key) == rest_conn[key],
              f"{label}: {key}={line.get(key)!r}, REST has {rest_conn[key]!r}")
    setup = "SETUP_STATE_" + rest_conn["status"]["setup_state"].upper()
    check(line.get("setup_state") == setup, f"{label}: setup_state={line.get('setup_state')}, REST {setup}")


def main():
    lang, path = sys.argv[1], sys.argv[2]
    lines = parse(open(path).read())

    check(one(lines, "health").get("status") == "SERVING", "health status is not SERVING")

    # GetConnection("decent_dropsy") against GET /v1/connections/decent_dropsy
    line = one(lines, "get_connection")
    conn = rest("/v1/connections/decent_dropsy")["data"]
    check_connection(line, "get_connection", conn)
    check(line.get("sync_frequency") == str(conn["sync_frequency"]), "get_connection: sync_frequency differs")
    check(instant(line.get("succeeded_at")) == instant(conn["succeeded_at"]),
          f"get_connection: succeeded_at={line.get('succeeded_at')}, REST {conn['succeeded_at']}")
    check(line.get("setup_tests") == str(len(conn["setup_tests"])), "get_connection: setup_tests count differs")

    # ListGroups, 2 per page
    line = one(lines, "list_groups")
    groups = [g["id"] for g in rest_all("/v1/groups")]
    check(line.get("ids") == ",".join(groups), f"list_groups: ids={line.get('ids')}, REST {groups}")
    check(line.get("count") == str(len(groups)), "list_groups: count differs")
    check(int(line.get("pages", 0)) >= 2, "list_groups: did not page (page_size 2)")

    # ListGroupConnections(amber_fjord), 100 per page
    line = one(lines, "list_group_connections")
    ids = [c["id"] for c in rest_all("/v1/groups/amber_fjord/connections?limit=100")]
    check(len(ids) == 260, f"REST amber_fjord has {len(ids)} connections, expected 260")
    check(line.get("count") == str(len(ids)) and line.get("distinct") == str(len(ids)),
          f"list_group_connections: count={line.get('count')} distinct={line.get('distinct')}, REST {len(ids)}")
    check(line.get("pages") == "3", f"list_group_connections: pages={line.get('pages')}, expected 3")
    check(line.get("first") == ids[0] and line.get("last") == ids[-1],
          f"list_group_connections: first/last {line.get('first')}/{line.get('last')}, REST {ids[0]}/{ids[-1]}")

    # ListUsers after one 429: the rich error, a retry, then every user
    err = one(lines, "error", call="ListUsers")
    check(err.get("code") == "RESOURCE_EXHAUSTED", f"ListUsers error code {err.get('code')}")
    check(err.get("reason") == "FIVETRAN_RATE_LIMITED", f"ListUsers error reason {err.get('reason')}")
    check(err.get("domain") == "fivetran-gateway", f"ListUsers error domain {err.get('domain')}")
    check(err.get("fivetran_code") == "TooManyRequests", f"ListUsers fivetran_code {err.get('fivetran_code')}")
    check(err.get("http_status") == "429", f"ListUsers http_status {err.get('http_status')}")
    check(err.get("retry_delay") in ("1s", "1.000s"), f"ListUsers retry_delay {err.get('retry_delay')}")
    one(lines, "retry", call="ListUsers")
    line = one(lines, "list_users")
    users = rest_all("/v1/users")
    check(line.get("count") == str(len(users)), f"list_users: count={line.get('count')}, REST {len(users)}")
    active = sum(1 for u in users if u.get("active") is True)
    check(line.get("active") == str(active), f"list_users: active={line.get('active')}, REST {active}")
    check(int(line.get("pages", 0)) >= 3, "list_users: did not page (page_size 50)")

    # CreateConnection (postgres) and CreateFtpConnection: now in the emulator
    line = one(lines, "create_connection")
    if check(bool(line.get("id")), "create_connection: no id"):
        conn = rest(f"/v1/connections/{line['id']}")["data"]
        check_connection(line, "create_connection", conn)
        check(conn["service"] == "postgres" and conn["group_id"] == "projected_sickle",
              "create_connection: wrong service or group upstream")
        prefix = {"python": "py", "go": "go", "node": "node"}[lang] + "_pg_"
        check(conn["schema"].startswith(prefix),
              f"create_connection: schema {conn['schema']} is not the client's")
        check(line.get("ready") == "true", "create_connection: ready is not true")
        check(line.get("setup_tests") == ",".join(t["status"] for t in conn["setup_tests"]),
              "create_connection: setup_tests differ")
    line = one(lines, "create_ftp_connection")
    ftp_id = line.get("id")
    if check(bool(ftp_id), "create_ftp_connection: no id"):
        conn = rest(f"/v1/connections/{ftp_id}")["data"]
        check_connection(line, "create_ftp_connection", conn)
        check(conn["service"] == "ftp", "create_ftp_connection: service is not ftp upstream")
        check(conn["schema"].endswith(".orders"), f"create_ftp_connection: schema {conn['schema']}")
        check(line.get("host") == conn["config"]["host"], "create_ftp_connection: host differs")
        check(conn["config"].get("password") == "******", "create_ftp_connection: password not stored")
        check(line.get("ready") == "true", "create_ftp_connection: ready is not true")

        # SyncConnection on the new FTP connection: it is syncing upstream now
        line = one(lines, "sync_connection")
        check(line.get("id") == ftp_id, "sync_connection: not the FTP connection")
        check(f"'{ftp_id}'" in line.get("message", ""), f"sync_connection: message {line.get('message')!r}")
        triggered = instant(line.get("triggered_at"))
        check(triggered is not None, "sync_connection: no triggered_at")
        log = admin(f"/_emulator/requests?path_prefix=/v1/connections/{ftp_id}/sync")
        check([r["method"] for r in log["requests"]] == ["POST"],
              f"sync_connection: upstream sync requests {log['requests']}")

        # WatchConnectionSync until that sync ended: as now stored upstream
        line = one(lines, "watch_connection_sync")
        after = rest(f"/v1/connections/{ftp_id}")["data"]
        check(line.get("id") == ftp_id, "watch_connection_sync: not the FTP connection")
        check(line.get("outcome") == "SYNC_OUTCOME_SUCCEEDED", f"watch_connection_sync: outcome {line.get('outcome')}")
        check(int(line.get("updates", 0)) >= 1, "watch_connection_sync: no update")
        check(after["status"]["sync_state"] == "scheduled", f"upstream sync_state {after['status']['sync_state']}")
        check(line.get("sync_state") == "SYNC_STATE_SCHEDULED", f"watch_connection_sync: sync_state {line.get('sync_state')}")
        done = instant(line.get("succeeded_at"))
        check(done is not None and done == instant(after.get("succeeded_at")),
              f"watch_connection_sync: succeeded_at={line.get('succeeded_at')}, REST {after.get('succeeded_at')}")
        check(done is not None and triggered is not None and done > triggered,
              "watch_connection_sync: succeeded_at is not after triggered_at")

    # GetConnection("no_such_connection"): NOT_FOUND with ErrorInfo
    err = one(lines, "error", call="GetConnection")
    check(err.get("code") == "NOT_FOUND", f"GetConnection error code {err.get('code')}")
    check(err.get("reason") == "FIVETRAN_NOT_FOUND", f"GetConnection reason {err.get('reason')}")
    check(err.get("fivetran_code") == "NotFound_Connection", f"GetConnection fivetran_code {err.get('fivetran_code')}")
    check(err.get("http_status") == "404", f"GetConnection http_status {err.get('http_status')}")
    check("no_such_connection" in err.get("message", ""), "GetConnection: message does not name the id")

    if failures:
        for f in failures:
            print("MISMATCH:", f, file=sys.stderr)
        return 1
    print(f"check_output: {lang} client output matches the emulator")
    return 0


if __name__ == "__main__":
    sys.exit(main())
