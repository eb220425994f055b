import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@callgate/common';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { type WebSocket, WebSocketServer } from 'ws';
import { capReached, UserSlots } from '../admission-caps.js';
import { userIdOf } from '../auth.js';
import type { CallerAdmission } from '../caller-admission.js';
import { MCP_PATH } from '../protected-resource.js';
import type { SessionRegistry, SessionSlot } from '../sessions.js';

export interface WebSocketAdmissionOptions {
  /** The origin and token check every /mcp caller passes (caller-admission.ts). */
  admit: (req: IncomingMessage) => Promise<CallerAdmission>;
  sessions: SessionRegistry;
  /** Open WebSocket connections per user, held from the upgrade until the socket closes. */
  perUser: number;
  maxFrameBytes: number;
  log: Logger;
  /** Serves a connection that was let in; `slot` is its session's place, reserved for it. */
  serve: (ws: WebSocket, auth: AuthInfo, userId: string, slot: SessionSlot) => void;
}

/**
 * Who may open a WebSocket at /mcp, decided in one place before the upgrade: the path, the caller's
 * origin and token (as for HTTP), the user's connection cap, then a session place (per user and per
 * replica). A refusal is a plain HTTP answer on the socket, since no WebSocket exists yet. `upgrade` is
 * the server's 'upgrade' listener; `clients` are the open connections (for shutdown).
 */
export function webSocketAdmission(options: WebSocketAdmissionOptions): {
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  clients: Set<WebSocket>;
} {
  const connections = new UserSlots(options.perUser);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes,
    handleProtocols: (protocols) => (protocols.has('mcp') ? 'mcp' : false),
  });

  // Verifying the token may fetch the issuer's keys; the client may leave meanwhile.
  const admitUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const admitted = await options.admit(req);
    if (socket.destroyed) return;
    if (!('auth' in admitted)) return refuseUpgrade(socket, admitted.status, admitted.headers);
    const auth = admitted.auth;
    const userId = userIdOf(auth);
    // Counted before the upgrade, synchronously, and held until the socket closes (however it ends):
    // concurrent upgrades cannot all see room.
    const connection = connections.reserve(userId);
    if (!connection) {
      return refuseAtCap(
        socket,
        capReached('WebSocket connections', connections.limit, 'close one before opening another'),
      );
    }
    const session = options.sessions.reserve(userId);
    if (session === 'replica') {
      connection.release();
      return refuseUpgrade(socket, 503, { 'retry-after': '5' });
    }
    if (session === 'user') {
      connection.release();
      return refuseAtCap(socket, options.sessions.refusal);
    }
    socket.once('close', () => {
      connection.release();
      session.release();
    });
    wss.handleUpgrade(req, socket, head, (ws) => options.serve(ws, auth, userId, session));
  };

  return {
    upgrade: (req, socket, head) => {
      // Node removes the socket's error listener when it hands it to 'upgrade'; without one, a client
      // resetting the connection would crash the process.
      socket.on('error', () => socket.destroy());
      if ((req.url ?? '/').split('?')[0] !== MCP_PATH) return refuseUpgrade(socket, 404);
      admitUpgrade(req, socket, head).catch((error: unknown) => {
        options.log.error({ err: error }, 'WebSocket upgrade failed');
        socket.destroy();
      });
    },
    clients: wss.clients,
  };
}

/** An HTTP answer written on the raw socket of a refused upgrade, which then closes. */
function refuseUpgrade(socket: Duplex, status: number, headers: Record<string, string> = {}, body = ''): void {
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'connection: close',
    `content-length: ${Buffer.byteLength(body)}`,
    ...(body ? ['content-type: application/json'] : []),
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, ' ')}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** 429 with a JSON-RPC error body: the user holds as many as they may. */
function refuseAtCap(socket: Duplex, error: ReturnType<typeof capReached>): void {
  refuseUpgrade(socket, 429, {}, JSON.stringify({ jsonrpc: '2.0', id: null, error }));
}
