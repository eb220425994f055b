import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallerAdmission } from './caller-admission.js';
import type { publicCors } from './cors.js';
import type { createDocsHandler } from './docs/routes.js';
import { MCP_PATH, type ProtectedResource, RESOURCE_METADATA_PATH } from './protected-resource.js';
import type { createMcpHttpHandler } from './transports/http.js';
import { sendJsonRpcError } from './transports/http-body.js';

/** The label of a request's route in gateway_http_requests_total: a handful of values, whatever the path. */
export type PublicRoute = 'mcp' | 'metadata' | 'health' | 'docs' | 'other';

export function routeOf(path: string): PublicRoute {
  if (path === MCP_PATH) return 'mcp';
  if (path.startsWith(RESOURCE_METADATA_PATH)) return 'metadata';
  if (path === '/healthz') return 'health';
  if (path === '/docs' || path === '/openapi.json') return 'docs';
  return 'other';
}

/**
 * What the public port answers, by path: /mcp to an admitted caller only, the protected-resource
 * metadata, /healthz, the documentation, else 404.
 */
export function publicRoutes(options: {
  admit: (req: IncomingMessage) => Promise<CallerAdmission>;
  mcpHttp: ReturnType<typeof createMcpHttpHandler>;
  resource: ProtectedResource;
  docs?: ReturnType<typeof createDocsHandler>;
  /** CORS of /mcp and the metadata for the browser Origins /mcp admits (cors.ts). */
  cors: ReturnType<typeof publicCors>;
}) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    // Before admission: a preflight carries no token, and a 401 must be readable by an allowed page.
    if ((path === MCP_PATH || options.resource.isMetadataPath(path)) && options.cors.handle(req, res)) return;
    if (path === MCP_PATH) {
      const admitted = await options.admit(req);
      if (!('auth' in admitted))
        return sendJsonRpcError(res, admitted.status, -32001, admitted.message, admitted.headers);
      return options.mcpHttp(req, res, admitted.auth);
    }
    if (options.resource.isMetadataPath(path)) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(options.resource.metadata());
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    // Documentation is public: it describes the API, and holds no user's data.
    if (options.docs && (await options.docs(req, res, path))) return;
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  };
}
