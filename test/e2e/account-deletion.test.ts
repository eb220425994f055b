/**
 * Deleting an account against the whole local system: an OAuth access token (authorization code with
 * PKCE, signed in and consented on the real pages) and a personal access token both work at the
 * gateway; failed deletion posts change nothing; the account is deleted on /delete-account; and both
 * tokens are refused at the gateway exactly when the gateway's cached answer about them is
 * AUTH_CHECK_CACHE_MS old, not before. The gateway's answer cache runs on a clock the test moves, so
 * the bound is shown without waiting for it; the refusal itself is waited for by polling.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@callgate/common';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { eventually } from '../support/eventually.js';
import { mailedLink } from '../support/oauth.js';
import {
  authorizeUrl,
  csrfOf,
  pkcePair,
  registerClient,
  ScriptedBrowser,
  scriptedSignInAndConsent,
  tokenRequest,
} from '../support/oauth-flow.js';

const PASSWORD = 'delete me after this test';
const REDIRECT = 'http://127.0.0.1:1/callback';
/** Long, so that nothing but the moved clock ages the gateway's answers during the test. */
const CACHE_MS = 60_000;

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
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } },
    }),
  });
  await response.body?.cancel();
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '' };
}

describe('deleting an account shuts out every token it had', () => {
  const clock = new ManualClock(Date.now());
  let system: LocalSystem;
  before(async () => {
    system = await startLocalSystem({
      ports: 'ephemeral',
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', AUTH_CHECK_CACHE_MS: String(CACHE_MS) },
      gateway: { authCheckClock: clock },
    });
  });
  after(() => system?.stop());

  it('an OAuth access token and a personal access token work, then are refused at the bound after deletion', async () => {
    const email = `deleted-${randomUUID()}@example.com`;
    const browser = new ScriptedBrowser(system.authUrl);
    const signup = await browser.request('/signup');
    await browser.request('/signup', { form: { csrf: csrfOf(signup.body), email, password: PASSWORD } });
    await browser.request(await mailedLink(system, email, /Confirm/));

    // An OAuth access token for the gateway, through the authorization code flow on the real pages.
    const clientId = await registerClient(system.authUrl, REDIRECT);
    const { verifier, challenge } = pkcePair();
    const first = await browser.request(
      authorizeUrl({
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: system.mcpUrl,
      }),
    );
    const { code } = await scriptedSignInAndConsent(browser, first, { email, password: PASSWORD });
    const exchanged = await tokenRequest(system.authUrl, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
      code_verifier: verifier,
    });
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    const accessToken = exchanged.body.access_token as string;
    const refreshToken = exchanged.body.refresh_token as string;
    assert.ok(accessToken && refreshToken);

    // A personal access token.
    const tokensPage = await browser.request('/personal-tokens');
    assert.match(tokensPage.body, /href="\/delete-account"/, 'the deletion is linked from the tokens page');
    const created = await browser.request('/personal-tokens', {
      form: { csrf: csrfOf(tokensPage.body), email, password: PASSWORD, name: 'agent', 'scope:calls:read': 'on' },
    });
    assert.equal(created.status, 201, created.body.slice(0, 300));
    const personalToken = /cgp_[A-Za-z0-9_-]+/.exec(created.body)?.[0] ?? '';

    const both = async () => [await present(system, accessToken), await present(system, personalToken)];
    assert.deepEqual(
      (await both()).map((a) => a.status),
      [200, 200],
      'both work at the gateway',
    );

    // Failed deletions change nothing: asked afresh (the cached answers aged out), both still work.
    const form = csrfOf((await browser.request('/delete-account')).body);
    const refused = [
      await browser.request('/delete-account', { form: { email, password: PASSWORD, confirm: email } }),
      await browser.request('/delete-account', {
        form: { csrf: form, email, password: 'not the password at all', confirm: email },
      }),
      await browser.request('/delete-account', {
        form: { csrf: form, email, password: PASSWORD, confirm: 'other@example.com' },
      }),
    ];
    assert.deepEqual(
      refused.map((r) => r.status),
      [403, 401, 400],
    );
    clock.advance(CACHE_MS);
    assert.deepEqual(
      (await both()).map((a) => a.status),
      [200, 200],
      'still working after the failed deletions',
    );

    // The deletion. The answers just cached (at this clock time) still stand until they are CACHE_MS old.
    const deleted = await browser.request('/delete-account', {
      form: { csrf: form, email, password: PASSWORD, confirm: email },
    });
    assert.equal(deleted.status, 200, deleted.body.slice(0, 300));
    clock.advance(CACHE_MS - 1);
    assert.deepEqual(
      (await both()).map((a) => a.status),
      [200, 200],
      'no refusal before the bound: the cached answers stand',
    );
    clock.advance(1);
    const [jwt, pat] = await eventually('both tokens refused at the gateway', async () => {
      const answers = await both();
      return answers.every((a) => a.status === 401) ? answers : undefined;
    });
    assert.match(jwt?.challenge ?? '', /error="invalid_token".*the account no longer exists/);
    assert.match(pat?.challenge ?? '', /error="invalid_token".*unknown, expired or revoked/);

    // Nothing else of the account works either: its refresh token, its password.
    const refreshed = await tokenRequest(system.authUrl, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: clientId,
    });
    assert.equal(refreshed.body.error, 'invalid_grant');
    const again = csrfOf((await browser.request('/personal-tokens')).body);
    const signIn = await browser.request('/personal-tokens', {
      form: { csrf: again, email, password: PASSWORD, revoke: 'any' },
    });
    assert.equal(signIn.status, 401);
  });
});
