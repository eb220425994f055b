import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@callgate/common';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  type AuthInfo,
  createMcpHandler,
  InMemoryServerEventBus,
  isLegacyRequest,
  type McpServer,
  type ServerEventBus,
} from '@modelcontextprotocol/server';
import { capReached, sendCapReached, UserSlots } from '../admission-caps.js';
import { userIdOf } from '../auth.js';
import { refuseListenWithoutScope } from '../resource-scopes.js';
import { endAtTokenExpiry, type TokenExpiry } from './token-expiry.js';

/**
 * The 2026-07-28 revision over HTTP: stateless, each request carries its protocol version and client
 * identity in `_meta`, so any replica serves it. The SDK's per-request entry does the protocol work
 * (server/discover, header checks, subscriptions/listen over SSE); requests of older revisions stay on
 * the session transport. The event bus carries notifications (resource updates) to listen streams.
 */
export function createModernHttpHandler(options: {
  newServer: () => McpServer;
  maxBodyBytes: number;
  log: Logger;
  bus?: ServerEventBus;
  /**
   * Whether this user may listen to a resource's updates. The SDK's listen router takes any URI it is
   * given; we refuse another user's call before the stream opens, as resources/subscribe does.
   */
  mayWatch?: (uri: string, auth: AuthInfo | undefined) => Promise<boolean>;
  /** Open listen streams: per user (held until the stream's response closes), and per replica. Default: 8 and 1024. */
  listenStreams?: { perUser: number; total: number };
  /**
   * Resource URIs one subscriptions/listen may name (each costs a GetCall before the stream opens, all
   * for one rate-limit token); more is refused with -32602. Default: 100.
   */
  maxListenUris?: number;
  /** Listen streams end when the token that opened them expires. */
  tokenExpiry: TokenExpiry;
}) {
  const maxListenUris = options.maxListenUris ?? 100;
  const listening = new UserSlots(options.listenStreams?.perUser ?? 8);
  const bus = options.bus ?? new InMemoryServerEventBus((error) => options.log.warn({ err: error }, 'event bus'));
  const handler = createMcpHandler(() => options.newServer(), {
    legacy: 'reject',
    bus,
    maxSubscriptions: options.listenStreams?.total ?? 1024,
    maxRequestBodySize: options.maxBodyBytes,
    onerror: (error) => options.log.debug({ err: error }, 'MCP 2026-07-28 request refused or failed'),
  });
  const node = toNodeHandler(handler, {
    maxRequestBodySize: options.maxBodyBytes,
    onerror: (error) => options.log.warn({ err: error }, 'MCP 2026-07-28 adapter failed'),
  });
  return {
    bus,
    /** Publishes notifications (resource updates) to 2026-07-28 listen streams. */
    notify: handler.notify,
    /** Whether a parsed POST body (and its headers) belongs to the 2025 era with sessions. */
    isLegacy: (req: IncomingMessage, body: unknown) =>
      isLegacyRequest(
        new Request('http://gateway/mcp', {
          method: 'POST',
          headers: Object.entries(req.headers).flatMap(([k, v]) =>
            v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((one) => [k, one] as [string, string]),
          ),
        }),
        body,
        { maxRequestBodySize: options.maxBodyBytes },
      ),
    serve: async (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body: unknown) => {
      if (await refuseListenWithoutScope(options.newServer, body, req.auth, res)) return;
      const listen = body as {
        id?: unknown;
        method?: unknown;
        params?: { notifications?: { resourceSubscriptions?: unknown } };
      };
      const isListen = listen?.method === 'subscriptions/listen';
      const uris = isListen ? listen.params?.notifications?.resourceSubscriptions : undefined;
      if (Array.isArray(uris) && uris.length > maxListenUris) {
        return refuseListen(res, listen.id, {
          code: -32602,
          message: `Invalid params: a subscriptions/listen may name at most ${maxListenUris} resource URIs (got ${uris.length}); split them over several listens`,
          data: { limit: maxListenUris },
        });
      }
      if (isListen) {
        // Reserved before the URIs are checked (slow: a GetCall each), synchronously, so concurrent
        // listens cannot all see room; released when the response closes, however it ends. A client
        // gone before we could watch for its 'close' gives the place back here.
        const slot = listening.reserve(userIdOf(req.auth));
        if (!slot) {
          const error = capReached('listen streams', listening.limit, 'close one before opening another');
          return sendCapReached(res, listen.id, error);
        }
        if (res.destroyed) return slot.release();
        res.once('close', () => slot.release());
        endAtTokenExpiry(res, req.auth?.expiresAt, options.tokenExpiry);
      }
      if (Array.isArray(uris) && options.mayWatch) {
        for (const uri of uris) {
          // The client left (or the token expired) while we checked: nothing more to do for it.
          if (res.destroyed) return;
          if (typeof uri === 'string' && !(await options.mayWatch(uri, req.auth))) {
            return refuseListen(res, listen.id, {
              code: -32602,
              message: `Resource not found: ${uri}`,
              data: { uri },
            });
          }
        }
        if (res.destroyed) return;
      }
      await node(req, res, body);
    },
    close: () => handler.close(),
  };
}

/** A listen refused before its stream opens: HTTP 400 with the JSON-RPC error. */
function refuseListen(res: ServerResponse, id: unknown, error: { code: number; message: string; data?: unknown }) {
  if (res.destroyed) return;
  res
    .writeHead(400, { 'content-type': 'application/json' })
    .end(JSON.stringify({ jsonrpc: '2.0', id: id ?? null, error }));
}
