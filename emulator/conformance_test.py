#!/usr/bin/python3
"""Conformance of fivetran_emulator with Fivetran's OpenAPI response schemas.

Calls the seven operations over HTTP and validates every response with
jsonschema against <shared>/fivetran-openapi/endpoints/*.json. Run through
conformance_test.sh, which starts the emulator and sets EMULATOR_BASE_URL and
FIVETRAN_OPENAPI_DIR.

Deliberate relaxations of the spec (the spec has no `nullable` markers and a
few typing defects); everything else, including every `required` list, is
checked strictly:
  * null is allowed where the Fivetran docs say null is legitimate:
    succeeded_at, failed_at, connected_by, sync_frequency, daily_sync_time
    (connections) and logged_in_at, picture, phone (users). `paused` may be null
    too, because the seed deliberately carries field report B4's incomplete
    connection (unfinished_crane) with paused=null.
  * sync_frequency's enum is written as strings under an integer type; it is
    compared as integers.
  * FTP config enums are declared `type: object` with string values; they are
    checked as strings.
  * connection `config` in list items declares additionalProperties of type
    object, while config values are scalars; that constraint is dropped.
"""

import base64
import copy
import json
import os
import re
import sys
import time
import unittest
import urllib.error
import urllib.request

import jsonschema

BASE_URL = os.environ.get("EMULATOR_BASE_URL", "")
SPEC_DIR = os.environ.get("FIVETRAN_OPENAPI_DIR", "")
API_KEY = "demo_api_key"
API_SECRET = "demo_api_secret"
NULLABLE = {"succeeded_at", "failed_at", "connected_by", "sync_frequency", "daily_sync_time",
            "logged_in_at", "picture", "phone", "paused"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
EMULATOR_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def relax(schema):
    """Returns a copy of `schema` with the documented relaxations applied."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        if node.get("type") == "integer" and isinstance(node.get("enum"), list):
            node["enum"] = [int(v) for v in node["enum"]]
        if node.get("type") == "object" and isinstance(node.get("enum"), list):
            node["type"] = "string"
        props = node.get("properties")
        if isinstance(props, dict):
            config = props.get("config")
            if isinstance(config, dict):
                config.pop("additionalProperties", None)
            for name in list(props):
                walk(props[name])
                if name in NULLABLE:
                    props[name] = {"anyOf": [props[name], {"type": "null"}]}
        for key, value in node.items():
            if key != "properties":
                walk(value)

    walk(schema)
    return schema


def load_endpoint(relative):
    path = os.path.join(SPEC_DIR, "endpoints", relative)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def response_schema(relative):
    return relax(load_endpoint(relative)["response"]["content"]["application/json"])


def request_schema(relative):
    return relax(load_endpoint(relative)["request_body"]["content"]["application/json"])


def call(method, path, body=None, accept="application/json;version=2"):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE_URL + path, data=data, method=method)
    token = base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
    req.add_header("Authorization", "Basic " + token)
    req.add_header("Accept", accept)
    req.add_header("User-Agent", "fivetran-emulator-conformance/1")
    if method == "POST":
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def check_timestamps(test, obj, strict_ids=()):
    """Every *_at value is null or RFC 3339 UTC; emulator-made ones have 6 digits."""
    for key, value in obj.items():
        if key.endswith("_at") and value is not None:
            test.assertRegex(value, TIMESTAMP, key)
            if obj.get("id") not in strict_ids:
                continue
            test.assertRegex(value, EMULATOR_TIMESTAMP, key)


class ConformanceTest(unittest.TestCase):
    maxDiff = None

    def validate(self, instance, schema):
        try:
            jsonschema.validate(instance, schema)
        except jsonschema.ValidationError as err:
            self.fail(f"schema violation at {list(err.absolute_path)}: {err.message}")

    def assert_rate_headers(self, headers):
        self.assertIn("X-Rate-Limit", headers)
        self.assertIn("X-Rate-Limit-Remaining", headers)

    def test_1_get_connection(self):
        schema = response_schema("connections/connection_details.json")
        for conn_id in ["decent_dropsy", "fresh_otter", "sleepy_badger", "unfinished_crane",
                        "cracked_vase", "waiting_heron", "future_fox", "drifting_port",
                        "terse_clock", "stumbling_mole", "echoing_wren"]:
            status, headers, body = call("GET", f"/v1/connections/{conn_id}")
            self.assertEqual(status, 200, body)
            self.assert_rate_headers(headers)
            self.validate(body, schema)
            self.assertEqual(body["data"]["id"], conn_id)
            check_timestamps(self, body["data"])
        _, _, body = call("GET", "/v1/connections/decent_dropsy")
        self.assertEqual(body["data"]["config"]["password"], "******")
        check_timestamps(self, body["data"], strict_ids=("decent_dropsy",))
        status, _, body = call("GET", "/v1/connections/does_not_exist")
        self.assertEqual(status, 404)
        self.assertEqual(body["code"], "NotFound_Connection")

    def test_2_create_connection(self):
        request = {"group_id": "quiet_harbor", "service": "postgres", "run_setup_tests": True,
                   "paused": False, "sync_frequency": 60, "schedule_type": "auto",
                   "config": {"schema": "conformance_pg", "host": "pg.example.test",
                              "port": 5432, "user": "u", "password": "pw", "database": "d"}}
        self.validate(request, request_schema("connections/create_connection.json"))
        status, headers, body = call("POST", "/v1/connections", request)
        self.assertEqual(status, 201, body)
        self.assert_rate_headers(headers)
        self.validate(body, response_schema("connections/create_connection.json"))
        data = body["data"]
        self.assertEqual(data["config"]["password"], "******")
        self.assertEqual(data["status"]["setup_state"], "connected")
        check_timestamps(self, data, strict_ids=(data["id"],))
        # It is visible through details afterwards.
        status, _, details = call("GET", "/v1/connections/" + data["id"])
        self.assertEqual(status, 200)
        self.validate(details, response_schema("connections/connection_details.json"))
        status, _, body = call("POST", "/v1/connections", {"service": "postgres"})
        self.assertEqual((status, body["code"]), (400, "InvalidInput"))

    def test_3_create_ftp_connection(self):
        ftp_schema = relax(load_endpoint("ftp-service-config.json"))
        request = {"group_id": "projected_sickle", "service": "ftp", "run_setup_tests": True,
                   "trust_certificates": True, "schedule_type": "manual",
                   "destination_schema_names": "SOURCE_NAMING",
                   "config": {"schema": "conformance_ftp", "table": "orders",
                              "host": "ftp.example.net", "port": 21, "user": "loader",
                              "password": "pa55", "is_secure": True, "prefix": "exports/orders",
                              "pattern": "orders_.*\\.csv", "file_type": "csv",
                              "compression": "uncompressed", "on_error": "fail",
                              "append_file_option": "upsert_file", "null_sequence": "NULL",
                              "delimiter": ",", "escape_char": "\\", "skip_before": 0,
                              "skip_after": 0, "empty_header": False,
                              "json_delivery_mode": "Packed"}}
        self.validate(request, request_schema("connections/create_connection.json"))
        self.validate({"config": request["config"]}, ftp_schema)
        status, _, body = call("POST", "/v1/connections", request)
        self.assertEqual(status, 201, body)
        self.validate(body, response_schema("connections/create_connection.json"))
        data = body["data"]
        self.validate({"config": data["config"]}, ftp_schema)
        self.assertEqual(data["service"], "ftp")
        self.assertEqual(data["schema"], "conformance_ftp.orders")
        self.assertEqual(data["config"]["password"], "******")
        status, _, body = call("POST", "/v1/connections", request)
        self.assertEqual((status, body["code"]), (409, "Conflict"))
        bad = copy.deepcopy(request)
        bad["config"]["schema"] = "conformance_ftp_bad"
        bad["config"]["file_type"] = "exe"
        status, _, body = call("POST", "/v1/connections", bad)
        self.assertEqual((status, body["code"]), (400, "InvalidInput"))
        self.assertIn("file_type", body["message"])

    def list_all(self, path, schema, limit):
        items, pages, cursor = [], 0, None
        while True:
            sep = "&" if "?" in path else "?"
            url = f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            status, headers, body = call("GET", url, accept="application/json")
            self.assertEqual(status, 200, body)
            self.assert_rate_headers(headers)
            self.validate(body, schema)
            pages += 1
            items.extend(body["data"]["items"])
            cursor = body["data"].get("next_cursor")
            if cursor is None:
                break
            self.assertTrue(cursor, "next_cursor must be absent, not empty, on the last page")
            self.assertLess(pages, 100, "pagination does not terminate")
        ids = [item["id"] for item in items]
        self.assertEqual(len(ids), len(set(ids)), "an item was returned twice")
        return items, pages

    def test_4_list_group_connections(self):
        schema = response_schema("groups/list_all_connections_in_group.json")
        items, pages = self.list_all("/v1/groups/amber_fjord/connections", schema, 100)
        self.assertEqual((len(items), pages), (260, 3))
        items, _ = self.list_all("/v1/groups/projected_sickle/connections", schema, 4)
        self.assertIn("unfinished_crane", [i["id"] for i in items])
        for item in items:
            check_timestamps(self, item)
            if "password" in item.get("config", {}):
                self.assertEqual(item["config"]["password"], "******")
        status, _, body = call("GET", "/v1/groups/no_such_group/connections")
        self.assertEqual((status, body["code"]), (404, "NotFound_Group"))

    def test_5_list_groups(self):
        schema = response_schema("groups/list_all_groups.json")
        items, _ = self.list_all("/v1/groups", schema, 100)
        self.assertTrue({"projected_sickle", "amber_fjord", "quiet_harbor"} <=
                        {g["id"] for g in items})
        items, pages = self.list_all("/v1/groups", schema, 1)
        self.assertEqual(pages, len(items))

    def test_6_list_users(self):
        schema = response_schema("users/list_all_users.json")
        everyone, _ = self.list_all("/v1/users", schema, 100)
        active, _ = self.list_all("/v1/users?active=true", schema, 37)
        inactive, _ = self.list_all("/v1/users?active=false", schema, 37)
        self.assertGreaterEqual(len(everyone), 120)
        self.assertTrue(all(u["active"] for u in active))
        self.assertTrue(inactive and not any(u["active"] for u in inactive))
        self.assertEqual(len(active) + len(inactive), len(everyone))
        for user in everyone:
            check_timestamps(self, user)

    def test_7_sync(self):
        schema = response_schema("connections/sync_connection.json")
        _, _, before = call("GET", "/v1/connections/decent_dropsy")
        baseline = max(filter(None, [before["data"]["succeeded_at"], before["data"]["failed_at"]]))
        status, headers, body = call("POST", "/v1/connections/decent_dropsy/sync", {"force": False})
        self.assertEqual(status, 200, body)
        self.assert_rate_headers(headers)
        self.validate(body, schema)
        self.assertEqual(body["message"], "Sync has been successfully triggered for connection "
                                          "with id 'decent_dropsy'")
        deadline = time.time() + 10
        while True:
            _, _, details = call("GET", "/v1/connections/decent_dropsy")
            data = details["data"]
            if data["succeeded_at"] and data["succeeded_at"] > baseline:
                break
            self.assertLess(time.time(), deadline, "sync never completed")
            self.assertEqual(data["status"]["sync_state"], "syncing")
            time.sleep(0.1)
        self.assertEqual(data["status"]["sync_state"], "scheduled")
        self.assertRegex(data["succeeded_at"], EMULATOR_TIMESTAMP)
        self.validate(details, response_schema("connections/connection_details.json"))
        status, _, body = call("POST", "/v1/connections/decent_dropsy/force", {})
        self.assertEqual(status, 200)
        self.validate(body, schema)


if __name__ == "__main__":
    if not BASE_URL:
        sys.exit("EMULATOR_BASE_URL is not set; run via conformance_test.sh")
    if not os.path.isdir(os.path.join(SPEC_DIR, "endpoints")):
        sys.exit(f"FAIL: OpenAPI spec not found at {SPEC_DIR!r}")
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
