// fivetran-gateway-client: the gRPC API of fivetran-gateway (fivetran.gateway.v1)
// for @grpc/grpc-js, loaded from the bundled .proto files, with TLS and token
// settings from the environment (credentials.js). Built by
// tools/package_clients.sh; see README.md.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const credentials = require('./credentials');

const protoDir = path.join(__dirname, 'proto');
const protoFiles = [
  'fivetran/gateway/v1/connection_service.proto',
  'fivetran/gateway/v1/group_service.proto',
  'fivetran/gateway/v1/user_service.proto',
  'grpc/health/v1/health.proto',
];
// The options the TypeScript declarations were generated for: snake_case
// fields, 64-bit integers and enums as strings, defaults filled in.
const loaderOptions = {
  keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
  includeDirs: [protoDir],
};

let loaded = null;

// The gRPC package object: load().fivetran.gateway.v1.GroupService, ...
function load() {
  if (loaded === null) {
    loaded = grpc.loadPackageDefinition(protoLoader.loadSync(protoFiles, loaderOptions));
  }
  return loaded;
}

module.exports = {
  version: require('./package.json').version,
  protoDir,
  protoFiles,
  loaderOptions,
  load,
  credentialsFromEnv: (env = process.env) => credentials.credentialsFromEnv(grpc, env),
  tokenFromEnv: credentials.tokenFromEnv,
};
