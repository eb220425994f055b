/**
 * "Continue with <provider>" against the real auth service and a second oidc-provider playing the upstream
 * OpenID Connect provider (test/support/upstream-idp.ts), all over HTTP on 127.0.0.1: a new person gets a new
 * confirmed account, a known `sub` finds its account, a verified address links to a confirmed account (and
 * the owner is told by mail), and every hostile answer is a clear page, never a 500 nor a sign-in: a state
 * that is not the browser's, a replayed answer, an answer in another browser, access_denied, ID tokens with a
 * wrong nonce, audience or signature, an unverified address (never linked), an account whose address was
 * never confirmed (never linked), an unknown provider, a callback with no sign-in behind it, a sign-in that
 * ended meanwhile, a start without the CSRF token. Deleting the account deletes its links.
 * The whole way through the gateway: test/e2e/upstream-sign-in.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig, systemClock } from '@callgate/common';
import { startTestAuthService, type TestAuthService } from '../../../test/support/auth-service.js';
import { eventually } from '../../../test/support/eventually.js';
import { newKey } from '../../../test/support/jwks.js';
import { csrfOf, pkcePair, registerClient, ScriptedBrowser, tokenRequest } from '../../../test/support/oauth-flow.js';
import {
  continueWithUpstream,
  finishAtCallgate,
  signInAtIdp,
  startTestIdp,
  type TestIdp,
} from '../../../test/support/upstream-idp.js';
import { authConfigShape } from './config.js';
import { upstreamProvidersOf } from './upstream-config.js';
import { UpstreamIdentities } from './upstream-identities.js';

const RESOURCE = 'http://127.0.0.1:1/mcp';
const REDIRECT = 'http://127.0.0.1:1/cb';
const PASSWORD = 'a long enough password';

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

describe('sign-in with an upstream OpenID Connect provider', () => {
  let idp: TestIdp;
  let service: TestAuthService;
  let clientId: string;
  const seedEmail = `seed-${randomUUID()}@example.com`;
  before(async () => {
    idp = await startTestIdp();
    service = await startTestAuthService({
      AUTH_RESOURCE_URL: RESOURCE,
      AUTH_SIGN_INS_PER_IP_PER_HOUR: '1000',
      AUTH_SEED_ACCOUNT: `${seedEmail}:${PASSWORD}`,
      AUTH_UPSTREAM_PROVIDERS: JSON.stringify([
        { id: 'testidp', name: 'TestIdP', issuer: idp.issuer, client_id: idp.clientId },
      ]),
      AUTH_UPSTREAM_CLIENT_SECRETS: JSON.stringify({ testidp: idp.clientSecret }),
    });
    idp.register(`${service.origin}/interaction/callback/testidp`);
    clientId = await registerClient(service.origin, REDIRECT);
  });
  after(async () => {
    await service?.stop();
    await idp?.stop();
  });

  /** A person at the IdP with these claims; their login name (the IdP's `sub`). */
  function person(claims: { email?: string; email_verified?: unknown }): string {
    const login = `person-${randomUUID()}`;
    idp.people.set(login, claims);
    return login;
  }

  /** From the client's authorization request to the IdP's answer at callgate's callback (not yet sent). */
  async function toCallback(login: string, decision: 'allow' | 'abort' = 'allow') {
    const pkce = pkcePair();
    const flow = await continueWithUpstream(service.origin, {
      clientId,
      redirectUri: REDIRECT,
      challenge: pkce.challenge,
    });
    assert.equal(flow.started.status, 303, flow.started.body.slice(0, 300));
    const toIdp = flow.started.location ?? '';
    assert.ok(toIdp.startsWith(`${idp.issuer}/auth?`), toIdp);
    const callback = await signInAtIdp(idp, toIdp, login, decision);
    return { ...flow, pkce, toIdp: new URL(toIdp), callback };
  }

  async function tokenFor(browser: ScriptedBrowser, callback: string, verifier: string) {
    const code = await finishAtCallgate(browser, callback);
    const token = await tokenRequest(service.origin, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
      code_verifier: verifier,
    });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    return token.body;
  }

  const accountOf = async (email: string) =>
    (
      await service.db.query<{ account_id: string; password_hash: string | null; email_verified_at: Date | null }>(
        'SELECT account_id, password_hash, email_verified_at FROM auth.accounts WHERE email = $1',
        [email],
      )
    ).rows[0];
  const identitiesOf = async (accountId: string) =>
    (
      await service.db.query<{ provider: string; subject: string }>(
        'SELECT provider, subject FROM auth.upstream_identities WHERE account_id = $1',
        [accountId],
      )
    ).rows;

  it('the sign-in page offers "Continue with TestIdP" as a form post with the CSRF token; the request to the IdP has PKCE S256, state, nonce and the registered redirect URI', async () => {
    const flow = await continueWithUpstream(service.origin, {
      clientId,
      redirectUri: REDIRECT,
      challenge: pkcePair().challenge,
    });
    assert.match(flow.signInPage, /<form method="post" action="\/interaction\/[^"]+\/upstream"/);
    assert.match(
      flow.signInPage,
      /<button type="submit" name="provider" value="testidp">Continue with TestIdP<\/button>/,
    );
    const toIdp = new URL(flow.started.location ?? '');
    const params = toIdp.searchParams;
    assert.equal(params.get('client_id'), idp.clientId);
    assert.equal(params.get('redirect_uri'), `${service.origin}/interaction/callback/testidp`);
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.equal(params.get('scope'), 'openid email');
    assert.ok((params.get('state') ?? '').length >= 32 && (params.get('nonce') ?? '').length >= 32);
    // The browser keeps the state for the callback: HttpOnly, Lax (the IdP sends it back cross-site), callback path only.
    const cookie = flow.started.headers['set-cookie'] ?? '';
    assert.match(cookie, new RegExp(`cg_upstream=${params.get('state')}; Path=/interaction/callback/;`));
    assert.match(cookie, /HttpOnly; SameSite=Lax/);
  });

  it('a new person gets a new confirmed account without a password; their token is for it; next time the same sub finds it', async () => {
    const email = `new-${randomUUID()}@example.com`;
    const login = person({ email, email_verified: true });
    const first = await toCallback(login);
    const tokens = await tokenFor(first.browser, first.callback, first.pkce.verifier);
    const account = await accountOf(email);
    assert.ok(account?.email_verified_at, 'the address is confirmed (the provider vouched for it)');
    assert.equal(account.password_hash, null, 'no password until a reset sets one');
    assert.equal(claimsOf(tokens.access_token ?? '').sub, account.account_id);
    assert.deepEqual(await identitiesOf(account.account_id), [{ provider: 'testidp', subject: login }]);
    // A password sign-in to it fails like a wrong password (there is none).
    const browser = new ScriptedBrowser(service.origin);
    const flow = await continueWithUpstream(
      service.origin,
      { clientId, redirectUri: REDIRECT, challenge: 'x'.repeat(43) },
      'testidp',
      browser,
    );
    const signIn = await browser.request(`/interaction/${flow.uid}`);
    const refused = await browser.request(`/interaction/${flow.uid}/login`, {
      form: { csrf: csrfOf(signIn.body), email, password: 'any password at all' },
    });
    assert.equal(refused.status, 401);

    // The address changed at the IdP since: the sub still finds the account.
    idp.people.set(login, { email: `changed-${randomUUID()}@example.com`, email_verified: false });
    const again = await toCallback(login);
    const second = await tokenFor(again.browser, again.callback, again.pkce.verifier);
    assert.equal(claimsOf(second.access_token ?? '').sub, account.account_id);
  });

  it('a verified address links to the confirmed account that has it, and the owner is told by mail', async () => {
    const seed = await accountOf(seedEmail);
    assert.ok(seed);
    const login = person({ email: seedEmail.toUpperCase(), email_verified: true });
    const flow = await toCallback(login);
    const tokens = await tokenFor(flow.browser, flow.callback, flow.pkce.verifier);
    assert.equal(claimsOf(tokens.access_token ?? '').sub, seed.account_id);
    assert.deepEqual(await identitiesOf(seed.account_id), [{ provider: 'testidp', subject: login }]);
    const notice = await eventually('the mail telling the owner', async () =>
      (await service.mails()).find((m) => m.to.includes(seedEmail) && /Sign-in with TestIdP was added/.test(m.subject)),
    );
    assert.match(notice.text, /If you did not do this/);
  });

  it('an unverified address (false, or the string "true") never links to the account that has it, nor makes one', async () => {
    const { rows } = await service.db.query<{ account_id: string }>(
      'SELECT account_id FROM auth.accounts WHERE email = $1',
      [seedEmail],
    );
    const before = await identitiesOf(rows[0]?.account_id ?? '');
    for (const email_verified of [false, 'true', undefined]) {
      const flow = await toCallback(person({ email: seedEmail, email_verified }));
      const answer = await flow.browser.request(flow.callback);
      assert.equal(answer.status, 403, `email_verified ${JSON.stringify(email_verified)}`);
      assert.match(answer.body, /has not verified your email address/);
      assert.match(answer.body, new RegExp(`href="/interaction/${flow.uid}"`), 'links back to the sign-in');
    }
    assert.deepEqual(await identitiesOf(rows[0]?.account_id ?? ''), before);
    const newEmail = `unverified-${randomUUID()}@example.com`;
    const flow = await toCallback(person({ email: newEmail, email_verified: false }));
    assert.equal((await flow.browser.request(flow.callback)).status, 403);
    assert.equal(await accountOf(newEmail), undefined);
  });

  it("an account whose address was never confirmed is not linked (it may be a squatter's): 409, nothing linked", async () => {
    const email = `squatted-${randomUUID()}@example.com`;
    const signupBrowser = new ScriptedBrowser(service.origin);
    const signup = await signupBrowser.request('/signup');
    await signupBrowser.request('/signup', { form: { csrf: csrfOf(signup.body), email, password: PASSWORD } });
    const squatted = await accountOf(email);
    assert.ok(squatted && !squatted.email_verified_at);
    const flow = await toCallback(person({ email, email_verified: true }));
    const answer = await flow.browser.request(flow.callback);
    assert.equal(answer.status, 409);
    assert.match(answer.body, /never confirmed/);
    assert.deepEqual(await identitiesOf(squatted.account_id), []);
  });

  it("an answer with a state that is not the browser's, or arriving in another browser, is refused and does not use up the real one; a replay is refused", async () => {
    const email = `state-${randomUUID()}@example.com`;
    const flow = await toCallback(person({ email, email_verified: true }));
    const forged = new URL(flow.callback);
    forged.searchParams.set('state', 'a'.repeat(43));
    const wrongState = await flow.browser.request(forged.href);
    assert.equal(wrongState.status, 400);
    assert.match(wrongState.body, /Sign-in expired/);
    // Login CSRF: the same answer planted in another browser (no cookie of this sign-in).
    const elsewhere = await new ScriptedBrowser(service.origin).request(flow.callback);
    assert.equal(elsewhere.status, 400);
    assert.equal(await accountOf(email), undefined, 'nothing was signed in or created');

    // The browser that started it still completes, once.
    const first = await flow.browser.request(flow.callback);
    assert.equal(first.status, 303, first.body.slice(0, 300));
    // The same answer again, with the cookie it had: the stored request is gone.
    const state = new URL(flow.callback).searchParams.get('state') ?? '';
    const replay = await flow.browser.request(flow.callback, { headers: { cookie: `cg_upstream=${state}` } });
    assert.equal(replay.status, 400);
    assert.match(replay.body, /Sign-in expired/);
  });

  it('access_denied at the IdP: a page that says so and links back to the sign-in, which is still open', async () => {
    const flow = await toCallback(person({ email: `deny-${randomUUID()}@example.com`, email_verified: true }), 'abort');
    assert.equal(new URL(flow.callback).searchParams.get('error'), 'access_denied');
    const answer = await flow.browser.request(flow.callback);
    assert.equal(answer.status, 403);
    assert.match(answer.body, /You did not allow the sign-in at TestIdP/);
    const back = await flow.browser.request(`/interaction/${flow.uid}`);
    assert.equal(back.status, 200);
    assert.match(back.body, /Continue with TestIdP/);
  });

  for (const [what, rewrite, key] of [
    ['a wrong nonce', (c: Record<string, unknown>) => ({ ...c, nonce: 'not-the-one-sent' }), undefined],
    ['a wrong audience', (c: Record<string, unknown>) => ({ ...c, aud: 'another-client' }), undefined],
    ['a wrong issuer', (c: Record<string, unknown>) => ({ ...c, iss: 'http://127.0.0.1:1' }), undefined],
    [
      'an expired token',
      (c: Record<string, unknown>) => ({ ...c, exp: Math.floor(Date.now() / 1000) - 3600 }),
      undefined,
    ],
    ['a signature by a key the IdP does not publish', (c: Record<string, unknown>) => c, newKey('RS256')],
  ] as const) {
    it(`an ID token with ${what} is refused with a page (502), nothing signed in or created`, async () => {
      const email = `tampered-${randomUUID()}@example.com`;
      const flow = await toCallback(person({ email, email_verified: true }));
      idp.tamper(rewrite, key);
      try {
        const answer = await flow.browser.request(flow.callback);
        assert.equal(answer.status, 502, answer.body.slice(0, 300));
        assert.match(answer.body, /could not be verified/);
      } finally {
        idp.tamper(undefined);
      }
      assert.equal(await accountOf(email), undefined);
    });
  }

  it("control: an ID token rewritten as it was and re-signed with the IdP's own key is taken (the tampering alone breaks nothing)", async () => {
    const email = `control-${randomUUID()}@example.com`;
    const flow = await toCallback(person({ email, email_verified: true }));
    idp.tamper((claims) => ({ ...claims }));
    try {
      assert.equal((await flow.browser.request(flow.callback)).status, 303);
    } finally {
      idp.tamper(undefined);
    }
    assert.ok(await accountOf(email));
  });

  it('first sign-ins of one new person at once end in one account and one link', async () => {
    const identities = new UpstreamIdentities(service.db, systemClock);
    const email = `race-${randomUUID()}@example.com`;
    const sub = `race-${randomUUID()}`;
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        identities.accountFor({ id: 'testidp', name: 'TestIdP' }, { sub, email, email_verified: true }),
      ),
    );
    const ids = new Set(outcomes.map((o) => ('accountId' in o ? o.accountId : o.problem)));
    assert.equal(ids.size, 1, JSON.stringify(outcomes));
    assert.equal(outcomes.filter((o) => 'how' in o && o.how === 'created').length, 1);
    assert.deepEqual(await identities.of([...ids][0] as string), [{ provider: 'testidp', email }]);
    // A subject no provider would send: refused before any query.
    for (const bad of ['', 'x'.repeat(256), 'nul\u0000sub']) {
      const outcome = await identities.accountFor(
        { id: 'testidp', name: 'TestIdP' },
        { sub: bad, email, email_verified: true },
      );
      assert.ok('problem' in outcome && outcome.problem === 'subject');
    }
  });

  it('a provider that is not configured: 404 at the start and at the callback', async () => {
    const flow = await continueWithUpstream(
      service.origin,
      { clientId, redirectUri: REDIRECT, challenge: pkcePair().challenge },
      'nope',
    );
    assert.equal(flow.started.status, 404);
    assert.match(flow.started.body, /no such way to sign in/);
    const callback = await new ScriptedBrowser(service.origin).request('/interaction/callback/nope?code=x&state=y');
    assert.equal(callback.status, 404);
  });

  it('a callback with no sign-in behind it (no cookie, no query, huge or NUL-laden values) is a 400 page', async () => {
    const browser = new ScriptedBrowser(service.origin);
    for (const query of ['', '?code=abc&state=def', `?state=${'s'.repeat(6000)}`, '?state=%00&code=%00']) {
      const answer = await browser.request(`/interaction/callback/testidp${query}`, {
        headers: { cookie: 'cg_upstream=def' },
      });
      assert.equal(answer.status, 400, query.slice(0, 40));
      assert.match(answer.headers['content-type'] ?? '', /text\/html/);
    }
    assert.equal((await browser.request('/interaction/callback/testidp', { method: 'POST' })).status, 405);
  });

  it('a start without the CSRF token is refused (403); the sign-in that ended meanwhile is not resurrected', async () => {
    const browser = new ScriptedBrowser(service.origin);
    const flow = await continueWithUpstream(
      service.origin,
      { clientId, redirectUri: REDIRECT, challenge: pkcePair().challenge },
      'testidp',
      browser,
    );
    const noCsrf = await browser.request(`/interaction/${flow.uid}/upstream`, { form: { provider: 'testidp' } });
    assert.equal(noCsrf.status, 403);

    const email = `ended-${randomUUID()}@example.com`;
    const ended = await toCallback(person({ email, email_verified: true }));
    await service.db.query("DELETE FROM auth.oidc_payloads WHERE kind = 'Interaction' AND id = $1", [ended.uid]);
    const answer = await ended.browser.request(ended.callback);
    assert.equal(answer.status, 400);
    assert.match(answer.body, /no longer open/);
  });

  it('deleting the account deletes its links: the same person next time gets a new account', async () => {
    const email = `deleted-${randomUUID()}@example.com`;
    const login = person({ email, email_verified: true });
    const flow = await toCallback(login);
    await tokenFor(flow.browser, flow.callback, flow.pkce.verifier);
    const account = await accountOf(email);
    assert.ok(account);
    // The owner sets a password by the reset mail (an account made through a provider has none), then deletes.
    const browser = new ScriptedBrowser(service.origin);
    const reset = await browser.request('/reset-password');
    await browser.request('/reset-password', { form: { csrf: csrfOf(reset.body), email } });
    const link = new URL(await service.mailedLink(email, /Reset/));
    const choose = await browser.request(link.pathname + link.search);
    assert.equal(
      (await browser.request(link.pathname + link.search, { form: { csrf: csrfOf(choose.body), password: PASSWORD } }))
        .status,
      200,
    );
    const deletion = await browser.request('/delete-account');
    const deleted = await browser.request('/delete-account', {
      form: { csrf: csrfOf(deletion.body), email, confirm: email, password: PASSWORD },
    });
    assert.equal(deleted.status, 200, deleted.body.slice(0, 300));
    assert.deepEqual(await identitiesOf(account.account_id), []);
    const again = await toCallback(login);
    const tokens = await tokenFor(again.browser, again.callback, again.pkce.verifier);
    const fresh = await accountOf(email);
    assert.ok(fresh && fresh.account_id !== account.account_id);
    assert.equal(claimsOf(tokens.access_token ?? '').sub, fresh.account_id);
  });
});

