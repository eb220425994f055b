import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { AuthInfo, JSONRPCMessage } from '@modelcontextprotocol/server';
import WebSocket, { WebSocketServer } from 'ws';
import { within } from '../../../../test/support/within.js';
import { CLOSE, INSUFFICIENT_SCOPE, WebSocketServerTransport } from './websocket.js';

const auth: AuthInfo = { token: 't', clientId: 'c', scopes: [], expiresAt: 1_000, extra: { userId: 'alice' } };

/** A real WebSocket pair on 127.0.0.1; the server side is wrapped in the transport under test. */
describe('WebSocketServerTransport', () => {
  let wss: WebSocketServer;
  let url: string;
  let now = 0;
  let received: { message: JSONRPCMessage; auth?: AuthInfo }[] = [];
  let transport: WebSocketServerTransport | undefined;

  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws) => {
      transport = new WebSocketServerTransport(ws, auth, { now: () => now, clockToleranceSeconds: 10, maxInFlight: 2 });
      transport.onmessage = (message, extra) => received.push({ message, auth: extra?.authInfo });
      void transport.start();
    });
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  );

  async function connect(): Promise<WebSocket> {
    received = [];
    now = 0;
    const ws = new WebSocket(url);
    await new Promise((resolve) => ws.once('open', resolve));
    return ws;
  }
  const nextFrame = (ws: WebSocket) =>
    new Promise<unknown>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
  const closeCode = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

  it('delivers each JSON-RPC text frame with the connection’s auth, and sends replies as frames', async () => {
    const ws = await connect();
    const reply = nextFrame(ws);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' }));
    // The server answers through the transport once the message arrived.
    await new Promise<void>((resolve) => {
      const poll = () => (received.length ? resolve() : setImmediate(poll));
      poll();
    });
    assert.deepEqual(received[0]?.message, { jsonrpc: '2.0', id: 7, method: 'ping' });
    assert.equal(received[0]?.auth?.extra?.userId, 'alice');
    await transport?.send({ jsonrpc: '2.0', id: 7, result: {} });
    assert.deepEqual(await reply, { jsonrpc: '2.0', id: 7, result: {} });
    ws.close();
  });

  it('answers a frame that is not JSON-RPC 2.0 with -32600', async () => {
    const ws = await connect();
    const reply = nextFrame(ws);
    ws.send(JSON.stringify({ id: 1, method: 'ping' }));
    assert.equal(((await reply) as { error: { code: number } }).error.code, -32600);
    assert.equal(received.length, 0);
    ws.close();
  });

  it('closes with 1003 on a binary frame', async () => {
    const ws = await connect();
    const code = closeCode(ws);
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal(await code, CLOSE.unsupportedData);
  });

  it('closes with 1008 once the token has expired (beyond the tolerance), without delivering the frame', async () => {
    const ws = await connect();
    now = (1_000 + 11) * 1000;
    const code = closeCode(ws);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }));
    assert.equal(await code, CLOSE.policyViolation);
    assert.equal(received.length, 0);
  });

  it('within the clock tolerance the token still counts; an empty batch and bad JSON get errors', async () => {
    const ws = await connect();
    now = (1_000 + 5) * 1000;
    const replies: unknown[] = [];
    const two = new Promise<void>((resolve) =>
      ws.on('message', (d) => {
        replies.push(JSON.parse(String(d)));
        if (replies.length === 2) resolve();
      }),
    );
    ws.send('[]');
    ws.send('not json');
    await two;
    assert.deepEqual(
      replies.map((r) => (r as { error: { code: number } }).error.code),
      [-32600, -32700],
    );
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
  });

  it('a request the token’s scopes do not allow is answered -32003 and never delivered', async () => {
    const ws = await connect();
    transport?.setScopeChallengeResolver(({ request }) =>
      request.method === 'tools/call' ? { scopes: ['calls:write'] } : undefined,
    );
    const reply = nextFrame(ws);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'makePhoneCall' } }));
    const error = ((await reply) as { id: number; error: { code: number; message: string } }).error;
    assert.equal(error.code, INSUFFICIENT_SCOPE);
    assert.match(error.message, /calls:write/);
    assert.equal(received.length, 0);
    ws.close();
  });

  it('a scope check that throws fails closed', async () => {
    const ws = await connect();
    transport?.setScopeChallengeResolver(() => {
      throw new Error('boom');
    });
    const reply = nextFrame(ws);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/list' }));
    assert.equal(((await reply) as { error: { code: number } }).error.code, -32603);
    assert.equal(received.length, 0);
    ws.close();
  });

  it('refuses requests beyond the in-flight limit until earlier ones are answered', async () => {
    const ws = await connect();
    const frames: { id: number; error?: { code: number } }[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    const third = new Promise<void>((resolve) => {
      const poll = () => (frames.length >= 1 ? resolve() : setImmediate(poll));
      poll();
    });
    for (const id of [1, 2, 3]) ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' }));
    await third;
    assert.deepEqual(
      frames.map((f) => [f.id, f.error?.code]),
      [[3, -32000]],
    );
    assert.deepEqual(
      received.map((r) => (r.message as { id: number }).id),
      [1, 2],
    );
    // Answering one frees a place; so does the client cancelling one (it gets no answer).
    await transport?.send({ jsonrpc: '2.0', id: 1, result: {} });
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } }));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' }));
    const fourth = new Promise<void>((resolve) => {
      const poll = () => (received.length >= 5 ? resolve() : setImmediate(poll));
      poll();
    });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/list' }));
    await within(fourth, 'requests 4 and 5 (and the cancel) to be delivered');
    assert.deepEqual(
      received.map((r) => (r.message as { id?: number }).id),
      [1, 2, undefined, 5, 4],
    );
    assert.equal(frames.filter((f) => f.error).length, 1, 'nothing else was refused');
    ws.close();
  });
});
