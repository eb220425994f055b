/**
 * An authorization request without a scope gets the default scopes however it is sent: GET /auth
 * (authorization-server.test.ts) and a pushed authorization request (RFC 9126) used by its request_uri.
 * A scope that is sent is kept. POST /auth is refused with 405 and a message saying to use GET or PAR
 * (authorization-requests.ts says why). Hostile bodies are refused with the OAuth error, never a crash
 * or a hang.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestAuthService, type TestAuthService } from '../../../test/support/auth-service.js';
import {
  pkcePair,
  registerClient,
  ScriptedBrowser,
  scriptedSignInAndConsent,
  tokenRequest,
} from '../../../test/support/oauth-flow.js';
import { DEFAULT_SCOPES } from './scopes.js';

const RESOURCE = 'http://127.0.0.1:1/mcp';
const REDIRECT = 'http://127.0.0.1:1/callback';
const PASSWORD = 'a long enough password';

describe('an authorization request without scope, by PAR; POST /auth refused', () => {
  let service: TestAuthService;
  let origin: string;
  let clientId: string;
  const account = { email: `scopes-${randomUUID()}@example.com`, password: PASSWORD };
  before(async () => {
    service = await startTestAuthService({
      AUTH_RESOURCE_URL: RESOURCE,
      AUTH_SEED_ACCOUNT: `${account.email}:${PASSWORD}`,
    });
    origin = service.origin;
    clientId = await registerClient(origin, REDIRECT);
  });
  after(() => service?.stop());

  /** The parameters of an authorization request (no scope unless given). */
  const request = (challenge: string, extra: Record<string, string> = {}) => ({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st',
    ...extra,
  });

  /** Exchanges the code; the scopes granted and the access token's audience. */
  async function exchange(code: string, verifier: string) {
    const { status, body } = await tokenRequest(origin, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
      code_verifier: verifier,
    });
    assert.equal(status, 200, JSON.stringify(body));
    const claims = JSON.parse(Buffer.from(String(body.access_token).split('.')[1] ?? '', 'base64url').toString());
    return { scopes: String(body.scope).split(' ').sort(), audience: claims.aud };
  }

  const listedOn = (consentPage: string) =>
    [...consentPage.matchAll(/data-scope="([^"]+)"/g)].map((m) => m[1] as string).sort();

  it('POST /auth is refused with 405, naming GET and PAR, whatever its body', async () => {
    const { challenge } = pkcePair();
    for (const form of [request(challenge), request(challenge, { scope: 'calls:read' }), {}]) {
      const browser = new ScriptedBrowser(origin);
      const answer = await browser.request('/auth', { form });
      assert.equal(answer.status, 405, JSON.stringify(form));
      assert.equal(answer.headers.allow, 'GET');
      assert.equal(answer.location, null, 'no redirect');
      const body = JSON.parse(answer.body) as { error: string; error_description: string };
      assert.equal(body.error, 'invalid_request');
      assert.match(body.error_description, /GET only.*\/request \(RFC 9126\)/);
    }
  });

  it('a pushed authorization request without scope gets the default scopes when its request_uri is used', async () => {
    const { verifier, challenge } = pkcePair();
    const pushed = await fetch(`${origin}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(request(challenge)),
    });
    const answer = (await pushed.json()) as { request_uri?: string; error?: string };
    assert.equal(pushed.status, 201, JSON.stringify(answer));
    assert.ok(answer.request_uri);
    const browser = new ScriptedBrowser(origin);
    const first = await browser.request(
      `/auth?${new URLSearchParams({ client_id: clientId, request_uri: answer.request_uri })}`,
    );
    const { code, consentPage } = await scriptedSignInAndConsent(browser, first, account);
    assert.deepEqual(listedOn(consentPage), [...DEFAULT_SCOPES].sort());
    assert.deepEqual((await exchange(code, verifier)).scopes, [...DEFAULT_SCOPES].sort());
  });

  it('a pushed authorization request with a scope keeps it', async () => {
    const { verifier, challenge } = pkcePair();
    const pushed = await fetch(`${origin}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(request(challenge, { scope: 'credits:read' })),
    });
    const { request_uri } = (await pushed.json()) as { request_uri: string };
    const browser = new ScriptedBrowser(origin);
    const first = await browser.request(`/auth?${new URLSearchParams({ client_id: clientId, request_uri })}`);
    const { code } = await scriptedSignInAndConsent(browser, first, account);
    assert.deepEqual((await exchange(code, verifier)).scopes, ['credits:read']);
  });

  it('hostile pushed requests: oversized, NUL bytes in the scope, JSON, an unknown client: the OAuth error', async () => {
    const { challenge } = pkcePair();
    const push = (body: string, type = 'application/x-www-form-urlencoded') =>
      fetch(`${origin}/request`, { method: 'POST', headers: { 'content-type': type }, body });
    const huge = await push(`${new URLSearchParams(request(challenge))}&pad=${'x'.repeat(60 * 1024)}`);
    assert.equal(huge.status, 413);
    assert.equal(((await huge.json()) as { error: string }).error, 'invalid_request');

    const nul = await push(new URLSearchParams(request(challenge, { scope: 'calls:read\0admin' })).toString());
    assert.equal(((await nul.json()) as { error: string }).error, 'invalid_scope', String(nul.status));

    const json = await push(JSON.stringify(request(challenge)), 'application/json');
    assert.equal(json.status, 400);
    assert.equal(((await json.json()) as { error: string }).error, 'invalid_request');

    const stranger = await push(new URLSearchParams(request(challenge, { client_id: 'nobody' })).toString());
    assert.equal(stranger.status, 401);
    assert.equal(((await stranger.json()) as { error: string }).error, 'invalid_client');

    // Concurrent pushes, each replayed on its own connection, all answered.
    const many = await Promise.all(
      Array.from({ length: 20 }, () => push(new URLSearchParams(request(challenge)).toString())),
    );
    assert.deepEqual(
      many.map((r) => r.status),
      Array<number>(20).fill(201),
    );
    await Promise.all(many.map((r) => r.body?.cancel()));
    // The service still answers.
    assert.equal((await fetch(`${origin}/.well-known/oauth-authorization-server`)).status, 200);
  });
});
