#!/usr/bin/python3
"""A real call through the installed wheel (package_test.sh python).

Prints where the modules came from, every group id (paged), and the ErrorInfo
of a NOT_FOUND, decoded with the wheel's google.rpc modules:

    version=1.0.0
    module=/.../site-packages/fivetran/gateway/v1/group_service_pb2.py
    rpc_module=/.../site-packages/google/rpc/status_pb2.py
    groups=a,b,c
    not_found reason=FIVETRAN_NOT_FOUND
"""

import sys
from importlib import metadata

import grpc
from fivetran.gateway.connect import channel_from_env
from fivetran.gateway.v1 import (connection_service_pb2, connection_service_pb2_grpc,
                                 group_service_pb2, group_service_pb2_grpc)
from google.rpc import error_details_pb2, status_pb2


def main() -> int:
    print(f"version={metadata.version('fivetran-gateway-client')}")
    print(f"module={group_service_pb2.__file__}")
    print(f"rpc_module={status_pb2.__file__}")
    with channel_from_env(sys.argv[1]) as channel:
        groups = group_service_pb2_grpc.GroupServiceStub(channel)
        ids, request = [], group_service_pb2.ListGroupsRequest(page_size=2)
        while True:
            page = groups.ListGroups(request, timeout=10)
            ids += [g.id for g in page.groups]
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token
        print(f"groups={','.join(ids)}")
        try:
            connection_service_pb2_grpc.ConnectionServiceStub(channel).GetConnection(
                connection_service_pb2.GetConnectionRequest(connection_id="no_such_connection"),
                timeout=10)
        except grpc.RpcError as err:
            details = dict(err.trailing_metadata())["grpc-status-details-bin"]
            for any_ in status_pb2.Status.FromString(details).details:
                info = error_details_pb2.ErrorInfo()
                if any_.Unpack(info):
                    print(f"not_found reason={info.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
