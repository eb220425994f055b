import type { McpServer, Transport } from '@modelcontextprotocol/server';

export type SessionKind = 'http' | 'websocket';

export interface Session {
  id: string;
  kind: SessionKind;
  /** The user who opened it; requests from anyone else are answered as if it did not exist. */
  userId: string;
  server: McpServer;
  transport: Transport;
  lastSeen: number;
}

export interface SessionLimits {
  /** Sessions with no request for this long are closed by sweep(). */
  idleMs: number;
  /** A user's sessions beyond this evict that user's least recently used one. */
  maxPerUser: number;
  /** Sessions on this replica beyond this are refused (each costs about 160 KB). */
  maxTotal: number;
}

/**
 * Open MCP sessions of this replica (HTTP sessions by Mcp-Session-Id, and WebSocket connections),
 * bounded per user and in total, so no client can exhaust memory by opening sessions.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  /** Told of a session closed to make room (the shared store forgets it). */
  onEvict?: (id: string) => Promise<void>;

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Makes room for a new session of userId: closes the user's least recently used session when
   * they are at their limit. False when the replica is full, and the caller refuses (503).
   */
  async makeRoom(userId: string): Promise<boolean> {
    const own = [...this.sessions.values()].filter((s) => s.userId === userId);
    if (own.length >= this.limits.maxPerUser) {
      const oldest = own.reduce((a, b) => (a.lastSeen <= b.lastSeen ? a : b));
      await this.close(oldest);
      // Evicted for good, not only here: no other replica may continue it.
      await this.onEvict?.(oldest.id);
    }
    return this.sessions.size < this.limits.maxTotal;
  }

  add(session: Omit<Session, 'lastSeen'>): void {
    this.sessions.set(session.id, { ...session, lastSeen: this.now() });
  }

  /** The session if it exists, is of this kind and belongs to userId; reading it keeps it alive. */
  get(id: string, userId: string, kind: SessionKind): Session | undefined {
    const session = this.sessions.get(id);
    if (!session || session.userId !== userId || session.kind !== kind) return undefined;
    session.lastSeen = this.now();
    return session;
  }

  /** The session by id alone (for messages between replicas, which carry no user). */
  find(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  touch(id: string): void {
    const session = this.sessions.get(id);
    if (session) session.lastSeen = this.now();
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Closes sessions idle for longer than idleMs; returns how many. */
  async sweep(): Promise<number> {
    const cutoff = this.now() - this.limits.idleMs;
    const idle = [...this.sessions.values()].filter((s) => s.lastSeen < cutoff);
    await Promise.all(idle.map((s) => this.close(s)));
    return idle.length;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.close(s)));
  }

  private async close(session: Session): Promise<void> {
    this.sessions.delete(session.id);
    await session.server.close().catch(() => undefined);
  }
}
