/**
 * The gateway's tools and resources as a client sees them, read from a server instance through the
 * protocol's own listing requests (tools/list, resources/list, resources/templates/list) and the scope
 * check the transports apply, so the documentation cannot drift from what is served.
 */
import {
  InMemoryTransport,
  type JSONRPCMessage,
  LATEST_PROTOCOL_VERSION,
  type McpServer,
  UriTemplate,
} from '@modelcontextprotocol/server';
import { exampleFor } from './examples.js';

type JsonSchema = Record<string, unknown>;

export interface ToolDoc {
  name: string;
  title?: string;
  description?: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  /** Behaviour hints (readOnlyHint, destructiveHint, idempotentHint, openWorldHint). */
  annotations?: Record<string, unknown>;
  /** OAuth scopes the token must carry; empty when any authenticated caller may call it. */
  scopes: string[];
  /** A tools/call request for this tool, with arguments generated from its input schema. */
  example: { method: 'tools/call'; params: { name: string; arguments: unknown } };
}

export interface ResourceDoc {
  name: string;
  /** A fixed URI, or an RFC 6570 template for a family of resources. */
  uri?: string;
  uriTemplate?: string;
  title?: string;
  description?: string;
  mimeType?: string;
  scopes: string[];
}

export interface Catalog {
  server: { name: string; version: string };
  protocolVersion: string;
  instructions?: string;
  tools: ToolDoc[];
  resources: ResourceDoc[];
  resourceTemplates: ResourceDoc[];
}

/** Sends requests over an in-memory connection and resolves each with its result (or its error). */
class Exchange {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly transport: InMemoryTransport) {
    transport.onmessage = (message: JSONRPCMessage) => {
      const m = message as { id?: number; result?: unknown; error?: { code: number; message: string } };
      if (typeof m.id !== 'number') return;
      const waiter = this.waiting.get(m.id);
      if (!waiter) return;
      this.waiting.delete(m.id);
      if (m.error) waiter.reject(new Error(`${m.error.message} (${m.error.code})`));
      else waiter.resolve(m.result);
    };
  }

  request<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.transport.send({ jsonrpc: '2.0', id, method, params }).catch(reject);
    });
  }

  /** Every page of a paginated list. */
  async all<T>(method: string, key: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await this.request<Record<string, unknown>>(method, cursor ? { cursor } : {});
      items.push(...((result[key] as T[] | undefined) ?? []));
      cursor = typeof result.nextCursor === 'string' ? result.nextCursor : undefined;
      if (!cursor) break;
    }
    return items;
  }
}

/**
 * The scopes a request needs, asked of the server's own scope check with a token that has none
 * (requireScopes answers with the complete set it wants).
 */
async function scopesFor(server: McpServer, method: string, params: Record<string, unknown>): Promise<string[]> {
  const challenge = await server.resolveScopeChallenge({
    request: { jsonrpc: '2.0', id: 0, method, params },
    authInfo: { token: '', clientId: 'callgate-docs', scopes: [] },
  });
  return challenge ? [...challenge.scopes] : [];
}

/** A URI the template matches (every variable set), so the scope check finds the template. */
const sampleUri = (template: string) => {
  const t = new UriTemplate(template);
  return t.expand(Object.fromEntries(t.variableNames.map((name) => [name, 'example'])));
};

/** Lists what `server` serves. The server is connected to an in-memory transport and closed afterwards. */
export async function readCatalog(server: McpServer): Promise<Catalog> {
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  const exchange = new Exchange(client);
  await server.connect(serverSide);
  try {
    await client.start();
    const init = await exchange.request<{
      protocolVersion: string;
      serverInfo: { name: string; version: string };
      instructions?: string;
    }>('initialize', {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'callgate-docs', version: '1' },
    });
    await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const tools = await exchange.all<Omit<ToolDoc, 'scopes' | 'example'>>('tools/list', 'tools');
    const resources = await exchange.all<Omit<ResourceDoc, 'scopes'>>('resources/list', 'resources');
    const templates = await exchange.all<Omit<ResourceDoc, 'scopes'>>('resources/templates/list', 'resourceTemplates');
    return {
      server: init.serverInfo,
      protocolVersion: init.protocolVersion,
      instructions: init.instructions,
      tools: await Promise.all(
        tools.map(async (tool) => ({
          name: tool.name,
          title: tool.title,
          description: tool.description,
          inputSchema: tool.inputSchema,
          outputSchema: tool.outputSchema,
          annotations: tool.annotations,
          scopes: await scopesFor(server, 'tools/call', { name: tool.name }),
          example: {
            method: 'tools/call' as const,
            params: { name: tool.name, arguments: exampleFor(tool.inputSchema) },
          },
        })),
      ),
      resources: await Promise.all(
        resources.map(async (r) => ({ ...pick(r), scopes: await scopesFor(server, 'resources/read', { uri: r.uri }) })),
      ),
      resourceTemplates: await Promise.all(
        templates.map(async (r) => ({
          ...pick(r),
          scopes: await scopesFor(server, 'resources/read', { uri: sampleUri(r.uriTemplate ?? '') }),
        })),
      ),
    };
  } finally {
    await server.close();
  }
}

const pick = (r: Omit<ResourceDoc, 'scopes'>): Omit<ResourceDoc, 'scopes'> => ({
  name: r.name,
  uri: r.uri,
  uriTemplate: r.uriTemplate,
  title: r.title,
  description: r.description,
  mimeType: r.mimeType,
});
