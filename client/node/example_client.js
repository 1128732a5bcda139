#!/usr/bin/env node
// Example Node.js client of fivetran-gateway (fivetran.gateway.v1).
//
// Calls every operation (and watches a sync to its end), pages through
// listings with next_page_token, and reads the gateway's rich errors (gRPC
// code, google.rpc.ErrorInfo reason and metadata, google.rpc.RetryInfo
// delay).
//
//   tools/gen_clients.sh node            # collects the .proto files
//   (cd client/node && npm ci)           # @grpc/grpc-js, @grpc/proto-loader
//   node client/node/example_client.js 127.0.0.1:50051
//
// The address comes from the first argument, else $GATEWAY_ADDR, else
// 127.0.0.1:50051. TLS and the bearer token come from the environment
// (credentials.js): FIVETRAN_GATEWAY_CA_FILE (or FIVETRAN_GATEWAY_TLS=1 for
// the system's CAs), FIVETRAN_GATEWAY_CERT and FIVETRAN_GATEWAY_KEY for
// mutual TLS, FIVETRAN_GATEWAY_SERVER_NAME, and FIVETRAN_GATEWAY_TOKEN or
// FIVETRAN_GATEWAY_TOKEN_FILE. The .proto files are read from $GATEWAY_PROTO_DIR, else
// client/generated/node/proto. Reads that fail with RESOURCE_EXHAUSTED or
// UNAVAILABLE are retried after the server's RetryInfo delay, waiting at most
// $GATEWAY_MAX_RETRY_WAIT seconds (default 60). The ids used exist in the
// emulator's seeded account.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');
const { credentialsFromEnv } = require('./credentials');

const PROTO_DIR = process.env.GATEWAY_PROTO_DIR ||
  path.join(__dirname, '..', 'generated', 'node', 'proto');
const DEADLINE_MS = 10000;
const MAX_RETRY_WAIT_S = Number(process.env.GATEWAY_MAX_RETRY_WAIT || '60');

const LOADER_OPTIONS = {
  keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
  includeDirs: [PROTO_DIR],
};
const packageDefinition = protoLoader.loadSync([
  'fivetran/gateway/v1/connection_service.proto',
  'fivetran/gateway/v1/group_service.proto',
  'fivetran/gateway/v1/user_service.proto',
  'grpc/health/v1/health.proto',
], LOADER_OPTIONS);
const loaded = grpc.loadPackageDefinition(packageDefinition);
const v1 = loaded.fivetran.gateway.v1;
const healthV1 = loaded.grpc.health.v1;

// google.rpc.Status and the detail messages, decoded with protobufjs (which
// @grpc/proto-loader uses underneath).
const rpcRoot = new protobuf.Root();
rpcRoot.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
rpcRoot.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
const RpcStatus = rpcRoot.lookupType('google.rpc.Status');

// Returns {errorInfo, retryInfo} (each null when absent) of a failed call.
function errorDetails(err) {
  const result = { errorInfo: null, retryInfo: null };
  const raw = err.metadata && err.metadata.get('grpc-status-details-bin');
  if (!raw || raw.length === 0) return result;
  for (const any of RpcStatus.decode(raw[0]).details) {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    const message = rpcRoot.lookupType(typeName).decode(any.value);
    const plain = message.$type.toObject(message, { longs: Number, defaults: true });
    if (typeName === 'google.rpc.ErrorInfo') result.errorInfo = plain;
    if (typeName === 'google.rpc.RetryInfo') result.retryInfo = plain;
  }
  return result;
}

function durationSeconds(d) {
  return Number(d.seconds || 0) + (d.nanos || 0) / 1e9;
}

function printError(call, err) {
  const { errorInfo, retryInfo } = errorDetails(err);
  const fields = [`call=${call}`, `code=${grpc.status[err.code]}`];
  if (errorInfo) {
    fields.push(`reason=${errorInfo.reason}`, `domain=${errorInfo.domain}`,
      `fivetran_code=${errorInfo.metadata.fivetran_code || ''}`,
      `http_status=${errorInfo.metadata.http_status || ''}`);
  }
  if (retryInfo) fields.push(`retry_delay=${durationSeconds(retryInfo.retry_delay)}s`);
  fields.push(`message=${err.details}`);
  console.log(`error ${fields.join(' ')}`);
  return retryInfo;
}

// Promise wrapper of a unary call with a deadline.
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + DEADLINE_MS },
      (err, response) => (err ? reject(err) : resolve(response)));
  });
}

const RETRYABLE = new Set([grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNAVAILABLE]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A read-only call, retried on RESOURCE_EXHAUSTED/UNAVAILABLE after RetryInfo.
async function read(client, method, request, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(client, method, request);
    } catch (err) {
      if (!RETRYABLE.has(err.code) || attempt === attempts) throw err;
      const retry = printError(method, err);
      const delay = retry ? durationSeconds(retry.retry_delay) : 1;
      const wait = Math.min(delay, MAX_RETRY_WAIT_S);
      console.log(`retry call=${method} attempt=${attempt + 1} wait=${wait}s`);
      await sleep(wait * 1000);
    }
  }
}

// Follows next_page_token until it is empty (the only end-of-list signal).
async function listAll(client, method, request, itemsField) {
  const items = [];
  let pages = 0;
  for (let token = ''; ;) {
    const page = await read(client, method, { ...request, page_token: token });
    pages++;
    items.push(...page[itemsField]);
    token = page.next_page_token;
    if (!token) return { items, pages };
  }
}

function ts(t) {
  if (!t) return '';
  const iso = new Date(Number(t.seconds) * 1000).toISOString().replace('.000Z', '');
  const frac = t.nanos ? '.' + String(t.nanos).padStart(9, '0').replace(/0+$/, '') : '';
  return `${iso}${frac}Z`;
}

