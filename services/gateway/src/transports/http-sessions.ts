import { randomUUID } from 'node:crypto';
import type { Logger } from '@callgate/common';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { AuthInfo, McpServer } from '@modelcontextprotocol/server';
import type { Session, SessionRegistry, SessionSlot } from '../sessions.js';
import type { CallSubscriptions } from '../subscriptions.js';
import { SessionEventStore } from './event-store.js';
import { replayInitialize } from './resume-session.js';
import type { SharedSessions } from './shared-sessions.js';

export interface HttpSessionsOptions {
  sessions: SessionRegistry;
  newServer: () => McpServer;
  /** Sessions in Redis, so any replica continues them; disabled without Redis. */
  shared: SharedSessions;
  /** Restores a resumed session's resource subscriptions. */
  subscriptions?: CallSubscriptions;
  log: Logger;
}

/**
 * The sessions of 2025-era Streamable HTTP clients: opened here (a server and the SDK's transport per
 * session, recorded in the shared store), found here, or continued from the shared store when another
 * replica opened them.
 */
export function httpSessions(options: HttpSessionsOptions) {
  /** A new session's server and transport, in the place `slot` reserved; `id` continues a session opened elsewhere. */
  const open = async (slot: SessionSlot, userId: string, initialize: unknown, id?: string) => {
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
  const find = async (sessionId: string, userId: string, auth: AuthInfo): Promise<Session | undefined> => {
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
      const { server, transport } = await open(slot, userId, record.initialize, sessionId);
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

  return { open, find };
}
