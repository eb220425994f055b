/**
 * "Continue with <provider>" the whole way, against the whole local system and a second oidc-provider as
 * the upstream OpenID Connect provider (test/support/upstream-idp.ts): the official v1 SDK client starts
 * from the gateway's 401 and registers itself; the person chooses "Continue with TestIdP" on callgate's
 * sign-in page, signs in and consents at the IdP, comes back, consents at callgate; the client exchanges
 * the code and its token works at the gateway for a new user with the signup credits. The hostile cases
 * are in services/auth/src/upstream-sign-in.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { MemoryOAuthProvider } from '../support/oauth.js';
import { ScriptedBrowser } from '../support/oauth-flow.js';
import { continueFrom, finishAtCallgate, signInAtIdp, startTestIdp, type TestIdp } from '../support/upstream-idp.js';

/** Never reached: the scripted browser stops at the redirect to the client and hands its code over. */
const CLIENT_REDIRECT = 'http://127.0.0.1:1/callback';

describe('an MCP client signed in through an upstream OpenID Connect provider', () => {
  let idp: TestIdp;
  let system: LocalSystem;
  before(async () => {
    idp = await startTestIdp();
    system = await startLocalSystem({
      ports: 'ephemeral',
      env: {
        ...process.env,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
        AUTH_UPSTREAM_PROVIDERS: JSON.stringify([
          { id: 'testidp', name: 'TestIdP', issuer: idp.issuer, client_id: idp.clientId, scopes: ['openid', 'email'] },
        ]),
        AUTH_UPSTREAM_CLIENT_SECRETS: JSON.stringify({ testidp: idp.clientSecret }),
      },
    });
    idp.register(`${system.authUrl}/interaction/callback/testidp`);
  });
  after(async () => {
    await system?.stop();
    await idp?.stop();
  });

  it('401 → registration → Continue with TestIdP → sign-in and consent at the IdP → consent at callgate → a token the gateway takes, for a new user with signup credits', async () => {
    const login = `e2e-${randomUUID()}`;
    idp.people.set(login, { email: `${login}@example.com`, email_verified: true });
    const provider = new MemoryOAuthProvider(CLIENT_REDIRECT, 'callgate upstream test client');
    const first = new StreamableHTTPClientTransport(new URL(system.mcpUrl), { authProvider: provider });
    await assert.rejects(new Client({ name: 'upstream-e2e', version: '1' }).connect(first), UnauthorizedError);
    const authorizationUrl = provider.authorizationUrls[0];
    assert.ok(authorizationUrl, 'the client was sent to the authorization server');
    assert.equal(authorizationUrl.origin, new URL(system.authUrl).origin);

    const browser = new ScriptedBrowser(system.authUrl);
    const flow = await continueFrom(browser, authorizationUrl.pathname + authorizationUrl.search);
    assert.match(flow.signInPage, /Continue with TestIdP/);
    assert.equal(flow.started.status, 303, flow.started.body.slice(0, 300));
    const callback = await signInAtIdp(idp, flow.started.location ?? '', login);
    assert.ok(callback.startsWith(`${system.authUrl}/interaction/callback/testidp?`), callback);
    const code = await finishAtCallgate(browser, callback);

    await first.finishAuth(code);
    const client = new Client({ name: 'upstream-e2e', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(system.mcpUrl), { authProvider: provider }));
    const balance = await client.callTool({ name: 'getCreditBalance', arguments: {} });
    assert.notEqual(balance.isError, true, JSON.stringify(balance));
    assert.equal(
      (balance.structuredContent as { balance: { available: number } }).balance.available,
      500,
      'SIGNUP_CREDITS default, as for every new account',
    );
    const history = await client.callTool({ name: 'getCallHistory', arguments: { pageSize: 5 } });
    assert.notEqual(history.isError, true, JSON.stringify(history));
    await client.close();
  });
});
