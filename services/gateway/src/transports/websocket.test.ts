import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@callgate/common';
import type { AuthInfo, JSONRPCMessage } from '@modelcontextprotocol/server';
import WebSocket, { WebSocketServer } from 'ws';
import { z } from 'zod';
import { within } from '../../../../test/support/within.js';
import type { Backends } from '../backends.js';
import { createMcpServer } from '../mcp-server.js';
import { requestStateCodec } from '../request-state.js';
import { CLOSE, INSUFFICIENT_SCOPE, WebSocketServerTransport } from './websocket.js';

const auth: AuthInfo = { token: 't', clientId: 'c', scopes: [], expiresAt: 1_000, extra: { userId: 'alice' } };

/** A real WebSocket pair on 127.0.0.1; the server side is wrapped in the transport under test. */
describe('WebSocketServerTransport', () => {
  let wss: WebSocketServer;
  let url: string;
  const clock = new ManualClock(0);
  let received: { message: JSONRPCMessage; auth?: AuthInfo }[] = [];
  let transport: WebSocketServerTransport | undefined;

  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws) => {
      transport = new WebSocketServerTransport(ws, auth, { clock, clockToleranceSeconds: 10, maxInFlight: 2 });
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
    clock.set(0);
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

  it('initializes once: a failed initialize may be retried, a second one after success is refused', async () => {
    const ws = await connect();
    const init = (id: string) =>
      JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-03-26' } });
    const delivered = (n: number) =>
      new Promise<void>((resolve) => {
        const poll = () => (received.length >= n ? resolve() : setImmediate(poll));
        poll();
      });
    ws.send(init('i1'));
    await delivered(1);
    await transport?.send({ jsonrpc: '2.0', id: 'i1', error: { code: -32602, message: 'bad params' } });
    ws.send(init('i2'));
    await delivered(2);
    transport?.setProtocolVersion('2025-06-18');
    await transport?.send({ jsonrpc: '2.0', id: 'i2', result: {} });
    const refused = new Promise<unknown>((resolve) =>
      ws.on('message', (d) => {
        const frame = JSON.parse(String(d)) as { id?: unknown };
        if (frame.id === 'i3') resolve(frame);
      }),
    );
    ws.send(init('i3'));
    // Frames are served in order: once the ping arrived, the third initialize was refused or delivered.
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'p4', method: 'ping' }));
    await delivered(3);
    assert.deepEqual(
      received.map((r) => (r.message as { id?: unknown }).id),
      ['i1', 'i2', 'p4'],
    );
    assert.deepEqual(await refused, {
      jsonrpc: '2.0',
      id: 'i3',
      error: {
        code: -32600,
        message:
          'Invalid Request: already initialized; revision 2025-06-18 holds. Open a new connection to initialize again',
      },
    });
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
    clock.set((1_000 + 11) * 1000);
    const code = closeCode(ws);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }));
    assert.equal(await code, CLOSE.policyViolation);
    assert.equal(received.length, 0);
  });

  it('within the clock tolerance the token still counts; an empty batch and bad JSON get errors', async () => {
    const ws = await connect();
    clock.set((1_000 + 5) * 1000);
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
    // Answering one frees a place; so does the client cancelling one (it gets no answer), once the
    // server says its work has ended.
    await transport?.send({ jsonrpc: '2.0', id: 1, result: {} });
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } }));
    const cancelDelivered = new Promise<void>((resolve) => {
      const poll = () => (received.length >= 3 ? resolve() : setImmediate(poll));
      poll();
    });
    await within(cancelDelivered, 'the cancel to be delivered');
    transport?.requestSettled(2);
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

