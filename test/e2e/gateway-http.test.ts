/**
 * The gateway's HTTP rules as a client sees them on the wire: authentication, Origin, sessions,
 * body limits, and the WebSocket upgrade. Raw fetch and ws, so nothing is smoothed over by an SDK.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import type { LocalSystem } from '../../scripts/local-system.js';
import { startTestSystem, tokenFor, wsClient } from '../support/system.js';
import { opened } from '../support/websocket.js';

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
    body:
      typeof body === 'string'
        ? body
        : body instanceof Uint8Array
          ? new Blob([new Uint8Array(body)])
          : JSON.stringify(body),
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

  // Each token is wrong in exactly one way, and the challenge names that way.
  const now = () => Math.floor(Date.now() / 1000);
  const valid = () => ({ issuer: system.jwt.issuer, audience: system.jwt.audience, expiresIn: 600 });
  const bad: [string, () => string, RegExp][] = [
    ['signed with another key', () => jwt.sign({ sub: 'u' }, 'x'.repeat(40), valid()), /signature is invalid/],
    [
      'expired',
      () =>
        jwt.sign({ sub: 'u', exp: now() - 3600 }, system.jwt.secret, {
          issuer: system.jwt.issuer,
          audience: system.jwt.audience,
        }),
      /has expired/,
    ],
    ['not yet valid', () => jwt.sign({ sub: 'u', nbf: now() + 3600 }, system.jwt.secret, valid()), /not valid yet/],
    [
      'wrong issuer',
      () => jwt.sign({ sub: 'u' }, system.jwt.secret, { ...valid(), issuer: 'someone-else' }),
      /unknown issuer/,
    ],
    [
      'wrong audience',
      () => jwt.sign({ sub: 'u' }, system.jwt.secret, { ...valid(), audience: 'other-api' }),
      /another audience/,
    ],
    [
      'alg none',
      () =>
        jwt.sign({ sub: 'u', iss: system.jwt.issuer, aud: system.jwt.audience, exp: now() + 600 }, '', {
          algorithm: 'none',
        }),
      /algorithm is not allowed/,
    ],
    ['without subject', () => jwt.sign({ scope: 'calls:read' }, system.jwt.secret, valid()), /no subject/],
    [
      'tampered payload',
      () => {
        const [h, , sig] = tokenFor(system, 'victim').split('.');
        const payload = Buffer.from(
          JSON.stringify({ sub: 'attacker', iss: system.jwt.issuer, aud: system.jwt.audience, exp: now() + 600 }),
        ).toString('base64url');
        return `${h}.${payload}.${sig}`;
      },
      /signature is invalid/,
    ],
  ];
  for (const [name, token, reason] of bad) {
    it(`token ${name}: 401 invalid_token saying why`, async () => {
      const res = await post(initialize, bearer(token()));
      assert.equal(res.status, 401);
      const challenge = res.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /error="invalid_token"/);
      assert.match(challenge, reason);
    });
  }

  it('a rejection says what is wrong without echoing the token or the expected audience', async () => {
    const wrongAudience = jwt.sign({ sub: 'u' }, system.jwt.secret, {
      issuer: system.jwt.issuer,
      audience: 'other-api',
      expiresIn: 60,
    });
    const res = await post(initialize, bearer(wrongAudience));
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error_description="the token is for another audience"/);
    assert.doesNotMatch(challenge + (await res.text()), new RegExp(system.jwt.audience));
  });

  it('a token whose payload carries CR/LF is a 401, never a 500 or a split header', async () => {
    const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
    const payload = Buffer.from('x\r\nSet-Cookie: a=b\r\n').toString('base64url');
    const res = await post(initialize, bearer(`${header}.${payload}.sig`));
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('set-cookie'), null);
  });

  it('a token without exp is refused: tokens must expire', async () => {
    const forever = jwt.sign({ sub: 'u' }, system.jwt.secret, {
      issuer: system.jwt.issuer,
      audience: system.jwt.audience,
    });
    const res = await post(initialize, bearer(forever));
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /no expiry/);
  });

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
          // Skips the empty event that primes resumption (Last-Event-ID).
          .find((l) => l.startsWith('data: ') && l.length > 6)
          ?.slice(6) ?? '')
      : text;
    return (JSON.parse(json) as { result: { protocolVersion: string } }).result;
  }

  for (const version of ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']) {
    it(`a ${version} client gets ${version}`, async () => {
      assert.equal((await initializeWith(version)).protocolVersion, version);
    });
  }

  /** A session of a given revision, initialized. */
  async function sessionOf(version: string, token: string): Promise<Record<string, string>> {
    const res = await post(
      { ...initialize, params: { ...initialize.params, protocolVersion: version } },
      bearer(token),
    );
    await res.text();
    const headers = {
      ...bearer(token),
      'mcp-session-id': res.headers.get('mcp-session-id') ?? '',
      'mcp-protocol-version': version,
    };
    await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).text();
    return headers;
  }
  const batch = [
    { jsonrpc: '2.0', id: 7, method: 'ping' },
    { jsonrpc: '2.0', id: 8, method: 'tools/list' },
  ];

  for (const version of ['2025-03-26', '2024-11-05']) {
    it(`a ${version} session may send a JSON-RPC batch and gets every answer`, async () => {
      const res = await post(batch, await sessionOf(version, tokenFor(system, 'batcher')));
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, /"id":7/);
      assert.match(text, /"id":8/);
    });
  }

  for (const version of ['2025-06-18', '2025-11-25']) {
    it(`a ${version} session may not: a batch is 400 -32600 (batching was removed in 2025-06-18)`, async () => {
      const res = await post(batch, await sessionOf(version, tokenFor(system, 'batcher')));
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: { code: number; message: string } };
      assert.equal(body.error.code, -32600);
      assert.match(body.error.message, /does not allow JSON-RPC batches/);
    });
  }

  it('a client asking for an unknown version is offered the latest the server speaks', async () => {
    assert.equal((await initializeWith('1999-01-01')).protocolVersion, '2025-11-25');
  });
});

