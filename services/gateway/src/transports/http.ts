import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@callgate/common';
import type { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { type AuthInfo, isInitializeRequest, type McpServer } from '@modelcontextprotocol/server';
import { sendCapReached } from '../admission-caps.js';
import { userIdOf } from '../auth.js';
import { type RateLimits, sendRateLimited } from '../rate-limits.js';
import type { Session, SessionRegistry } from '../sessions.js';
import type { CallSubscriptions } from '../subscriptions.js';
import { sendJsonRpcError, sendJsonRpcErrorTo } from './http-body.js';
import { httpSessions } from './http-sessions.js';
import type { createModernHttpHandler } from './modern-http.js';
import { readPostBody } from './post-body.js';
import type { SharedSessions } from './shared-sessions.js';
import { endAtTokenExpiry, type TokenExpiry } from './token-expiry.js';

export interface McpHttpOptions {
  sessions: SessionRegistry;
  /** Serves 2026-07-28 requests (no session); older revisions stay here. */
  modern: ReturnType<typeof createModernHttpHandler>;
  newServer: () => McpServer;
  maxBodyBytes: number;
  /** Per-user buckets every POSTed request takes from, whatever its revision or session; empty ones get 429. */
  rateLimits: RateLimits;
  /** Sessions in Redis, so any replica continues them; disabled without Redis. */
  shared: SharedSessions;
  /** Restores a resumed session's resource subscriptions. */
  subscriptions?: CallSubscriptions;
  /** A session's GET event stream ends when the token that opened it expires. */
  tokenExpiry: TokenExpiry;
  log: Logger;
}

/** Who sent a request: the verified token and the user it names. */
interface Caller {
  auth: AuthInfo;
  userId: string;
}

/** The SDK's transport of an HTTP session (sessions of kind 'http' hold no other). */
const transportOf = (session: Session) => session.transport as NodeStreamableHTTPServerTransport;

/**
 * Streamable HTTP at /mcp. A 2026-07-28 request (no session; its revision in the header and `_meta`) goes
 * to the stateless handler. Older revisions use sessions (2025-11-25 and before): an `initialize` POST opens a
 * session served by the SDK's transport; later requests carry Mcp-Session-Id. The session table, the
 * body limit and user binding are ours; the SDK transport applies the protocol's own HTTP rules
 * (Accept, Content-Type, MCP-Protocol-Version, SSE, DELETE).
 */
export function createMcpHttpHandler(options: McpHttpOptions) {
  const sessions = httpSessions(options);

  /** GET (the session's event stream) and DELETE (its end) name an existing session. */
  const serveSessionRequest = async (req: IncomingMessage, res: ServerResponse, caller: Caller, sessionId?: string) => {
    const { auth, userId } = caller;
    if (!sessionId) return sendJsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    const session = await sessions.find(sessionId, userId, auth);
    if (!session) return sendJsonRpcError(res, 404, -32001, 'Session not found');
    // The stream lets go of the session's single GET slot when it ends, so the client can reopen it.
    if (req.method === 'GET') endAtTokenExpiry(res, auth.expiresAt, options.tokenExpiry);
    return transportOf(session).handleRequest(req, res);
  };

  /** A POST without a session: a 2026-07-28 request, or a 2025-era initialize opening one. */
  const serveSessionless = async (req: IncomingMessage, res: ServerResponse, userId: string, body: unknown) => {
    if (!(await options.modern.isLegacy(req, body))) return options.modern.serve(req, res, body);
    const initialize = Array.isArray(body) ? body.find(isInitializeRequest) : isInitializeRequest(body) && body;
    if (!initialize) {
      return sendJsonRpcErrorTo(res, body, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    }
    const slot = options.sessions.reserve(userId);
    if (slot === 'replica') {
      return sendJsonRpcErrorTo(res, body, 503, -32000, 'Too many open sessions on this server; retry shortly', {
        'retry-after': '5',
      });
    }
    if (slot === 'user') return sendCapReached(res, (initialize as { id?: unknown }).id, options.sessions.refusal);
    try {
      const { transport } = await sessions.open(slot, userId, initialize);
      await transport.handleRequest(req, res, body);
    } finally {
      // A no-op once the session opened; an initialize that failed gives its place back.
      slot.release();
    }
  };

  const servePost = async (req: IncomingMessage, res: ServerResponse, caller: Caller, sessionId?: string) => {
    const { auth, userId } = caller;
    const read = await readPostBody(req, res, options.maxBodyBytes);
    if (!read) return;
    const { body } = read;
    const limited = await options.rateLimits.take(userId, body);
    if (limited) return sendRateLimited(res, body, limited);
    if (!sessionId) return serveSessionless(req, res, userId, body);
    const session = await sessions.find(sessionId, userId, auth);
    if (!session) return sendJsonRpcErrorTo(res, body, 404, -32001, 'Session not found');
    return transportOf(session).handleRequest(req, res, body);
  };

  return async (req: IncomingMessage, res: ServerResponse, auth: AuthInfo): Promise<void> => {
    const caller = { auth, userId: userIdOf(auth) };
    (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    const sessionId = req.headers['mcp-session-id'];
    if (Array.isArray(sessionId)) return sendJsonRpcError(res, 400, -32600, 'Bad Request: one Mcp-Session-Id header');
    if (req.method === 'GET' || req.method === 'DELETE') return serveSessionRequest(req, res, caller, sessionId);
    if (req.method === 'POST') return servePost(req, res, caller, sessionId);
    return sendJsonRpcError(res, 405, -32000, 'Method not allowed', { allow: 'GET, POST, DELETE' });
  };
}
