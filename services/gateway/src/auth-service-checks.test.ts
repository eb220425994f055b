/**
 * What the gateway asks the auth service, and how often: a junk or forged personal access token is
 * refused by its shape and keyed checksum without a gRPC call (no amplification), and a revoked grant is refused once
 * the cached answer is AUTH_CHECK_CACHE_MS old (0: at once). A stand-in AuthService counts the calls;
 * the clock is moved by hand.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type Clock,
  createMetrics,
  loadProto,
  ManualClock,
  PERSONAL_TOKEN_PREFIX,
  PersonalTokenFormat,
  systemClock,
} from '@callgate/common';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { AuthError, authenticate } from './auth.js';
import { authorizationServerTrust } from './authorization-server.js';

const MCP_URL = 'http://127.0.0.1:1/mcp';
const CACHE_MS = 15_000;
const KEYS = randomBytes(32).toString('hex');
const format = new PersonalTokenFormat([KEYS]);
/** A token with a valid checksum under the gateway's key (what the auth service would issue). */
const newToken = () => format.text(randomBytes(12).toString('base64url'), randomBytes(32).toString('base64url'));

describe('the gateway and the auth service', () => {
  let server: Server;
  let address: string;
  const calls = { checkAccess: 0, verifyPersonalToken: 0 };
  let grantActive = true;
  let liveToken = '';
  /** When the live token expires (ms); a day from now unless a test sets it. */
  let liveExpiresAt: number | undefined;
  before(async () => {
    server = new Server();
    server.addService(loadProto('auth').callgate.auth.v1.AuthService.service, {
      CheckAccess: (_call: unknown, callback: (error: null, answer: object) => void) => {
        calls.checkAccess++;
        callback(null, grantActive ? { active: true, reason: '' } : { active: false, reason: 'access was revoked' });
      },
      VerifyPersonalToken: (
        call: { request: { token: string } },
        callback: (error: { code: number; details: string } | null, answer?: object) => void,
      ) => {
        calls.verifyPersonalToken++;
        if (call.request.token !== liveToken) return callback({ code: status.UNAUTHENTICATED, details: 'unknown' });
        callback(null, {
          userId: 'user-1',
          scopes: ['calls:read'],
          expiresAt: new Date(liveExpiresAt ?? Date.now() + 86_400_000).toISOString(),
          tokenId: 't',
        });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    address = `127.0.0.1:${port}`;
  });
  after(() => server?.forceShutdown());

  function trust(cacheMs: number, clock: Clock, personalAnswers?: number) {
    const trusted = authorizationServerTrust(
      {
        AUTH_ISSUER: 'http://127.0.0.1:2',
        AUTH_SERVICE_ADDR: address,
        AUTH_CHECK_CACHE_MS: cacheMs,
        PERSONAL_TOKEN_CHECKSUM_KEYS: [KEYS],
        JWT_CLOCK_TOLERANCE_SECONDS: 30,
        JWT_JWKS_COOLDOWN_MS: 30_000,
        GRPC_DEADLINE_MS: 5000,
      },
      () => MCP_URL,
      createMetrics('gateway-test'),
      clock,
      personalAnswers,
    );
    assert.ok(trusted);
    return trusted.settings;
  }

  it('junk personal access tokens are refused by shape and checksum without a call to the auth service', async () => {
    const settings = trust(CACHE_MS, systemClock);
    const good = newToken();
    const flipped = `${good.slice(0, 20)}${good[20] === 'A' ? 'B' : 'A'}${good.slice(21)}`;
    const junk = [
      `${PERSONAL_TOKEN_PREFIX}junk`,
      `${PERSONAL_TOKEN_PREFIX}${'a'.repeat(200)}`,
      flipped, // one character changed: the checksum no longer holds
      `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`, // the checksum itself changed
      `${good}x`,
    ];
    for (let i = 0; i < 100; i++) junk.push(`${PERSONAL_TOKEN_PREFIX}${randomBytes(50).toString('base64url')}`);
    const before = calls.verifyPersonalToken;
    for (const token of junk) {
      await assert.rejects(
        authenticate(`Bearer ${token}`, settings, `${MCP_URL}/meta`),
        (error: Error) => error instanceof AuthError && /personal access token is malformed/.test(error.message),
        token,
      );
    }
    assert.equal(calls.verifyPersonalToken - before, 0, 'gRPC calls for junk tokens');

    // Tokens of the shapes made before the keyed checksum (none, CRC-32) and tokens signed with another
    // key are refused here too, the old ones with a message that says what to do.
    const body = `${PERSONAL_TOKEN_PREFIX}${randomBytes(12).toString('base64url')}_${randomBytes(32).toString('base64url')}`;
    for (const outdated of [body, `${body}_AAAAAA`]) {
      await assert.rejects(
        authenticate(`Bearer ${outdated}`, settings, `${MCP_URL}/meta`),
        /old format no longer accepted; create a new one/,
      );
    }
    const otherKey = new PersonalTokenFormat([randomBytes(32).toString('hex')]);
    await assert.rejects(
      authenticate(
        `Bearer ${otherKey.text(randomBytes(12).toString('base64url'), randomBytes(32).toString('base64url'))}`,
        settings,
        `${MCP_URL}/meta`,
      ),
      /personal access token is malformed/,
    );
    assert.equal(calls.verifyPersonalToken - before, 0, 'gRPC calls for outdated or foreign-key tokens');

    // A token with a valid checksum is asked about once.
    liveToken = good;
    const auth = await authenticate(`Bearer ${good}`, settings, `${MCP_URL}/meta`);
    assert.equal(auth.extra?.userId, 'user-1');
    const unknown = newToken();
    await assert.rejects(authenticate(`Bearer ${unknown}`, settings, `${MCP_URL}/meta`), /unknown, expired or revoked/);
    // Its negative answer is cached: asking again costs nothing.
    await assert.rejects(authenticate(`Bearer ${unknown}`, settings, `${MCP_URL}/meta`), /unknown, expired or revoked/);
    assert.equal(calls.verifyPersonalToken - before, 2);
  });

  it('a personal access token is refused once it expires, even while the answer about it is cached', async () => {
    // The cached answer said "live" for AUTH_CHECK_CACHE_MS whatever the token's own expiry: an expired
    // token was let in for up to 15 s more (attack finding 6).
    const clock = new ManualClock(1_000_000);
    const settings = trust(CACHE_MS, clock);
    liveToken = newToken();
    liveExpiresAt = 1_005_000;
    try {
      const auth = await authenticate(`Bearer ${liveToken}`, settings, `${MCP_URL}/meta`);
      assert.equal(auth.expiresAt, 1005);
      clock.set(1_004_999);
      await authenticate(`Bearer ${liveToken}`, settings, `${MCP_URL}/meta`);
      clock.set(1_005_000);
      await assert.rejects(
        authenticate(`Bearer ${liveToken}`, settings, `${MCP_URL}/meta`),
        /unknown, expired or revoked/,
      );
    } finally {
      liveExpiresAt = undefined;
    }
  });

  it('unknown tokens with a valid checksum (revoked ones, say) push out only other refusals, never the cached answer of a live token', async () => {
    const settings = trust(CACHE_MS, systemClock, 10);
    const real = newToken();
    liveToken = real;
    assert.equal((await authenticate(`Bearer ${real}`, settings, `${MCP_URL}/meta`)).extra?.userId, 'user-1');
    // Tokens under the gateway's key that the auth service does not know (revoked, deleted): each one asked about.
    for (let i = 0; i < 50; i++) {
      const forged = newToken();
      await assert.rejects(
        authenticate(`Bearer ${forged}`, settings, `${MCP_URL}/meta`),
        /unknown, expired or revoked/,
      );
    }
    const asked = calls.verifyPersonalToken;
    assert.equal((await authenticate(`Bearer ${real}`, settings, `${MCP_URL}/meta`)).extra?.userId, 'user-1');
    assert.equal(calls.verifyPersonalToken - asked, 0, "the real token's answer was still cached");
  });

  it('a revoked grant is refused once the cached answer is AUTH_CHECK_CACHE_MS old, and at once with 0', async () => {
    const clock = new ManualClock(1_000_000);
    const claims = { sub: 'user-1', gid: `grant-${randomBytes(6).toString('hex')}`, jti: 'j', iat: 1 };
    grantActive = true;
    const cached = trust(CACHE_MS, clock);
    assert.equal(await cached.stillValid?.(claims), undefined);
    grantActive = false; // the grant is revoked at the auth service
    clock.advance(CACHE_MS - 1);
    assert.equal(await cached.stillValid?.(claims), undefined, 'the answer is reused within the bound');
    clock.advance(1);
    assert.equal(await cached.stillValid?.(claims), 'access was revoked', 'refused once the answer is that old');

    // AUTH_CHECK_CACHE_MS=0: every request asks (lru-cache's ttl 0 would have kept answers forever).
    grantActive = true;
    const uncached = trust(0, clock);
    const before = calls.checkAccess;
    assert.equal(await uncached.stillValid?.(claims), undefined);
    grantActive = false;
    assert.equal(await uncached.stillValid?.(claims), 'access was revoked');
    assert.equal(calls.checkAccess - before, 2);
  });
});
