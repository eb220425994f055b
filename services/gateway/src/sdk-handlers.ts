import type { JSONRPCRequest, McpServer, RequestId, ServerContext } from '@modelcontextprotocol/server';

export type RequestHandler = (request: JSONRPCRequest, ctx: ServerContext) => Promise<Record<string, unknown>>;

/** The SDK keeps each method's handler in this map. */
interface HandlerMap {
  _requestHandlers: Map<string, RequestHandler>;
}

/**
 * Puts `wrapper` in front of the handler the SDK's McpServer installed for `method`, keeping the SDK's
 * own handler (and everything registered on it later, such as test fixtures) behind it. Needed where
 * the gateway must see what the SDK hides from tool and completion callbacks: the request's auth for
 * completions, and `params.task` plus a non-CallToolResult answer for tasks. setRequestHandler would
 * replace the SDK's handler and validate the answer as a CallToolResult, so the map is written
 * directly. package-lock.json fixes the SDK's version, and the task and completion tests fail if this
 * seam moves.
 */
export function wrapSdkHandler(
  server: McpServer,
  method: string,
  wrapper: (request: JSONRPCRequest, ctx: ServerContext, sdk: RequestHandler) => Promise<Record<string, unknown>>,
): void {
  const handlers = (server.server as unknown as HandlerMap)._requestHandlers;
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
  const handlers = (server.server as unknown as HandlerMap)._requestHandlers;
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
