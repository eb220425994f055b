/**
 * Per-user rate limits as clients see them, against the whole system started with small buckets: HTTP
 * answers 429 with Retry-After and a JSON-RPC error, WebSocket answers the request with the same error
 * and stays open, users do not share buckets, and makePhoneCall has a stricter bucket of its own. With
 * REDIS_URL set (CI) the buckets live in Redis; each test uses users of its own.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { LocalSystem } from '../../scripts/local-system.js';
import { startLocalSystem } from '../../scripts/local-system.js';
import { tokenFor } from '../support/system.js';
import { opened } from '../support/websocket.js';
import { within } from '../support/within.js';

/** Five requests at once, then one a minute; two calls at once, then one a minute. */
const LIMITS = {
  RATE_LIMIT_BURST: '5',
  RATE_LIMIT_PER_MINUTE: '1',
  RATE_LIMIT_CALL_BURST: '2',
  RATE_LIMIT_CALL_PER_MINUTE: '1',
};
const PROTOCOL = '2025-11-25';
const RATE_LIMITED = 429;

let system: LocalSystem;
before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', ...LIMITS },
  });
});
after(async () => {
  await system.stop();
});

const newUser = (name: string) => `${name}-${randomUUID()}`;
const request = (id: number, method: string, params?: unknown) => ({ jsonrpc: '2.0', id, method, params });
const initialize = request(1, 'initialize', {
  protocolVersion: PROTOCOL,
  capabilities: {},
  clientInfo: { name: 'raw', version: '1' },
});
const placeCall = (id: number) =>
  request(id, 'tools/call', { name: 'makePhoneCall', arguments: { to: 'not-a-number', task: 'x' } });

interface RpcError {
  jsonrpc: '2.0';
  id: unknown;
  error: { code: number; message: string; data: { bucket: string; retryAfterMs: number } };
}

