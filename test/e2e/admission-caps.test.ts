/**
 * Per-user caps under concurrent admission, as an attacker would test them: one user fires many
 * initializes, WebSocket upgrades or subscriptions/listen streams at once against the whole system.
 * Exactly the cap is open afterwards, the surplus gets a clear refusal (HTTP 429 with a JSON-RPC
 * error body), and another user is still admitted. Each test uses users of its own.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { mintToken, USER_SCOPES } from '@callgate/gateway';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import WebSocket from 'ws';
import type { LocalSystem } from '../../scripts/local-system.js';
import { startLocalSystem } from '../../scripts/local-system.js';
import { tokenFor } from '../support/system.js';

const CAPS = { sessions: 5, websockets: 5, listens: 3 };
const PROTOCOL = '2025-11-25';

let system: LocalSystem;
before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      MCP_MAX_SESSIONS_PER_USER: String(CAPS.sessions),
      MCP_MAX_WEBSOCKETS_PER_USER: String(CAPS.websockets),
      MCP_MAX_LISTEN_STREAMS_PER_USER: String(CAPS.listens),
      // The bursts below are about admission, not about the request rate.
      RATE_LIMIT_BURST: '1000',
      RATE_LIMIT_PER_MINUTE: '60000',
      // Tokens that expire during a test are closed at their exp, not 30 s later.
      JWT_CLOCK_TOLERANCE_SECONDS: '0',
    },
  });
});
after(async () => {
  await system.stop();
});

const newUser = (name: string) => `${name}-${randomUUID()}`;
const wsUrl = () => system.mcpUrl.replace('http://', 'ws://');
const headersFor = (userId: string): Record<string, string> => ({
  authorization: `Bearer ${tokenFor(system, userId)}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
});
const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** Asserts a refusal is 429 with a JSON-RPC error naming the cap; returns the message. */
function assertRefusal(status: number, text: string, what: RegExp): string {
  assert.equal(status, 429, text);
  const body = JSON.parse(text) as { jsonrpc: string; error: { code: number; message: string } };
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(typeof body.error.code, 'number');
  assert.match(body.error.message, what);
  return body.error.message;
}

/** Posts initialize as userId; the session id when admitted, else the status and body. */
async function openSession(userId: string): Promise<{ sessionId: string } | { status: number; text: string }> {
  const res = await fetch(system.mcpUrl, {
    method: 'POST',
    headers: headersFor(userId),
    body: JSON.stringify(initialize),
  });
  const text = await res.text();
  const sessionId = res.headers.get('mcp-session-id');
  return res.status === 200 && sessionId ? { sessionId } : { status: res.status, text };
}

/** Whether a session still answers (a ping on it). */
async function alive(userId: string, sessionId: string): Promise<boolean> {
  const res = await fetch(system.mcpUrl, {
    method: 'POST',
    headers: { ...headersFor(userId), 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
  });
  await res.text();
  return res.status === 200;
}

type Upgrade = { ws: WebSocket } | { status: number; text: string } | { error: string };

/** Opens a WebSocket as userId: the socket once open, or the HTTP refusal of the upgrade. */
function upgrade(userId: string, token = tokenFor(system, userId)): Promise<Upgrade> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl(), 'mcp', { headers: { authorization: `Bearer ${token}` } });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    ws.once('error', (error) => resolve({ error: String(error) }));
  });
}

