import { type Clock, systemClock } from '@callgate/common';
import type { McpServer, Transport } from '@modelcontextprotocol/server';
import { capReached } from './admission-caps.js';

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
 * A place for a session being opened, counted against the user's and the replica's limits from the
 * moment it was reserved. open() turns it into the session; release() gives it back if it never opened.
 */
export interface SessionSlot {
  open(session: Omit<Session, 'lastSeen'>): void;
  release(): void;
}

/** Why reserve() refused: the user's sessions are all still opening, or the replica is full. */
export type SessionRefusal = 'user' | 'replica';

/**
 * Open MCP sessions of this replica (HTTP sessions by Mcp-Session-Id, and WebSocket connections),
 * bounded per user and in total, so no client can exhaust memory by opening sessions.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  /** Sessions reserved and not yet open, by user, and their total. */
  private readonly opening = new Map<string, number>();
  private openingTotal = 0;
  /** Told of a session closed to make room (the shared store forgets it). */
  onEvict?: (id: string) => Promise<void>;

  constructor(
    private readonly limits: SessionLimits,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Reserves a place for a new session of userId, synchronously, so concurrent requests cannot all see
   * room: sessions being opened count as much as open ones. A user at their limit loses their least
   * recently used open session; one whose sessions are all still opening is refused ('user'), as is
   * anyone when the replica is full ('replica').
   */
  reserve(userId: string): SessionSlot | SessionRefusal {
    const opening = this.opening.get(userId) ?? 0;
    const own = [...this.sessions.values()].filter((s) => s.userId === userId);
    if (own.length + opening >= this.limits.maxPerUser) {
      if (own.length === 0) return 'user';
      const oldest = own.reduce((a, b) => (a.lastSeen <= b.lastSeen ? a : b));
      void this.close(oldest);
      // Evicted for good, not only here: no other replica may continue it.
      void this.onEvict?.(oldest.id).catch(() => undefined);
    } else if (this.sessions.size + this.openingTotal >= this.limits.maxTotal) {
      return 'replica';
    }
    this.opening.set(userId, opening + 1);
    this.openingTotal++;
    let pending = true;
    const settle = () => {
      if (!pending) return false;
      pending = false;
      this.openingTotal--;
      const left = (this.opening.get(userId) ?? 1) - 1;
      if (left > 0) this.opening.set(userId, left);
      else this.opening.delete(userId);
      return true;
    };
    return {
      open: (session) => {
        if (settle()) this.add(session);
      },
      release: () => void settle(),
    };
  }

  /** The JSON-RPC error refusing a session to a user whose sessions are all still opening. */
  get refusal() {
    return capReached(
      'sessions being opened',
      this.limits.maxPerUser,
      'wait for them to open (one more then replaces your least recently used)',
    );
  }

  add(session: Omit<Session, 'lastSeen'>): void {
    this.sessions.set(session.id, { ...session, lastSeen: this.clock.now() });
  }

  /** The session if it exists, is of this kind and belongs to userId; reading it keeps it alive. */
  get(id: string, userId: string, kind: SessionKind): Session | undefined {
    const session = this.sessions.get(id);
    if (!session || session.userId !== userId || session.kind !== kind) return undefined;
    session.lastSeen = this.clock.now();
    return session;
  }

  /** The session by id alone (for messages between replicas, which carry no user). */
  find(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  touch(id: string): void {
    const session = this.sessions.get(id);
    if (session) session.lastSeen = this.clock.now();
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Closes sessions idle for longer than idleMs; returns how many. */
  async sweep(): Promise<number> {
    const cutoff = this.clock.now() - this.limits.idleMs;
    const idle = [...this.sessions.values()].filter((s) => s.lastSeen < cutoff);
    await Promise.all(idle.map((s) => this.close(s)));
    return idle.length;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.close(s)));
  }

  /** Forgets the session at once (its place is free), then closes it. */
  private async close(session: Session): Promise<void> {
    this.sessions.delete(session.id);
    await session.server.close().catch(() => undefined);
  }
}
