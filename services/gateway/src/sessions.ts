import type { McpServer, Transport } from '@modelcontextprotocol/server';

export interface Session {
  id: string;
  /** The user who opened it; requests from anyone else are answered as if it did not exist. */
  userId: string;
  server: McpServer;
  transport: Transport;
  lastSeen: number;
}

/**
 * Open MCP sessions of this replica (HTTP sessions by Mcp-Session-Id, and WebSocket connections).
 * Idle ones are closed by sweep(), so abandoned sessions do not accumulate.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly idleMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(session: Omit<Session, 'lastSeen'>): void {
    this.sessions.set(session.id, { ...session, lastSeen: this.now() });
  }

  /** The session if it exists and belongs to userId; touching it keeps it alive. */
  get(id: string, userId: string): Session | undefined {
    const session = this.sessions.get(id);
    if (!session || session.userId !== userId) return undefined;
    session.lastSeen = this.now();
    return session;
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
    const cutoff = this.now() - this.idleMs;
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
