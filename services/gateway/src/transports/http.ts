import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@callgate/common';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { type AuthInfo, isInitializeRequest, type McpServer } from '@modelcontextprotocol/server';
import { sendCapReached } from '../admission-caps.js';
import { userIdOf } from '../auth.js';
import { type RateLimits, sendRateLimited } from '../rate-limits.js';
import type { Session, SessionRegistry, SessionSlot } from '../sessions.js';
import type { CallSubscriptions } from '../subscriptions.js';
import { SessionEventStore } from './event-store.js';
import { BodyRefusedError, readBody, sendJsonRpcError, sendJsonRpcErrorTo } from './http-body.js';
import { type Checked, checkJsonRpc, errorAnswer, isAnswered, revisionHasBatches } from './jsonrpc-check.js';
import type { createModernHttpHandler } from './modern-http.js';
import { replayInitialize } from './resume-session.js';
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

/**
 * Streamable HTTP at /mcp. A 2026-07-28 request (no session; its revision in the header and `_meta`) goes
 * to the stateless handler. Older revisions use sessions (2025-11-25 and before): an `initialize` POST opens a
 * session served by the SDK's transport; later requests carry Mcp-Session-Id. The session table, the
 * body limit and user binding are ours; the SDK transport applies the protocol's own HTTP rules
 * (Accept, Content-Type, MCP-Protocol-Version, SSE, DELETE).
 */
