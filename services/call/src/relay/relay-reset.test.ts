/**
 * Found from outside (attack2): a client that asks the call service's webhook port for a relay upgrade
 * and then resets the TCP connection kills the process (every service under `npm start`). Node removes
 * the socket's 'error' listener when it hands it to 'upgrade'; the relay's refusal path adds none, so the
 * ECONNRESET that follows is an unhandled 'error' event. No signature or token is needed.
 */

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '@callgate/common';
import { MemorySink, silentLog, testMetrics } from '../../../../test/support/relay-fakes.js';
import { builtinAgent } from '../agent/builtin-agent.js';
import type { CallStore } from '../call-store.js';
import { ActiveConversations } from './active-conversations.js';
import { attachRelay } from './relay-server.js';
import { TwilioUrls } from './signature.js';

let server: Server;
let port: number;
let relay: { close(): Promise<void> };
const serverSockets: Socket[] = [];

before(async () => {
  server = createServer((_req, res) => res.writeHead(200).end('up'));
  server.on('connection', (socket) => serverSockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  relay = attachRelay(server, {
    reportAnswered: async () => undefined,
    store: { byId: async () => undefined } as unknown as CallStore,
    sink: new MemorySink(),
    agentFor: () => builtinAgent,
    urls: new TwilioUrls(() => `http://127.0.0.1:${port}`, 'attack2-token'),
    active: new ActiveConversations(),
    clock: systemClock,
    metrics: testMetrics().metrics,
    log: silentLog,
    maxTurns: 10,
    endMarginMs: 5000,
  });
});
after(async () => {
  await relay.close();
  server.close();
});

/** Sends an upgrade request for `path`, waits for the refusal's first bytes, then resets the connection. */
async function upgradeThenReset(path: string): Promise<string> {
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  client.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const [first] = (await once(client, 'data')) as [Buffer];
  const serverSide = serverSockets.at(-1) as Socket;
  // Not events.once: it would listen for 'error' itself and hide the missing listener this is about.
  const closed = new Promise((resolve) => serverSide.once('close', resolve));
  client.resetAndDestroy();
  await closed;
  return first.toString('latin1').split('\r\n')[0] ?? '';
}

describe('relay upgrade refused, then the client resets the connection', () => {
  for (const path of ['/twilio/relay', '/twilio/relay?call=x&exp=1', '/not-the-relay']) {
    it(`survives a reset after the refusal of ${path}`, async () => {
      const statusLine = await upgradeThenReset(path);
      assert.match(statusLine, /^HTTP\/1\.1 40[34]/);
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(await res.text(), 'up');
    });
  }
});
