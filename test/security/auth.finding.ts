/**
 * FINDINGS of the attack session on the auth service: each test here FAILS on main as it stands and
 * passes once the defect is fixed. The file is not named *.test.ts so the suite stays green; run it:
 *
 *   node --conditions=callgate-source --import tsx --test test/security/auth.finding.ts
 *
 * (add DATABASE_URL=postgresql://postgres@127.0.0.1:5432/h_<name> to run on PostgreSQL instead of
 * PGlite). When a defect is fixed, move its test into a *.test.ts file.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type ServiceHandle } from '@callgate/common';
import { sandboxConfigShape, startSandbox } from '@callgate/sandbox';
import { authConfigShape, startAuthService } from '../../services/auth/src/service.js';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { eventually } from '../support/eventually.js';
import { authorizeUrl, csrfOf, pkcePair, ScriptedBrowser } from '../support/oauth-flow.js';

const RESOURCE = 'http://127.0.0.1:1/mcp';
const PASSWORD = 'a long enough password';
const PER_ACCOUNT_PER_HOUR = 3;

let database: TestDatabase;
let sandbox: ServiceHandle;
let auth: ServiceHandle;
let origin: string;
const email = `seed-${randomUUID()}@example.com`;

before(async () => {
  database = await openTestDatabase();
  sandbox = await startSandbox(loadConfig('sandbox', sandboxConfigShape, { SANDBOX_PORT: '0', LOG_LEVEL: 'silent' }));
  auth = await startAuthService(
    loadConfig('auth', authConfigShape, {
      LOG_LEVEL: 'silent',
      HTTP_PORT: '0',
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      AUTH_LOCAL_MODE: 'true',
      AUTH_RESOURCE_URL: RESOURCE,
      AUTH_SIGN_INS_PER_ACCOUNT_PER_HOUR: String(PER_ACCOUNT_PER_HOUR),
      AUTH_SEED_ACCOUNT: `${email}:${PASSWORD}`,
      MAIL_SES_ENDPOINT: sandbox.endpoints.ses,
      MAIL_DRAIN_INTERVAL_MS: '200',
    }),
    { db: database.db, ownsDb: false, dataDir: undefined },
  );
  origin = auth.endpoints.issuer as string;
});

after(async () => {
  await auth?.stop();
  await sandbox?.stop();
  await database?.close();
});

interface CaughtMail {
  to: string[];
  subject: string;
  text: string;
}

async function mails(): Promise<CaughtMail[]> {
  return ((await (await fetch(`${sandbox.endpoints.ses}/sandbox/mail`)).json()) as { mails: CaughtMail[] }).mails;
}

async function register(metadata: Record<string, unknown>): Promise<number> {
  const response = await fetch(`${origin}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token_endpoint_auth_method: 'none', ...metadata }),
  });
  await response.body?.cancel();
  return response.status;
}

describe('auth service findings (attack session)', () => {
  it('dynamic client registration is limited per client address (each client is up to ~56 KB, kept forever)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 150; i++) {
      statuses.push(await register({ client_name: 'x'.repeat(50_000), redirect_uris: ['http://127.0.0.1:1/cb'] }));
      if (statuses.at(-1) === 429) break;
    }
    assert.ok(statuses.includes(429), `150 registrations of 50 KB each from one address: ${[...new Set(statuses)]}`);
  });

  it('a client metadata document URL on a loopback address is not even connected to', async () => {
    const connections: Socket[] = [];
    const listener = createServer((socket) => {
      connections.push(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const port = (listener.address() as { port: number }).port;
      const { challenge } = pkcePair();
      const answer = await new ScriptedBrowser(origin).request(
        authorizeUrl({
          client_id: `https://127.0.0.1:${port}/client.json`,
          redirect_uri: 'https://app.example/cb',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          resource: RESOURCE,
        }),
      );
      assert.equal(answer.status, 400);
      // oidc-provider checks the peer address only after connecting (and after the TLS handshake, when
      // the peer speaks TLS): internal ports can be probed, and internal TLS services see a handshake.
      assert.equal(connections.length, 0, 'the authorization server opened a TCP connection to a loopback port');
    } finally {
      listener.close();
    }
  });

  it('a registered jwks_uri on a loopback address is not even connected to (private_key_jwt at /token)', async () => {
    const connections: Socket[] = [];
    const listener = createServer((socket) => {
      connections.push(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const port = (listener.address() as { port: number }).port;
      const registered = await fetch(`${origin}/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: ['http://127.0.0.1:1/cb'],
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: `https://127.0.0.1:${port}/jwks`,
        }),
      });
      const client = (await registered.json()) as { client_id?: string };
      if (registered.status !== 201) return; // refusing such clients at registration is a fix too
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
      assert.equal(connections.length, 0, 'the authorization server opened a TCP connection to a loopback port');
    } finally {
      listener.close();
    }
  });

  it('signing up again with a taken address mails its owner at most the per-account limit per hour', async () => {
    const browser = new ScriptedBrowser(origin);
    const page = await browser.request('/signup');
    for (let i = 0; i < PER_ACCOUNT_PER_HOUR * 3; i++) {
      const answer = await browser.request('/signup', {
        form: { csrf: csrfOf(page.body), email, password: `attacker password ${i}` },
      });
      assert.equal(answer.status, 200);
    }
    // Wait until the drainer sent everything it was going to (the last sign-up's mail, if any).
    await eventually('the outbox drained', async () => {
      const { rows } = await database.db.query<{ n: string }>(
        'SELECT count(*) AS n FROM auth.mail_outbox WHERE sent_at IS NULL',
      );
      return Number(rows[0]?.n) === 0 || undefined;
    });
    const sent = (await mails()).filter((m) => m.to.includes(email) && /Someone tried/.test(m.subject));
    assert.ok(
      sent.length <= PER_ACCOUNT_PER_HOUR,
      `${sent.length} "someone tried to sign up" mails to one address from ${PER_ACCOUNT_PER_HOUR * 3} sign-ups`,
    );
  });
});
