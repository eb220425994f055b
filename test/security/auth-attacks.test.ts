/**
 * The attack session's findings on the auth service, each now a test that failed before its fix:
 * Dynamic Client Registration limited per client address; no connection (let alone a TLS
 * ClientHello) to a loopback address named by a client metadata URL or a registered jwks_uri;
 * "someone tried to sign up with your address" mails limited per account; /reset-password answers
 * and works the same for a known and an unknown address (no account discovery).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Database, Queryable } from '@callgate/common';
import { Accounts } from '../../services/auth/src/accounts.js';
import { AttemptLimits } from '../../services/auth/src/attempt-limits.js';
import { generateSigningKey } from '../../services/auth/src/keys.js';
import { startTestAuthService, type TestAuthService } from '../support/auth-service.js';
import { eventually } from '../support/eventually.js';
import { authorizeUrl, csrfOf, pkcePair, ScriptedBrowser } from '../support/oauth-flow.js';

const RESOURCE = 'http://127.0.0.1:1/mcp';
const PASSWORD = 'a long enough password';
const PER_ACCOUNT_PER_HOUR = 3;
const REGISTRATIONS_PER_HOUR = 3;

/** POST /reg with a JSON body, from a given loopback address (127.0.0.x stands for a client address). */
function register(origin: string, metadata: Record<string, unknown>, localAddress = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${origin}/reg`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, localAddress },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ token_endpoint_auth_method: 'none', ...metadata }));
  });
}

/** A TCP listener on 127.0.0.1 that counts (and drops) connections. */
async function countingListener(): Promise<{ port: number; connections: Socket[]; close: () => void }> {
  const connections: Socket[] = [];
  const listener = createServer((socket) => {
    connections.push(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return { port: (listener.address() as { port: number }).port, connections, close: () => listener.close() };
}

describe('auth service under attack (local mode)', () => {
  let service: TestAuthService;
  let origin: string;
  const email = `seed-${randomUUID()}@example.com`;
  before(async () => {
    service = await startTestAuthService({
      AUTH_RESOURCE_URL: RESOURCE,
      AUTH_SIGN_INS_PER_ACCOUNT_PER_HOUR: String(PER_ACCOUNT_PER_HOUR),
      AUTH_REGISTRATIONS_PER_IP_PER_HOUR: String(REGISTRATIONS_PER_HOUR),
      AUTH_SEED_ACCOUNT: `${email}:${PASSWORD}`,
    });
    origin = service.origin;
  });
  after(() => service?.stop());

  it('dynamic client registration is limited per client address (each client is a stored row of up to ~56 KB)', async () => {
    // A name of its own: other test files may register clients in the same database meanwhile.
    const name = `${randomUUID()}${'x'.repeat(50_000)}`;
    const metadata = { client_name: name, redirect_uris: ['http://127.0.0.1:1/cb'] };
    const statuses: number[] = [];
    for (let i = 0; i < REGISTRATIONS_PER_HOUR + 2; i++) statuses.push(await register(origin, metadata, '127.0.0.5'));
    assert.deepEqual(statuses, [...Array<number>(REGISTRATIONS_PER_HOUR).fill(201), 429, 429]);
    // Another address is not affected by the first one's registrations.
    assert.equal(await register(origin, metadata, '127.0.0.6'), 201);
    const { rows } = await service.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM auth.oidc_payloads WHERE kind = 'Client' AND payload->>'client_name' = $1",
      [name],
    );
    assert.equal(Number(rows[0]?.n), REGISTRATIONS_PER_HOUR + 1, 'a refused registration stored nothing');
  });

  it('signing up again with a taken address mails its owner at most the per-account limit per hour', async () => {
    const browser = new ScriptedBrowser(origin, '127.0.0.7');
    const page = await browser.request('/signup');
    for (let i = 0; i < PER_ACCOUNT_PER_HOUR * 3; i++) {
      const answer = await browser.request('/signup', {
        form: { csrf: csrfOf(page.body), email, password: `attacker password ${i}` },
      });
      assert.equal(answer.status, 200);
    }
    // Everything written was sent (the outbox drained), so the count below is final.
    await eventually('the outbox drained', async () => {
      const { rows } = await service.db.query<{ n: string }>(
        'SELECT count(*) AS n FROM auth.mail_outbox WHERE sent_at IS NULL',
      );
      return Number(rows[0]?.n) === 0 || undefined;
    });
    const sent = (await service.mails()).filter((m) => m.to.includes(email) && /Someone tried/.test(m.subject));
    assert.equal(
      sent.length,
      PER_ACCOUNT_PER_HOUR,
      `${sent.length} "someone tried to sign up" mails to one address from ${PER_ACCOUNT_PER_HOUR * 3} sign-ups`,
    );
  });

  it('/reset-password answers a known and an unknown address identically (status, headers, body)', async () => {
    const unknown = `nobody-${randomUUID()}@example.com`;
    const ask = async (address: string, from: string) => {
      const browser = new ScriptedBrowser(origin, from);
      const page = await browser.request('/reset-password');
      return browser.request('/reset-password', { form: { csrf: csrfOf(page.body), email: address } });
    };
    const known = await ask(email, '127.0.0.8');
    const other = await ask(unknown, '127.0.0.9');
    assert.equal(known.status, 200);
    assert.equal(other.status, known.status);
    assert.equal(other.body.replace(unknown, '<address>'), known.body.replace(email, '<address>'));
    const comparable = (headers: Record<string, string>) => {
      const { date: _date, ...rest } = headers;
      return rest;
    };
    assert.deepEqual(comparable(other.headers), comparable(known.headers));
    await service.mailedLink(email, /Reset/);
  });

  it('/reset-password does the same database work for a known and an unknown address (statements, order)', async () => {
    const statements: string[] = [];
    const recorded = (q: Queryable): Queryable => ({
      query: (sql, params) => {
        statements.push(sql.replace(/\s+/g, ' ').trim());
        return q.query(sql, params);
      },
      exec: (sql) => q.exec(sql),
    });
    const db = service.db;
    const watched: Database = {
      ...recorded(db),
      kind: db.kind,
      transaction: (fn, options) => {
        statements.push('BEGIN');
        return db.transaction((tx) => fn(recorded(tx)), options).finally(() => statements.push('COMMIT'));
      },
      listen: (channel, onPayload) => db.listen(channel, onPayload),
      notify: (channel, payload) => db.notify(channel, payload),
      close: () => db.close(),
    };
    let woken = 0;
    const accounts = new Accounts({
      db: watched,
      limits: new AttemptLimits({ db: watched, perAddressPerHour: 100, perAccountPerHour: 100 }),
      issuer: () => origin,
      maxFailedSignIns: 10,
      lockoutSeconds: 900,
      mailWritten: () => woken++,
    });
    const workFor = async (address: string) => {
      statements.length = 0;
      woken = 0;
      assert.deepEqual(await accounts.requestReset(address, '192.0.2.1'), { limited: false });
      return { statements: [...statements], woken };
    };
    const known = await workFor(email);
    const unknown = await workFor(`nobody-${randomUUID()}@example.com`);
    assert.ok(
      known.statements.some((s) => /INSERT INTO auth\.mail_outbox/.test(s)),
      known.statements.join('\n'),
    );
    assert.deepEqual(unknown, known);
  });
});

describe('auth service under attack (production mode: no loopback allowance)', () => {
  let service: TestAuthService;
  let origin: string;
  let listener: Awaited<ReturnType<typeof countingListener>>;
  before(async () => {
    service = await startTestAuthService({
      AUTH_LOCAL_MODE: 'false',
      AUTH_SIGNING_KEYS: JSON.stringify({ keys: [generateSigningKey()] }),
      AUTH_COOKIE_SECRETS: randomBytes(32).toString('base64url'),
      AUTH_RESOURCE_URL: RESOURCE,
    });
    origin = service.origin;
    listener = await countingListener();
  });
  after(async () => {
    listener?.close();
    await service?.stop();
  });

  it('a client metadata document URL on a loopback address is not even connected to', async () => {
    const { challenge } = pkcePair();
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]']) {
      const answer = await new ScriptedBrowser(origin).request(
        authorizeUrl({
          client_id: `https://${host}:${listener.port}/client.json`,
          redirect_uri: 'https://app.example/cb',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          resource: RESOURCE,
        }),
      );
      assert.equal(answer.status, 400, host);
    }
    // oidc-provider's own guard checked the peer only after connecting (and after the TLS handshake):
    // internal ports could be probed, and internal TLS services saw a ClientHello.
    assert.equal(listener.connections.length, 0, 'the authorization server opened a TCP connection to a loopback port');
  });

  it('a registered jwks_uri on a loopback address is not even connected to (private_key_jwt at /token)', async () => {
    const registered = await fetch(`${origin}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['http://127.0.0.1:1/cb'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: `https://127.0.0.1:${listener.port}/jwks`,
      }),
    });
    const client = (await registered.json()) as { client_id?: string };
    assert.equal(registered.status, 201, JSON.stringify(client));
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: client.client_id,
      sub: client.client_id,
      aud: origin,
      jti: randomUUID(),
      iat: now,
      exp: now + 60,
    };
    const answer = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'x',
        client_id: client.client_id ?? '',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: `${part({ alg: 'ES256', kid: 'k' })}.${part(claims)}.AAAA`,
      }),
    });
    assert.equal(answer.status, 401);
    assert.equal(listener.connections.length, 0, 'the authorization server opened a TCP connection to a loopback port');
  });
});
