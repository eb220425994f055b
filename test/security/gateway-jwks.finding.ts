/**
 * FINDING of the attack session: anyone can starve the gateway's JWKS refetch budget with tokens
 * naming unknown kids (no credentials needed: the kid is read before any signature check), and then
 * every genuine token whose key is not in the cache gets 503: on a freshly started replica, and on
 * every replica each time a key's cache entry ages out (10 min). One stranger locks out every user.
 * This test FAILS on main; it is not a *.test.ts so the suite stays green. Run it:
 *
 *   node --conditions=callgate-source --import tsx --test test/security/gateway-jwks.finding.ts
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { it } from 'node:test';
import { jwksKeys } from '../../services/gateway/src/auth.js';

it('unknown kids from a stranger do not make a published key unavailable', async () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'genuine', alg: 'ES256', use: 'sig' };
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    // The gateway's settings (authorization-server.ts): the default budget, 10 refetches a minute.
    const keyFor = jwksKeys(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`);
    for (let i = 0; i < 12; i++) await keyFor({ alg: 'ES256', kid: `junk-${i}` }).catch(() => undefined);
    const key = await keyFor({ alg: 'ES256', kid: 'genuine' });
    assert.equal(key.asymmetricKeyType, 'ec');
  } finally {
    server.close();
  }
});