/** The message path under hostile input: one answer per request, batches bounded and charged, no broken chain. */
describe('WebSocketServerTransport: what a frame is owed', () => {
  let wss: WebSocketServer;
  let url: string;
  let transport: WebSocketServerTransport | undefined;
  let charged: number[] = [];
  let delivered: JSONRPCMessage[] = [];

  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws) => {
      transport = new WebSocketServerTransport(ws, auth, {
        clock: new ManualClock(0),
        admit: async (_messages, answers) => {
          charged.push(answers);
          return undefined;
        },
      });
      transport.onerror = () => undefined;
      transport.onmessage = (message) => {
        delivered.push(message);
        // A server that fails on one message: the transport must answer it and go on with the next.
        if ((message as { method?: string }).method === 'explode') throw new Error('boom');
        if ('id' in message && 'method' in message)
          void transport?.send({ jsonrpc: '2.0', id: message.id, result: {} });
      };
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

  /** Opens a connection; `frames` collects what it receives; `until` waits for a frame with that id. */
  async function open() {
    charged = [];
    delivered = [];
    const ws = new WebSocket(url);
    await new Promise((resolve) => ws.once('open', resolve));
    const frames: { id: unknown; error?: { code: number; message: string } }[] = [];
    let wake: (() => void) | undefined;
    ws.on('message', (d) => {
      frames.push(JSON.parse(String(d)));
      wake?.();
    });
    const until = async (id: unknown) => {
      while (!frames.some((f) => f.id === id)) await new Promise<void>((resolve) => (wake = resolve));
    };
    return { ws, frames, until };
  }

  // Only a safety net, so a regression fails instead of hanging: the waits are on answers.
  const HANG = { timeout: 30_000 };

  it(
    'a message the server throws on is answered -32603 once, and the frames after it are still served',
    HANG,
    async () => {
      const { ws, frames, until } = await open();
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'explode' }));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'next', method: 'ping' }));
      await until('next');
      assert.deepEqual(
        frames.map((f) => [f.id, f.error?.code]),
        [
          ['x', -32603],
          ['next', undefined],
        ],
      );
      ws.close();
    },
  );

  it(
    'batches wait for a revision that has them, are bounded, and pay for every entry they are answered',
    HANG,
    async () => {
      const { ws, frames, until } = await open();
      const ping = (id: string) => ({ jsonrpc: '2.0', id, method: 'ping' });
      ws.send(JSON.stringify([ping('early')]));
      ws.send(JSON.stringify(ping('s1')));
      await until('s1');
      assert.match(String(frames[0]?.error?.message), /no JSON-RPC batches before initialize/);

      transport?.setProtocolVersion('2025-03-26');
      ws.send(JSON.stringify(Array.from({ length: 65 }, (_, i) => ping(`big${i}`))));
      ws.send(
        JSON.stringify([ping('a'), 7, { jsonrpc: '2.0', method: 'notifications/x' }, { jsonrpc: '2.0', id: 'bad' }]),
      );
      await until('bad');
      await until('a');
      assert.equal(frames.filter((f) => String(f.id).startsWith('big')).length, 0, 'no entry of the oversized batch');
      const tooMany = frames.find((f) => f.id === null && /65 messages/.test(String(f.error?.message)));
      assert.ok(tooMany, JSON.stringify(frames));
      // Charged per frame: 1 (refused early batch), 1 (s1), 1 (oversized batch), 3 (a, 7 and bad; the notification is free).
      assert.deepEqual(charged, [1, 1, 1, 3]);
      assert.deepEqual(
        delivered.map((m) => (m as { id?: unknown }).id),
        ['s1', 'a', undefined],
      );

      transport?.setProtocolVersion('2025-06-18');
      ws.send(JSON.stringify([ping('late')]));
      ws.send(JSON.stringify(ping('s2')));
      await until('s2');
      assert.ok(
        frames.some((f) => /protocol 2025-06-18 does not allow JSON-RPC batches/.test(String(f.error?.message))),
      );
      ws.close();
    },
  );
});

/**
 * A client cancelling its own requests against the gateway's real MCP server: the cancelled request is
 * not answered (the protocol says so), but its in-flight place is held until its work has ended, so
 * cancelling cannot let one connection run more work at once than maxInFlight allows.
 */
describe('WebSocket: cancelled requests keep their in-flight place until their work ends', () => {
  let wss: WebSocketServer;
  let url: string;
  /** Each hold tool call waits for its key's release (and ignores cancellation, as slow work may). */
  const gates = new Map<string, () => void>();
  const started: string[] = [];
  const finished: string[] = [];

  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws) => {
      const server = createMcpServer({
        backends: {} as Backends,
        requestState: requestStateCodec(undefined),
        extend: (s) => {
          s.registerTool('hold', { inputSchema: z.object({ key: z.string() }) }, async ({ key }) => {
            started.push(key);
            if (key !== 'quick') await new Promise<void>((resolve) => gates.set(key, resolve));
            finished.push(key);
            return { content: [{ type: 'text', text: key }] };
          });
        },
      });
      const transport = new WebSocketServerTransport(ws, auth, { clock: new ManualClock(0), maxInFlight: 2 });
      void server.connect(transport);
    });
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  );

  it('a third request is refused while a cancelled one still works; its end frees the place', async () => {
    const ws = new WebSocket(url);
    await new Promise((resolve) => ws.once('open', resolve));
    const frames: { id?: unknown; error?: { code: number; message: string } }[] = [];
    let wake: (() => void) | undefined;
    ws.on('message', (d) => {
      frames.push(JSON.parse(String(d)));
      wake?.();
    });
    const answer = async (id: unknown) => {
      for (;;) {
        const found = frames.find((f) => f.id === id);
        if (found) return found;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    };
    const send = (message: object) => ws.send(JSON.stringify({ jsonrpc: '2.0', ...message }));
    const hold = (id: string, key = id) =>
      send({ id, method: 'tools/call', params: { name: 'hold', arguments: { key } } });
    const holding = async (key: string) => {
      while (!gates.has(key)) await new Promise((resolve) => setImmediate(resolve));
    };

    send({
      id: 'init',
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'cancel-test', version: '1' } },
    });
    await answer('init');
    send({ method: 'notifications/initialized' });
    hold('a');
    hold('b');
    await holding('a');
    await holding('b');
    send({ method: 'notifications/cancelled', params: { requestId: 'a', reason: 'changed my mind' } });
    // Work that would end at once (so the test ends either way): still refused while a and b hold the places.
    hold('c', 'quick');
    const refused = await answer('c');
    assert.equal(refused.error?.code, -32000, JSON.stringify(refused));
    assert.match(String(refused.error?.message), /in flight/);
    hold('a', 'quick');
    await answer('a');
    assert.match(
      String(frames.find((f) => f.id === 'a')?.error?.message),
      /request id "a" is still in flight/,
      'the cancelled id cannot be reused while its work goes on (it would take no place of its own)',
    );
    assert.deepEqual(started, ['a', 'b'], 'c and the second a never ran');

    // a's work ends (unanswered: it was cancelled), then b's: both places are free again.
    gates.get('a')?.();
    gates.get('b')?.();
    await answer('b');
    assert.deepEqual(finished, ['a', 'b']);
    hold('d', 'quick');
    hold('e', 'quick');
    assert.equal((await answer('d')).error, undefined);
    assert.equal((await answer('e')).error, undefined);
    assert.equal(frames.filter((f) => f.id === 'a').length, 1, 'the cancelled request itself got no answer');
    ws.close();
  });
});
