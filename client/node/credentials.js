// Credentials of a connection to fivetran-gateway, from the environment (the
// same variables as the Python and Go examples):
//
//   FIVETRAN_GATEWAY_CA_FILE      TLS, trusting the CAs in this PEM file
//   FIVETRAN_GATEWAY_TLS=1        TLS, trusting the system's CAs
//   FIVETRAN_GATEWAY_CERT, FIVETRAN_GATEWAY_KEY
//                                 client certificate and key (PEM) for mutual TLS
//   FIVETRAN_GATEWAY_SERVER_NAME  name to expect in the gateway's certificate
//   FIVETRAN_GATEWAY_TOKEN        bearer token, else
//   FIVETRAN_GATEWAY_TOKEN_FILE   a file holding it
//
//   const { credentials, options } = credentialsFromEnv(grpc);
//   const client = new v1.GroupService(address, credentials, options);
//
// Without TLS settings the connection is plaintext (meant for loopback); a
// token is then added to each call by an interceptor, since grpc-js composes
// call credentials with TLS credentials only.
'use strict';

const fs = require('fs');

const TRUE = ['1', 'true', 'yes', 'on'];

function readVar(env, name) {
  try {
    return fs.readFileSync(env[name]);
  } catch (err) {
    throw new Error(`$${name}: cannot read ${env[name]}: ${err.code || err.message}`);
  }
}

function tokenFromEnv(env = process.env) {
  let token = env.FIVETRAN_GATEWAY_TOKEN || '';
  if (!token && env.FIVETRAN_GATEWAY_TOKEN_FILE) {
    token = readVar(env, 'FIVETRAN_GATEWAY_TOKEN_FILE').toString('ascii');
  }
  token = token.trim();
  if (/[^\x21-\x7e]/.test(token)) {
    throw new Error('the gateway token must be one word of printable ASCII');
  }
  return token;
}

// {credentials, options} for a client constructor: `grpc` is @grpc/grpc-js.
function credentialsFromEnv(grpc, env = process.env) {
  const { FIVETRAN_GATEWAY_CA_FILE: ca, FIVETRAN_GATEWAY_CERT: cert, FIVETRAN_GATEWAY_KEY: key } = env;
  if (!cert !== !key) throw new Error('FIVETRAN_GATEWAY_CERT and FIVETRAN_GATEWAY_KEY go together');
  const tls = Boolean(ca || cert) || TRUE.includes((env.FIVETRAN_GATEWAY_TLS || '').toLowerCase());
  const serverName = env.FIVETRAN_GATEWAY_SERVER_NAME;
  if (serverName && !tls) throw new Error('FIVETRAN_GATEWAY_SERVER_NAME needs TLS');
  const token = tokenFromEnv(env);
  const options = {};
  if (!tls) {
    if (token) {
      options.interceptors = [(callOptions, nextCall) => new grpc.InterceptingCall(nextCall(callOptions), {
        start(metadata, listener, next) {
          metadata.set('authorization', `Bearer ${token}`);
          next(metadata, listener);
        },
      })];
    }
    return { credentials: grpc.credentials.createInsecure(), options };
  }
  let credentials = grpc.credentials.createSsl(
    ca ? readVar(env, 'FIVETRAN_GATEWAY_CA_FILE') : null,
    key ? readVar(env, 'FIVETRAN_GATEWAY_KEY') : null,
    cert ? readVar(env, 'FIVETRAN_GATEWAY_CERT') : null);
  if (serverName) options['grpc.ssl_target_name_override'] = serverName;
  if (token) {
    credentials = grpc.credentials.combineChannelCredentials(credentials,
      grpc.credentials.createFromMetadataGenerator((_params, callback) => {
        const metadata = new grpc.Metadata();
        metadata.set('authorization', `Bearer ${token}`);
        callback(null, metadata);
      }));
  }
  return { credentials, options };
}

module.exports = { credentialsFromEnv, tokenFromEnv };
