/**
 * Found by the attack session on the auth service, now fixed: a personal access token made with a
 * stolen password outlived the password reset (and sign-out everywhere) that the owner used to recover.
 * Personal access tokens now end with every session and grant (accounts.ts endEverything).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type ServiceHandle } from '@callgate/common';
import { sandboxConfigShape, startSandbox } from '@callgate/sandbox';
import { PersonalTokens } from '../../services/auth/src/personal-tokens.js';
import { authConfigShape, startAuthService } from '../../services/auth/src/service.js';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { eventually } from '../support/eventually.js';
import { csrfOf, ScriptedBrowser } from '../support/oauth-flow.js';

const RESOURCE = 'http://127.0.0.1:1/mcp';
const PASSWORD = 'a long enough password';

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

describe('personal access tokens end with a password reset', () => {
  it('a personal access token made with a stolen password stops working when the owner resets the password', async () => {
    // The attacker knows the password and makes a long-lived token for calls:write.
    const attacker = new ScriptedBrowser(origin);
    const form = await attacker.request('/personal-tokens');
    const created = await attacker.request('/personal-tokens', {
      form: {
        csrf: csrfOf(form.body),
        email,
        password: PASSWORD,
        name: 'backdoor',
        'scope:calls:write': 'on',
        days: '365',
      },
    });
    assert.equal(created.status, 201, created.body.slice(0, 300));
    const token = /cgp_[A-Za-z0-9_-]+/.exec(created.body)?.[0] ?? '';
    const tokens = new PersonalTokens(database.db, () => new Date());
    assert.ok(await tokens.verify(token), 'the token works before the reset');

    // The owner notices and resets the password: the page promises every app was signed out.
    const owner = new ScriptedBrowser(origin);
    const request = await owner.request('/reset-password');
    await owner.request('/reset-password', { form: { csrf: csrfOf(request.body), email } });
    const link = new URL(
      await eventually('the reset mail', async () =>
        (await mails())
          .filter((m) => m.to.includes(email) && /Reset/.test(m.subject))
          .map((m) => /https?:\/\/\S+/.exec(m.text)?.[0])
          .pop(),
      ),
    );
    const page = await owner.request(link.pathname + link.search);
    const reset = await owner.request(link.pathname + link.search, {
      form: { csrf: csrfOf(page.body), password: 'a brand new long password' },
    });
    assert.equal(reset.status, 200);
    assert.match(reset.body, /every session and app was signed out/);
    // The owner cannot even see the token to revoke it: no page lists personal access tokens.
    assert.equal(
      await tokens.verify(token),
      undefined,
      'the attacker’s personal access token still works after the password reset (and after sign-out everywhere)',
    );
  });
});
