/**
 * Bad input at the authorization server, each refused with the error its RFC names: an unregistered
 * redirect URI (no open redirect), a missing or `plain` PKCE challenge, a replayed code, a resource
 * other than the gateway, a client metadata URL on a private address, a consent posted without its
 * CSRF token, an expired or reused reset link; and hostile
 * bodies (huge, NUL bytes) and return addresses. Password guessing: sign-in-guessing.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Clock, systemClock } from '@callgate/common';
import { startTestAuthService, type TestAuthService } from '../../../test/support/auth-service.js';
import {
  authorizeUrl,
  csrfOf,
  interactionOf,
  pkcePair,
  registerClient,
  ScriptedBrowser,
} from '../../../test/support/oauth-flow.js';
import { DEFAULT_SCOPES } from './scopes.js';

const RESOURCE = 'http://127.0.0.1:1/mcp';
const REDIRECT = 'http://127.0.0.1:1/callback';
const PASSWORD = 'a long enough password';
const UNUSED_CLIENT_SECONDS = 3600;

let service: TestAuthService;
let origin: string;
let clientId: string;
let offsetMs = 0;
/**
 * The service's clock: the system's, moved forward by offsetMs. Not a ManualClock: oidc-provider reads the
 * real time for its own timestamps, and the outbox drain and sweeps run on this clock's timers.
 */
const clock: Clock = {
  ...systemClock,
  now: () => Date.now() + offsetMs,
  date: () => new Date(Date.now() + offsetMs),
};
const email = `seed-${randomUUID()}@example.com`;

before(async () => {
  service = await startTestAuthService(
    {
      AUTH_RESOURCE_URL: RESOURCE,
      AUTH_SEED_ACCOUNT: `${email}:${PASSWORD}`,
      AUTH_UNUSED_CLIENT_SECONDS: String(UNUSED_CLIENT_SECONDS),
    },
    clock,
  );
  origin = service.origin;
  clientId = await registerClient(origin, REDIRECT);
});

after(() => service?.stop());

/** Signs in and consents; returns the code and its verifier. */
async function authorizationCode(
  account = { email, password: PASSWORD },
  request: { client?: string; params?: Record<string, string | undefined> } = {},
) {
  const browser = new ScriptedBrowser(origin);
  const { verifier, challenge } = pkcePair();
  const login = await browser.follow(
    authorizeUrl({
      client_id: request.client ?? clientId,
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: RESOURCE,
      state: 'st',
      ...request.params,
    }),
  );
  const uid = interactionOf(login.url);
  assert.ok(uid, `a sign-in page: ${login.status} ${login.body.slice(0, 200)}`);
  const signedIn = await browser.request(`/interaction/${uid}/login`, {
    form: { csrf: csrfOf(login.body), ...account },
  });
  assert.equal(signedIn.status, 303, signedIn.body.slice(0, 300));
  const consent = await browser.follow(new URL(signedIn.location ?? '', origin).pathname);
  // The consent step is an interaction of its own.
  const consentUid = interactionOf(consent.url);
  const allowed = await browser.request(`/interaction/${consentUid}/consent`, {
    form: { csrf: csrfOf(consent.body), decision: 'allow' },
  });
  const back = await browser.follow(new URL(allowed.location ?? '', origin).pathname);
  const code = new URL(back.location ?? '').searchParams.get('code') ?? '';
  assert.ok(code, `redirected with a code: ${back.location}`);
  return { code, verifier, browser, consentPage: consent.body };
}

