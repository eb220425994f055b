import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  acceptRequestId,
  closeHttp,
  inHttpServerSpan,
  type Logger,
  REQUEST_ID_HEADER,
  withRequestId,
} from '@callgate/common';
import type { McpServer } from '@modelcontextprotocol/server';
import { type AuthInfo, validateOriginHeader } from '@modelcontextprotocol/server';
import { Counter, type Registry } from 'prom-client';
import { type WebSocket, WebSocketServer } from 'ws';
import { capReached, UserSlots } from './admission-caps.js';
import { AuthError, AuthUnavailableError, authenticate, type TokenSettings, userIdOf } from './auth.js';
import type { createDocsHandler } from './docs/routes.js';
import { costOf, type RateLimits } from './rate-limits.js';
import type { SessionRegistry, SessionSlot } from './sessions.js';
import { USER_SCOPES } from './tools/scopes.js';
import type { createMcpHttpHandler } from './transports/http.js';
import { sendJsonRpcError } from './transports/http-body.js';
import { closeAtTokenExpiry } from './transports/token-expiry.js';
import { WebSocketServerTransport } from './transports/websocket.js';

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

const MCP_PATH = '/mcp';
const RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

/**
 * The gateway's public HTTP server: MCP at /mcp (Streamable HTTP and WebSocket upgrade), OAuth
 * protected-resource metadata (RFC 9728), /healthz, /docs and /openapi.json. Everything under /mcp needs a bearer token;
 * a browser Origin outside the allow-list is refused first (DNS-rebinding protection).
 */
