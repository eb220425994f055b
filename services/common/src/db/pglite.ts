import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { assertIdentifier, type Database, type IsolationLevel, type Queryable, type QueryResult } from './database.js';

/**
 * Embedded PostgreSQL (PGlite) for `npm start` and tests without DATABASE_URL. It is single-process
 * and serializes every statement, so one instance is shared in-process by all services; it is never
 * served over a socket to several connections.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;

  private constructor(private readonly db: PGlite) {}

  /** dataDir: a folder for persistent data, or undefined for an in-memory database. */
  static async open(dataDir?: string): Promise<PgliteDatabase> {
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    return new PgliteDatabase(await PGlite.create(dataDir));
  }

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    return toResult(await this.db.query<R>(sql, params as unknown[]));
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>, options: { isolation?: IsolationLevel } = {}): Promise<T> {
    return this.db.transaction(async (t) => {
      if (options.isolation) await t.query(`SET TRANSACTION ISOLATION LEVEL ${options.isolation.toUpperCase()}`);
      return fn({
        query: async <R>(sql: string, params: readonly unknown[] = []) => {
          return toResult(await t.query<R>(sql, params as unknown[]));
        },
        exec: async (sql: string) => {
          await t.exec(sql);
        },
      });
    });
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    return this.db.listen(assertIdentifier(channel), onPayload);
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.db.query('SELECT pg_notify($1, $2)', [assertIdentifier(channel), payload]);
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}

/** Like pg's rowCount: rows returned by a query that returns rows, else rows affected. */
function toResult<R>(r: { rows: R[]; affectedRows?: number }): QueryResult<R> {
  return { rows: r.rows, rowCount: r.rows.length > 0 ? r.rows.length : (r.affectedRows ?? 0) };
}