describe('upstream provider configuration', () => {
  const base = { AUTH_LOCAL_MODE: 'false', PERSONAL_TOKEN_CHECKSUM_KEYS: 'k'.repeat(40) };
  const load = (env: Record<string, string>) =>
    upstreamProvidersOf(loadConfig('auth', authConfigShape, { ...base, ...env }));
  const google = { id: 'google', name: 'Google', issuer: 'https://accounts.google.com', client_id: 'abc.apps' };
  const refused = (env: Record<string, string>, pattern: RegExp) =>
    assert.throws(
      () => load(env),
      (error: Error) =>
        error instanceof ConfigError && pattern.test(error.message) && !error.message.includes('s3cr3t'),
    );

  it('unset: no providers; set: each with its secret and default scopes openid email', () => {
    assert.deepEqual(load({}), []);
    const [provider] = load({
      AUTH_UPSTREAM_PROVIDERS: JSON.stringify([google]),
      AUTH_UPSTREAM_CLIENT_SECRETS: JSON.stringify({ google: 's3cr3t' }),
    });
    assert.equal(provider?.clientSecret, 's3cr3t');
    assert.deepEqual(provider?.scopes, ['openid', 'email']);
  });

  it('refuses, naming the variable and never quoting a secret: bad JSON, a missing or extra secret, http outside local mode, bad ids, scopes without openid or email, duplicates, unknown keys', () => {
    const secrets = JSON.stringify({ google: 's3cr3t' });
    refused(
      { AUTH_UPSTREAM_PROVIDERS: '[{', AUTH_UPSTREAM_CLIENT_SECRETS: secrets },
      /AUTH_UPSTREAM_PROVIDERS: is not valid JSON/,
    );
    refused(
      { AUTH_UPSTREAM_PROVIDERS: JSON.stringify([google]), AUTH_UPSTREAM_CLIENT_SECRETS: '{"google": s3cr3t}' },
      /AUTH_UPSTREAM_CLIENT_SECRETS: is not valid JSON/,
    );
    refused({ AUTH_UPSTREAM_PROVIDERS: JSON.stringify([google]) }, /has no client secret for provider google/);
    refused(
      {
        AUTH_UPSTREAM_PROVIDERS: JSON.stringify([google]),
        AUTH_UPSTREAM_CLIENT_SECRETS: JSON.stringify({ google: 's3cr3t', gogle: 's3cr3t' }),
      },
      /names provider "gogle"/,
    );
    refused(
      {
        AUTH_UPSTREAM_PROVIDERS: JSON.stringify([{ ...google, issuer: 'http://idp.example' }]),
        AUTH_UPSTREAM_CLIENT_SECRETS: secrets,
      },
      /must be an https URL/,
    );
    refused({ AUTH_UPSTREAM_PROVIDERS: JSON.stringify([{ ...google, id: 'Goo gle' }]) }, /id: lower-case/);
    refused(
      { AUTH_UPSTREAM_PROVIDERS: JSON.stringify([{ ...google, scopes: ['openid'] }]) },
      /must include openid and email/,
    );
    refused({ AUTH_UPSTREAM_PROVIDERS: JSON.stringify([google, google]) }, /each provider id once/);
    refused({ AUTH_UPSTREAM_PROVIDERS: JSON.stringify([{ ...google, clientSecret: 's3cr3t' }]) }, /clientSecret/);
    refused({ AUTH_UPSTREAM_PROVIDERS: JSON.stringify({ google }) }, /expected a JSON array/);
    refused(
      { AUTH_UPSTREAM_PROVIDERS: JSON.stringify([{ ...google, name: 'Goo\u0000gle' }]) },
      /no control characters/,
    );
    refused(
      { AUTH_UPSTREAM_PROVIDERS: JSON.stringify(Array.from({ length: 11 }, (_, i) => ({ ...google, id: `p${i}` }))) },
      /at most 10/,
    );
  });
});
