#!/usr/bin/python3
"""Example Python client of fivetran-gateway (fivetran.gateway.v1).

Calls every operation (and watches a sync to its end), pages through listings
with next_page_token, and reads the gateway's rich errors (gRPC code,
google.rpc.ErrorInfo reason and metadata, google.rpc.RetryInfo delay).

    tools/gen_clients.sh python
    PYTHONPATH=client/generated/python /usr/bin/python3 client/python/example_client.py 127.0.0.1:50051

The address comes from the first argument, else $GATEWAY_ADDR, else
127.0.0.1:50051. TLS and the bearer token come from the environment
(fivetran/gateway/connect.py): FIVETRAN_GATEWAY_CA_FILE (or
FIVETRAN_GATEWAY_TLS=1 for the system's CAs), FIVETRAN_GATEWAY_CERT and
FIVETRAN_GATEWAY_KEY for mutual TLS, FIVETRAN_GATEWAY_SERVER_NAME, and
FIVETRAN_GATEWAY_TOKEN or FIVETRAN_GATEWAY_TOKEN_FILE. Reads that fail with RESOURCE_EXHAUSTED or UNAVAILABLE are
retried after the server's RetryInfo delay, waiting at most
$GATEWAY_MAX_RETRY_WAIT seconds (default 60). The ids used exist in the
emulator's seeded account. Needs Debian's python3-grpcio and python3-protobuf.
"""

import os
import sys
import time

import grpc
from google.protobuf import duration_pb2, struct_pb2
from google.rpc import error_details_pb2, status_pb2

from fivetran.gateway.connect import channel_from_env
from fivetran.gateway.v1 import (
    connection_pb2,
    connection_service_pb2,
    connection_service_pb2_grpc,
    ftp_config_pb2,
    group_service_pb2,
    group_service_pb2_grpc,
    user_service_pb2,
    user_service_pb2_grpc,
)
from health.v1 import health_pb2, health_pb2_grpc

DEADLINE_S = 10
MAX_RETRY_WAIT_S = float(os.environ.get("GATEWAY_MAX_RETRY_WAIT", "60"))
RETRYABLE = (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE)


def error_details(err: grpc.RpcError):
    """Returns (ErrorInfo or None, RetryInfo or None) from the status details."""
    info = retry = None
    for key, value in err.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
    return info, retry


def print_error(call: str, err: grpc.RpcError):
    info, retry = error_details(err)
    fields = [f"call={call}", f"code={err.code().name}"]
    if info is not None:
        fields += [
            f"reason={info.reason}",
            f"domain={info.domain}",
            f"fivetran_code={info.metadata.get('fivetran_code', '')}",
            f"http_status={info.metadata.get('http_status', '')}",
        ]
    if retry is not None:
        fields.append(f"retry_delay={retry.retry_delay.ToJsonString()}")
    fields.append(f"message={err.details()}")
    print("error", *fields, flush=True)
    return retry


def read(call: str, method, request, attempts: int = 3):
    """A read-only call, retried on RESOURCE_EXHAUSTED/UNAVAILABLE after RetryInfo."""
    for attempt in range(1, attempts + 1):
        try:
            return method(request, timeout=DEADLINE_S)
        except grpc.RpcError as err:
            if err.code() not in RETRYABLE or attempt == attempts:
                raise
            retry = print_error(call, err)
            delay = retry.retry_delay.ToTimedelta().total_seconds() if retry else 1.0
            wait = min(delay, MAX_RETRY_WAIT_S)
            print(f"retry call={call} attempt={attempt + 1} wait={wait:g}s", flush=True)
            time.sleep(wait)
    raise AssertionError("unreachable")


def list_all(call: str, method, request, items_field: str):
    """Follows next_page_token until it is empty; returns (items, pages)."""
    items, pages = [], 0
    while True:
        page = read(call, method, request)
        pages += 1
        items.extend(getattr(page, items_field))
        if not page.next_page_token:  # the only end-of-list signal
            return items, pages
        request.page_token = page.next_page_token


def ts(t) -> str:
    return t.ToJsonString() if t.ByteSize() else ""


def describe(c: connection_pb2.Connection) -> str:
    return (f"id={c.id} group_id={c.group_id} service={c.service} schema={c.schema} "
            f"setup_state={connection_pb2.SetupState.Name(c.status.setup_state)} "
            f"sync_state={connection_pb2.SyncState.Name(c.status.sync_state)}")


