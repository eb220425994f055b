import type { JSONRPCRequest, McpServer, ServerContext } from '@modelcontextprotocol/server';

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
