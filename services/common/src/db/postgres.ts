import pg from 'pg';
import type { Logger } from '../logger.js';
import { assertIdentifier, type Database, type IsolationLevel, type Queryable, type QueryResult } from './database.js';

export interface PostgresOptions {
  url: string;
  log: Logger;
  /** Pool size; default 10. */
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
}

/** PostgreSQL through a `pg` pool. LISTEN uses one dedicated connection per database. */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private listener: Promise<pg.PoolClient> | undefined;
  private closed = false;
  private readonly log: Logger;
  /** Per channel: its handlers, and the LISTEN every subscriber waits for. */
  private readonly handlers = new Map<string, { handlers: Set<(payload: string) => void>; listening: Promise<void> }>();

  constructor(options: PostgresOptions) {
    this.log = options.log;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'callgate',
      connectionTimeoutMillis: 5000,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', (error) => options.log.warn({ err: error }, 'idle PostgreSQL connection failed'));
  }

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    const result = await this.pool.query(sql, params as unknown[]);
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>, options: { isolation?: IsolationLevel } = {}): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client has no pool listener: a connection the server ends between two statements (a
    // restart, a failover) emits 'error', which would crash the process. Kept here; the next statement
    // fails, the transaction rejects, and the broken client is discarded instead of going back to the pool.
    let lost: Error | undefined;
    const onLost = (error: Error) => {
      lost = error;
    };
    client.on('error', onLost);
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${(options.isolation ?? 'read committed').toUpperCase()}`);
      const tx: Queryable = {
        query: async <R>(sql: string, params: readonly unknown[] = []) => {
          const r = await client.query(sql, params as unknown[]);
          return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
        },
        exec: async (sql: string) => {
          await client.query(sql);
        },
      };
      const result = await fn(tx);
      // After a failed statement PostgreSQL answers COMMIT by rolling back, without an error.
      const commit = await client.query('COMMIT');
      if (commit.command === 'ROLLBACK') throw new Error('transaction was rolled back: a statement in it had failed');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', onLost);
      client.release(lost);
    }
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    assertIdentifier(channel);
    let entry = this.handlers.get(channel);
    if (!entry) {
      const created = { handlers: new Set<(payload: string) => void>(), listening: this.startListening(channel) };
      entry = created;
      this.handlers.set(channel, created);
      // A LISTEN that failed leaves no entry behind, so the next caller tries again.
      created.listening.catch(() => {
        if (this.handlers.get(channel) === created) this.handlers.delete(channel);
      });
    }
    await entry.listening;
    const { handlers } = entry;
    handlers.add(onPayload);
    return async () => {
      handlers.delete(onPayload);
      if (handlers.size === 0 && this.handlers.get(channel) === entry) {
        this.handlers.delete(channel);
        await (await this.listener)?.query(`UNLISTEN ${channel}`);
      }
    };
  }

  private async startListening(channel: string): Promise<void> {
    await (await this.listenerConnection()).query(`LISTEN ${channel}`);
  }

  /**
   * The one connection that holds every LISTEN. Concurrent first callers share it; when it fails it is
   * replaced and every channel listened to again, so notifications resume after a database restart.
   */
  private listenerConnection(): Promise<pg.PoolClient> {
    if (this.listener) return this.listener;
    const connecting = this.pool.connect().then((client) => {
      client.on('notification', (n) => {
        for (const handler of this.handlers.get(n.channel)?.handlers ?? []) handler(n.payload ?? '');
      });
      client.on('error', (error) => {
        this.log.warn({ err: error }, 'LISTEN connection failed; reconnecting');
        client.release(error);
        if (this.listener === connecting) this.listener = undefined;
        if (!this.closed) void this.relisten();
      });
      return client;
    });
    this.listener = connecting;
    connecting.catch(() => {
      if (this.listener === connecting) this.listener = undefined;
    });
    return connecting;
  }

  private async relisten(): Promise<void> {
    for (let attempt = 0; !this.closed && this.handlers.size > 0; attempt++) {
      try {
        const client = await this.listenerConnection();
        for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
        return;
      } catch (error) {
        this.log.warn({ err: error, attempt }, 'cannot re-establish LISTEN yet');
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 250 * 2 ** attempt)).unref());
      }
    }
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [assertIdentifier(channel), payload]);
  }

  async close(): Promise<void> {
    this.closed = true;
    const listener = await this.listener?.catch(() => undefined);
    this.listener = undefined;
    listener?.release();
    await this.pool.end();
  }
}
