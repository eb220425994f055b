import type { Logger } from '@callgate/common';
import type { AuthInfo, McpServer } from '@modelcontextprotocol/server';
import type { WebSocket } from 'ws';
import { costOf, type RateLimits } from '../rate-limits.js';
import type { SessionRegistry, SessionSlot } from '../sessions.js';
import { closeAtTokenExpiry } from './token-expiry.js';
import { WebSocketServerTransport } from './websocket.js';

export interface WebSocketSessionOptions {
  sessions: SessionRegistry;
  newServer: () => McpServer;
  /** Per-user buckets each frame's requests take from; a refused one is answered with a JSON-RPC error. */
  rateLimits: RateLimits;
  /** The token's clock tolerance, as at admission: the connection closes when the token expires. */
  clockToleranceSeconds: number;
  pingIntervalMs: number;
  log: Logger;
}

/**
 * One admitted WebSocket served as an MCP session: its own server on the WebSocket transport, in the
 * session place admission reserved, closed when its token expires or its client stops answering pings.
 */
export function serveWebSocket(
  ws: WebSocket,
  auth: AuthInfo,
  userId: string,
  slot: SessionSlot,
  options: WebSocketSessionOptions,
): void {
  const transport = new WebSocketServerTransport(ws, auth, {
    clockToleranceSeconds: options.clockToleranceSeconds,
    onActivity: () => options.sessions.touch(transport.sessionId),
    // Every entry a frame makes the gateway answer takes a token, valid or not.
    admit: async (messages, answers) =>
      (await options.rateLimits.take(userId, messages, { requests: answers, calls: costOf(messages).calls }))?.error,
  });
  const mcp = options.newServer();
  slot.open({ id: transport.sessionId, kind: 'websocket', userId, server: mcp, transport });
  closeAtTokenExpiry(ws, auth.expiresAt, options.clockToleranceSeconds);
  const stopHeartbeat = heartbeat(ws, options.pingIntervalMs);
  ws.once('close', () => {
    stopHeartbeat();
    options.sessions.delete(transport.sessionId);
  });
  mcp.connect(transport).catch((error: unknown) => options.log.error({ err: error }, 'WebSocket session failed'));
}

/** Pings every interval; a connection that did not answer the last ping is gone (its TCP may never say so). */
function heartbeat(ws: WebSocket, intervalMs: number): () => void {
  let alive = true;
  ws.on('pong', () => {
    alive = true;
  });
  const timer = setInterval(() => {
    if (!alive) return ws.terminate();
    alive = false;
    ws.ping();
  }, intervalMs);
  return () => clearInterval(timer);
}

/**
 * Waits up to graceMs for the open connections to close (sessions send them close frames); whatever is
 * left (a client that never answers a close frame) is cut off.
 */
export async function drainWebSockets(clients: Set<WebSocket>, graceMs: number): Promise<void> {
  const closed = [...clients].map(
    (client) =>
      new Promise<void>((resolve) =>
        client.readyState === client.CLOSED ? resolve() : client.once('close', () => resolve()),
      ),
  );
  const force = setTimeout(() => {
    for (const client of clients) client.terminate();
  }, graceMs);
  await Promise.all(closed);
  clearTimeout(force);
}