describe('sessions', () => {
  it('a request other than initialize without Mcp-Session-Id: 400 answering its id', async () => {
    const res = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, bearer(tokenFor(system, 'u1')));
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { id: unknown }).id, 2);
  });

  it('an unknown session: 404 answering the request by its id (each request of a batch by its own)', async () => {
    const unknown = (revision: string) => ({
      ...bearer(tokenFor(system, 'u1')),
      'mcp-session-id': '00000000-0000-0000-0000-000000000000',
      'mcp-protocol-version': revision,
    });
    const res = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, unknown('2025-11-25'));
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), {
      jsonrpc: '2.0',
      id: 2,
      error: { code: -32001, message: 'Session not found' },
    });
    const batch = await post(
      [
        { jsonrpc: '2.0', id: 'a', method: 'tools/list' },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', id: 7, method: 'ping' },
      ],
      unknown('2025-03-26'),
    );
    assert.equal(batch.status, 404);
    assert.deepEqual(
      ((await batch.json()) as { id: unknown; error: { code: number } }[]).map((a) => [a.id, a.error.code]),
      [
        ['a', -32001],
        [7, -32001],
      ],
    );
    const notification = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, unknown('2025-11-25'));
    assert.equal(notification.status, 404);
    assert.equal(((await notification.json()) as { id: unknown }).id, null, 'no request, no id to answer');
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

describe('scopes', () => {
  const readOnly = () =>
    jwt.sign({ sub: 'reader', scope: 'calls:read' }, system.jwt.secret, {
      issuer: system.jwt.issuer,
      audience: system.jwt.audience,
      expiresIn: 600,
    });

  it('over HTTP, a tool needing a scope the token lacks is 403 insufficient_scope, and never runs', async () => {
    const token = readOnly();
    const session = await openSession(token);
    const res = await post(
      {
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: { name: 'makePhoneCall', arguments: { to: '+14155550001', task: 'x' } },
      },
      { ...bearer(token), 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    );
    assert.equal(res.status, 403);
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="calls:write"/);
  });

  it('over WebSocket, the same request is refused with -32003 naming the scope', async () => {
    const client = await wsClient(system, readOnly());
    try {
      await assert.rejects(
        client.callTool({ name: 'makePhoneCall', arguments: { to: '+14155550001', task: 'x' } }),
        (e: unknown) => (e as { code?: number }).code === -32003 && /calls:write/.test(String(e)),
      );
      const options = await client.callTool({ name: 'getVoiceOptions', arguments: {} });
      assert.equal(options.isError, undefined, 'tools that need no scope still work');
    } finally {
      await client.close();
    }
  });
});

