import { createServer, type Server } from 'node:http';
import { closeHttp, type Logger } from '@callgate/common';
import type { McpServer } from '@modelcontextprotocol/server';
import type { Registry } from 'prom-client';
import type { TokenSettings } from './auth.js';
import { callerAdmission } from './caller-admission.js';
import { publicCors } from './cors.js';
import type { createDocsHandler } from './docs/routes.js';
import { protectedResource } from './protected-resource.js';
import { publicRoutes } from './public-routes.js';
import type { RateLimits } from './rate-limits.js';
import { withRequestTelemetry } from './request-telemetry.js';
import type { SessionRegistry } from './sessions.js';
import type { createMcpHttpHandler } from './transports/http.js';
import { webSocketAdmission } from './transports/websocket-admission.js';
import { drainWebSockets, serveWebSocket } from './transports/websocket-session.js';

export interface PublicServerOptions {
  /** Known only once the server listens when the port is chosen by the OS. */
  publicBaseUrl: () => string;
  /** Issuers of the authorization servers clients sign in at (RFC 9728 authorization_servers). Default: none. */
  authorizationServers?: string[];
  allowedOriginHosts: string[];
  tokens: TokenSettings;
  sessions: SessionRegistry;
  /** Open WebSocket connections per user (MCP_MAX_WEBSOCKETS_PER_USER), held from the upgrade until the socket closes. */
  websocketsPerUser: number;
  mcpHttp: ReturnType<typeof createMcpHttpHandler>;
  newServer: () => McpServer;
  wsMaxFrameBytes: number;
  wsPingIntervalMs: number;
  /** Per-user buckets each WebSocket request takes from; a refused one is answered with a JSON-RPC error. */
  rateLimits: RateLimits;
  registry: Registry;
  log: Logger;
  /** GET /docs and /openapi.json, served without a token. Default: not served (404). */
  docs?: ReturnType<typeof createDocsHandler>;
}

/**
 * The gateway's public HTTP server: MCP at /mcp (Streamable HTTP and WebSocket upgrade), OAuth
 * protected-resource metadata (RFC 9728), /healthz, /docs and /openapi.json. Everything under /mcp needs a bearer token;
 * a browser Origin outside the allow-list is refused first (DNS-rebinding protection). A list of its
 * parts: each is in the file named for it.
 */
export function createPublicServer(options: PublicServerOptions): {
  server: Server;
  shutdown: (graceMs: number) => Promise<void>;
} {
  const resource = protectedResource(options.publicBaseUrl, options.authorizationServers);
  // One door for /mcp, whichever way the caller comes in (HTTP request or WebSocket upgrade).
  const admit = callerAdmission({
    allowedOriginHosts: options.allowedOriginHosts,
    tokens: options.tokens,
    resourceMetadataUrl: resource.metadataUrl,
    log: options.log,
  });
  const routes = publicRoutes({
    admit,
    mcpHttp: options.mcpHttp,
    resource,
    docs: options.docs,
    cors: publicCors(options.allowedOriginHosts),
  });
  const server = createServer(withRequestTelemetry(options.registry, options.log, routes));
  const websockets = webSocketAdmission({
    admit,
    sessions: options.sessions,
    perUser: options.websocketsPerUser,
    maxFrameBytes: options.wsMaxFrameBytes,
    log: options.log,
    serve: (ws, auth, userId, slot) =>
      serveWebSocket(ws, auth, userId, slot, {
        sessions: options.sessions,
        newServer: options.newServer,
        rateLimits: options.rateLimits,
        clockToleranceSeconds: options.tokens.clockToleranceSeconds,
        pingIntervalMs: options.wsPingIntervalMs,
        log: options.log,
      }),
  });
  server.on('upgrade', websockets.upgrade);
  return {
    server,
    /**
     * Stops accepting at once, then waits up to graceMs for HTTP requests and WebSocket connections
     * to end; whatever is left (a client that never answers a close frame) is cut off.
     */
    shutdown: async (graceMs: number) => {
      await Promise.all([closeHttp(server, graceMs), drainWebSockets(websockets.clients, graceMs)]);
    },
  };
}
