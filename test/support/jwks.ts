/**
 * An identity provider in miniature for tests: signing keys made with node:crypto (RSA 2048 and EC
 * P-256), a JWKS served on 127.0.0.1 whose key set a test can swap (rotation) or break (outage), and
 * tokens signed with those keys.
 */
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeHttp } from '@callgate/common';
import jwt from 'jsonwebtoken';

export interface TestKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A new key pair: RS256 (RSA 2048) or ES256 (EC P-256). */
export function newKey(alg: 'RS256' | 'ES256', kid = `${alg.toLowerCase()}-${randomUUID()}`): TestKey {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, ...pair };
}

/** The public half as a JWK, the way identity providers publish it. */
export function publicJwk(key: TestKey): Record<string, unknown> {
  return { ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, alg: key.alg, use: 'sig' };
}

export interface JwksServer {
  /** The JWKS URL (http://127.0.0.1:port/.well-known/jwks.json). */
  url: string;
  /** Publishes exactly these keys from now on. */
  serve(keys: TestKey[]): void;
  /** Answers every fetch with this HTTP status (an outage) until called with undefined. */
  fail(status: number | undefined): void;
  /** How many times the JWKS was fetched. */
  fetches(): number;
  stop(): Promise<void>;
}

export async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  let published = keys;
  let failing: number | undefined;
  let fetches = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    fetches++;
    if (failing) {
      res.writeHead(failing, { 'content-type': 'text/plain' }).end('unavailable');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published.map(publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    serve: (next) => {
      published = next;
    },
    fail: (status) => {
      failing = status;
    },
    fetches: () => fetches,
    stop: () => closeHttp(server, 1000),
  };
}

export interface Audience {
  issuer: string;
  audience: string;
}

/**
 * A token signed with key (its kid in the header). Valid for 10 minutes unless the claims say
 * otherwise; `exp: null` leaves exp out.
 */
export function signWith(
  key: TestKey,
  expected: Audience,
  claims: Record<string, unknown> & { exp?: number | null },
  options: { kid?: string } = {},
): string {
  const { exp, ...rest } = claims;
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: expected.issuer,
    aud: expected.audience,
    ...rest,
    ...(exp === null ? {} : { exp: exp ?? now + 600 }),
  };
  return jwt.sign(payload, key.privateKey, { algorithm: key.alg, keyid: options.kid ?? key.kid, noTimestamp: false });
}

/** base64url of a JSON value, for hand-built tokens. */
export const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
