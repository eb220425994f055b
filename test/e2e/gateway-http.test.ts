/**
 * The gateway's HTTP rules as a client sees them on the wire: authentication, Origin, sessions,
 * body limits, and the WebSocket upgrade. Raw fetch and ws, so nothing is smoothed over by an SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import type { LocalSystem } from '../../scripts/local-system.js';
import { startTestSystem, tokenFor } from '../support/system.js';

let system: LocalSystem;
before(async () => {
  system = await startTestSystem();
});
after(async () => {
  await system.stop();
});

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(system.mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function openSession(token: string): Promise<string> {
  const res = await post(initialize, bearer(token));
  assert.equal(res.status, 200);
  await res.text();
  const id = res.headers.get('mcp-session-id');
  assert.ok(id, 'initialize returned a session id');
  return id;
}

describe('authentication', () => {
  it('no token: 401 with a Bearer challenge pointing at the resource metadata', async () => {
    const res = await post(initialize);
    assert.equal(res.status, 401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    const metadataUrl = system.mcpUrl.replace('/mcp', '/.well-known/oauth-protected-resource/mcp');
    assert.ok(challenge.startsWith(`Bearer resource_metadata="${metadataUrl}"`), challenge);
  });

  const bad: [string, () => string][] = [
    [
      'signed with another key',
      () => jwt.sign({ sub: 'u' }, 'x'.repeat(40), { issuer: system.jwt.issuer, audience: system.jwt.audience }),
    ],
    [
      'expired',
      () =>
        jwt.sign({ sub: 'u', exp: Math.floor(Date.now() / 1000) - 3600 }, system.jwt.secret, {
          issuer: system.jwt.issuer,
          audience: system.jwt.audience,
        }),
    ],
    [
      'not yet valid',
      () =>
        jwt.sign({ sub: 'u', nbf: Math.floor(Date.now() / 1000) + 3600 }, system.jwt.secret, {
          issuer: system.jwt.issuer,
          audience: system.jwt.audience,
        }),
    ],
    [
      'wrong issuer',
      () => jwt.sign({ sub: 'u' }, system.jwt.secret, { issuer: 'someone-else', audience: system.jwt.audience }),
    ],
    [
      'wrong audience',
      () => jwt.sign({ sub: 'u' }, system.jwt.secret, { issuer: system.jwt.issuer, audience: 'other-api' }),
    ],
    [
      'alg none',
      () => jwt.sign({ sub: 'u', iss: system.jwt.issuer, aud: system.jwt.audience }, '', { algorithm: 'none' }),
    ],
    [
      'without subject',
      () =>
        jwt.sign({ scope: 'calls:read' }, system.jwt.secret, {
          issuer: system.jwt.issuer,
          audience: system.jwt.audience,
        }),
    ],
    [
      'tampered payload',
      () => {
        const [h, , s] = tokenFor(system, 'victim').split('.');
        const payload = Buffer.from(
          JSON.stringify({ sub: 'attacker', iss: system.jwt.issuer, aud: system.jwt.audience }),
        ).toString('base64url');
        return `${h}.${payload}.${s}`;
      },
    ],
  ];
  for (const [name, token] of bad) {
    it(`token ${name}: 401 invalid_token`, async () => {
      const res = await post(initialize, bearer(token()));
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    });
  }

  it('serves RFC 9728 protected-resource metadata without authentication', async () => {
    const res = await fetch(system.mcpUrl.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'));
    assert.equal(res.status, 200);
    const body = (await res.json()) as { resource: string; bearer_methods_supported: string[] };
    assert.equal(body.resource, system.mcpUrl);
    assert.deepEqual(body.bearer_methods_supported, ['header']);
  });
});

describe('Origin', () => {
  it('a foreign browser Origin is refused with 403 before authentication', async () => {
    const res = await post(initialize, { origin: 'https://evil.example', ...bearer(tokenFor(system, 'u1')) });
    assert.equal(res.status, 403);
  });

  it('a localhost Origin on any port is allowed', async () => {
    const res = await post(initialize, { origin: 'http://localhost:6274', ...bearer(tokenFor(system, 'u1')) });
    assert.equal(res.status, 200);
    await res.text();
  });
});

describe('version negotiation', () => {
  /** The initialize result, whether the server answered with JSON or one SSE event. */
  async function initializeWith(protocolVersion: string): Promise<{ protocolVersion: string }> {
    const res = await post(
      { ...initialize, params: { ...initialize.params, protocolVersion } },
      bearer(tokenFor(system, 'negotiator')),
    );
    assert.equal(res.status, 200);
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('text/event-stream')
      ? (text
          .split('\n')
          .find((l) => l.startsWith('data: '))
          ?.slice(6) ?? '')
      : text;
    return (JSON.parse(json) as { result: { protocolVersion: string } }).result;
  }

  for (const version of ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']) {
    it(`a ${version} client gets ${version}`, async () => {
      assert.equal((await initializeWith(version)).protocolVersion, version);
    });
  }

  it('a client asking for an unknown version is offered the latest the server speaks', async () => {
    assert.equal((await initializeWith('1999-01-01')).protocolVersion, '2025-11-25');
  });
});

