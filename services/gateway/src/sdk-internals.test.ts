/**
 * The MCP SDK's private fields the gateway reads (sdk-internals.ts), each exercised against the real SDK:
 * an upgrade that removes or renames one fails here, by name, before any gateway behaviour goes quietly
 * wrong (tool metrics labelled "unknown", task and completion wrappers skipped, resumed sessions lost).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import {
  InMemoryTransport,
  type JSONRPCMessage,
  LATEST_PROTOCOL_VERSION,
  McpServer,
  type RequestId,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { registeredTools, reportSettledRequests, webStandardTransport, wrapSdkHandler } from './sdk-internals.js';

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'test', version: '1' } },
};

function serverWithTool(): McpServer {
  const server = new McpServer({ name: 'test', version: '1' }, { capabilities: { tools: {} } });
  server.registerTool('echo', { inputSchema: z.object({}) }, async () => ({ content: [{ type: 'text', text: 'hi' }] }));
  return server;
}

/** Connects server over an in-memory pair (the server side extended by `serverSide`); sends and awaits replies. */
async function connect(server: McpServer, serverSide: Record<string, unknown> = {}) {
  const [client, transport] = InMemoryTransport.createLinkedPair();
  Object.assign(transport, serverSide);
  const replies = new Map<RequestId, (m: Record<string, unknown>) => void>();
  client.onmessage = (message: JSONRPCMessage) => {
    const m = message as Record<string, unknown>;
    replies.get(m.id as RequestId)?.(m);
  };
  await server.connect(transport);
  await client.start();
  const request = (message: { id: RequestId }) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      replies.set(message.id, resolve);
      client.send(message as JSONRPCMessage).catch(reject);
    });
  await request(INITIALIZE);
  await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return request;
}

const callEcho = (id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: {} },
});

describe('the SDK internals the gateway reads', () => {
  it('McpServer._registeredTools: the registered tools, kept current as tools are added', () => {
    const server = serverWithTool();
    const tools = registeredTools(server);
    assert.deepEqual(Object.keys(tools), ['echo']);
    server.registerTool('later', { inputSchema: z.object({}) }, async () => ({ content: [] }));
    assert.deepEqual(Object.keys(tools), ['echo', 'later']);
  });

  it("Server._requestHandlers: a wrapper sits in front of the SDK's own handler, which still answers", async () => {
    const server = serverWithTool();
    const seen: unknown[] = [];
    wrapSdkHandler(server, 'tools/call', async (request, ctx, sdk) => {
      seen.push(request.params?.name);
      return { ...(await sdk(request, ctx)), wrapped: true };
    });
    const request = await connect(server);
    const reply = await request(callEcho(1));
    assert.deepEqual(seen, ['echo']);
    assert.deepEqual(reply.result, { content: [{ type: 'text', text: 'hi' }], wrapped: true });
    await server.close();
  });

  it('Server._requestHandlers: the transport hears when each request has been handled', async () => {
    const server = serverWithTool();
    reportSettledRequests(server);
    const settled: RequestId[] = [];
    const request = await connect(server, { requestSettled: (id: RequestId) => settled.push(id) });
    await request(callEcho(7));
    assert.ok(settled.includes(7), `settled: ${JSON.stringify(settled)}`);
    await server.close();
  });

  it('NodeStreamableHTTPServerTransport._webStandardTransport: takes a Fetch Request and opens the session', async () => {
    const server = serverWithTool();
    const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: () => 'session-1' });
    await server.connect(transport);
    const answer = await webStandardTransport(transport).handleRequest(
      new Request('http://callgate.invalid/mcp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(INITIALIZE),
      }),
    );
    await answer.text();
    assert.equal(answer.status, 200);
    assert.equal(transport.sessionId, 'session-1');
    assert.ok(server.server.getNegotiatedProtocolVersion());
    await server.close();
  });

  it('an accessor whose field is gone throws, naming the field', () => {
    const stripped = { server: {} } as unknown as McpServer;
    assert.throws(() => registeredTools(stripped), /McpServer has no _registeredTools/);
    assert.throws(() => wrapSdkHandler(stripped, 'tools/call', async () => ({})), /Server has no _requestHandlers/);
    assert.throws(
      () => webStandardTransport({} as NodeStreamableHTTPServerTransport),
      /NodeStreamableHTTPServerTransport has no _webStandardTransport/,
    );
  });
});
