// Type-checked (tsc --noEmit --strict) against the installed npm package by
// package_test.sh node: the declarations type requests, replies and clients.
import { load, credentialsFromEnv, version } from 'fivetran-gateway-client';
import type { Group__Output } from 'fivetran-gateway-client/types/fivetran/gateway/v1/Group';

export const packageVersion: string = version;

export function listGroupIds(address: string, done: (ids: string[]) => void): void {
  const v1 = load().fivetran.gateway.v1;
  const { credentials, options } = credentialsFromEnv();
  const groups = new v1.GroupService(address, credentials, options);
  groups.ListGroups({ page_size: 2 }, (err, reply) => {
    const items: Group__Output[] = err || !reply ? [] : reply.groups;
    done(items.map((g) => g.id));
  });
}