function describe(c) {
  return `id=${c.id} group_id=${c.group_id} service=${c.service} schema=${c.schema} ` +
    `setup_state=${c.status.setup_state} sync_state=${c.status.sync_state}`;
}

async function main() {
  const address = process.argv[2] || process.env.GATEWAY_ADDR || '127.0.0.1:50051';
  const runId = `${Date.now()}_${process.pid}`; // unique schema names per run
  const { credentials, options } = credentialsFromEnv(grpc); // TLS and the token (credentials.js)
  const health = new healthV1.Health(address, credentials, options);
  const connections = new v1.ConnectionService(address, credentials, options);
  const groups = new v1.GroupService(address, credentials, options);
  const users = new v1.UserService(address, credentials, options);

  try {
    const h = await call(health, 'Check', {});
    console.log(`health status=${h.status}`);

    // GetConnection
    const { connection: c } = await read(connections, 'GetConnection', { connection_id: 'decent_dropsy' });
    console.log(`get_connection ${describe(c)} sync_frequency=${c.sync_frequency} ` +
      `succeeded_at=${ts(c.succeeded_at)} setup_tests=${c.setup_tests.length}`);

    // ListGroups, two per page
    const g = await listAll(groups, 'ListGroups', { page_size: 2 }, 'groups');
    console.log(`list_groups pages=${g.pages} count=${g.items.length} ids=${g.items.map((x) => x.id).join(',')}`);

    // ListGroupConnections: 260 connections, 100 per page
    const gc = await listAll(groups, 'ListGroupConnections',
      { group_id: 'amber_fjord', page_size: 100 }, 'connections');
    const ids = gc.items.map((x) => x.id);
    console.log(`list_group_connections group_id=amber_fjord pages=${gc.pages} count=${ids.length} ` +
      `distinct=${new Set(ids).size} first=${ids[0]} last=${ids[ids.length - 1]}`);

    // ListUsers, 50 per page
    const u = await listAll(users, 'ListUsers', { page_size: 50 }, 'users');
    const active = u.items.filter((x) => x.active === true).length;
    console.log(`list_users pages=${u.pages} count=${u.items.length} active=${active}`);

    // CreateConnection: any service; config is a google.protobuf.Struct
    const created = await call(connections, 'CreateConnection', {
      group_id: 'projected_sickle',
      service: 'postgres',
      config: structOf({
        schema: `node_pg_${runId}`, host: 'db.example.com', port: 5432,
        user: 'reader', password: 'example-password', database: 'orders',
      }),
      options: { run_setup_tests: true },
    });
    const tests = created.connection.setup_tests.map((t) => t.status.replace('SETUP_TEST_STATUS_', ''));
    console.log(`create_connection ${describe(created.connection)} ready=${created.ready} setup_tests=${tests.join(',')}`);

    // CreateFtpConnection: typed config
    const ftp = await call(connections, 'CreateFtpConnection', {
      group_id: 'projected_sickle',
      config: {
        schema: `node_ftp_${runId}`, table: 'orders', host: 'ftp.example.com', port: 21,
        user: 'loader', password: 'example-password', is_secure: true, file_type: 'FTP_FILE_TYPE_CSV',
      },
    });
    const host = ftp.connection.config.fields.host.stringValue;
    console.log(`create_ftp_connection ${describe(ftp.connection)} ready=${ftp.ready} host=${host}`);

    // SyncConnection
    const synced = await call(connections, 'SyncConnection', { connection_id: ftp.connection.id, force: false });
    console.log(`sync_connection id=${ftp.connection.id} triggered_at=${ts(synced.triggered_at)} message=${synced.message}`);

    // WatchConnectionSync: a stream of updates until that sync ends
    const watch = await new Promise((resolve, reject) => {
      const updates = [];
      const stream = connections.WatchConnectionSync({
        connection_id: ftp.connection.id,
        baseline: synced.baseline, // null: the connection never synced before
        poll_interval: { seconds: 1 },
      }, { deadline: Date.now() + 60000 });
      stream.on('data', (update) => updates.push(update));
      stream.on('error', reject);
      stream.on('end', () => resolve(updates));
    });
    const last = watch[watch.length - 1];
    console.log(`watch_connection_sync id=${ftp.connection.id} updates=${watch.length} outcome=${last.outcome} ` +
      `sync_state=${last.observation.sync_state} succeeded_at=${ts(last.observation.succeeded_at)}`);

    // A rich error: NOT_FOUND with ErrorInfo
    try {
      await call(connections, 'GetConnection', { connection_id: 'no_such_connection' });
      console.log('error call=GetConnection unexpectedly succeeded');
      process.exitCode = 1;
    } catch (err) {
      printError('GetConnection', err);
    }
  } finally {
    for (const client of [health, connections, groups, users]) client.close();
  }
}

// A plain JS object as a google.protobuf.Struct message. The well-known types
// come bundled with protobufjs, with camelCase field names even with keepCase.
function structOf(obj) {
  const value = (v) => {
    if (v === null) return { nullValue: 'NULL_VALUE' };
    if (typeof v === 'number') return { numberValue: v };
    if (typeof v === 'string') return { stringValue: v };
    if (typeof v === 'boolean') return { boolValue: v };
    if (Array.isArray(v)) return { listValue: { values: v.map(value) } };
    return { structValue: structOf(v) };
  };
  return { fields: Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, value(v)])) };
}

main().catch((err) => {
  if (err.code !== undefined && err.metadata) printError('call', err);
  else console.error(err);
  process.exitCode = 1;
});
