/**
 * Signing in from an MCP client against the whole local system: the official v1 SDK client starts
 * from the gateway's 401, discovers the protected resource metadata and the authorization server,
 * registers itself (Dynamic Client Registration), and a person signs up, confirms the mailed link,
 * signs in and consents in headless Chromium; the client exchanges the code and calls
 * getCallHistory. Then a refresh works, a reused refresh token ends the whole grant, and revoking
 * the grant (RFC 7009) shuts the client out at the gateway.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { refreshAuthorization, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type Browser, chromium } from 'playwright-core';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { chromiumMissing } from '../support/chromium.js';
import { eventually } from '../support/eventually.js';
import { CallbackServer, CHROMIUM, CHROMIUM_ARGS, MemoryOAuthProvider, signInAndConsent } from '../support/oauth.js';

const missing = chromiumMissing;
const PASSWORD = 'correct horse battery staple';

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

/** Status of an MCP initialize sent with this bearer token. */
async function statusWith(system: LocalSystem, token: string): Promise<number> {
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
  return response.status;
}

describe('signing in from the v1 SDK client (Dynamic Client Registration) in Chromium', { skip: missing }, () => {
  let system: LocalSystem;
  let callbacks: CallbackServer;
  let browser: Browser;
  before(async () => {
    system = await startLocalSystem({
      ports: 'ephemeral',
      // A short reuse of the auth service's answers, so a revocation shows within the test.
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', AUTH_CHECK_CACHE_MS: '200' },
    });
    callbacks = await CallbackServer.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await callbacks?.close();
    await system?.stop();
  });

  /** The v1 client from its first 401 to connected, with a person signing in (and up, when asked) in Chromium. */
  async function connectV1(account: { email: string; signUp: boolean }) {
    const provider = new MemoryOAuthProvider(callbacks.url, 'callgate v1 test client');
    const first = new StreamableHTTPClientTransport(new URL(system.mcpUrl), { authProvider: provider });
    await assert.rejects(new Client({ name: 'v1-oauth', version: '1' }).connect(first), UnauthorizedError);
    assert.ok(provider.client?.client_id, 'the client registered itself (DCR)');
    const authorizationUrl = provider.authorizationUrls[0];
    assert.ok(authorizationUrl, 'the client was sent to the authorization server');
    assert.equal(authorizationUrl.origin, new URL(system.authUrl).origin);
    assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorizationUrl.searchParams.get('resource'), system.mcpUrl);
    const { consentScopes } = await signInAndConsent(browser, system, authorizationUrl, {
      ...account,
      password: PASSWORD,
    });
    const redirect = await callbacks.next();
    assert.equal(redirect.get('iss'), system.authUrl, 'RFC 9207: the issuer comes back with the code');
    await first.finishAuth(redirect.get('code') ?? '');
    const client = new Client({ name: 'v1-oauth', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(system.mcpUrl), { authProvider: provider }));
    return { provider, client, consentScopes };
  }

  it('starts from a 401, registers, signs up and in, consents, calls getCallHistory; a refresh works; revoking shuts it out', async () => {
    const email = `v1-${randomUUID()}@example.com`;
    const { provider, client, consentScopes } = await connectV1({ email, signUp: true });
    assert.ok(consentScopes.includes('calls:read'), `the consent screen lists the scopes asked for: ${consentScopes}`);
    const history = await client.callTool({ name: 'getCallHistory', arguments: { pageSize: 5 } });
    assert.notEqual(history.isError, true, JSON.stringify(history));
    await client.close();

    const tokens = provider.saved;
    assert.ok(tokens?.access_token && tokens.refresh_token);
    const claims = claimsOf(tokens.access_token);
    assert.equal(claims.aud, system.mcpUrl, 'RFC 8707: the token is for the gateway');
    assert.equal(claims.iss, system.authUrl);
    assert.match(String(claims.scope), /calls:read/);

    // A refresh rotates the refresh token and gives an access token the gateway takes.
    const refreshed = await refreshAuthorization(system.authUrl, {
      clientInformation: provider.client as NonNullable<typeof provider.client>,
      refreshToken: tokens.refresh_token,
      resource: new URL(system.mcpUrl),
    });
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotated');
    assert.equal(await statusWith(system, refreshed.access_token), 200);

    // Revoking the grant (through its refresh token) shuts the client out at the gateway.
    const revoked = await fetch(`${system.authUrl}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: refreshed.refresh_token ?? '',
        token_type_hint: 'refresh_token',
        client_id: provider.client?.client_id ?? '',
      }),
    });
    assert.equal(revoked.status, 200);
    await eventually('the revoked grant refused at the gateway', async () =>
      (await statusWith(system, refreshed.access_token)) === 401 ? true : undefined,
    );
  });

  it('a reused refresh token is refused (invalid_grant) and ends the whole grant', async () => {
    const { provider, client } = await connectV1({ email: `reuse-${randomUUID()}@example.com`, signUp: true });
    await client.close();
    const clientInformation = provider.client as NonNullable<typeof provider.client>;
    const resource = new URL(system.mcpUrl);
    const first = provider.saved?.refresh_token ?? '';
    const second = await refreshAuthorization(system.authUrl, { clientInformation, refreshToken: first, resource });
    assert.equal(await statusWith(system, second.access_token), 200);
    await assert.rejects(
      refreshAuthorization(system.authUrl, { clientInformation, refreshToken: first, resource }),
      (error: Error) => /invalid_grant|grant request is invalid/i.test(`${error.name} ${error.message}`),
    );
    // The whole family: the token from the legitimate refresh stops working too.
    await eventually('the grant of a reused refresh token refused at the gateway', async () =>
      (await statusWith(system, second.access_token)) === 401 ? true : undefined,
    );
    await assert.rejects(
      refreshAuthorization(system.authUrl, { clientInformation, refreshToken: second.refresh_token ?? '', resource }),
    );
  });
});
