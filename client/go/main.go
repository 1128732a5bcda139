// Command example_client is an example Go client of fivetran-gateway
// (fivetran.gateway.v1).
//
// It calls every operation (and watches a sync to its end), pages through
// listings with next_page_token, and reads the gateway's rich errors (gRPC
// code, google.rpc.ErrorInfo reason and metadata, google.rpc.RetryInfo
// delay).
//
//	tools/gen_clients.sh go
//	cd client/go && GO111MODULE=off GOPATH=$PWD/../generated/go:/usr/share/gocode go build -o example_client .
//	./example_client 127.0.0.1:50051
//
// The address comes from the first argument, else $GATEWAY_ADDR, else
// 127.0.0.1:50051. TLS and the bearer token come from the environment
// (connect.go): FIVETRAN_GATEWAY_CA_FILE (or FIVETRAN_GATEWAY_TLS=1 for the
// system's CAs), FIVETRAN_GATEWAY_CERT and FIVETRAN_GATEWAY_KEY for mutual
// TLS, FIVETRAN_GATEWAY_SERVER_NAME, and FIVETRAN_GATEWAY_TOKEN or
// FIVETRAN_GATEWAY_TOKEN_FILE. Reads that fail with RESOURCE_EXHAUSTED or UNAVAILABLE are
// retried after the server's RetryInfo delay, waiting at most
// $GATEWAY_MAX_RETRY_WAIT seconds (default 60). The ids used exist in the
// emulator's seeded account.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	gw "fivetran-gateway/gen/gatewayv1"

	rpccode "google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const deadline = 10 * time.Second

var maxRetryWait = 60 * time.Second

// details returns the ErrorInfo and RetryInfo of an error (nil when absent).
func details(err error) (*errdetails.ErrorInfo, *errdetails.RetryInfo) {
	var info *errdetails.ErrorInfo
	var retry *errdetails.RetryInfo
	for _, d := range status.Convert(err).Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.RetryInfo:
			retry = d
		}
	}
	return info, retry
}

func printError(call string, err error) *errdetails.RetryInfo {
	st := status.Convert(err)
	info, retry := details(err)
	fields := []string{"call=" + call, "code=" + rpccode.Code(st.Code()).String()}
	if info != nil {
		fields = append(fields, "reason="+info.Reason, "domain="+info.Domain,
			"fivetran_code="+info.Metadata["fivetran_code"], "http_status="+info.Metadata["http_status"])
	}
	if retry != nil {
		fields = append(fields, "retry_delay="+retry.RetryDelay.AsDuration().String())
	}
	fields = append(fields, "message="+st.Message())
	fmt.Println("error " + strings.Join(fields, " "))
	return retry
}

// read runs a read-only call with a deadline, retrying RESOURCE_EXHAUSTED and
// UNAVAILABLE after the RetryInfo delay.
func read[Resp any](call string, fn func(ctx context.Context) (Resp, error)) Resp {
	const attempts = 3
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		resp, err := fn(ctx)
		cancel()
		if err == nil {
			return resp
		}
		code := status.Code(err)
		if (code != codes.ResourceExhausted && code != codes.Unavailable) || attempt == attempts {
			log.Fatalf("%s: %v", call, err)
		}
		wait := time.Second
		if retry := printError(call, err); retry != nil {
			wait = retry.RetryDelay.AsDuration()
		}
		if wait > maxRetryWait {
			wait = maxRetryWait
		}
		fmt.Printf("retry call=%s attempt=%d wait=%s\n", call, attempt+1, wait)
		time.Sleep(wait)
	}
}

func ts(t *timestamppb.Timestamp) string {
	if t == nil {
		return ""
	}
	return t.AsTime().UTC().Format(time.RFC3339Nano)
}

func describe(c *gw.Connection) string {
	return fmt.Sprintf("id=%s group_id=%s service=%s schema=%s setup_state=%s sync_state=%s",
		c.Id, c.GroupId, c.Service, c.Schema, c.GetStatus().GetSetupState(), c.GetStatus().GetSyncState())
}

