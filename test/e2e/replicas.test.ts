/**
 * Two gateway replicas behind a round-robin proxy on loopback, sharing sessions through Redis: a
 * 2025-era session client (the official v1 SDK over Streamable HTTP) keeps working while its requests
 * alternate between the replicas and while one of them is restarted; progress reaches it from the
 * replica that runs the call, and resource updates from the replica that holds its GET stream, though
 * it subscribed through the other. A WebSocket client reconnects through the proxy after its replica
 * restarts. Needs REDIS_URL (CI sets it).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type ServiceHandle } from '@callgate/common';
import { gatewayConfigShape, startGateway } from '@callgate/gateway';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { NUMBERS } from '../support/calls.js';
import { httpClient, tokenFor, wsClient } from '../support/system.js';
import { within } from '../support/within.js';

const redisUrl = process.env.REDIS_URL;

/** A loopback proxy that sends each request (and each WebSocket upgrade) to the next live backend. */
function roundRobinProxy(backends: () => number[]) {
  let next = 0;
  const pick = () => {
    const ports = backends();
    next = (next + 1) % ports.length;
    return ports[next] as number;
  };
  const seen: number[] = [];
  const server = http.createServer((req, res) => {
    const port = pick();
    seen.push(port);
    const upstream = http.request(
      { host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
    res.on('close', () => upstream.destroy());
  });
  server.on('upgrade', (req, socket, head) => {
    const port = pick();
    const upstream = net.connect(port, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  return { server, seen };
}

describe('gateway replicas sharing sessions', { skip: redisUrl ? false : 'REDIS_URL is not set' }, () => {
  let system: LocalSystem;
  let second: ServiceHandle;
  let proxy: ReturnType<typeof roundRobinProxy>;
  let proxyUrl: string;
  const ports: number[] = [];

  const gatewayPort = (handle: ServiceHandle) => Number(new URL(handle.endpoints.mcp as string).port);
  const startReplica = () =>
    startGateway(
      loadConfig('gateway', gatewayConfigShape, {
        ...process.env,
        LOG_LEVEL: 'silent',
        HTTP_PORT: '0',
        GRPC_PORT: '0',
        METRICS_PORT: '0',
        CALL_SERVICE_ADDR: system.grpc.call,
        CREDIT_SERVICE_ADDR: system.grpc['user-credit'],
        JWT_SECRET: system.jwt.secret,
        REDIS_URL: redisUrl,
      }),
    );

  before(async () => {
    system = await startLocalSystem({
      ports: 'ephemeral',
      env: { ...process.env, LOG_LEVEL: 'silent', SANDBOX_CALL_STEP_MS: '150', SANDBOX_TALK_MS: '600' },
    });
    second = await startReplica();
    ports.push(Number(new URL(system.mcpUrl).port), gatewayPort(second));
    proxy = roundRobinProxy(() => ports);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.server.address() as AddressInfo).port}/mcp`;
  });
  after(async () => {
    proxy.server.closeAllConnections();
    await new Promise((resolve) => proxy.server.close(resolve));
    await second.stop();
    await system.stop();
  });

  const viaProxy = (token: string) => httpClient({ ...system, mcpUrl: proxyUrl }, token);
  const balance = async (client: Client) =>
    (await client.callTool({ name: 'getCreditBalance', arguments: {} })).structuredContent as {
      balance: { available: number };
    };

  it('a session continues on either replica, and after one restarts', async () => {
    const client = await viaProxy(tokenFor(system, `replicas-${randomUUID()}`));
    try {
      const before = new Set(proxy.seen);
      for (let i = 0; i < 6; i++) assert.ok((await balance(client)).balance.available > 0);
      assert.equal(new Set(proxy.seen).size, 2, `both replicas served the session (${[...before]})`);

      // Progress comes from the replica that runs the call.
      const progress: string[] = [];
      const placed = await client.callTool(
        { name: 'makePhoneCall', arguments: { to: NUMBERS.answers, task: 'x', wait: 'completed' } },
        undefined,
        { onprogress: (p) => progress.push(p.message ?? ''), resetTimeoutOnProgress: true },
      );
      assert.equal((placed.structuredContent as { call: { status: string } }).call.status, 'completed');
      assert.ok(progress.length > 0, 'progress notifications reached the client');

      // Restart the second replica: the session continues on the first and on the new one.
      await second.stop();
      ports.splice(1, 1);
      assert.ok((await balance(client)).balance.available > 0, 'served while one replica is down');
      second = await startReplica();
      ports.push(gatewayPort(second));
      for (let i = 0; i < 4; i++) assert.ok((await balance(client)).balance.available > 0);
    } finally {
      await client.close();
    }
  });

  it('resource updates reach the client from the replica holding its stream, whoever took the subscription', async () => {
    const client = await viaProxy(tokenFor(system, `replicas-${randomUUID()}`));
    try {
      const placed = await client.callTool({
        name: 'makePhoneCall',
        arguments: { to: NUMBERS.answers, task: 'x' },
      });
      const { callId } = (placed.structuredContent as { call: { callId: string } }).call;
      const uri = `callgate://calls/${callId}`;
      let ended: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (ended = resolve));
      const { ResourceUpdatedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
        if (n.params.uri !== uri) return;
        const read = await client.readResource({ uri });
        if (/"status":"completed"/.test(String((read.contents[0] as { text: string }).text))) ended();
      });
      // Subscribe through each replica in turn: one of them holds the GET stream, the other does not.
      await client.subscribeResource({ uri });
      await client.subscribeResource({ uri });
      await within(done, 'the completed update over the standalone stream', 15_000);
    } finally {
      await client.close();
    }
  });

  it('a WebSocket client reconnects through the proxy after its replica restarts', async () => {
    const token = tokenFor(system, `replicas-${randomUUID()}`);
    let client = await wsClient({ ...system, mcpUrl: proxyUrl }, token);
    assert.ok((await balance(client)).balance.available > 0);
    await second.stop();
    ports.splice(1, 1);
    await client.close().catch(() => undefined);
    client = await wsClient({ ...system, mcpUrl: proxyUrl }, token);
    try {
      assert.ok((await balance(client)).balance.available > 0);
    } finally {
      await client.close();
      second = await startReplica();
      ports.push(gatewayPort(second));
    }
  });
});