export function createPublicServer(options: PublicServerOptions): {
  server: Server;
  shutdown: (graceMs: number) => Promise<void>;
} {
  const requests = new Counter({
    name: 'gateway_http_requests_total',
    help: 'Requests to the public HTTP port, by route and status.',
    labelNames: ['route', 'status'],
    registers: [options.registry],
  });
  const resourceMetadataUrl = () => `${options.publicBaseUrl()}${RESOURCE_METADATA_PATH}${MCP_PATH}`;
  const metadata = () =>
    JSON.stringify({
      resource: `${options.publicBaseUrl()}${MCP_PATH}`,
      ...(options.authorizationServers?.length ? { authorization_servers: options.authorizationServers } : {}),
      bearer_methods_supported: ['header'],
      resource_name: 'callgate',
      // What a client may ask a person for; `admin` is not (MCP clients register with this list, and the
      // authorization server refuses a registration naming a scope it never grants).
      scopes_supported: USER_SCOPES.split(' '),
    });

  /**
   * 403 for a disallowed Origin, 401 for missing or bad credentials, 503 when the issuer's keys
   * cannot be fetched (the client is not at fault: it retries); else the caller.
   */
  const admit = async (
    req: IncomingMessage,
  ): Promise<{ auth: AuthInfo } | { status: number; message: string; headers: Record<string, string> }> => {
    const origin = validateOriginHeader(req.headers.origin, options.allowedOriginHosts);
    if (!origin.ok) return { status: 403, message: `Forbidden: ${origin.message}`, headers: {} };
    try {
      return { auth: await authenticate(req.headers.authorization, options.tokens, resourceMetadataUrl()) };
    } catch (error) {
      if (error instanceof AuthUnavailableError) {
        options.log.warn({ err: error.cause }, 'authentication unavailable: the JWKS cannot be fetched');
        return {
          status: 503,
          message: 'Service Unavailable: authentication is temporarily unavailable; retry shortly',
          headers: { 'retry-after': '5' },
        };
      }
      if (!(error instanceof AuthError)) throw error;
      return {
        status: 401,
        message: `Unauthorized: ${error.message}`,
        headers: { 'www-authenticate': error.challenge },
      };
    }
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route =
      path === MCP_PATH
        ? 'mcp'
        : path?.startsWith(RESOURCE_METADATA_PATH)
          ? 'metadata'
          : path === '/healthz'
            ? 'health'
            : path === '/docs' || path === '/openapi.json'
              ? 'docs'
              : 'other';
    // One id per request, the caller's X-Request-Id if it is plain: returned, logged here and by every
    // service the request reaches (gRPC metadata), so one id finds the request's whole story.
    const requestId = acceptRequestId(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const started = performance.now();
    // Each MCP request starts a trace (a client's traceparent is not trusted: this port is public).
    const traced = <T>(fn: () => T): T =>
      route === 'mcp' ? inHttpServerSpan(req, res, { service: 'gateway', route: MCP_PATH }, fn) : fn();
    withRequestId(requestId, () => {
      res.once('finish', () => {
        requests.inc({ route, status: String(res.statusCode) });
        if (route === 'mcp') {
          const ms = Math.round(performance.now() - started);
          // Named explicitly: 'finish' may be emitted outside the request's async context.
          options.log.info({ requestId, method: req.method, status: res.statusCode, ms }, 'mcp request');
        }
      });
      traced(() =>
        handle(req, res, path ?? '/').catch((error: unknown) => {
          options.log.error({ err: error }, 'request failed'); // inside the span: the line names the trace
          sendJsonRpcError(res, 500, -32603, 'Internal error');
        }),
      );
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path === MCP_PATH) {
      const admitted = await admit(req);
      if (!('auth' in admitted))
        return sendJsonRpcError(res, admitted.status, -32001, admitted.message, admitted.headers);
      return options.mcpHttp(req, res, admitted.auth);
    }
    if (path === RESOURCE_METADATA_PATH || path === `${RESOURCE_METADATA_PATH}${MCP_PATH}`) {
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }).end(metadata());
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

  const websockets = new UserSlots(options.websocketsPerUser);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.wsMaxFrameBytes,
    handleProtocols: (protocols) => (protocols.has('mcp') ? 'mcp' : false),
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node removes the socket's error listener when it hands it to 'upgrade'; without one, a client
    // resetting the connection would crash the process.
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, reason: string, headers: Record<string, string> = {}, body = '') => {
      const lines = [
        `HTTP/1.1 ${status} ${reason}`,
        'connection: close',
        `content-length: ${Buffer.byteLength(body)}`,
        ...(body ? ['content-type: application/json'] : []),
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, ' ')}`),
      ];
      socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
    };
    /** 429 with a JSON-RPC error body: the user holds as many as they may. */
    const refuseCap = (error: ReturnType<typeof capReached>) =>
      refuse(429, 'Too Many Requests', {}, JSON.stringify({ jsonrpc: '2.0', id: null, error }));
    if ((req.url ?? '/').split('?')[0] !== MCP_PATH) return refuse(404, 'Not Found');
    // Verifying the token may fetch the issuer's keys; the client may leave meanwhile.
    const upgrade = async () => {
      const admitted = await admit(req);
      if (socket.destroyed) return;
      if (!('auth' in admitted)) {
        const reason =
          admitted.status === 401 ? 'Unauthorized' : admitted.status === 503 ? 'Service Unavailable' : 'Forbidden';
        return refuse(admitted.status, reason, admitted.headers);
      }
      const auth = admitted.auth;
      const userId = userIdOf(auth);
      // Counted before the upgrade, synchronously, and held until the socket closes (however it ends):
      // concurrent upgrades cannot all see room.
      const connection = websockets.reserve(userId);
      if (!connection) {
        return refuseCap(capReached('WebSocket connections', websockets.limit, 'close one before opening another'));
      }
      const session = options.sessions.reserve(userId);
      if (session === 'replica') {
        connection.release();
        return refuse(503, 'Service Unavailable', { 'retry-after': '5' });
      }
      if (session === 'user') {
        connection.release();
        return refuseCap(options.sessions.refusal);
      }
      socket.once('close', () => {
        connection.release();
        session.release();
      });
      wss.handleUpgrade(req, socket, head, (ws) => serveWebSocket(ws, auth, userId, session));
    };
    upgrade().catch((error: unknown) => {
      options.log.error({ err: error }, 'WebSocket upgrade failed');
      socket.destroy();
    });
  });

  const serveWebSocket = (ws: WebSocket, auth: AuthInfo, userId: string, slot: SessionSlot) => {
    const transport = new WebSocketServerTransport(ws, auth, {
      clockToleranceSeconds: options.tokens.clockToleranceSeconds,
      onActivity: () => options.sessions.touch(transport.sessionId),
      // Every entry a frame makes the gateway answer takes a token, valid or not.
      admit: async (messages, answers) =>
        (await options.rateLimits.take(userId, messages, { requests: answers, calls: costOf(messages).calls }))?.error,
    });
    const mcp = options.newServer();
    slot.open({ id: transport.sessionId, kind: 'websocket', userId, server: mcp, transport });
    closeAtTokenExpiry(ws, auth.expiresAt, options.tokens.clockToleranceSeconds);
    let alive = true;
    ws.on('pong', () => {
      alive = true;
    });
    const heartbeat = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, options.wsPingIntervalMs);
    ws.once('close', () => {
      clearInterval(heartbeat);
      options.sessions.delete(transport.sessionId);
    });
    mcp.connect(transport).catch((error: unknown) => options.log.error({ err: error }, 'WebSocket session failed'));
  };

  return {
    server,
    /**
     * Stops accepting at once, then waits up to graceMs for HTTP requests and WebSocket connections
     * to end; whatever is left (a client that never answers a close frame) is cut off.
     */
    shutdown: async (graceMs: number) => {
      const http = closeHttp(server, graceMs);
      const sockets = [...wss.clients].map(
        (client) =>
          new Promise<void>((resolve) =>
            client.readyState === client.CLOSED ? resolve() : client.once('close', () => resolve()),
          ),
      );
      const force = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, graceMs);
      await Promise.all([http, ...sockets]);
      clearTimeout(force);
    },
  };
}
