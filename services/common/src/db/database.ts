/** Rows and counts from one statement. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  /** One parameterized statement ($1, $2, …). Never interpolate values into SQL. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

/**
 * The one database interface every service uses: PostgreSQL through `pg` in production and CI,
 * embedded PGlite for `npm start` with nothing configured. SQL is written for PostgreSQL and
 * schema-qualified (each service owns one schema), so one PGlite can serve all services in one process.
 */
export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: { isolation?: IsolationLevel }): Promise<T>;
  /** Subscribes to NOTIFY on a channel; resolves with an unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

/** Channel names are identifiers in LISTEN; only these characters are allowed, so quoting stays trivial. */
export function assertIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a safe SQL identifier: ${name}`);
  return name;
}