/** An MCP session over raw HTTP for a user: post() sends one body on it. */
async function httpSession(userId: string, protocol = PROTOCOL) {
  const headers: Record<string, string> = {
    authorization: `Bearer ${tokenFor(system, userId)}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  const post = (body: unknown) => fetch(system.mcpUrl, { method: 'POST', headers, body: JSON.stringify(body) });
  const opened = await post(
    request(1, 'initialize', {
      protocolVersion: protocol,
      capabilities: {},
      clientInfo: { name: 'raw', version: '1' },
    }),
  );
  assert.equal(opened.status, 200);
  await opened.text();
  headers['mcp-session-id'] = opened.headers.get('mcp-session-id') ?? '';
  headers['mcp-protocol-version'] = protocol;
  const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  assert.equal(initialized.status, 202);
  return { post };
}

/** Posts and expects 200 (the body is drained). */
async function ok(response: Promise<Response>, what: string): Promise<void> {
  const res = await response;
  const text = await res.text();
  assert.equal(res.status, 200, `${what}: ${text}`);
}

/** Posts and expects a 429: returns Retry-After (seconds) and the JSON-RPC error body. */
async function limited(response: Promise<Response>): Promise<{ retryAfter: number; body: RpcError }> {
  const res = await response;
  const text = await res.text();
  assert.equal(res.status, 429, text);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return { retryAfter: Number(res.headers.get('retry-after')), body: JSON.parse(text) as RpcError };
}

/** A raw MCP WebSocket for a user, initialized; call() sends a request and resolves with its answer. */
async function wsSession(userId: string) {
  const ws = new WebSocket(system.mcpUrl.replace('http://', 'ws://'), 'mcp', {
    headers: { authorization: `Bearer ${tokenFor(system, userId)}` },
  });
  const waiting = new Map<
    unknown,
    { resolve: (message: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as Record<string, unknown>;
    waiting.get(message.id)?.resolve(message);
    waiting.delete(message.id);
  });
  // A closed socket answers nothing more: fail the waiting requests with the close code, not hang.
  ws.on('close', (code, reason) => {
    for (const { reject } of waiting.values()) reject(new Error(`the WebSocket closed (${code} ${reason})`));
    waiting.clear();
  });
  await within(opened(ws), 'the WebSocket to open');
  const call = (message: { id: number }) => {
    const answer = new Promise<Record<string, unknown>>((resolve, reject) =>
      waiting.set(message.id, { resolve, reject }),
    );
    ws.send(JSON.stringify(message));
    return within(answer, `the answer to request ${message.id}`);
  };
  assert.ok('result' in (await call(initialize)));
  ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return { ws, call };
}

describe('rate limits over HTTP', () => {
  it('the request after the burst gets 429 with Retry-After and a JSON-RPC error saying when to retry', async () => {
    const { post } = await httpSession(newUser('burst'));
    // initialize took the first token; four more requests take the rest.
    for (let id = 2; id <= 5; id++) await ok(post(request(id, 'tools/list')), `request ${id}`);
    const { retryAfter, body } = await limited(post(request(6, 'tools/list')));
    assert.equal(body.jsonrpc, '2.0');
    assert.equal(body.id, 6, 'the error answers the refused request');
    assert.equal(body.error.code, RATE_LIMITED);
    assert.equal(body.error.data.bucket, 'general');
    assert.ok(body.error.data.retryAfterMs > 55_000 && body.error.data.retryAfterMs <= 60_000);
    assert.equal(retryAfter, Math.ceil(body.error.data.retryAfterMs / 1000), 'Retry-After is the wait, rounded up');
    assert.match(body.error.message, /Retry in \d+ s/);
  });

  it('another user is unaffected', async () => {
    const heavy = await httpSession(newUser('heavy'));
    for (let id = 2; id <= 5; id++) await ok(heavy.post(request(id, 'tools/list')), `request ${id}`);
    await limited(heavy.post(request(6, 'tools/list')));
    const light = await httpSession(newUser('light'));
    await ok(light.post(request(2, 'tools/list')), 'the other user’s request');
  });

  it('makePhoneCall has a stricter bucket of its own; other tools keep the general one', async () => {
    const { post } = await httpSession(newUser('caller'));
    await ok(post(placeCall(2)), 'first call');
    await ok(post(placeCall(3)), 'second call');
    const { retryAfter, body } = await limited(post(placeCall(4)));
    assert.equal(body.error.data.bucket, 'makePhoneCall');
    assert.ok(retryAfter > 0 && retryAfter <= 60);
    // initialize and three calls took four general tokens: one request more passes, then none.
    await ok(post(request(5, 'tools/list')), 'another tool');
    assert.equal((await limited(post(request(6, 'tools/list')))).body.error.data.bucket, 'general');
  });

  it('each request of a batch counts, and a refused batch is answered request by request', async () => {
    // Batches exist only in revisions before 2025-06-18 (later ones refuse them whole, with 400).
    const { post } = await httpSession(newUser('batch'), '2025-03-26');
    const { body } = await limited(post([2, 3, 4, 5, 6].map((id) => request(id, 'tools/list'))));
    assert.ok(Array.isArray(body), 'one error per request');
    assert.deepEqual(
      (body as unknown as RpcError[]).map((e) => [e.id, e.error.code]),
      [2, 3, 4, 5, 6].map((id) => [id, RATE_LIMITED]),
    );
  });

  it('a batch larger than the bucket is 413 saying so, with no Retry-After (waiting would never let it pass)', async () => {
    const { post } = await httpSession(newUser('huge-batch'), '2025-03-26');
    const res = await post([2, 3, 4, 5, 6, 7].map((id) => request(id, 'tools/list')));
    const text = await res.text();
    assert.equal(res.status, 413, text);
    assert.equal(res.headers.get('retry-after'), null);
    const body = JSON.parse(text) as { id: number; error: { code: number; message: string } }[];
    assert.deepEqual(
      body.map((e) => [e.id, e.error.code]),
      [2, 3, 4, 5, 6, 7].map((id) => [id, -32600]),
    );
    assert.match(body[0]?.error.message ?? '', /a batch of 6 requests is more than the 5 a user may send at once/);
    await ok(post(request(8, 'tools/list')), 'the refused batch took nothing from the bucket');
  });
});

describe('rate limits over WebSocket', () => {
  it('the request after the burst is answered with the JSON-RPC error, and the connection stays open', async () => {
    const { ws, call } = await wsSession(newUser('ws'));
    try {
      for (let id = 2; id <= 5; id++) assert.ok('result' in (await call(request(id, 'tools/list'))), `request ${id}`);
      const refused = (await call(request(6, 'tools/list'))) as unknown as RpcError;
      assert.equal(refused.error.code, RATE_LIMITED);
      assert.equal(refused.error.data.bucket, 'general');
      assert.ok(refused.error.data.retryAfterMs > 55_000 && refused.error.data.retryAfterMs <= 60_000);
      assert.equal(ws.readyState, WebSocket.OPEN);
      const again = (await call(request(7, 'ping'))) as unknown as RpcError;
      assert.equal(again.error.code, RATE_LIMITED, 'still answered, still limited');
    } finally {
      ws.close();
    }
  });

  it('HTTP and WebSocket requests of one user take from the same bucket', async () => {
    const userId = newUser('both');
    const { post } = await httpSession(userId);
    await ok(post(request(2, 'tools/list')), 'over HTTP');
    await ok(post(request(3, 'tools/list')), 'over HTTP');
    // Two HTTP requests and initialize on each transport: four of five tokens.
    const { ws, call } = await wsSession(userId);
    try {
      assert.ok('result' in (await call(request(2, 'tools/list'))));
      assert.equal(((await call(request(3, 'tools/list'))) as unknown as RpcError).error.code, RATE_LIMITED);
    } finally {
      ws.close();
    }
  });
});