describe('sessions', () => {
  it('a request other than initialize without Mcp-Session-Id: 400', async () => {
    const res = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, bearer(tokenFor(system, 'u1')));
    assert.equal(res.status, 400);
  });

  it('an unknown session: 404', async () => {
    const res = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      {
        ...bearer(tokenFor(system, 'u1')),
        'mcp-session-id': '00000000-0000-0000-0000-000000000000',
        'mcp-protocol-version': '2025-11-25',
      },
    );
    assert.equal(res.status, 404);
  });

  it("another user's session id is answered as unknown (404), never served", async () => {
    const session = await openSession(tokenFor(system, 'owner'));
    const res = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      {
        ...bearer(tokenFor(system, 'intruder')),
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-11-25',
      },
    );
    assert.equal(res.status, 404);
  });

  it('GET opens the session’s server-to-client SSE stream', async () => {
    const token = tokenFor(system, 'listener');
    const session = await openSession(token);
    const controller = new AbortController();
    const res = await fetch(system.mcpUrl, {
      method: 'GET',
      headers: {
        ...bearer(token),
        accept: 'text/event-stream',
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-11-25',
      },
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    controller.abort();
  });

  it('DELETE ends a session; it is unknown afterwards', async () => {
    const token = tokenFor(system, 'u2');
    const session = await openSession(token);
    const headers = { ...bearer(token), 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
    const del = await fetch(system.mcpUrl, { method: 'DELETE', headers });
    assert.equal(del.status, 200);
    const res = await post({ jsonrpc: '2.0', id: 3, method: 'tools/list' }, headers);
    assert.equal(res.status, 404);
  });

  it('methods other than GET, POST and DELETE: 405 with Allow', async () => {
    const res = await fetch(system.mcpUrl, { method: 'PUT', headers: bearer(tokenFor(system, 'u1')) });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, POST, DELETE');
  });
});

describe('bodies', () => {
  it('malformed JSON: 400 with JSON-RPC parse error -32700', async () => {
    const res = await post('{"jsonrpc":', bearer(tokenFor(system, 'u1')));
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32700);
  });

  it('a body over the limit: 413', async () => {
    const res = await post({ ...initialize, padding: 'x'.repeat(2_000_000) }, bearer(tokenFor(system, 'u1')));
    assert.equal(res.status, 413);
  });
});

describe('WebSocket upgrade', () => {
  const upgrade = (headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(system.mcpUrl.replace('http://', 'ws://'), 'mcp', { headers });
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', reject);
    });

  it('without a token: 401', async () => {
    assert.equal(await upgrade({}), 401);
  });

  it('with a foreign Origin: 403', async () => {
    assert.equal(await upgrade({ origin: 'https://evil.example', ...bearer(tokenFor(system, 'u1')) }), 403);
  });

  it('with a valid token: switches protocols', async () => {
    assert.equal(await upgrade(bearer(tokenFor(system, 'u1'))), 101);
  });

  it('answers a frame that is not JSON with a parse error and keeps the connection', async () => {
    const ws = new WebSocket(system.mcpUrl.replace('http://', 'ws://'), 'mcp', {
      headers: bearer(tokenFor(system, 'u1')),
    });
    await new Promise((resolve) => ws.once('open', resolve));
    const reply = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('not json');
    assert.equal((JSON.parse(await reply) as { error: { code: number } }).error.code, -32700);
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
  });

  it('closes with 1009 when a frame exceeds the limit', async () => {
    const ws = new WebSocket(system.mcpUrl.replace('http://', 'ws://'), 'mcp', {
      headers: bearer(tokenFor(system, 'u1')),
    });
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(2_000_000));
    assert.equal(await closed, 1009);
  });
});
