import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
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
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initInChildProcess(dataDir);
    }
    return new PgliteDatabase(await PGlite.create(dataDir, { postgresqlconf: EMBEDDED_CONF }));
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

/**
 * An embedded database holds a few MB of data: PostgreSQL's default 128 MB of shared buffers only make
 * the WebAssembly memory (and so the process's RSS) larger. 16 MB keeps `npm start` idle at a fraction.
 */
const EMBEDDED_CONF = ['shared_buffers = 16MB'];

/**
 * Creates a new data folder (initdb) in a short-lived child process: initdb grows PGlite's WebAssembly
 * memory to ~0.7 GB, which WebAssembly never gives back, so done in-process it stays in the RSS of the
 * process that serves every service. The child exits and the memory with it; this process then opens
 * the folder like any existing one (~0.15 GB).
 */
async function initInChildProcess(dataDir: string): Promise<void> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script = `const { PGlite } = require(${JSON.stringify(entry)});
PGlite.create(${JSON.stringify(dataDir)}).then((db) => db.close()).catch((error) => { console.error(error); process.exit(1); });`;
  try {
    await promisify(execFile)(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '' } });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`could not create the embedded database in ${dataDir}${stderr ? `: ${stderr}` : ''}`);
  }
}

/** Like pg's rowCount: rows returned by a query that returns rows, else rows affected. */
function toResult<R>(r: { rows: R[]; affectedRows?: number }): QueryResult<R> {
  return { rows: r.rows, rowCount: r.rows.length > 0 ? r.rows.length : (r.affectedRows ?? 0) };
}