describe('caps under concurrent admission', () => {
  it(`50 concurrent initializes of one user leave exactly ${CAPS.sessions} sessions open; another user still gets one`, async (t) => {
    const userId = newUser('burst-init');
    const results = await Promise.all(Array.from({ length: 50 }, () => openSession(userId)));
    const admitted = results.flatMap((r) => ('sessionId' in r ? [r.sessionId] : []));
    for (const r of results) {
      if (!('sessionId' in r)) assertRefusal(r.status, r.text, /sessions/i);
    }
    // A session admitted early may have been evicted by a later one (the user's least recently used
    // one makes room): what matters is how many stay open.
    const open = (await Promise.all(admitted.map((id) => alive(userId, id)))).filter(Boolean).length;
    t.diagnostic(`initialize burst: ${admitted.length} answered 200, ${open} open (cap ${CAPS.sessions})`);
    assert.equal(open, CAPS.sessions, `${admitted.length} admitted, ${open} open`);
    const other = await openSession(newUser('bystander'));
    assert.ok('sessionId' in other, JSON.stringify(other));
  });

  it(`200 concurrent WebSocket upgrades of one user open exactly ${CAPS.websockets}; the rest get 429; another user still connects`, async (t) => {
    const userId = newUser('burst-ws');
    const results = await Promise.all(Array.from({ length: 200 }, () => upgrade(userId)));
    const sockets = results.flatMap((r) => ('ws' in r ? [r.ws] : []));
    try {
      const refusals = results.filter((r) => !('ws' in r));
      for (const r of refusals) {
        assert.ok('status' in r, `refused with an HTTP answer, not ${JSON.stringify(r)}`);
        assertRefusal(r.status, r.text, /WebSocket connections/);
      }
      // Sockets the server closed (evicted) are not open: count those still open once every upgrade is done.
      const open = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
      t.diagnostic(`WebSocket burst: ${sockets.length} upgraded, ${open} open (cap ${CAPS.websockets})`);
      assert.equal(sockets.length, CAPS.websockets);
      const other = await upgrade(newUser('bystander'));
      assert.ok('ws' in other, JSON.stringify(other));
      other.ws.close();
      // A closed connection gives its place back.
      const first = sockets[0] as WebSocket;
      await new Promise<void>((resolve) => {
        first.once('close', () => resolve());
        first.close();
      });
      let again: Upgrade;
      // The server sees the close a moment after the client: retry until it has (no deadline).
      do again = await upgrade(userId);
      while (!('ws' in again));
      sockets.push(again.ws);
    } finally {
      for (const ws of sockets) ws.terminate();
    }
  });

  it(`a user's subscriptions/listen streams are capped at ${CAPS.listens}; another user still listens`, async (t) => {
    const connect = async (userId: string) => {
      const client = new Client(
        { name: 'callgate-caps-test', version: '1.0.0' },
        { versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      await client.connect(
        new StreamableHTTPClientTransport(new URL(system.mcpUrl), {
          requestInit: { headers: { Authorization: `Bearer ${tokenFor(system, userId)}` } },
        }),
      );
      return client;
    };
    const client = await connect(newUser('burst-listen'));
    const bystander = await connect(newUser('bystander'));
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => client.listen({ resourceSubscriptions: ['callgate://calls'] })),
      );
      const open = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      t.diagnostic(`listen burst: ${open.length} streams open (cap ${CAPS.listens})`);
      assert.equal(open.length, CAPS.listens);
      for (const r of results) {
        if (r.status === 'rejected') assert.match(String(r.reason), /listen streams/, String(r.reason));
      }
      const theirs = await bystander.listen({ resourceSubscriptions: ['callgate://calls'] });
      await theirs.close();
      // A closed stream gives its place back (the server hears of it a moment later: retry, no deadline).
      await open.pop()?.close();
      for (;;) {
        const again = await client.listen({ resourceSubscriptions: ['callgate://calls'] }).catch(() => undefined);
        if (again) {
          open.push(again);
          break;
        }
      }
      for (const subscription of open) await subscription.close();
    } finally {
      await client.close();
      await bystander.close();
    }
  });

  it('one subscriptions/listen names at most 100 resource URIs: more is refused with -32602 naming the limit', async () => {
    const listen = (count: number) =>
      fetch(system.mcpUrl, {
        method: 'POST',
        headers: {
          ...headersFor(newUser('many-uris')),
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'subscriptions/listen',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'subscriptions/listen',
          params: {
            notifications: { resourceSubscriptions: Array.from({ length: count }, () => 'callgate://calls') },
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        }),
      });
    const refused = await listen(101);
    // An admitted listen is a stream that never ends: check the status before reading the body.
    if (refused.status !== 400) await refused.body?.cancel();
    assert.equal(refused.status, 400, 'a listen of 101 URIs was admitted');
    const text = await refused.text();
    const body = JSON.parse(text) as { id: unknown; error: { code: number; message: string } };
    assert.equal(body.id, 7);
    assert.equal(body.error.code, -32602);
    assert.match(body.error.message, /at most 100 resource URIs/);
    const admitted = await listen(100);
    assert.equal(admitted.status, 200);
    await admitted.body?.cancel();
  });

  it('a WebSocket is closed with 1008 when its token expires, without the client sending anything', async () => {
    const userId = newUser('expiring');
    // A token of 2 s may expire before a busy machine completes the upgrade (401): then try a fresh one.
    let opened: Upgrade;
    for (;;) {
      opened = await upgrade(userId, mintToken(system.jwt, { sub: userId, scope: USER_SCOPES }, 2));
      if ('ws' in opened) break;
      assert.ok('status' in opened && opened.status === 401, JSON.stringify(opened));
    }
    const [code, reason] = await new Promise<[number, string]>((resolve) =>
      opened.ws.once('close', (c, r) => resolve([c, r.toString('utf8')])),
    );
    assert.equal(code, 1008);
    assert.match(reason, /token expired/);
  });
});
