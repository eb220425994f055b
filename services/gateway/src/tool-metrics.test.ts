/**
 * gateway_tool_duration_seconds through the SDK's real tools/call dispatch (an McpServer on an in-memory
 * connection): each call is observed once, labelled by the tool's name and how it ended, and a name the
 * server does not serve is "unknown" so clients cannot create series at will.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InMemoryTransport,
  type JSONRPCMessage,
  LATEST_PROTOCOL_VERSION,
  McpServer,
} from '@modelcontextprotocol/server';
import { type MetricValueWithName, Registry } from 'prom-client';
import { z } from 'zod';
import { observeToolCalls, toolDurations } from './tool-metrics.js';

/** A server with three tools, timed, and a function that sends one request and resolves with the reply. */
async function timedServer(registry: Registry) {
  const server = new McpServer({ name: 'test', version: '1' }, { capabilities: { tools: {} } });
  server.registerTool('answers', { inputSchema: z.object({}) }, async () => ({
    content: [{ type: 'text', text: 'fine' }],
  }));
  server.registerTool('refuses', { inputSchema: z.object({}) }, async () => ({
    isError: true,
    content: [{ type: 'text', text: 'no credits' }],
  }));
  server.registerTool('slow', { inputSchema: z.object({}) }, async () => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return { content: [{ type: 'text', text: 'late' }] };
  });
  observeToolCalls(server, toolDurations(registry));
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  const replies = new Map<number, (m: Record<string, unknown>) => void>();
  client.onmessage = (message: JSONRPCMessage) => {
    const m = message as Record<string, unknown>;
    if (typeof m.id === 'number') replies.get(m.id)?.(m);
  };
  await server.connect(serverSide);
  await client.start();
  let id = 0;
  const request = (method: string, params: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const n = ++id;
      replies.set(n, resolve);
      client.send({ jsonrpc: '2.0', id: n, method, params }).catch(reject);
    });
  await request('initialize', {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'test', version: '1' },
  });
  await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return { request, close: () => server.close() };
}

async function observations(registry: Registry) {
  const metric = await registry.getSingleMetric('gateway_tool_duration_seconds')?.get();
  const counts: Record<string, number> = {};
  const sums: Record<string, number> = {};
  // A histogram's values are its _bucket, _sum and _count series, told apart by metricName.
  for (const v of (metric?.values ?? []) as MetricValueWithName<string>[]) {
    const key = `${v.labels.tool}/${v.labels.outcome}`;
    if (v.metricName === 'gateway_tool_duration_seconds_count') counts[key] = v.value;
    if (v.metricName === 'gateway_tool_duration_seconds_sum') sums[key] = v.value;
  }
  return { counts, sums };
}

describe('gateway_tool_duration_seconds', () => {
  it('observes each tools/call once, by tool and outcome', async () => {
    const registry = new Registry();
    const { request, close } = await timedServer(registry);
    try {
      await request('tools/call', { name: 'answers', arguments: {} });
      await request('tools/call', { name: 'answers', arguments: {} });
      const refused = await request('tools/call', { name: 'refuses', arguments: {} });
      assert.equal((refused.result as { isError?: boolean }).isError, true);
      const unknown = await request('tools/call', { name: 'noSuchTool-123', arguments: {} });
      assert.ok(unknown.error, 'an unknown tool is a JSON-RPC error');
      await request('tools/call', { name: 'slow', arguments: {} });
      await request('tools/list', {});

      const { counts, sums } = await observations(registry);
      assert.deepEqual(counts, {
        'answers/ok': 2,
        'refuses/tool_error': 1,
        'unknown/protocol_error': 1,
        'slow/ok': 1,
      });
      assert.ok((sums['slow/ok'] ?? 0) >= 0.025, `the slow tool took its 30 ms: ${sums['slow/ok']}`);
    } finally {
      await close();
    }
  });
});
