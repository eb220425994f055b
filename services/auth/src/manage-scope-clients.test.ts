/**
 * apps:manage (list, revoke and create the person's tokens) is the console's alone: a client registered
 * by DCR (any site can register one) that asks for it is granted the rest of what it asked for, never
 * apps:manage: not on the consent page, not in the grant, not in its tokens, not after a refresh, and not
 * through a pushed request. With it, such an app could mint itself personal access tokens that outlive
 * the revocation of the app (attack finding: a revoked app kept calls:write through a 365-day token it
 * had created), and revoke the console and every other app. The pre-registered console still gets it,
 * and no registered client may call itself by the console's name to pass for it on the consent page.
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

const RESOURCE = 'http://127.0.0.1:1/mcp';
const REDIRECT = 'http://127.0.0.1:1/callback';
const CONSOLE_ID = 'callgate-console';
const CONSOLE_REDIRECT = 'http://127.0.0.1:2/callback';
const PASSWORD = 'a long enough password';
const ASKED = 'offline_access calls:read calls:write apps:manage';

describe('apps:manage only for the console', () => {
  let service: TestAuthService;
  let origin: string;
  let thirdParty: string;
  const account = { email: `manage-${randomUUID()}@example.com`, password: PASSWORD };
  before(async () => {
    service = await startTestAuthService({
      AUTH_RESOURCE_URL: RESOURCE,
      AUTH_SEED_ACCOUNT: `${account.email}:${PASSWORD}`,
      AUTH_CONSOLE_CLIENT_ID: CONSOLE_ID,
      AUTH_CONSOLE_REDIRECT_URIS: CONSOLE_REDIRECT,
    });
    origin = service.origin;
    thirdParty = await registerClient(origin, REDIRECT);
  });
  after(() => service?.stop());

  const listedOn = (consentPage: string) =>
    [...consentPage.matchAll(/data-scope="([^"]+)"/g)].map((m) => m[1] as string).sort();
  const scopesOf = (token: string) =>
    String(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).scope ?? '')
      .split(' ')
      .sort();

  async function signIn(clientId: string, redirectUri: string, viaPar = false) {
    const { verifier, challenge } = pkcePair();
    const params = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: RESOURCE,
      scope: ASKED,
      state: 'st',
    };
    let query = new URLSearchParams(params);
    if (viaPar) {
      const pushed = await fetch(`${origin}/request`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params),
      });
      const { request_uri } = (await pushed.json()) as { request_uri: string };
      query = new URLSearchParams({ client_id: clientId, request_uri });
    }
    const browser = new ScriptedBrowser(origin);
    const { code, consentPage } = await scriptedSignInAndConsent(
      browser,
      await browser.request(`/auth?${query}`),
      account,
    );
    const { status, body } = await tokenRequest(origin, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: clientId,
      code_verifier: verifier,
      resource: RESOURCE,
    });
    assert.equal(status, 200, JSON.stringify(body));
    return { consentPage, access: String(body.access_token), refresh: String(body.refresh_token), scope: body.scope };
  }

  it('a registered client asking for apps:manage is granted the rest, never apps:manage', async () => {
    const signedIn = await signIn(thirdParty, REDIRECT);
    assert.deepEqual(
      listedOn(signedIn.consentPage).filter((s) => s !== 'offline_access'),
      ['calls:read', 'calls:write'],
    );
    assert.doesNotMatch(signedIn.consentPage, /personal access tokens/);
    assert.deepEqual(scopesOf(signedIn.access), ['calls:read', 'calls:write']);
    assert.doesNotMatch(String(signedIn.scope), /apps:manage/);

    // Nor on a refresh that names it.
    const refreshed = await tokenRequest(origin, {
      grant_type: 'refresh_token',
      refresh_token: signedIn.refresh,
      client_id: thirdParty,
      resource: RESOURCE,
      scope: 'calls:read apps:manage',
    });
    if (refreshed.status === 200) {
      assert.ok(!scopesOf(String(refreshed.body.access_token)).includes('apps:manage'), JSON.stringify(refreshed));
    } else {
      assert.equal(refreshed.body.error, 'invalid_scope', JSON.stringify(refreshed));
    }
  });

  it('nor through a pushed authorization request', async () => {
    const signedIn = await signIn(thirdParty, REDIRECT, true);
    assert.ok(!listedOn(signedIn.consentPage).includes('apps:manage'));
    assert.ok(!scopesOf(signedIn.access).includes('apps:manage'));
  });

  it('a registered client asking for apps:manage alone gets no token for it', async () => {
    const { challenge } = pkcePair();
    const browser = new ScriptedBrowser(origin);
    const first = await browser.request(
      `/auth?${new URLSearchParams({
        response_type: 'code',
        client_id: thirdParty,
        redirect_uri: REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: RESOURCE,
        scope: 'apps:manage',
        state: 'st',
      })}`,
    );
    // Either refused outright or signed in to nothing: never a token holding apps:manage.
    const outcome = await scriptedSignInAndConsent(browser, first, account).then(
      (r) => r.consentPage,
      (error: Error) => error.message,
    );
    assert.doesNotMatch(outcome, /data-scope="apps:manage"/);
  });

  it("no registered client may take the console's name", async () => {
    const register = (client_name: string) =>
      fetch(`${origin}/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name,
          redirect_uris: [REDIRECT],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        }),
      });
    for (const name of [
      'callgate console',
      'Callgate  Console',
      'callgate-console',
      'ｃａｌｌｇａｔｅ console',
      'callgate\u200bconsole',
    ]) {
      const answer = await register(name);
      const body = (await answer.json()) as { error?: string; error_description?: string };
      assert.equal(answer.status, 400, `${JSON.stringify(name)}: ${JSON.stringify(body)}`);
      assert.equal(body.error, 'invalid_client_metadata');
      assert.match(String(body.error_description), /console's own/);
    }
    // Other names, including ones that mention callgate, register as before.
    for (const name of ['callgate console helper', 'My console', 'callgate']) {
      assert.equal((await register(name)).status, 201, name);
    }
  });

  it('the console is granted apps:manage', async () => {
    const signedIn = await signIn(CONSOLE_ID, CONSOLE_REDIRECT);
    assert.ok(listedOn(signedIn.consentPage).includes('apps:manage'));
    assert.deepEqual(scopesOf(signedIn.access), ['apps:manage', 'calls:read', 'calls:write']);
  });
});