async function token(form: Record<string, string>) {
  const response = await fetch(`${origin}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe('the authorization server refuses bad input with the error the RFCs name', () => {
  it('an unregistered redirect URI gets an error page, never a redirect (no open redirect)', async () => {
    const { challenge } = pkcePair();
    for (const redirect of [
      'https://evil.example/callback',
      `${REDIRECT}/../evil`,
      'http://127.0.0.1:1/callback?x=1',
    ]) {
      const answer = await new ScriptedBrowser(origin).request(
        authorizeUrl({
          client_id: clientId,
          redirect_uri: redirect,
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
      );
      assert.equal(answer.status, 400, redirect);
      assert.equal(answer.location, null, `no redirect for ${redirect}`);
      assert.match(answer.body, /invalid_redirect_uri/);
    }
  });

  it('a missing or plain PKCE challenge is refused (invalid_request)', async () => {
    for (const pkce of [{}, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }]) {
      const answer = await new ScriptedBrowser(origin).request(
        authorizeUrl({ client_id: clientId, redirect_uri: REDIRECT, ...pkce }),
      );
      const error = new URL(answer.location ?? 'http://x/').searchParams;
      assert.equal(error.get('error'), 'invalid_request', JSON.stringify(pkce));
      assert.match(error.get('error_description') ?? '', /PKCE|code_challenge/);
    }
  });

  it('a resource other than the gateway is refused (invalid_target)', async () => {
    const { challenge } = pkcePair();
    const answer = await new ScriptedBrowser(origin).request(
      authorizeUrl({
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: 'https://other.example/mcp',
      }),
    );
    assert.equal(new URL(answer.location ?? 'http://x/').searchParams.get('error'), 'invalid_target');
  });

  it('a code works once, with its verifier and for the gateway; a replay is refused (invalid_grant)', async () => {
    const { code, verifier } = await authorizationCode();
    const exchange = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
      resource: RESOURCE,
    };
    const wrongVerifier = await token({ ...exchange, code_verifier: pkcePair().verifier });
    assert.equal(wrongVerifier.body.error, 'invalid_grant');
    const first = await token({ ...exchange, code_verifier: verifier });
    // A code whose exchange failed was consumed: a fresh one for the real exchange.
    if (first.status !== 200) {
      const again = await authorizationCode();
      const ok = await token({ ...exchange, code: again.code, code_verifier: again.verifier });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const replay = await token({ ...exchange, code: again.code, code_verifier: again.verifier });
      assert.equal(replay.body.error, 'invalid_grant');
      return;
    }
    const replay = await token({ ...exchange, code_verifier: verifier });
    assert.equal(replay.body.error, 'invalid_grant');
  });

  it('a code exchanged ten times at once gets tokens once (attack finding 4)', async () => {
    // oidc-provider checks a code is unused, then consumes it: concurrent exchanges all passed the check.
    const { code, verifier } = await authorizationCode();
    const form = {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
      resource: RESOURCE,
    };
    const answers = await Promise.all(Array.from({ length: 10 }, () => token(form)));
    assert.equal(answers.filter((a) => a.status === 200).length, 1, JSON.stringify(answers.map((a) => a.status)));
    assert.ok(answers.filter((a) => a.status !== 200).every((a) => a.body.error === 'invalid_grant'));
  });

  it('a refresh token presented ten times at once is reuse: one new token at most, and the grant is revoked (attack finding 4)', async () => {
    const { code, verifier } = await authorizationCode();
    const first = await token({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      client_id: clientId,
      resource: RESOURCE,
    });
    assert.ok(first.body.refresh_token, JSON.stringify(first.body));
    const form = { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: clientId };
    // Before: ten 200s, ten new refresh tokens, and no reuse ever seen.
    const answers = await Promise.all(Array.from({ length: 10 }, () => token(form)));
    const winners = answers.filter((a) => a.status === 200);
    assert.equal(winners.length, 1, JSON.stringify(answers.map((a) => a.status)));
    assert.ok(answers.filter((a) => a.status !== 200).every((a) => a.body.error === 'invalid_grant'));
    // As for a used token presented later: the whole grant went, the winner's new token with it.
    const next = await token({ ...form, refresh_token: winners[0]?.body.refresh_token ?? '' });
    assert.equal(next.body.error, 'invalid_grant');
  });

  it('a request with no scope (nor resource) gets the default scopes, shown on the consent screen', async () => {
    // MCP clients that find no scope to ask for (none in the challenge) send none; they get what a user's
    // tools need (every user scope, never admin), not access_denied for an empty grant.
    const client = await registerClient(origin, REDIRECT);
    const { code, verifier, consentPage } = await authorizationCode(undefined, {
      client,
      params: { scope: undefined, resource: undefined },
    });
    const listed = [...consentPage.matchAll(/data-scope="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(listed.sort(), [...DEFAULT_SCOPES].sort());
    const { status, body } = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: client,
      code_verifier: verifier,
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(String(body.scope).split(' ').sort(), [...DEFAULT_SCOPES].sort());
    const payload = JSON.parse(Buffer.from(String(body.access_token).split('.')[1] ?? '', 'base64url').toString());
    assert.equal(payload.aud, RESOURCE);
  });

  it('the access token is a JWT for the gateway, signed with a published key', async () => {
    const { code, verifier } = await authorizationCode();
    const { body } = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
      code_verifier: verifier,
      resource: RESOURCE,
    });
    const [header, payload] = (body.access_token ?? '').split('.').map((part) => {
      try {
        return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
    });
    assert.equal(payload.aud, RESOURCE);
    assert.equal(payload.iss, origin);
    assert.equal(typeof payload.gid, 'string', 'the grant id travels for the revocation check');
    const jwks = (await (await fetch(`${origin}/jwks`)).json()) as { keys: { kid: string; d?: string }[] };
    assert.ok(jwks.keys.some((k) => k.kid === header.kid));
    assert.ok(
      jwks.keys.every((k) => k.d === undefined),
      'no private part published',
    );
  });

  // In local mode (this service) a loopback https URL is tried, and here nothing answers on :443;
  // outside local mode oidc-provider's guard drops it (client-metadata-fetch.test.ts).
  it('a client metadata URL on a private address, or not https, is never fetched (invalid_client)', async () => {
    for (const url of [
      'https://127.0.0.1/client.json',
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.1/client.json',
      'http://example.com/client.json',
    ]) {
      const { challenge } = pkcePair();
      const answer = await new ScriptedBrowser(origin).request(
        authorizeUrl({
          client_id: url,
          redirect_uri: REDIRECT,
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
      );
      assert.equal(answer.location, null, `no redirect for ${url}`);
      assert.equal(answer.status, 400, url);
      assert.match(answer.body, /invalid_client/, url);
    }
  });

  it('a consent posted without its CSRF token, or with another interaction’s, is refused (403)', async () => {
    const browser = new ScriptedBrowser(origin);
    const { challenge } = pkcePair();
    const login = await browser.follow(
      authorizeUrl({
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    const uid = interactionOf(login.url);
    const signedIn = await browser.request(`/interaction/${uid}/login`, {
      form: { csrf: csrfOf(login.body), email, password: PASSWORD },
    });
    assert.equal(signedIn.status, 303);
    const consent = await browser.follow(new URL(signedIn.location ?? '', origin).pathname);
    const consentUid = interactionOf(consent.url);
    assert.match(consent.body, /Allow access/);
    const without = await browser.request(`/interaction/${consentUid}/consent`, { form: { decision: 'allow' } });
    assert.equal(without.status, 403);
    const borrowed = await browser.request(`/interaction/${consentUid}/consent`, {
      form: { decision: 'allow', csrf: csrfOf(login.body) },
    });
    assert.equal(borrowed.status, 403, 'the sign-in form’s token does not pass for consent');
  });

  it('a registered client nobody granted anything expires after AUTH_UNUSED_CLIENT_SECONDS; a granted one stays', async () => {
    await authorizationCode(); // a person grants `clientId` something
    const unused = await registerClient(origin, REDIRECT);
    const status = async (client: string) =>
      (
        await new ScriptedBrowser(origin).request(
          authorizeUrl({
            client_id: client,
            redirect_uri: REDIRECT,
            code_challenge: pkcePair().challenge,
            code_challenge_method: 'S256',
            resource: RESOURCE,
          }),
        )
      ).status;
    assert.equal(await status(unused), 303, 'a fresh registration works');
    offsetMs = (UNUSED_CLIENT_SECONDS + 1) * 1000;
    try {
      assert.equal(await status(unused), 400, 'the unused registration expired');
      assert.equal(await status(clientId), 303, 'the granted client stays');
    } finally {
      offsetMs = 0;
    }
    const { rows } = await service.db.query<{ expires_at: Date | null }>(
      "SELECT expires_at FROM auth.oidc_payloads WHERE kind = 'Client' AND id = ANY($1::text[]) ORDER BY expires_at",
      [[unused, clientId]],
    );
    assert.equal(rows.length, 2);
    assert.ok(rows[0]?.expires_at instanceof Date, 'the unused one has an expiry (the sweep deletes it)');
    assert.equal(rows[1]?.expires_at, null, 'the granted one has none');
  });

  it('a reset link works once and not after 30 minutes; a NUL byte or huge form is refused', async () => {
    const browser = new ScriptedBrowser(origin);
    const page = await browser.request('/reset-password');
    await browser.request('/reset-password', { form: { csrf: csrfOf(page.body), email } });
    const link = new URL(await service.mailedLink(email, /Reset/));
    const form = await browser.request(link.pathname + link.search);
    const reset = () =>
      browser.request(link.pathname + link.search, { form: { csrf: csrfOf(form.body), password: PASSWORD } });
    assert.equal((await reset()).status, 200);
    const reused = await reset();
    assert.equal(reused.status, 400);
    assert.match(reused.body, /already used/);

    await browser.request('/reset-password', { form: { csrf: csrfOf(page.body), email } });
    const second = new URL(await service.mailedLink(email, /Reset/, link.href));
    offsetMs = 31 * 60_000;
    try {
      const expired = await browser.request(second.pathname + second.search, {
        form: { csrf: csrfOf(form.body), password: PASSWORD },
      });
      assert.equal(expired.status, 400);
      assert.match(expired.body, /expired/);
    } finally {
      offsetMs = 0;
    }
    const nul = await browser.request('/reset-password', { form: { csrf: csrfOf(page.body), email: `a\u0000@x.io` } });
    assert.equal(nul.status, 400);
    const huge = await browser.request('/signup', { form: { csrf: 'x', email: 'a'.repeat(64 * 1024) } });
    assert.equal(huge.status, 413);
  });

  it('a NUL byte in an OAuth parameter is a 400 (PostgreSQL text cannot hold one), never a 500', async () => {
    const { challenge } = pkcePair();
    const params = { client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, resource: RESOURCE };
    const authorize = await fetch(
      `${origin}${authorizeUrl({ ...params, code_challenge_method: 'S256', state: 'a\u0000b' })}`,
      { redirect: 'manual' },
    );
    assert.ok(authorize.status < 500, `state with a NUL byte: ${authorize.status}`);
    const unknownClient = await fetch(`${origin}${authorizeUrl({ ...params, client_id: 'a\u0000b' })}`, {
      redirect: 'manual',
    });
    assert.equal(unknownClient.status, 400);
    const code = await token({
      grant_type: 'authorization_code',
      client_id: clientId,
      code: 'a\u0000b',
      code_verifier: 'x',
    });
    assert.equal(code.status, 400);
    assert.equal(code.body.error, 'invalid_grant');
    const refresh = await token({ grant_type: 'refresh_token', client_id: clientId, refresh_token: 'a\u0000b' });
    assert.equal(refresh.status, 400);
    const revoked = await fetch(`${origin}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: clientId, token: 'a\u0000b' }),
    });
    assert.ok(revoked.status < 500, `revocation: ${revoked.status}`);
    const registered = await fetch(`${origin}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'a\u0000b', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(registered.status, 400);
    assert.equal(((await registered.json()) as { error?: string }).error, 'invalid_request');
  });

  it('a plain-http redirect URI registers only on a loopback address (OAuth 2.1), https anywhere', async () => {
    const register = async (redirect: string) => {
      const response = await fetch(`${origin}/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [redirect], token_endpoint_auth_method: 'none' }),
      });
      return { status: response.status, body: (await response.json()) as { error?: string } };
    };
    const refused = await register('http://evil.example/cb');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_redirect_uri');
    assert.equal((await register('http://192.168.1.5/cb')).status, 400);
    for (const allowed of [
      'http://127.0.0.1:1/cb',
      'http://localhost:9/cb',
      'http://[::1]:9/cb',
      'https://app.example/cb',
    ]) {
      assert.equal((await register(allowed)).status, 201, allowed);
    }
  });

  it('the provider’s error pages forbid framing like every other page', async () => {
    const answer = await fetch(`${origin}/auth?client_id=nobody`, { redirect: 'manual' });
    assert.equal(answer.status, 400);
    assert.equal(answer.headers.get('x-frame-options'), 'DENY');
    assert.match(answer.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/html/);
  });

  it('a return address other than an interaction of this server is ignored (no open redirect)', async () => {
    const page = await new ScriptedBrowser(origin).request('/signup?return=https://evil.example/');
    assert.doesNotMatch(page.body, /evil\.example/);
  });
});