def main() -> int:
    address = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("GATEWAY_ADDR", "127.0.0.1:50051")
    run_id = f"{int(time.time() * 1000)}_{os.getpid()}"  # unique schema names per run

    with channel_from_env(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        connections = connection_service_pb2_grpc.ConnectionServiceStub(channel)
        groups = group_service_pb2_grpc.GroupServiceStub(channel)
        users = user_service_pb2_grpc.UserServiceStub(channel)

        reply = health.Check(health_pb2.HealthCheckRequest(), timeout=DEADLINE_S)
        print(f"health status={health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}")

        # GetConnection
        c = read("GetConnection", connections.GetConnection,
                 connection_service_pb2.GetConnectionRequest(connection_id="decent_dropsy")).connection
        print(f"get_connection {describe(c)} sync_frequency={c.sync_frequency} "
              f"succeeded_at={ts(c.succeeded_at)} setup_tests={len(c.setup_tests)}")

        # ListGroups, two per page
        all_groups, pages = list_all("ListGroups", groups.ListGroups,
                                     group_service_pb2.ListGroupsRequest(page_size=2), "groups")
        print(f"list_groups pages={pages} count={len(all_groups)} "
              f"ids={','.join(g.id for g in all_groups)}")

        # ListGroupConnections: 260 connections, 100 per page
        conns, pages = list_all(
            "ListGroupConnections", groups.ListGroupConnections,
            group_service_pb2.ListGroupConnectionsRequest(group_id="amber_fjord", page_size=100),
            "connections")
        print(f"list_group_connections group_id=amber_fjord pages={pages} count={len(conns)} "
              f"distinct={len({x.id for x in conns})} first={conns[0].id} last={conns[-1].id}")

        # ListUsers, 50 per page
        all_users, pages = list_all("ListUsers", users.ListUsers,
                                    user_service_pb2.ListUsersRequest(page_size=50), "users")
        active = sum(1 for u in all_users if u.HasField("active") and u.active)
        print(f"list_users pages={pages} count={len(all_users)} active={active}")

        # CreateConnection: any service, config as a Struct
        config = struct_pb2.Struct()
        config.update({"schema": f"py_pg_{run_id}", "host": "db.example.com", "port": 5432,
                       "user": "reader", "password": "example-password", "database": "orders"})
        created = connections.CreateConnection(
            connection_service_pb2.CreateConnectionRequest(
                group_id="projected_sickle", service="postgres", config=config,
                options=connection_service_pb2.CreateConnectionOptions(run_setup_tests=True)),
            timeout=DEADLINE_S)
        print(f"create_connection {describe(created.connection)} ready={str(created.ready).lower()} "
              f"setup_tests={','.join(connection_pb2.SetupTestStatus.Name(t.status).removeprefix('SETUP_TEST_STATUS_') for t in created.connection.setup_tests)}")

        # CreateFtpConnection: typed config
        ftp = connections.CreateFtpConnection(
            connection_service_pb2.CreateFtpConnectionRequest(
                group_id="projected_sickle",
                config=ftp_config_pb2.FtpConfig(
                    schema=f"py_ftp_{run_id}", table="orders", host="ftp.example.com", port=21,
                    user="loader", password="example-password", is_secure=True,
                    file_type=ftp_config_pb2.FTP_FILE_TYPE_CSV)),
            timeout=DEADLINE_S)
        print(f"create_ftp_connection {describe(ftp.connection)} ready={str(ftp.ready).lower()} "
              f"host={ftp.connection.config['host']}")

        # SyncConnection
        synced = connections.SyncConnection(
            connection_service_pb2.SyncConnectionRequest(connection_id=ftp.connection.id, force=False),
            timeout=DEADLINE_S)
        print(f"sync_connection id={ftp.connection.id} triggered_at={ts(synced.triggered_at)} "
              f"message={synced.message}")

        # WatchConnectionSync: a stream of updates until that sync ends
        watch = connection_service_pb2.WatchConnectionSyncRequest(
            connection_id=ftp.connection.id, poll_interval=duration_pb2.Duration(seconds=1))
        if synced.HasField("baseline"):  # unset: the connection never synced before
            watch.baseline.CopyFrom(synced.baseline)
        updates, last = 0, None
        for last in connections.WatchConnectionSync(watch, timeout=60):
            updates += 1
        print(f"watch_connection_sync id={ftp.connection.id} updates={updates} "
              f"outcome={connection_service_pb2.SyncOutcome.Name(last.outcome)} "
              f"sync_state={connection_pb2.SyncState.Name(last.observation.sync_state)} "
              f"succeeded_at={ts(last.observation.succeeded_at)}")

        # A rich error: NOT_FOUND with ErrorInfo
        try:
            connections.GetConnection(
                connection_service_pb2.GetConnectionRequest(connection_id="no_such_connection"),
                timeout=DEADLINE_S)
            print("error call=GetConnection unexpectedly succeeded")
            return 1
        except grpc.RpcError as err:
            print_error("GetConnection", err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
