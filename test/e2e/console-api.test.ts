/**
 * The server side of the web console (issue 21), through the gateway's public MCP endpoint only, with
 * the official v2 SDK client (which validates every structuredContent against the outputSchema it
 * listed) and tokens the console really gets: a person signs up, signs in as the pre-registered public
 * client `callgate-console` (authorization code + PKCE, the token fetched with the console's Origin),
 * then lists, creates and revokes their personal access tokens and connected apps. A created token works
 * at the gateway and stops after revoke; a revoked app's tokens stop. Hostile: another person's ids
 * answer exactly as unknown ones, a token without apps:manage gets the scope challenge, a token cannot be
 * given scopes its creator lacks, names are bounded, a hundred concurrent creates leave at most the cap
 * (a thousand at once is services/auth/src/apps-manage.test.ts's, at the store: here a thousand sockets from one
 * process overflowed the loaded machine's accept queue, `fetch failed`, which tests the OS, not the cap).
 * Also: estimateCallCost holds what makePhoneCall then holds; the search by number; CORS for the console's
 * origin at the gateway and the authorization server, and none for another origin.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { LocalSystem } from '../../scripts/local-system.js';
import { startLocalSystem } from '../../scripts/local-system.js';
import { NUMBERS } from '../support/calls.js';
import { eventually } from '../support/eventually.js';
import { mailedLink } from '../support/oauth.js';
import { authorizeUrl, csrfOf, interactionOf, pkcePair, ScriptedBrowser } from '../support/oauth-flow.js';
import { PLAN_SANDBOX_ENV } from '../support/tool-plan.js';

/** The console's origin as the auth service is configured by default (AUTH_CONSOLE_REDIRECT_URIS). */
const CONSOLE_ORIGIN = 'http://127.0.0.1:8083';
const REDIRECT = `${CONSOLE_ORIGIN}/callback`;
const EVIL_ORIGIN = 'https://evil.example';
const CONSOLE_SCOPES =
  'openid offline_access calls:read calls:write profile:read profile:write credits:read apps:manage';
const PASSWORD = 'console api password';

let system: LocalSystem;
const alice = { email: `alice-${randomUUID()}@example.com` };
const bob = { email: `bob-${randomUUID()}@example.com` };

async function signUp(email: string): Promise<void> {
  const browser = new ScriptedBrowser(system.authUrl);
  const form = await browser.request('/signup');
  await browser.request('/signup', { form: { csrf: csrfOf(form.body), email, password: PASSWORD } });
  await browser.request(await mailedLink(system, email, /Confirm/));
}

interface ConsoleTokens {
  access: string;
  refresh: string;
  tokenResponse: Response;
}

/** Signs in as the console (a new browser: a grant of its own) and exchanges the code as the SPA does. */
async function consoleSignIn(email: string, scope = CONSOLE_SCOPES): Promise<ConsoleTokens> {
  const browser = new ScriptedBrowser(system.authUrl);
  const { verifier, challenge } = pkcePair();
  const login = await browser.follow(
    authorizeUrl({
      client_id: 'callgate-console',
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: system.mcpUrl,
      scope,
      state: 'st',
    }),
  );
  const uid = interactionOf(login.url);
  assert.ok(uid, `a sign-in page: ${login.status} ${login.body.slice(0, 200)}`);
  const signedIn = await browser.request(`/interaction/${uid}/login`, {
    form: { csrf: csrfOf(login.body), email, password: PASSWORD },
  });
  const consent = await browser.follow(new URL(signedIn.location ?? '', system.authUrl).pathname);
  const allowed = await browser.request(`/interaction/${interactionOf(consent.url)}/consent`, {
    form: { csrf: csrfOf(consent.body), decision: 'allow' },
  });
  const back = await browser.follow(new URL(allowed.location ?? '', system.authUrl).pathname);
  const code = new URL(back.location ?? '').searchParams.get('code') ?? '';
  assert.ok(code, `redirected with a code: ${back.location}`);
  const tokenResponse = await fetch(`${system.authUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: CONSOLE_ORIGIN },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: 'callgate-console',
      code_verifier: verifier,
      resource: system.mcpUrl,
    }),
  });
  const body = (await tokenResponse.clone().json()) as Record<string, string>;
  assert.equal(tokenResponse.status, 200, JSON.stringify(body));
  return { access: body.access_token ?? '', refresh: body.refresh_token ?? '', tokenResponse };
}

/** The official v2 client; tools/list first, so that callTool validates each result against its outputSchema. */
async function mcp(token: string): Promise<Client> {
  const client = new Client({ name: 'callgate-console-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(system.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  await client.listTools();
  return client;
}

type Structured<T> = T;
async function call<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<Structured<T>> {
  const result = await client.callTool({ name, arguments: args });
  assert.notEqual(result.isError, true, `${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

/** The text of a tool's refusal (isError), or of the error a refused request threw. */
async function refusedText(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  try {
    const result = await client.callTool({ name, arguments: args });
    assert.equal(result.isError, true, `${name} accepted ${JSON.stringify(args).slice(0, 200)}`);
    return (result.content as { text: string }[]).map((c) => c.text).join('\n');
  } catch (error) {
    return `${String(error)} ${JSON.stringify((error as { data?: unknown }).data ?? '')}`;
  }
}

type App = { grantId: string; clientId: string; clientName: string; scopes: string[]; lastUsedAt: string | null };
type TokenInfo = { tokenId: string; name: string; scopes: string[]; lastUsedAt: string | null };

before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      AUTH_CHECK_CACHE_MS: '200',
      ...PLAN_SANDBOX_ENV,
    },
  });
  await Promise.all([signUp(alice.email), signUp(bob.email)]);
});
after(async () => {
  await system?.stop();
});

