// A real call through the installed npm package (package_test.sh node): run
// from the folder the package was installed into. Prints where the package
// came from, every group id (paged) and the code of a NOT_FOUND:
//
//   version=1.0.0
//   module=/.../node_modules/fivetran-gateway-client/index.js
//   groups=a,b,c
//   not_found code=5
'use strict';

const client = require('fivetran-gateway-client');

function call(stub, method, request) {
  return new Promise((resolve, reject) => {
    stub[method](request, { deadline: Date.now() + 10000 }, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

async function main() {
  console.log(`version=${client.version}`);
  console.log(`module=${require.resolve('fivetran-gateway-client')}`);
  const v1 = client.load().fivetran.gateway.v1;
  const { credentials, options } = client.credentialsFromEnv();
  const groups = new v1.GroupService(process.argv[2], credentials, options);
  const ids = [];
  const request = { page_size: 2, page_token: '' };
  for (;;) {
    const page = await call(groups, 'ListGroups', request);
    ids.push(...page.groups.map((g) => g.id));
    if (!page.next_page_token) break;
    request.page_token = page.next_page_token;
  }
  console.log(`groups=${ids.join(',')}`);
  const connections = new v1.ConnectionService(process.argv[2], credentials, options);
  try {
    await call(connections, 'GetConnection', { connection_id: 'no_such_connection' });
  } catch (err) {
    console.log(`not_found code=${err.code}`);
  }
  groups.close();
  connections.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