func main() {
	log.SetFlags(0)
	address := os.Getenv("GATEWAY_ADDR")
	if len(os.Args) > 1 {
		address = os.Args[1]
	}
	if address == "" {
		address = "127.0.0.1:50051"
	}
	if s := os.Getenv("GATEWAY_MAX_RETRY_WAIT"); s != "" {
		secs, err := strconv.ParseFloat(s, 64)
		if err != nil {
			log.Fatalf("GATEWAY_MAX_RETRY_WAIT: %v", err)
		}
		maxRetryWait = time.Duration(secs * float64(time.Second))
	}
	runID := fmt.Sprintf("%d_%d", time.Now().UnixMilli(), os.Getpid()) // unique schema names

	opts, err := dialOptionsFromEnv() // TLS and the bearer token (connect.go)
	if err != nil {
		log.Fatalf("%v", err)
	}
	conn, err := grpc.Dial(address, opts...)
	if err != nil {
		log.Fatalf("dial %s: %v", address, err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	connections := gw.NewConnectionServiceClient(conn)
	groups := gw.NewGroupServiceClient(conn)
	users := gw.NewUserServiceClient(conn)

	h := read("Check", func(ctx context.Context) (*healthpb.HealthCheckResponse, error) {
		return health.Check(ctx, &healthpb.HealthCheckRequest{})
	})
	fmt.Printf("health status=%s\n", h.Status)

	// GetConnection
	c := read("GetConnection", func(ctx context.Context) (*gw.GetConnectionResponse, error) {
		return connections.GetConnection(ctx, &gw.GetConnectionRequest{ConnectionId: "decent_dropsy"})
	}).Connection
	fmt.Printf("get_connection %s sync_frequency=%d succeeded_at=%s setup_tests=%d\n",
		describe(c), c.GetSyncFrequency(), ts(c.SucceededAt), len(c.SetupTests))

	// ListGroups, two per page; an empty next_page_token is the only end signal.
	var groupIDs []string
	pages := 0
	for req := (&gw.ListGroupsRequest{PageSize: 2}); ; {
		page := read("ListGroups", func(ctx context.Context) (*gw.ListGroupsResponse, error) {
			return groups.ListGroups(ctx, req)
		})
		pages++
		for _, g := range page.Groups {
			groupIDs = append(groupIDs, g.Id)
		}
		if req.PageToken = page.NextPageToken; req.PageToken == "" {
			break
		}
	}
	fmt.Printf("list_groups pages=%d count=%d ids=%s\n", pages, len(groupIDs), strings.Join(groupIDs, ","))

	// ListGroupConnections: 260 connections, 100 per page.
	var conns []*gw.Connection
	pages = 0
	for req := (&gw.ListGroupConnectionsRequest{GroupId: "amber_fjord", PageSize: 100}); ; {
		page := read("ListGroupConnections", func(ctx context.Context) (*gw.ListGroupConnectionsResponse, error) {
			return groups.ListGroupConnections(ctx, req)
		})
		pages++
		conns = append(conns, page.Connections...)
		if req.PageToken = page.NextPageToken; req.PageToken == "" {
			break
		}
	}
	distinct := map[string]bool{}
	for _, x := range conns {
		distinct[x.Id] = true
	}
	fmt.Printf("list_group_connections group_id=amber_fjord pages=%d count=%d distinct=%d first=%s last=%s\n",
		pages, len(conns), len(distinct), conns[0].Id, conns[len(conns)-1].Id)

	// ListUsers, 50 per page.
	var allUsers []*gw.User
	pages = 0
	for req := (&gw.ListUsersRequest{PageSize: 50}); ; {
		page := read("ListUsers", func(ctx context.Context) (*gw.ListUsersResponse, error) {
			return users.ListUsers(ctx, req)
		})
		pages++
		allUsers = append(allUsers, page.Users...)
		if req.PageToken = page.NextPageToken; req.PageToken == "" {
			break
		}
	}
	active := 0
	for _, u := range allUsers {
		if u.GetActive() {
			active++
		}
	}
	fmt.Printf("list_users pages=%d count=%d active=%d\n", pages, len(allUsers), active)

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	// CreateConnection: any service, config as a Struct.
	config, err := structpb.NewStruct(map[string]interface{}{
		"schema": "go_pg_" + runID, "host": "db.example.com", "port": 5432,
		"user": "reader", "password": "example-password", "database": "orders",
	})
	if err != nil {
		log.Fatal(err)
	}
	runTests := true
	created, err := connections.CreateConnection(ctx, &gw.CreateConnectionRequest{
		GroupId: "projected_sickle", Service: "postgres", Config: config,
		Options: &gw.CreateConnectionOptions{RunSetupTests: &runTests},
	})
	if err != nil {
		printError("CreateConnection", err)
		os.Exit(1)
	}
	var tests []string
	for _, t := range created.Connection.SetupTests {
		tests = append(tests, strings.TrimPrefix(t.Status.String(), "SETUP_TEST_STATUS_"))
	}
	fmt.Printf("create_connection %s ready=%t setup_tests=%s\n",
		describe(created.Connection), created.Ready, strings.Join(tests, ","))

	// CreateFtpConnection: typed config.
	port, secure := int32(21), true
	ftp, err := connections.CreateFtpConnection(ctx, &gw.CreateFtpConnectionRequest{
		GroupId: "projected_sickle",
		Config: &gw.FtpConfig{
			Schema: "go_ftp_" + runID, Table: "orders", Host: "ftp.example.com", Port: &port,
			User: "loader", Password: "example-password", IsSecure: &secure,
			FileType: gw.FtpFileType_FTP_FILE_TYPE_CSV,
		},
	})
	if err != nil {
		printError("CreateFtpConnection", err)
		os.Exit(1)
	}
	fmt.Printf("create_ftp_connection %s ready=%t host=%s\n", describe(ftp.Connection), ftp.Ready,
		ftp.Connection.GetConfig().GetFields()["host"].GetStringValue())

	// SyncConnection.
	synced, err := connections.SyncConnection(ctx, &gw.SyncConnectionRequest{ConnectionId: ftp.Connection.Id})
	if err != nil {
		printError("SyncConnection", err)
		os.Exit(1)
	}
	fmt.Printf("sync_connection id=%s triggered_at=%s message=%s\n", ftp.Connection.Id, ts(synced.TriggeredAt), synced.Message)

	// WatchConnectionSync: a stream of updates until that sync ends.
	watchCtx, cancelWatch := context.WithTimeout(context.Background(), time.Minute)
	defer cancelWatch()
	stream, err := connections.WatchConnectionSync(watchCtx, &gw.WatchConnectionSyncRequest{
		ConnectionId: ftp.Connection.Id,
		Baseline:     synced.Baseline, // nil: the connection never synced before
		PollInterval: durationpb.New(time.Second),
	})
	if err != nil {
		printError("WatchConnectionSync", err)
		os.Exit(1)
	}
	updates := 0
	var last *gw.WatchConnectionSyncResponse
	for {
		update, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			printError("WatchConnectionSync", err)
			os.Exit(1)
		}
		updates++
		last = update
	}
	fmt.Printf("watch_connection_sync id=%s updates=%d outcome=%s sync_state=%s succeeded_at=%s\n",
		ftp.Connection.Id, updates, last.GetOutcome(), last.GetObservation().GetSyncState(),
		ts(last.GetObservation().GetSucceededAt()))

	// A rich error: NOT_FOUND with ErrorInfo.
	if _, err := connections.GetConnection(ctx, &gw.GetConnectionRequest{ConnectionId: "no_such_connection"}); err != nil {
		printError("GetConnection", err)
	} else {
		fmt.Println("error call=GetConnection unexpectedly succeeded")
		os.Exit(1)
	}
}