describe('connected apps and personal access tokens through MCP', () => {
  it('a person creates a token that works at the gateway, lists it, and revokes it: it stops', async () => {
    const signedIn = await consoleSignIn(alice.email);
    const console = await mcp(signedIn.access);
    try {
      const { apps } = await call<{ apps: App[] }>(console, 'listConnectedApps', {});
      const own = apps.find((a) => a.clientId === 'callgate-console');
      assert.ok(own, `the console's own grant is listed: ${JSON.stringify(apps)}`);
      assert.equal(own.clientName, 'callgate console');
      assert.ok(own.scopes.includes('apps:manage') && own.scopes.includes('calls:write'), own.scopes.join(' '));
      await eventually('the grant’s use is recorded', async () => {
        const again = await call<{ apps: App[] }>(console, 'listConnectedApps', {});
        return again.apps.find((a) => a.grantId === own.grantId)?.lastUsedAt ?? undefined;
      });

      const created = await call<{ tokenId: string; token: string; scopes: string[]; expiresAt: string }>(
        console,
        'createPersonalToken',
        { name: 'my agent', scopes: ['calls:read'], expiresInDays: 7 },
      );
      assert.match(created.token, /^cgp_/);
      assert.deepEqual(created.scopes, ['calls:read']);
      const listed = await call<{ tokens: TokenInfo[] }>(console, 'listPersonalTokens', {});
      const entry = listed.tokens.find((t) => t.tokenId === created.tokenId);
      assert.ok(entry, 'listed');
      assert.equal(entry.name, 'my agent');
      assert.doesNotMatch(JSON.stringify(listed), /cgp_/, 'the secret is never listed');

      // The token at the gateway: its scope works, apps:manage it does not hold (the scope challenge).
      const agent = await mcp(created.token);
      try {
        await call(agent, 'getCallHistory', { pageSize: 1 });
        const challenge = await refusedText(agent, 'listPersonalTokens', {});
        assert.match(challenge, /403|insufficient[_ ]scope/i);
        assert.match(challenge, /apps:manage/);
      } finally {
        await agent.close();
      }
      const used = (await call<{ tokens: TokenInfo[] }>(console, 'listPersonalTokens', {})).tokens.find(
        (t) => t.tokenId === created.tokenId,
      );
      assert.ok(used?.lastUsedAt, 'its use is recorded');

      assert.deepEqual(await call(console, 'revokePersonalToken', { tokenId: created.tokenId }), {
        tokenId: created.tokenId,
        revoked: true,
      });
      await eventually('the revoked token is refused at the gateway', async () => {
        const status = (
          await fetch(system.mcpUrl, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${created.token}`,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
            },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
          })
        ).status;
        return status === 401 ? true : undefined;
      });
      const after = await call<{ tokens: TokenInfo[] }>(console, 'listPersonalTokens', {});
      assert.ok(!after.tokens.some((t) => t.tokenId === created.tokenId), 'a revoked token is not listed');
      const twice = await refusedText(console, 'revokePersonalToken', { tokenId: created.tokenId });
      assert.match(twice, /personal access token not found/);
    } finally {
      await console.close();
    }
  });

  it('revoking a connected app ends its access tokens at the gateway and its refresh token', async () => {
    const first = await consoleSignIn(alice.email);
    const second = await consoleSignIn(alice.email, 'openid calls:read apps:manage');
    const console = await mcp(first.access);
    const other = await mcp(second.access);
    try {
      // A sign-in holding calls:read only cannot mint itself a token with more.
      const beyond = await refusedText(other, 'createPersonalToken', {
        name: 'more',
        scopes: ['calls:read', 'calls:write'],
        expiresInDays: 1,
      });
      assert.match(beyond, /does not hold calls:write/);
      const { apps } = await call<{ apps: App[] }>(console, 'listConnectedApps', {});
      const target = apps.find((a) => a.scopes.length === 3 && a.scopes.includes('apps:manage'));
      assert.ok(target, JSON.stringify(apps));
      assert.deepEqual(await call(console, 'revokeConnectedApp', { grantId: target.grantId }), {
        grantId: target.grantId,
        revoked: true,
      });
      await eventually('the revoked app’s access token is refused', async () => {
        const answer = await other.callTool({ name: 'getCallHistory', arguments: {} }).catch((e: Error) => e);
        return answer instanceof Error && /401|unauthorized|revoked/i.test(String(answer)) ? true : undefined;
      });
      const refreshed = await fetch(`${system.authUrl}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: second.refresh,
          client_id: 'callgate-console',
        }),
      });
      assert.equal(((await refreshed.json()) as { error?: string }).error, 'invalid_grant');
      const left = await call<{ apps: App[] }>(console, 'listConnectedApps', {});
      assert.ok(!left.apps.some((a) => a.grantId === target.grantId));
      await call(console, 'listPersonalTokens', {});
    } finally {
      await other.close().catch(() => undefined);
      await console.close();
    }
  });

  it('another person’s grant or token is "not found" exactly as an unknown one, and stays', async () => {
    const [mine, theirs] = await Promise.all([consoleSignIn(alice.email), consoleSignIn(bob.email)]);
    const a = await mcp(mine.access);
    const b = await mcp(theirs.access);
    try {
      const bobsToken = await call<{ tokenId: string; token: string }>(b, 'createPersonalToken', {
        name: 'bob’s',
        scopes: ['calls:read'],
        expiresInDays: 1,
      });
      const bobsGrant = (await call<{ apps: App[] }>(b, 'listConnectedApps', {})).apps[0];
      assert.ok(bobsGrant);
      const aliceSees = await call<{ apps: App[] }>(a, 'listConnectedApps', {});
      assert.ok(!aliceSees.apps.some((app) => app.grantId === bobsGrant.grantId), 'alice never sees bob’s apps');
      const aliceTokens = await call<{ tokens: TokenInfo[] }>(a, 'listPersonalTokens', {});
      assert.ok(!aliceTokens.tokens.some((t) => t.tokenId === bobsToken.tokenId), 'nor his tokens');

      assert.equal(
        await refusedText(a, 'revokePersonalToken', { tokenId: bobsToken.tokenId }),
        await refusedText(a, 'revokePersonalToken', { tokenId: 'AAAAAAAAAAAAAAAA' }),
      );
      assert.equal(
        await refusedText(a, 'revokeConnectedApp', { grantId: bobsGrant.grantId }),
        await refusedText(a, 'revokeConnectedApp', { grantId: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
      );
      // Bob's token and grant still work.
      const bobsAgent = await mcp(bobsToken.token);
      await call(bobsAgent, 'getCallHistory', {});
      await bobsAgent.close();
      await call(b, 'listConnectedApps', {});
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses bad arguments, and a hundred concurrent creates (more than the cap of 50 and the 60 a caller may have in flight) leave at most the cap, each refusal clear', async () => {
    const signedIn = await consoleSignIn(bob.email);
    const client = await mcp(signedIn.access);
    try {
      for (const args of [
        { name: 'x', scopes: ['apps:manage'], expiresInDays: 1 },
        { name: 'x', scopes: ['admin'], expiresInDays: 1 },
        { name: 'x'.repeat(65), scopes: ['calls:read'], expiresInDays: 1 },
        { name: 'x'.repeat(200_000), scopes: ['calls:read'], expiresInDays: 1 },
        { name: 'a\u0000b', scopes: ['calls:read'], expiresInDays: 1 },
        { name: 'x', scopes: ['calls:read'], expiresInDays: 366 },
      ]) {
        const text = await refusedText(client, 'createPersonalToken', args);
        assert.match(text, /Input validation error|invalid|too large|413/i, text.slice(0, 300));
      }
      const outcomes = await Promise.allSettled(
        Array.from({ length: 100 }, (_, i) =>
          client.callTool({
            name: 'createPersonalToken',
            arguments: { name: `crowd ${i}`, scopes: ['calls:read'], expiresInDays: 1 },
          }),
        ),
      );
      let made = 0;
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled' && outcome.value.isError !== true) {
          made++;
          continue;
        }
        const text = outcome.status === 'fulfilled' ? JSON.stringify(outcome.value.content) : String(outcome.reason);
        // The cap, or the gateway's per-user rate limit: both say what happened.
        assert.match(text, /live personal access tokens|rate limit|too many requests|429/i, text.slice(0, 300));
      }
      // The flood emptied the caller's request bucket: list once it refills.
      const tokens = await eventually('the list once the rate limit lets it through', async () => {
        const result = await client.callTool({ name: 'listPersonalTokens', arguments: {} }).catch(() => undefined);
        return result && result.isError !== true
          ? (result.structuredContent as { tokens: TokenInfo[] }).tokens
          : undefined;
      });
      const live = tokens.filter((t) => t.name.startsWith('crowd ')).length;
      assert.ok(live === made && live <= 50, `made ${made}, ${live} live`);
    } finally {
      await client.close();
    }
  });
});

describe('estimateCallCost and the search by number', () => {
  it('estimates the hold makePhoneCall then takes, and finds the call by part of its number', async () => {
    const signedIn = await consoleSignIn(alice.email);
    const client = await mcp(signedIn.access);
    try {
      const { models, defaultModel } = await call<{
        models: { id: string; creditsPerMinute: number }[];
        defaultModel: string;
      }>(client, 'getModelOptions', {});
      const estimate = await call<{
        model: string;
        maxDurationSeconds: number;
        creditsPerMinute: number;
        holdCredits: number;
        availableCredits: number;
        enough: boolean;
      }>(client, 'estimateCallCost', { maxDurationSeconds: 120 });
      assert.equal(estimate.model, defaultModel, 'the default model from preferences');
      assert.equal(estimate.creditsPerMinute, models.find((m) => m.id === defaultModel)?.creditsPerMinute);
      assert.equal(estimate.enough, estimate.availableCredits >= estimate.holdCredits);
      assert.ok(estimate.holdCredits > 0);
      const unknown = await refusedText(client, 'estimateCallCost', { model: 'no-such-model' });
      assert.match(unknown, /unknown model/);

      const before = await call<{ balance: { held: number } }>(client, 'getCreditBalance', {});
      const placed = await call<{ call: { callId: string } }>(client, 'makePhoneCall', {
        to: NUMBERS.answers,
        task: 'Ask for the opening hours.',
        maxDurationSeconds: 120,
        idempotencyKey: `console-${randomUUID()}`,
      });
      const held = await call<{ balance: { held: number } }>(client, 'getCreditBalance', {});
      assert.equal(held.balance.held - before.balance.held, estimate.holdCredits, 'the hold is the estimate');

      const found = await call<{ calls: { callId: string }[] }>(client, 'getCallHistory', { number: '555000' });
      assert.ok(found.calls.some((c) => c.callId === placed.call.callId));
      const none = await call<{ calls: unknown[] }>(client, 'getCallHistory', { number: '99999999' });
      assert.deepEqual(none.calls, []);
      for (const number of ['%', '_', '\\', '555%', 'abc', '1'.repeat(21)]) {
        assert.match(await refusedText(client, 'getCallHistory', { number }), /Input validation error[\s\S]*number/);
      }
      await call(client, 'cancelCall', { callId: placed.call.callId });
    } finally {
      await client.close();
    }
  });
});

describe('CORS for the console', () => {
  const preflight = (url: string, origin: string) =>
    fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, mcp-protocol-version',
      },
    });

  it('the gateway answers the console’s origin on /mcp and the metadata, and no other origin', async () => {
    const metadata = `${new URL(system.mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`;
    for (const url of [system.mcpUrl, metadata]) {
      const ok = await preflight(url, CONSOLE_ORIGIN);
      assert.equal(ok.status, 204, url);
      assert.equal(ok.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
      assert.match(ok.headers.get('access-control-allow-methods') ?? '', /GET.*POST.*DELETE/);
      for (const header of [
        'Authorization',
        'Content-Type',
        'Mcp-Session-Id',
        'Mcp-Protocol-Version',
        'Last-Event-ID',
      ]) {
        assert.ok(ok.headers.get('access-control-allow-headers')?.includes(header), header);
      }
      const evil = await preflight(url, EVIL_ORIGIN);
      assert.equal(evil.headers.get('access-control-allow-origin'), null, `${url}: no CORS for another origin`);
      assert.notEqual(evil.status, 204);
    }
    const read = await fetch(metadata, { headers: { origin: CONSOLE_ORIGIN } });
    assert.equal(read.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    // apps:manage is the console's alone (it asks for it by name): a client that registers with the listed
    // scopes must be accepted by the authorization server, which grants apps:manage to no other client.
    const listed = ((await read.json()) as { scopes_supported: string[] }).scopes_supported;
    assert.ok(!listed.includes('apps:manage'), `${listed}`);
    const registered = await fetch(`${system.authUrl}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['http://127.0.0.1:9/callback'],
        token_endpoint_auth_method: 'none',
        scope: listed.join(' '),
      }),
    });
    assert.equal(registered.status, 201, await registered.text());
    const unread = await fetch(metadata, { headers: { origin: EVIL_ORIGIN } });
    assert.equal(unread.headers.get('access-control-allow-origin'), null);

    const post = (origin: string, token?: string) =>
      fetch(system.mcpUrl, {
        method: 'POST',
        headers: {
          origin,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cors', version: '1' } },
        }),
      });
    const challenge = await post(CONSOLE_ORIGIN);
    assert.equal(challenge.status, 401);
    assert.equal(challenge.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    assert.match(challenge.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
    const { access } = await consoleSignIn(alice.email);
    const opened = await post(CONSOLE_ORIGIN, access);
    assert.equal(opened.status, 200);
    assert.equal(opened.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    assert.match(opened.headers.get('access-control-expose-headers') ?? '', /Mcp-Session-Id/);
    assert.ok(opened.headers.get('mcp-session-id'));
    await opened.body?.cancel();
    const refused = await post(EVIL_ORIGIN, access);
    assert.equal(refused.status, 403, 'another origin is still refused');
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
  });

  it('the authorization server answers the console’s origin on discovery, token and revocation only', async () => {
    const discovery = await fetch(`${system.authUrl}/.well-known/oauth-authorization-server`, {
      headers: { origin: CONSOLE_ORIGIN },
    });
    assert.ok(['*', CONSOLE_ORIGIN].includes(discovery.headers.get('access-control-allow-origin') ?? ''));
    const tokenPreflight = await preflight(`${system.authUrl}/token`, CONSOLE_ORIGIN);
    assert.equal(tokenPreflight.status, 204);
    assert.equal(tokenPreflight.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);

    const signedIn = await consoleSignIn(alice.email);
    assert.equal(signedIn.tokenResponse.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    const refresh = (origin: string) =>
      fetch(`${system.authUrl}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: signedIn.refresh,
          client_id: 'callgate-console',
        }),
      });
    const evil = await refresh(EVIL_ORIGIN);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    assert.equal(((await evil.json()) as { error?: string }).error, 'invalid_request');
    const ok = await refresh(CONSOLE_ORIGIN);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
    const { refresh_token } = (await ok.json()) as { refresh_token: string };
    const revoked = await fetch(`${system.authUrl}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: CONSOLE_ORIGIN },
      body: new URLSearchParams({ token: refresh_token, client_id: 'callgate-console' }),
    });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.headers.get('access-control-allow-origin'), CONSOLE_ORIGIN);
  });
});
