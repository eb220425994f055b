/**
 * WebSocket admission on a real HTTP server: every refusal is an HTTP answer written before any upgrade
 * (its status, reason, headers and body), and the places it holds (the user's connection, the session)
 * come back when a socket closes.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Logger } from '@callgate/common';
import type { AuthInfo } from '@modelcontextprotocol/server';
import WebSocket from 'ws';
import type { CallerAdmission } from '../caller-admission.js';
import { SessionRegistry } from '../sessions.js';
import { webSocketAdmission } from './websocket-admission.js';

/** The bearer token is the user id; "bad" is refused as a 401 would be; "keys-down" as a 503. */
async function admit(req: IncomingMessage): Promise<CallerAdmission> {
  const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  if (token === 'bad') return { status: 401, message: 'Unauthorized', headers: { 'www-authenticate': 'Bearer x' } };
  return { auth: { token, clientId: 'c', scopes: [], extra: { userId: token } } as AuthInfo };
}

type Outcome =
  | { opened: WebSocket }
  | { status: number; reason: string; headers: IncomingMessage['headers']; body: string };

describe('webSocketAdmission', () => {
  let server: Server;
  let base: string;
  const sessions = new SessionRegistry({ idleMs: 60_000, maxPerUser: 2, maxTotal: 3 });
  const served: string[] = [];
  /** Resolves when the server side of each user's latest connection has closed (and let go of its places). */
  const serverClosed = new Map<string, Promise<unknown>>();

  before(async () => {
    const admission = webSocketAdmission({
      admit,
      sessions,
      perUser: 1,
      maxFrameBytes: 1024,
      log: { error: () => undefined } as unknown as Logger,
      serve: (ws, _auth, userId, slot) => {
        served.push(userId);
        const id = `${userId}-${served.length}`;
        slot.open({ id, kind: 'websocket', userId, server: {} as never, transport: {} as never });
        serverClosed.set(userId, new Promise((resolve) => ws.once('close', resolve)));
        ws.once('close', () => sessions.delete(id));
      },
    });
    server = createServer((_req, res) => res.end());
    server.on('upgrade', admission.upgrade);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  /** Every client socket, ended at the end whatever a failed test left open. */
  const clients: WebSocket[] = [];
  after(async () => {
    for (const ws of clients) ws.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const open = (path: string, token: string) =>
    new Promise<Outcome>((resolve, reject) => {
      const ws = new WebSocket(`${base}${path}`, 'mcp', { headers: { authorization: `Bearer ${token}` } });
      clients.push(ws);
      ws.once('open', () => resolve({ opened: ws }));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', headers: res.headers, body }),
        );
      });
      ws.once('error', reject);
    });
  /** Closes a user's connection and waits for the server to have let go of it. */
  const close = async (userId: string, outcome: Outcome) => {
    assert.ok('opened' in outcome);
    const gone = serverClosed.get(userId);
    outcome.opened.close();
    await gone;
  };

  it('answers another path with 404 Not Found', async () => {
    const outcome = await open('/other', 'alice');
    assert.ok('status' in outcome);
    assert.deepEqual([outcome.status, outcome.reason], [404, 'Not Found']);
  });

  it('answers a refused caller with its status, reason and challenge', async () => {
    const outcome = await open('/mcp', 'bad');
    assert.ok('status' in outcome);
    assert.deepEqual([outcome.status, outcome.reason], [401, 'Unauthorized']);
    assert.equal(outcome.headers['www-authenticate'], 'Bearer x');
  });

  it('holds the user to their connection cap with a JSON-RPC 429, and gives the place back on close', async () => {
    const first = await open('/mcp', 'alice');
    assert.ok('opened' in first);
    const second = await open('/mcp', 'alice');
    assert.ok('status' in second);
    assert.deepEqual([second.status, second.reason], [429, 'Too Many Requests']);
    assert.equal(JSON.parse(second.body).error.code, -32000);
    const other = await open('/mcp', 'bob');
    assert.ok('opened' in other, 'another user is not held to alice’s cap');
    await close('alice', first);
    const again = await open('/mcp', 'alice');
    assert.ok('opened' in again, 'the closed connection gave its place back');
    await close('bob', other);
    await close('alice', again);
    assert.equal(sessions.size, 0);
  });

  it('answers 503 with Retry-After when the replica has no session place left', async () => {
    const users = ['u1', 'u2', 'u3'];
    const held = await Promise.all(users.map((user) => open('/mcp', user)));
    assert.ok(
      held.every((outcome) => 'opened' in outcome),
      'three users fill the replica',
    );
    const refused = await open('/mcp', 'u4');
    assert.ok('status' in refused);
    assert.deepEqual([refused.status, refused.reason], [503, 'Service Unavailable']);
    assert.equal(refused.headers['retry-after'], '5');
    await Promise.all(users.map((user, i) => close(user, held[i] as Outcome)));
  });
});
