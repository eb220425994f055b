/**
 * Found by the attack session on the auth service, now fixed: a personal access token made with a
 * stolen password outlived the password reset (and sign-out everywhere) that the owner used to recover.
 * Personal access tokens now end with every session and grant (accounts.ts endEverything).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '@callgate/common';
import { PersonalTokens } from '../../services/auth/src/personal-tokens.js';
import { startTestAuthService, type TestAuthService } from '../support/auth-service.js';
import { csrfOf, ScriptedBrowser } from '../support/oauth-flow.js';

const RESOURCE = 'http://127.0.0.1:1/mcp';
const PASSWORD = 'a long enough password';

let service: TestAuthService;
let origin: string;
const email = `seed-${randomUUID()}@example.com`;

before(async () => {
  service = await startTestAuthService({ AUTH_RESOURCE_URL: RESOURCE, AUTH_SEED_ACCOUNT: `${email}:${PASSWORD}` });
  origin = service.origin;
});

after(() => service?.stop());

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
    const tokens = new PersonalTokens(service.db, systemClock, service.personalTokenFormat);
    assert.ok(await tokens.verify(token), 'the token works before the reset');

    // The owner notices and resets the password: the page promises every app was signed out.
    const owner = new ScriptedBrowser(origin);
    const request = await owner.request('/reset-password');
    await owner.request('/reset-password', { form: { csrf: csrfOf(request.body), email } });
    const link = new URL(await service.mailedLink(email, /Reset/));
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