export function createMcpHttpHandler(options: McpHttpOptions) {
  /** A new session's server and transport, in the place `slot` reserved; `id` continues a session opened elsewhere. */
  const openSession = async (slot: SessionSlot, userId: string, initialize: unknown, id?: string) => {
    const server = options.newServer();
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: id ? () => id : randomUUID,
      // Last-Event-ID resumption: a client whose SSE stream broke replays what it missed (on this replica).
      eventStore: new SessionEventStore(),
      onsessioninitialized: (sessionId) => {
        slot.open({ id: sessionId, kind: 'http', userId, server, transport });
        if (!id) void options.shared.save(sessionId, { userId, initialize });
        options.log.debug({ sessionId, userId, resumed: Boolean(id) }, 'MCP session opened');
      },
      // A DELETE ends the session everywhere; a replica shutting down only lets go of its copy.
      onsessionclosed: (sessionId) => {
        options.sessions.delete(sessionId);
        void options.shared.delete(sessionId);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) options.sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return { server, transport };
  };

  /** Resumptions under way: a client's GET stream and POST often arrive together, and must share one. */
  const resuming = new Map<string, Promise<Session | undefined>>();

  /** The session, from this replica, or continued from the shared store when another opened it. */
  const findSession = async (sessionId: string, userId: string, auth: AuthInfo): Promise<Session | undefined> => {
    const local = options.sessions.get(sessionId, userId, 'http');
    if (local) {
      options.shared.touch(sessionId);
      return local;
    }
    if (!options.shared.enabled) return undefined;
    let pending = resuming.get(sessionId);
    if (!pending) {
      pending = resume(sessionId, userId, auth).finally(() => resuming.delete(sessionId));
      resuming.set(sessionId, pending);
    }
    const session = await pending;
    // Another user naming the same id waited on the owner's resumption: still not theirs.
    return session?.userId === userId ? session : undefined;
  };

  const resume = async (sessionId: string, userId: string, auth: AuthInfo): Promise<Session | undefined> => {
    let record: Awaited<ReturnType<SharedSessions['load']>>;
    try {
      record = await options.shared.load(sessionId);
    } catch (error) {
      options.log.warn({ err: error }, 'shared sessions unreachable: an unknown session is not found');
      return undefined;
    }
    if (!record || record.userId !== userId) return undefined;
    const slot = options.sessions.reserve(userId);
    if (typeof slot === 'string') return undefined;
    try {
      const { server, transport } = await openSession(slot, userId, record.initialize, sessionId);
      if (!(await replayInitialize(transport, server, sessionId, record.initialize, auth))) {
        await server.close().catch(() => undefined);
        return undefined;
      }
      await options.subscriptions?.restore(server, userId, await options.shared.subscriptions(sessionId));
    } finally {
      // A no-op once the session opened; a replay that failed gives its place back.
      slot.release();
    }
    options.shared.touch(sessionId);
    return options.sessions.get(sessionId, userId, 'http');
  };

  return async (req: IncomingMessage, res: ServerResponse, auth: AuthInfo): Promise<void> => {
    const userId = userIdOf(auth);
    (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    const sessionId = req.headers['mcp-session-id'];
    if (Array.isArray(sessionId)) return sendJsonRpcError(res, 400, -32600, 'Bad Request: one Mcp-Session-Id header');

    if (req.method === 'GET' || req.method === 'DELETE') {
      if (!sessionId) return sendJsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      const session = await findSession(sessionId, userId, auth);
      if (!session) return sendJsonRpcError(res, 404, -32001, 'Session not found');
      // The stream lets go of the session's single GET slot when it ends, so the client can reopen it.
      if (req.method === 'GET') endAtTokenExpiry(res, auth.expiresAt, options.tokenExpiry);
      return (session.transport as NodeStreamableHTTPServerTransport).handleRequest(req, res);
    }
    if (req.method !== 'POST') {
      return sendJsonRpcError(res, 405, -32000, 'Method not allowed', { allow: 'GET, POST, DELETE' });
    }

    let text: string;
    try {
      text = await readBody(req, options.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyRefusedError) {
        return sendJsonRpcError(res, error.httpStatus, error.code, error.message, error.headers);
      }
      return sendJsonRpcError(res, 400, -32700, 'Parse error: the body could not be read');
    }
    // The same gate as WebSocket frames, before the SDK (or anything recursive) sees the body.
    const revision = req.headers['mcp-protocol-version'];
    const checked = checkJsonRpc(text, {
      batchesRefused:
        typeof revision === 'string' && !revisionHasBatches(revision)
          ? `protocol ${revision} does not allow JSON-RPC batches`
          : undefined,
    });
    if (!checked.ok) return sendJsonRpcError(res, 400, checked.error.code, checked.error.message);
    const refused = refusedBody(checked);
    if (refused) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(refused));
      return;
    }
    const messages = checked.entries.flatMap((entry) => (entry.ok ? [entry.message] : []));
    const body: unknown = checked.batch ? messages : messages[0];
    const limited = await options.rateLimits.take(userId, body);
    if (limited) return sendRateLimited(res, body, limited);

    if (sessionId) {
      const session = await findSession(sessionId, userId, auth);
      if (!session) return sendJsonRpcErrorTo(res, body, 404, -32001, 'Session not found');
      return (session.transport as NodeStreamableHTTPServerTransport).handleRequest(req, res, body);
    }
    if (!(await options.modern.isLegacy(req, body))) return options.modern.serve(req, res, body);
    const initializes = Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body);
    if (!initializes) {
      return sendJsonRpcErrorTo(res, body, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    }
    const initialize = Array.isArray(body) ? body.find(isInitializeRequest) : body;
    const slot = options.sessions.reserve(userId);
    if (slot === 'replica') {
      return sendJsonRpcErrorTo(res, body, 503, -32000, 'Too many open sessions on this server; retry shortly', {
        'retry-after': '5',
      });
    }
    if (slot === 'user') return sendCapReached(res, (initialize as { id?: unknown }).id, options.sessions.refusal);
    try {
      const { transport } = await openSession(slot, userId, initialize);
      await transport.handleRequest(req, res, body);
    } finally {
      // A no-op once the session opened; an initialize that failed gives its place back.
      slot.release();
    }
  };
}

/**
 * The 400 answer of a body with a refused entry, or undefined when every entry passed. A batch is served
 * whole or not at all (the SDK answers a body as one), so its valid requests are refused too, each once.
 */
function refusedBody(checked: Checked & { ok: true }): unknown {
  if (checked.entries.every((entry) => entry.ok)) return undefined;
  const answers = checked.entries.filter(isAnswered).map((entry) =>
    entry.ok
      ? errorAnswer((entry.message as { id: string | number }).id, {
          code: -32600,
          message: 'Invalid Request: not served, another message of this batch is invalid',
        })
      : errorAnswer(entry.id, entry.error),
  );
  return checked.batch ? answers : answers[0];
}
