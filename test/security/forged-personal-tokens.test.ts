/**
 * Attack finding 5, fixed: a personal access token carried a CRC-32, which anyone can compute, so every
 * well-shaped forgery cost one VerifyPersonalToken call (a hash and a database statement) at the auth
 * service. The checksum is now keyed (PERSONAL_TOKEN_CHECKSUM_KEYS, shared by auth and gateway only), and
 * against the whole local system no forged token reaches the auth service: its own gRPC metrics count
 * the calls, and a real token moves that count by one, so the counter is shown to count.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { PERSONAL_TOKEN_PREFIX, PersonalTokenFormat } from '@callgate/common';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { csrfOf, ScriptedBrowser } from '../support/oauth-flow.js';

const EMAIL = `forgery-owner-${randomBytes(6).toString('hex')}@example.com`;
const PASSWORD = 'a long enough password';

/** Status and WWW-Authenticate of an MCP initialize with this bearer token. */
async function present(system: LocalSystem, token: string): Promise<{ status: number; challenge: string }> {
  const response = await fetch(system.mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'forger', version: '1' } },
    }),
  });
  await response.body?.cancel();
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '' };
}

/** VerifyPersonalToken calls the auth service has answered, from its own /metrics. */
async function verifyCalls(system: LocalSystem): Promise<number> {
  const auth = system.services.find((s) => s.name === 'auth');
  assert.ok(auth?.opsPort);
  const text = await (await fetch(`http://127.0.0.1:${auth.opsPort}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('grpc_server_handled_total{') && line.includes('grpc_method="VerifyPersonalToken"')) {
      total += Number(line.split(' ').pop());
    }
  }
  return total;
}

const id = () => randomBytes(12).toString('base64url');
const secret = () => randomBytes(32).toString('base64url');

/** A token of the CRC-32 format, checksum computed as the old code did. */
function crcToken(): string {
  const body = `${PERSONAL_TOKEN_PREFIX}${id()}_${secret()}`;
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(body) >>> 0);
  return `${body}_${sum.toString('base64url')}`;
}

describe('forged personal access tokens never reach the auth service', () => {
  let system: LocalSystem;
  let real = '';
  before(async () => {
    system = await startLocalSystem({
      ports: 'ephemeral',
      env: {
        ...process.env,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
        // Every presentation of a real token asks the auth service: the counter moves for it each time.
        AUTH_CHECK_CACHE_MS: '0',
        AUTH_SEED_ACCOUNT: `${EMAIL}:${PASSWORD}`,
      },
    });
    const browser = new ScriptedBrowser(system.authUrl);
    const form = await browser.request('/personal-tokens');
    const created = await browser.request('/personal-tokens', {
      form: { csrf: csrfOf(form.body), email: EMAIL, password: PASSWORD, name: 'real', 'scope:calls:read': 'on' },
    });
    assert.equal(created.status, 201, created.body.slice(0, 300));
    real = /cgp_[A-Za-z0-9_-]+/.exec(created.body)?.[0] ?? '';
    assert.equal(real.length, 87);
  });
  after(() => system?.stop());

  it('the counter counts: a real token is one VerifyPersonalToken call', async () => {
    const before = await verifyCalls(system);
    assert.equal((await present(system, real)).status, 200);
    assert.equal((await verifyCalls(system)) - before, 1);
  });

  it('forgeries of every kind are refused at the gateway with zero auth calls', async () => {
    const stranger = new PersonalTokenFormat([randomBytes(32).toString('hex')]);
    const flip = (token: string, at: number) =>
      `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    const forged: [string, RegExp][] = [];
    for (let i = 0; i < 40; i++) {
      // Signed with a key the attacker chose (the way one would forge knowing the format).
      forged.push([stranger.text(id(), secret()), /malformed/]);
      // The shape of a real token, the checksum made up.
      forged.push([
        `${PERSONAL_TOKEN_PREFIX}${id()}_${secret()}_${randomBytes(16).toString('base64url')}`,
        /malformed/,
      ]);
    }
    for (let i = 0; i < 10; i++) {
      // The CRC-32 format, computed as the finding did, and the format before any checksum.
      forged.push([crcToken(), /old format no longer accepted; create a new one/]);
      forged.push([`${PERSONAL_TOKEN_PREFIX}${id()}_${secret()}`, /old format no longer accepted/]);
    }
    // The real token with one character of its id, secret or checksum changed.
    for (const at of [5, 30, 70, 86]) forged.push([flip(real, at), /malformed/]);

    const before = await verifyCalls(system);
    // Half one after another, half at once.
    const half = Math.floor(forged.length / 2);
    const answers = [];
    for (const [token] of forged.slice(0, half)) answers.push(await present(system, token));
    answers.push(...(await Promise.all(forged.slice(half).map(([token]) => present(system, token)))));
    answers.forEach((answer, i) => {
      const [token, reason] = forged[i] as [string, RegExp];
      assert.equal(answer.status, 401, token);
      assert.match(answer.challenge, /error="invalid_token"/, token);
      assert.match(answer.challenge, reason, token);
    });
    assert.equal((await verifyCalls(system)) - before, 0, `forged tokens reached the auth service`);

    // And the real token still works after the flood.
    assert.equal((await present(system, real)).status, 200);
  });
});
