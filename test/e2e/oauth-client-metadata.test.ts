/**
 * Signing in from the official v2 client (@modelcontextprotocol/client) named by a Client ID Metadata
 * Document URL, against the whole local system: from the gateway's 401 it discovers the protected
 * resource and the authorization server (which advertises client_id_metadata_document_supported),
 * sends its document's https URL as client_id, the auth service fetches that document (from a
 * loopback HTTPS server with a certificate made at test time, trusted by AUTH_CIMD_EXTRA_CA_FILE in
 * local mode), a person signs up and in and consents in Chromium, and the client calls getCallHistory.
 * An oversized document and one whose client_id is not its URL are refused.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { type Browser, chromium } from 'playwright-core';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { chromiumMissing } from '../support/chromium.js';
import { ClientMetadataServer } from '../support/client-metadata-server.js';
import { eventually } from '../support/eventually.js';
import { CallbackServer, CHROMIUM, CHROMIUM_ARGS, MemoryOAuthProvider, signInAndConsent } from '../support/oauth.js';
import { authorizeUrl, pkcePair, ScriptedBrowser } from '../support/oauth-flow.js';

describe('signing in from the v2 client with a Client ID Metadata Document URL', { skip: chromiumMissing }, () => {
  let system: LocalSystem;
  let callbacks: CallbackServer;
  let documents: ClientMetadataServer;
  let browser: Browser;
  /** The client signed in by the first test (its tokens), for the refresh and revocation test. */
  let signedIn: { provider: MemoryOAuthProvider; clientId: string } | undefined;
  const metadata = (url: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      client_id: url,
      client_name: 'callgate v2 test client',
      redirect_uris: [callbacks.url],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...extra,
    });

  before(async () => {
    callbacks = await CallbackServer.start();
    documents = await ClientMetadataServer.start();
    system = await startLocalSystem({
      ports: 'ephemeral',
      env: {
        ...process.env,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
        AUTH_CIMD_EXTRA_CA_FILE: documents.caFile,
        AUTH_CHECK_CACHE_MS: '200',
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await system?.stop();
    await documents?.close();
    await callbacks?.close();
  });

  it('starts from a 401, names itself by its metadata URL, signs in, consents and calls getCallHistory', async () => {
    const clientId = documents.serve('/v2-client.json', (url) => metadata(url));
    const provider = new MemoryOAuthProvider(callbacks.url, 'callgate v2 test client', clientId);
    const first = new StreamableHTTPClientTransport(new URL(system.mcpUrl), { authProvider: provider });
    await assert.rejects(new Client({ name: 'v2-oauth', version: '1' }).connect(first), UnauthorizedError);
    const authorizationUrl = provider.authorizationUrls[0];
    assert.ok(authorizationUrl, 'the client was sent to the authorization server');
    assert.equal(authorizationUrl.searchParams.get('client_id'), clientId, 'the metadata URL is the client_id');
    assert.equal(authorizationUrl.searchParams.get('resource'), system.mcpUrl);
    await signInAndConsent(browser, system, authorizationUrl, {
      email: `v2-${randomUUID()}@example.com`,
      password: 'correct horse battery staple',
      signUp: true,
    });
    const redirect = await callbacks.next();
    await first.finishAuth(redirect.get('code') ?? '', redirect.get('iss') ?? undefined);
    const client = new Client({ name: 'v2-oauth', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(system.mcpUrl), { authProvider: provider }));
    const history = await client.callTool({ name: 'getCallHistory', arguments: { pageSize: 5 } });
    assert.notEqual(history.isError, true, JSON.stringify(history));
    await client.close();
    signedIn = { provider, clientId };
  });

  it('the v2 client refreshes by itself when its access token is refused; revoking the refresh token shuts it out', async () => {
    assert.ok(signedIn, 'the sign-in test ran first');
    const { provider, clientId } = signedIn;
    const before = provider.saved;
    assert.ok(before?.refresh_token, 'a refresh token was issued');
    // The access token no longer passes (as when it expired): the SDK refreshes with its refresh token.
    provider.saveTokens({ ...before, access_token: 'not-a-valid-token' });
    const client = new Client({ name: 'v2-oauth', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(system.mcpUrl), { authProvider: provider }));
    const refreshed = provider.saved;
    assert.ok(refreshed?.access_token && refreshed.access_token !== 'not-a-valid-token', 'a new access token');
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== before.refresh_token, 'the refresh token rotated');
    assert.equal(provider.authorizationUrls.length, 1, 'no new sign-in was needed');
    const history = await client.callTool({ name: 'getCallHistory', arguments: { pageSize: 5 } });
    assert.notEqual(history.isError, true, JSON.stringify(history));
    await client.close();

    // Revoking the refresh token ends the grant: its access tokens are refused at the gateway within AUTH_CHECK_CACHE_MS.
    const revoked = await fetch(`${system.authUrl}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: refreshed.refresh_token ?? '',
        token_type_hint: 'refresh_token',
        client_id: clientId,
      }),
    });
    assert.equal(revoked.status, 200);
    await eventually('the revoked grant refused at the gateway', async () => {
      const response = await fetch(system.mcpUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${refreshed.access_token}`,
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
      return response.status === 401 ? true : undefined;
    });
    // And the SDK cannot refresh its way back in: the authorization server refuses the revoked refresh
    // token (invalid_grant; the v2 SDK surfaces it as an OAuthError rather than starting a new sign-in).
    await assert.rejects(
      new Client({ name: 'v2-oauth', version: '1' }).connect(
        new StreamableHTTPClientTransport(new URL(system.mcpUrl), { authProvider: provider }),
      ),
      (error: Error) =>
        error instanceof UnauthorizedError || /invalid_grant|grant request is invalid/.test(String(error.message)),
    );
  });

  /** What the authorization endpoint answers a request naming `clientId`. */
  async function authorize(clientId: string) {
    const { challenge } = pkcePair();
    return new ScriptedBrowser(system.authUrl).request(
      authorizeUrl({
        client_id: clientId,
        redirect_uri: callbacks.url,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: system.mcpUrl,
      }),
    );
  }

  it('a metadata document over the size limit (5 KiB) is refused (invalid_client), with no redirect', async () => {
    const answer = await authorize(
      documents.serve('/oversized.json', (url) => metadata(url, { client_name: 'x'.repeat(6 * 1024) })),
    );
    // Fetched (then refused for its size), not dropped before the request: the refusal is about the size.
    assert.ok((documents.requests.get('/oversized.json') ?? 0) >= 1, 'the document was fetched');
    assert.equal(answer.location, null);
    assert.equal(answer.status, 400);
    assert.match(answer.body, /invalid_client/);
  });

  it('a metadata document whose client_id is not its own URL is refused (invalid_client_metadata), with no redirect', async () => {
    const answer = await authorize(
      documents.serve('/mismatched.json', () => metadata(`${documents.origin}/someone-else.json`)),
    );
    assert.equal(answer.location, null);
    assert.equal(answer.status, 400);
    assert.match(answer.body, /invalid_client/);
    assert.match(answer.body, /invalid_client_metadata/);
    assert.match(answer.body, /does not match/);
  });

  it('the well-formed document is accepted by the same endpoint (the refusals above are about the documents)', async () => {
    const answer = await authorize(documents.serve('/plain.json', (url) => metadata(url)));
    assert.equal(answer.status, 303, answer.body.slice(0, 300));
    assert.match(answer.location ?? '', /\/interaction\//);
  });
});
