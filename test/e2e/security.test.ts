/**
 * The gateway's security rules as an attacker meets them, on the wire. A gateway configured with an
 * identity provider's JWKS (RS256 and ES256 keys served here, rotated mid-test) refuses every kind of
 * bad token over HTTP and at the WebSocket upgrade with a 401 challenge, accepts good ones, and
 * answers 503 (never 500) when the JWKS cannot be fetched. The local system's own gateway (HS256)
 * serves the rest: scopes, Origin, body limits, JSON-RPC errors, and one user never reading another's call.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type ServiceHandle } from '@callgate/common';
import { gatewayConfigShape, startGateway } from '@callgate/gateway';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { WsClientTransport } from '../../scripts/ws-client-transport.js';
import { NUMBERS } from '../support/calls.js';
import { b64, type JwksServer, newKey, signWith, startJwksServer, type TestKey } from '../support/jwks.js';
import { httpClient, tokenFor, wsClient } from '../support/system.js';
import { opened } from '../support/websocket.js';

const LEVEL = process.env.LOG_LEVEL ?? 'silent';
const IDP = { issuer: 'https://idp.example.test/', audience: 'https://callgate.example.test/mcp' };
const MAX_BODY = 65_536;

let system: LocalSystem;
let jwks: JwksServer;
let rsa: TestKey;
let ec: TestKey;
/** The gateway that takes tokens from the JWKS. */
let idpGateway: ServiceHandle;
/** A gateway whose JWKS URL answers nothing (connection refused). */
let blindGateway: ServiceHandle;

/** A gateway of its own against the local system's services, configured by env. */
function gatewayWith(env: Record<string, string>): Promise<ServiceHandle> {
  return startGateway(
    loadConfig('gateway', gatewayConfigShape, {
      LOG_LEVEL: LEVEL,
      HTTP_PORT: '0',
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      CALL_SERVICE_ADDR: system.grpc.call as string,
      CREDIT_SERVICE_ADDR: system.grpc['user-credit'] as string,
      JWT_ISSUER: IDP.issuer,
      JWT_AUDIENCE: IDP.audience,
      ...env,
    }),
  );
}

/** A 127.0.0.1 URL on which nothing listens. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/.well-known/jwks.json`;
}

before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: LEVEL,
      SANDBOX_CALL_STEP_MS: '30',
      SANDBOX_TALK_MS: '200',
      MCP_MAX_BODY_BYTES: String(MAX_BODY),
    },
  });
  rsa = newKey('RS256');
  ec = newKey('ES256');
  jwks = await startJwksServer([rsa, ec]);
  // No refetch cooldown, so the key-rotation test sees a kid published after its token was first refused.
  idpGateway = await gatewayWith({ JWT_JWKS_URL: jwks.url, JWT_JWKS_COOLDOWN_MS: '0' });
  blindGateway = await gatewayWith({ JWT_JWKS_URL: await deadUrl() });
});
after(async () => {
  await blindGateway?.stop();
  await idpGateway?.stop();
  await jwks?.stop();
  await system?.stop();
});

const idpUrl = () => idpGateway.endpoints.mcp as string;
const metadataUrlOf = (mcpUrl: string) => mcpUrl.replace('/mcp', '/.well-known/oauth-protected-resource/mcp');
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const now = () => Math.floor(Date.now() / 1000);

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'security', version: '1' } },
};

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The JSON-RPC messages of a response, whether sent as JSON or as SSE events. */
async function messagesOf(res: Response): Promise<{ id?: unknown; result?: unknown; error?: { code: number } }[]> {
  const text = await res.text();
  if (res.headers.get('content-type')?.includes('text/event-stream')) {
    return (
      text
        .split('\n')
        // An event with empty data primes resumption (Last-Event-ID); it carries no message.
        .filter((line) => line.startsWith('data: ') && line.length > 6)
        .map((line) => JSON.parse(line.slice(6)))
    );
  }
  const parsed = JSON.parse(text);
  return Array.isArray(parsed) ? parsed : [parsed];
}

async function openSession(url: string, token: string): Promise<Record<string, string>> {
  const res = await post(url, initialize, bearer(token));
  assert.equal(res.status, 200);
  await res.text();
  const id = res.headers.get('mcp-session-id');
  assert.ok(id, 'initialize returned a session id');
  return { ...bearer(token), 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
}

/** Attempts a WebSocket upgrade; the HTTP status (101 when it switched) and headers of the answer. */
function upgrade(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace('http://', 'ws://'), 'mcp', { headers });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, headers: {} });
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
    });
    ws.once('error', reject);
  });
}

