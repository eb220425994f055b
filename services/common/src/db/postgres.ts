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
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();

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
      client.release();
    }
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    assertIdentifier(channel);
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await (await this.listenerConnection()).query(`LISTEN ${channel}`);
    }
    set.add(onPayload);
    return async () => {
      set.delete(onPayload);
      if (set.size === 0 && this.handlers.get(channel) === set) {
        this.handlers.delete(channel);
        await (await this.listener)?.query(`UNLISTEN ${channel}`);
      }
    };
  }

  /**
   * The one connection that holds every LISTEN. Concurrent first callers share it; when it fails it is
   * replaced and every channel listened to again, so notifications resume after a database restart.
   */
  private listenerConnection(): Promise<pg.PoolClient> {
    this.listener ??= this.pool.connect().then((client) => {
      client.on('notification', (n) => {
        for (const handler of this.handlers.get(n.channel) ?? []) handler(n.payload ?? '');
      });
      client.on('error', (error) => {
        this.log.warn({ err: error }, 'LISTEN connection failed; reconnecting');
        client.release(error);
        this.listener = undefined;
        if (!this.closed) void this.relisten();
      });
      return client;
    });
    this.listener.catch(() => {
      this.listener = undefined;
    });
    return this.listener;
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
