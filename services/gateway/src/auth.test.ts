import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '@callgate/common';
import jwt from 'jsonwebtoken';
import { AuthError, AuthUnavailableError, authenticate, jwksKeys, mintToken, tokenSettingsFrom } from './auth.js';

const SECRET = 'a-test-secret-of-at-least-thirty-two-chars';
const base = { JWT_ISSUER: 'iss', JWT_AUDIENCE: 'aud', JWT_CLOCK_TOLERANCE_SECONDS: 30, JWT_JWKS_COOLDOWN_MS: 30_000 };

function problems(config: Parameters<typeof tokenSettingsFrom>[0]): string[] {
  try {
    tokenSettingsFrom(config);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems.map((p) => `${p.variable}: ${p.message}`);
  }
  return [];
}

describe('token configuration', () => {
  it('needs exactly one of JWT_SECRET and JWT_JWKS_URL, naming both', () => {
    const [neither] = problems(base);
    assert.match(neither ?? '', /^JWT_SECRET: is required but not set.*JWT_JWKS_URL/);
    const [both] = problems({ ...base, JWT_SECRET: SECRET, JWT_JWKS_URL: 'https://idp.example/jwks' });
    assert.match(both ?? '', /^JWT_JWKS_URL: cannot be set together with JWT_SECRET/);
  });

  it('defaults the algorithms to the kind of key: HS256 for a secret, RS256 and ES256 for a JWKS', () => {
    assert.deepEqual(tokenSettingsFrom({ ...base, JWT_SECRET: SECRET }).algorithms, ['HS256']);
    assert.deepEqual(tokenSettingsFrom({ ...base, JWT_JWKS_URL: 'https://idp.example/jwks' }).algorithms, [
      'RS256',
      'ES256',
    ]);
  });

  it('refuses algorithms that do not fit the key (HS with a JWKS is the HS/RS confusion)', () => {
    assert.match(
      problems({ ...base, JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ALGORITHMS: ['RS256', 'HS256'] })[0] ?? '',
      /^JWT_ALGORITHMS: .*not HS256/,
    );
    assert.match(
      problems({ ...base, JWT_SECRET: SECRET, JWT_ALGORITHMS: ['RS256'] })[0] ?? '',
      /^JWT_ALGORITHMS: .*not RS256/,
    );
  });

  it('wants the JWKS over https, except on loopback', () => {
    assert.match(
      problems({ ...base, JWT_JWKS_URL: 'http://idp.example/jwks' })[0] ?? '',
      /^JWT_JWKS_URL: must be an https/,
    );
    assert.deepEqual(problems({ ...base, JWT_JWKS_URL: 'http://127.0.0.1:9/jwks' }), []);
  });
});

describe('authenticate with a secret', () => {
  const settings = tokenSettingsFrom({ ...base, JWT_SECRET: SECRET });
  const tokens = { secret: SECRET, issuer: 'iss', audience: 'aud' };

  it('accepts a minted token and returns the user and scopes', async () => {
    const auth = await authenticate(
      `Bearer ${mintToken(tokens, { sub: 'alice', scope: 'calls:read' })}`,
      settings,
      'm',
    );
    assert.equal(auth.extra?.userId, 'alice');
    assert.deepEqual(auth.scopes, ['calls:read']);
  });

  it('refuses HS384 when only HS256 is allowed, before checking the signature', async () => {
    const token = jwt.sign({ sub: 'a' }, SECRET, { algorithm: 'HS384', issuer: 'iss', audience: 'aud', expiresIn: 60 });
    await assert.rejects(
      authenticate(`Bearer ${token}`, settings, 'm'),
      (e: unknown) => e instanceof AuthError && e.message === 'the token algorithm is not allowed',
    );
  });

  it('refuses garbage as malformed', async () => {
    for (const garbage of ['x', 'a.b.c', `${Buffer.from('[]').toString('base64url')}.e30.`, '..']) {
      await assert.rejects(
        authenticate(`Bearer ${garbage}`, settings, 'm'),
        (e: unknown) => e instanceof AuthError && /malformed|not allowed/.test(e.message),
        garbage,
      );
    }
  });
});

describe('keys from a JWKS', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };
  let server: Server;
  let url: string;
  let fetches = 0;
  let status = 200;
  before(async () => {
    server = createServer((_req, res) => {
      fetches++;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches a key once and serves it from the cache', async () => {
    fetches = 0;
    const keyFor = jwksKeys(url);
    const first = await keyFor({ alg: 'ES256', kid: 'k1' });
    const second = await keyFor({ alg: 'ES256', kid: 'k1' });
    assert.equal(first, second);
    assert.equal(first.asymmetricKeyType, 'ec');
    assert.equal(fetches, 1);
  });

  it('an unknown kid is refused as unknown (401), with at most one refetch per cooldown', async () => {
    fetches = 0;
    const keyFor = jwksKeys(url);
    for (let i = 0; i < 20; i++) {
      await assert.rejects(keyFor({ alg: 'ES256', kid: `nope-${i}` }), /signing key is unknown/);
    }
    assert.equal(fetches, 1, 'junk kids within the cooldown are refused from the cached set');
  });

  it('junk kids from a stranger never make a published key unavailable (attack finding: jwks-rsa lockout)', async () => {
    const keyFor = jwksKeys(url);
    for (let i = 0; i < 30; i++) await keyFor({ alg: 'ES256', kid: `junk-${i}` }).catch(() => undefined);
    const key = await keyFor({ alg: 'ES256', kid: 'k1' });
    assert.equal(key.asymmetricKeyType, 'ec');
  });

  it('a key that declares its alg verifies only that alg', async () => {
    await assert.rejects(jwksKeys(url)({ alg: 'RS256', kid: 'k1' }), /does not match its key/);
  });

  it('a JWKS answering 500 makes authentication unavailable, not the token invalid', async () => {
    status = 500;
    try {
      const settings = { ...tokenSettingsFrom({ ...base, JWT_JWKS_URL: url }) };
      const token = jwt.sign({ sub: 'a' }, privateKey, {
        algorithm: 'ES256',
        keyid: 'k1',
        issuer: 'iss',
        audience: 'aud',
        expiresIn: 60,
      });
      await assert.rejects(authenticate(`Bearer ${token}`, settings, 'm'), AuthUnavailableError);
    } finally {
      status = 200;
    }
  });
});