async function idpHttpClient(token: string): Promise<Client> {
  const client = new Client({ name: 'security', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(idpUrl()), { requestInit: { headers: bearer(token) } }),
  );
  return client;
}

async function idpWsClient(token: string): Promise<Client> {
  const client = new Client({ name: 'security', version: '1' });
  await client.connect(new WsClientTransport(idpUrl().replace('http://', 'ws://'), bearer(token)));
  return client;
}

/** tools/list over both transports with this token; fails the test unless both work. */
async function listsTools(token: string): Promise<void> {
  for (const connect of [idpHttpClient, idpWsClient]) {
    const client = await connect(token);
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'getCallDetails'));
    } finally {
      await client.close();
    }
  }
}

describe('tokens from a JWKS (RS256, ES256)', () => {
  const claims = { sub: 'idp-user', scope: 'calls:read profile:read' };

  // Each token is wrong in one way; the challenge names that way with a fixed phrase.
  const bad: [name: string, token: () => string, reason: RegExp | null][] = [
    ['no token', () => '', null],
    ['expired', () => signWith(rsa, IDP, { ...claims, exp: now() - 3600 }), /has expired/],
    [
      'not yet valid (nbf beyond the skew)',
      () => signWith(rsa, IDP, { ...claims, nbf: now() + 3600 }),
      /not valid yet/,
    ],
    ['from another issuer', () => signWith(rsa, { ...IDP, issuer: 'https://evil.example/' }, claims), /unknown issuer/],
    ['for another audience', () => signWith(ec, { ...IDP, audience: 'other-api' }, claims), /another audience/],
    [
      'alg none',
      () =>
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iss: IDP.issuer, aud: IDP.audience, exp: now() + 600 })}.`,
      /algorithm is not allowed/,
    ],
    [
      'alg none naming a real kid',
      () =>
        `${b64({ alg: 'none', typ: 'JWT', kid: rsa.kid })}.${b64({ ...claims, iss: IDP.issuer, aud: IDP.audience, exp: now() + 600 })}.`,
      /algorithm is not allowed/,
    ],
    [
      'HS256 signed with the RSA public key as the secret (HS/RS confusion)',
      () => {
        const secret = rsa.publicKey.export({ format: 'pem', type: 'spki' });
        const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: rsa.kid })}.${b64({
          ...claims,
          iss: IDP.issuer,
          aud: IDP.audience,
          exp: now() + 600,
        })}`;
        return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
      },
      /algorithm is not allowed/,
    ],
    [
      'with a tampered signature',
      () => {
        const [h, p, sig = ''] = signWith(rsa, IDP, claims).split('.');
        const i = Math.floor(sig.length / 2);
        return `${h}.${p}.${sig.slice(0, i)}${sig[i] === 'A' ? 'B' : 'A'}${sig.slice(i + 1)}`;
      },
      /signature is invalid/,
    ],
    [
      'with a tampered payload',
      () => {
        const [h, , sig] = signWith(ec, IDP, claims).split('.');
        return `${h}.${b64({ sub: 'someone-else', iss: IDP.issuer, aud: IDP.audience, exp: now() + 600 })}.${sig}`;
      },
      /signature is invalid/,
    ],
    [
      'signed by a key the JWKS does not hold (unknown kid)',
      () => signWith(newKey('RS256'), IDP, claims),
      /signing key is unknown/,
    ],
    [
      'signed by another key under a known kid',
      () => signWith(newKey('RS256'), IDP, claims, { kid: rsa.kid }),
      /signature is invalid/,
    ],
    ['ES256 naming the RSA key', () => signWith(ec, IDP, claims, { kid: rsa.kid }), /does not match its key/],
    ['without exp', () => signWith(ec, IDP, { ...claims, exp: null }), /no expiry/],
    ['without subject', () => signWith(rsa, IDP, { scope: 'calls:read' }), /no subject/],
  ];

  for (const [name, token, reason] of bad) {
    const check = (status: number, challenge: string) => {
      assert.equal(status, 401);
      assert.ok(
        challenge.startsWith(`Bearer resource_metadata="${metadataUrlOf(idpUrl())}"`),
        `challenge: ${challenge}`,
      );
      if (reason) {
        assert.match(challenge, /error="invalid_token"/);
        assert.match(challenge, reason);
      } else {
        // RFC 6750 §3.1: a request without credentials gets no error code.
        assert.doesNotMatch(challenge, /error=/);
      }
    };
    it(`HTTP, token ${name}: 401 with a Bearer challenge`, async () => {
      const value = token();
      const res = await post(idpUrl(), initialize, value ? bearer(value) : {});
      check(res.status, res.headers.get('www-authenticate') ?? '');
      const body = (await res.json()) as { error: { code: number; message: string } };
      assert.equal(typeof body.error.code, 'number');
    });
    it(`WebSocket upgrade, token ${name}: 401 with a Bearer challenge`, async () => {
      const value = token();
      const answer = await upgrade(idpUrl(), value ? bearer(value) : {});
      check(answer.status, String(answer.headers['www-authenticate'] ?? ''));
    });
  }

  it('a valid RS256 token works over HTTP and WebSocket', async () => {
    await listsTools(signWith(rsa, IDP, claims));
  });

  it('a valid ES256 token works over HTTP and WebSocket', async () => {
    await listsTools(signWith(ec, IDP, claims));
  });

  it('nbf within the clock tolerance is accepted', async () => {
    const res = await post(idpUrl(), initialize, bearer(signWith(rsa, IDP, { ...claims, nbf: now() + 10 })));
    assert.equal(res.status, 200);
    await res.text();
  });

  it('key rotation: a token under a newly published kid works without a restart', async () => {
    const next = newKey('RS256');
    const token = signWith(next, IDP, claims);
    const early = await post(idpUrl(), initialize, bearer(token));
    assert.equal(early.status, 401, 'not published yet');
    await early.text();
    jwks.serve([next, ec]);
    try {
      await listsTools(token);
    } finally {
      jwks.serve([rsa, ec, next]);
    }
  });

  it('a JWKS that cannot be fetched: 503 with Retry-After over HTTP and at the upgrade, never 500', async () => {
    const blindUrl = blindGateway.endpoints.mcp as string;
    const token = signWith(rsa, IDP, claims);
    const res = await post(blindUrl, initialize, bearer(token));
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
    const text = await res.text();
    assert.match(text, /authentication is temporarily unavailable/);
    assert.doesNotMatch(text, /127\.0\.0\.1|jwks/i, 'the JWKS location is not disclosed');
    const answer = await upgrade(blindUrl, bearer(token));
    assert.equal(answer.status, 503);
    assert.equal(answer.headers['retry-after'], '5');
    // A bad token is still refused as such, without asking the JWKS.
    const none = `${b64({ alg: 'none' })}.${b64({ sub: 'x', exp: now() + 60 })}.`;
    assert.equal((await post(blindUrl, initialize, bearer(none))).status, 401);
    const health = await fetch(blindUrl.replace('/mcp', '/healthz'));
    assert.equal(health.status, 200);
  });

  it('a token with CR/LF smuggled into its header is a 401 without a split header', async () => {
    const token = `${Buffer.from('{"alg":"RS256","kid":"x\\r\\nSet-Cookie: a=b"}').toString('base64url')}.${b64({ sub: 'x' })}.sig`;
    const res = await post(idpUrl(), initialize, bearer(token));
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('set-cookie'), null);
  });
});

