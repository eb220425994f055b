import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Clock, ManualClock } from '@callgate/common';
import WebSocket, { WebSocketServer } from 'ws';
import { closeAtTokenExpiry, endAtTokenExpiry, TOKEN_EXPIRED_CLOSE } from './token-expiry.js';

/** A clock whose timers fire only when the test advances it. */
function manualClock(start: number) {
  const clock = new ManualClock(start);
  return { clock, advance: (ms: number) => clock.advance(ms), pending: () => clock.pending };
}

describe('closeAtTokenExpiry', () => {
  let wss: WebSocketServer;
  let url: string;
  let onConnection: (ws: WebSocket) => void = () => undefined;

  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws) => onConnection(ws));
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  );

  /** A client connected to a server socket watched with `clock`. */
  async function connect(expiresAt: number | undefined, tolerance: number, clock: Clock) {
    const served = new Promise<WebSocket>((resolve) => {
      onConnection = (ws) => {
        closeAtTokenExpiry(ws, expiresAt, tolerance, clock);
        resolve(ws);
      };
    });
    const client = new WebSocket(url);
    await new Promise((resolve) => client.once('open', resolve));
    const closed = new Promise<[number, string]>((resolve) =>
      client.once('close', (code, reason) => resolve([code, reason.toString('utf8')])),
    );
    return { client, server: await served, closed };
  }

  it('closes a quiet connection with 1008 when exp plus the tolerance passes, not before', async () => {
    const { clock, advance } = manualClock(1_000_000);
    const { client, closed } = await connect(1_000 + 60, 5, clock);
    advance(64_999);
    assert.equal(client.readyState, WebSocket.OPEN, 'still within the tolerance');
    advance(1);
    assert.deepEqual(await closed, [TOKEN_EXPIRED_CLOSE.code, TOKEN_EXPIRED_CLOSE.reason]);
  });

  it('waits for an expiry beyond what one timer can hold in steps', async () => {
    const { clock, advance, pending } = manualClock(0);
    const days40 = 40 * 24 * 3600;
    const { client, closed } = await connect(days40, 0, clock);
    advance(2 ** 31 - 1);
    assert.equal(client.readyState, WebSocket.OPEN, 'the first step is not the expiry');
    assert.equal(pending(), 1, 'the next step is armed');
    advance(days40 * 1000);
    assert.equal((await closed)[0], 1008);
  });

  it('forgets its timer when the connection closes first, and ignores a token without exp', async () => {
    const { clock, pending } = manualClock(0);
    const { client, server } = await connect(3600, 0, clock);
    assert.equal(pending(), 1);
    const serverClosed = new Promise((resolve) => server.once('close', resolve));
    client.close();
    await serverClosed;
    assert.equal(pending(), 0);
    const unbounded = manualClock(0);
    const other = await connect(undefined, 0, unbounded.clock);
    assert.equal(unbounded.pending(), 0);
    other.client.close();
  });
});

describe('endAtTokenExpiry', () => {
  let server: http.Server;
  let url: string;
  let onRequest: (res: http.ServerResponse) => void = () => undefined;

  before(async () => {
    server = http.createServer((_req, res) => onRequest(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** An event stream served with `clock` watching its token; resolves once its first event arrived. */
  async function open(expiresAt: number, tolerance: number, clock: Clock) {
    const served = new Promise<http.ServerResponse>((resolve) => {
      onRequest = (res) => {
        endAtTokenExpiry(res, expiresAt, { toleranceSeconds: tolerance, clock });
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': open\n\n');
        resolve(res);
      };
    });
    const response = await fetch(url);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const ended = reader.read().then(
      (next) => next.done,
      () => true,
    );
    return { res: await served, ended };
  }

  it('cuts an open event stream when exp plus the tolerance passes, not before', async () => {
    const { clock, advance } = manualClock(1_000_000);
    const { res, ended } = await open(1_000 + 60, 5, clock);
    const closed = new Promise((resolve) => res.once('close', resolve));
    advance(64_999);
    assert.equal(res.destroyed, false, 'still within the tolerance');
    advance(1);
    await closed;
    assert.equal(await ended, true);
  });

  it('forgets its timer when the stream ends first', async () => {
    const { clock, pending } = manualClock(0);
    const { res } = await open(3600, 0, clock);
    assert.equal(pending(), 1);
    const closed = new Promise((resolve) => res.once('close', resolve));
    res.end();
    await closed;
    assert.equal(pending(), 0);
  });
});