describe('session limits', () => {
  it('a user opening more sessions than allowed loses their least recently used one', async () => {
    const token = tokenFor(system, 'hoarder');
    const first = await openSession(token);
    for (let i = 0; i < 16; i++) await openSession(token);
    const res = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      {
        ...bearer(token),
        'mcp-session-id': first,
        'mcp-protocol-version': '2025-11-25',
      },
    );
    assert.equal(res.status, 404, 'the oldest session was closed to make room');
  });
});

describe('bodies', () => {
  it('malformed JSON: 400 with JSON-RPC parse error -32700', async () => {
    const res = await post('{"jsonrpc":', bearer(tokenFor(system, 'u1')));
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32700);
  });

  it('invalid UTF-8: 400 -32700 saying so, never read as U+FFFD', async () => {
    const json = JSON.stringify({
      ...initialize,
      params: { ...initialize.params, clientInfo: { name: 'X', version: '1' } },
    });
    const [head, tail] = json.split('"X"') as [string, string];
    // 0xC3 0x28: a two-byte sequence whose second byte is not a continuation byte.
    const body = Buffer.concat([Buffer.from(`${head}"`), Buffer.from([0xc3, 0x28]), Buffer.from(`"${tail}`)]);
    const res = await post(body, bearer(tokenFor(system, 'u1')));
    assert.equal(res.status, 400);
    const answer = (await res.json()) as { id: unknown; error: { code: number; message: string } };
    assert.equal(answer.error.code, -32700);
    assert.match(answer.error.message, /UTF-8/);
    assert.equal(res.headers.get('mcp-session-id'), null, 'no session was opened');
  });

  it('a Content-Encoding the gateway does not decode: 415 naming it, with Accept-Encoding: identity', async () => {
    for (const encoding of ['gzip', 'br', 'deflate, gzip', 'x-unknown']) {
      const res = await post(gzipSync(JSON.stringify(initialize)), {
        ...bearer(tokenFor(system, 'u1')),
        'content-encoding': encoding,
      });
      assert.equal(res.status, 415, encoding);
      assert.equal(res.headers.get('accept-encoding'), 'identity', encoding);
      const answer = (await res.json()) as { error: { code: number; message: string } };
      assert.ok(answer.error.message.includes(`Content-Encoding "${encoding}"`), answer.error.message);
    }
    const identity = await post(initialize, { ...bearer(tokenFor(system, 'u1')), 'content-encoding': 'identity' });
    assert.equal(identity.status, 200, 'identity is no encoding at all');
    await identity.text();
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

  it('clients that reset refused upgrades do not crash the gateway', async () => {
    const { port } = new URL(system.mcpUrl);
    await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect(Number(port), '127.0.0.1', () => {
              socket.write('GET /mcp HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n');
              socket.write('Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
              socket.resetAndDestroy();
              resolve();
            });
            socket.on('error', () => resolve());
          }),
      ),
    );
    const health = await fetch(system.mcpUrl.replace('/mcp', '/healthz'));
    assert.equal(health.status, 200);
  });

  it('with a valid token: switches protocols', async () => {
    assert.equal(await upgrade(bearer(tokenFor(system, 'u1'))), 101);
  });

  it('answers a frame that is not JSON with a parse error and keeps the connection', async () => {
    const ws = new WebSocket(system.mcpUrl.replace('http://', 'ws://'), 'mcp', {
      headers: bearer(tokenFor(system, 'u1')),
    });
    await opened(ws);
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
    await opened(ws);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(2_000_000));
    assert.equal(await closed, 1009);
  });
});