describe('scopes', () => {
  const profileOnly = () =>
    jwt.sign({ sub: `scoped-${randomUUID()}`, scope: 'profile:read' }, system.jwt.secret, {
      issuer: system.jwt.issuer,
      audience: system.jwt.audience,
      expiresIn: 600,
    });

  it('a tool needing a missing scope: 403 insufficient_scope over HTTP', async () => {
    const headers = await openSession(system.mcpUrl, profileOnly());
    const res = await post(
      system.mcpUrl,
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'getCallHistory', arguments: {} } },
      headers,
    );
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    assert.match(res.headers.get('www-authenticate') ?? '', /scope="calls:read"/);
  });

  it('a resource needing a missing scope: 403 insufficient_scope over HTTP, -32003 over WebSocket', async () => {
    const token = profileOnly();
    const headers = await openSession(system.mcpUrl, token);
    const res = await post(
      system.mcpUrl,
      { jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'callgate://calls' } },
      headers,
    );
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    assert.match(res.headers.get('www-authenticate') ?? '', /scope="calls:read"/);
    const client = await wsClient(system, token);
    try {
      await assert.rejects(
        client.readResource({ uri: 'callgate://calls' }),
        (e: unknown) => (e as { code?: number }).code === -32003,
      );
      const profile = await client.readResource({ uri: 'callgate://me/profile' });
      assert.equal(profile.contents.length, 1, 'the scope the token has still works');
    } finally {
      await client.close();
    }
  });
});

