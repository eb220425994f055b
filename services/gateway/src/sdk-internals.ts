/**
 * Every read of the MCP SDK's private fields, in one file: the gateway needs three things the SDK's
 * public API does not give (listed below, each with why). package-lock.json fixes the SDK's version;
 * sdk-internals.test.ts exercises each accessor against a real McpServer and transport, so an upgrade
 * that removes or renames a field fails there by name, and each accessor throws (naming the field)
 * instead of misbehaving quietly if one ever ships anyway.
 */
import type { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type {
  JSONRPCRequest,
  McpServer,
  RequestId,
  ServerContext,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';

export type RequestHandler = (request: JSONRPCRequest, ctx: ServerContext) => Promise<Record<string, unknown>>;

/** owner[name], or a clear error naming the field the SDK no longer has. */
function privateField<T>(owner: object, name: string, expected: (value: unknown) => boolean, where: string): T {
  const value = (owner as Record<string, unknown>)[name];
  if (!expected(value)) {
    throw new Error(`the MCP SDK's ${where} has no ${name} any more: update services/gateway/src/sdk-internals.ts`);
  }
  return value as T;
}

/** Each method's handler of the low-level Server (Protocol._requestHandlers): wrapped below. */
function requestHandlers(server: McpServer): Map<string, RequestHandler> {
  return privateField(server.server, '_requestHandlers', (v) => v instanceof Map, 'Server');
}

/**
 * The tools registered on `server`, by name (McpServer._registeredTools; the SDK adds to and deletes from
 * this one object, so a reference stays current). The tool-duration metric labels only names in it.
 */
export function registeredTools(server: McpServer): Readonly<Record<string, unknown>> {
  return privateField(server, '_registeredTools', (v) => typeof v === 'object' && v !== null, 'McpServer');
}

/**
 * The Web-standard transport the SDK's Node transport wraps (_webStandardTransport): it takes a Fetch
 * Request, so a resumed session's initialize can be replayed into it without a Node request
 * (transports/resume-session.ts).
 */
export function webStandardTransport(
  transport: NodeStreamableHTTPServerTransport,
): WebStandardStreamableHTTPServerTransport {
  return privateField(
    transport,
    '_webStandardTransport',
    (v) => typeof (v as { handleRequest?: unknown } | undefined)?.handleRequest === 'function',
    'NodeStreamableHTTPServerTransport',
  );
}

/**
 * Puts `wrapper` in front of the handler the SDK's McpServer installed for `method`, keeping the SDK's
 * own handler (and everything registered on it later, such as test fixtures) behind it. Needed where
 * the gateway must see what the SDK hides from tool and completion callbacks: the request's auth for
 * completions, and `params.task` plus a non-CallToolResult answer for tasks. setRequestHandler would
 * replace the SDK's handler and validate the answer as a CallToolResult, so the map is written
 * directly.
 */
export function wrapSdkHandler(
  server: McpServer,
  method: string,
  wrapper: (request: JSONRPCRequest, ctx: ServerContext, sdk: RequestHandler) => Promise<Record<string, unknown>>,
): void {
  const handlers = requestHandlers(server);
  const sdk = handlers.get(method);
  if (!sdk) throw new Error(`the SDK has no ${method} handler yet: register what installs it first`);
  handlers.set(method, (request, ctx) => wrapper(request, ctx, sdk));
}

/** A transport that frees per-request resources only when the server has finished with the request. */
interface SettleAware {
  requestSettled(id: RequestId): void;
}

const isSettleAware = (transport: unknown): transport is SettleAware =>
  typeof (transport as Partial<SettleAware> | undefined)?.requestSettled === 'function';

/**
 * Tells the connected transport when the handler of each request has returned, answered or not. The SDK
 * sends no answer to a request the client cancelled, so without this a transport could only guess when
 * its work ended (the WebSocket transport holds a cancelled request's in-flight place until then).
 * Wraps at lookup, so handlers registered later (and the wrappers of wrapSdkHandler) are covered;
 * call it once, after everything else is registered.
 */
export function reportSettledRequests(server: McpServer): void {
  const handlers = requestHandlers(server);
  const lookup = handlers.get.bind(handlers);
  handlers.get = (method: string) => {
    const handler = lookup(method);
    if (!handler) return handler;
    return async (request, ctx) => {
      try {
        return await handler(request, ctx);
      } finally {
        const transport = server.server.transport;
        if (isSettleAware(transport)) transport.requestSettled(ctx.mcpReq.id);
      }
    };
  };
}