describe('requests', () => {
  it('a foreign browser Origin: 403 over HTTP and at the upgrade, even with a valid token', async () => {
    const headers = { origin: 'https://evil.example', ...bearer(signWith(rsa, IDP, { sub: 'u' })) };
    assert.equal((await post(idpUrl(), initialize, headers)).status, 403);
    assert.equal((await upgrade(idpUrl(), headers)).status, 403);
  });

  it(`a body over MCP_MAX_BODY_BYTES (${MAX_BODY}): 413`, async () => {
    const res = await post(
      system.mcpUrl,
      { ...initialize, padding: 'x'.repeat(MAX_BODY) },
      bearer(tokenFor(system, 'big')),
    );
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32600);
  });

  it('malformed JSON: HTTP 400 with JSON-RPC -32700', async () => {
    const res = await post(system.mcpUrl, '{"jsonrpc":"2.0","id":1,', bearer(tokenFor(system, 'u1')));
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32700);
  });

  it('an unknown method: -32601 over HTTP and WebSocket', async () => {
    const token = tokenFor(system, 'u1');
    const headers = await openSession(system.mcpUrl, token);
    const res = await post(system.mcpUrl, { jsonrpc: '2.0', id: 7, method: 'admin/dropTables', params: {} }, headers);
    assert.ok(res.status < 500);
    const [reply] = await messagesOf(res);
    assert.equal(reply?.id, 7);
    assert.equal(reply?.error?.code, -32601);

    const ws = new WebSocket(system.mcpUrl.replace('http://', 'ws://'), 'mcp', { headers: bearer(token) });
    await opened(ws);
    try {
      const answer = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'admin/dropTables', params: {} }));
      const parsed = JSON.parse(await answer) as { id: number; error: { code: number } };
      assert.equal(parsed.id, 8);
      assert.equal(parsed.error.code, -32601);
    } finally {
      ws.close();
    }
  });
});

describe("one user's call, seen by another (IDOR)", () => {
  it('getCallDetails, getCallProgress, cancelCall and callgate://calls/{id} say not found and leak nothing', async () => {
    const ownerId = `owner-${randomUUID()}`;
    const owner = await httpClient(system, tokenFor(system, ownerId));
    const intruder = await httpClient(system, tokenFor(system, `intruder-${randomUUID()}`));
    try {
      const placed = await owner.callTool(
        {
          name: 'makePhoneCall',
          arguments: { to: NUMBERS.busy, task: 'Ask for the secret recipe.', wait: 'completed' },
        },
        undefined,
        { timeout: 20_000 },
      );
      assert.equal(placed.isError, undefined, JSON.stringify(placed.content));
      const call = (placed.structuredContent as { call: { callId: string; status: string; carrierCallId: string } })
        .call;
      assert.equal(call.status, 'busy');
      // What must not reach the intruder: anything that is the owner's.
      const secrets = [ownerId, NUMBERS.busy, 'secret recipe', call.carrierCallId, 'busy'].filter(Boolean);
      const leaks = (value: unknown) => secrets.filter((s) => JSON.stringify(value).includes(s));

      for (const name of ['getCallDetails', 'getCallProgress', 'cancelCall']) {
        const result = await intruder.callTool({ name, arguments: { callId: call.callId } });
        assert.equal(result.isError, true, name);
        assert.match(JSON.stringify(result.content), /not found/, name);
        assert.deepEqual(leaks(result), [], `${name} leaks nothing of the owner's call`);
      }
      const read = await intruder.readResource({ uri: `callgate://calls/${call.callId}` }).then(
        () => assert.fail('the intruder read the owner’s call'),
        (error: unknown) => error as { code: number; message: string; data?: unknown },
      );
      assert.equal(read.code, -32602, 'resource not found');
      assert.deepEqual(leaks({ message: read.message, data: read.data }), []);

      // The owner still sees it, untouched: the checks above were not vacuous.
      const own = await owner.readResource({ uri: `callgate://calls/${call.callId}` });
      const text = String((own.contents[0] as { text: string }).text);
      assert.match(text, /"status":"busy"/);
      assert.ok(text.includes(NUMBERS.busy));
    } finally {
      await owner.close();
      await intruder.close();
    }
  });
});
