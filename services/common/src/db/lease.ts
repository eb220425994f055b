import type { Clock } from '../clock.js';
import type { Database } from './database.js';

/** A schema-qualified leases table: (name text PRIMARY KEY, holder text, expires_at timestamptz). */
const TABLE = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/;

export interface LeaseOptions {
  /** How long a lease lasts unless renewed; a dead holder is replaced within it. */
  ttlMs: number;
  clock: Clock;
  /** The service's leases table, e.g. poller.leases or calls.leases. */
  table: string;
}

/**
 * A named lease in PostgreSQL: one holder at a time until it expires. The holder renews it; another
 * replica takes it only once it has expired, so a dead holder is replaced within the lease time. A lease
 * row rather than an advisory lock: it works the same on PGlite, survives a connection blip of a live
 * holder, and its expiry is a time the tests can control through the clock. The poller's stale-call
 * sweep and the call service's retention job elect their one runner with it.
 */
export class Lease {
  private readonly table: string;

  constructor(
    private readonly db: Database,
    readonly name: string,
    readonly holder: string,
    private readonly options: LeaseOptions,
  ) {
    // Interpolated into SQL: only a plain schema.table name is accepted.
    if (!TABLE.test(options.table)) throw new Error(`lease table must be schema.table, got ${options.table}`);
    this.table = options.table;
  }

  /** Takes or renews the lease; true when this holder has it until now + ttl. */
  async acquire(): Promise<boolean> {
    const now = this.options.clock.date();
    const { rows } = await this.db.query<{ holder: string }>(
      `INSERT INTO ${this.table} AS l (name, holder, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
        WHERE l.holder = EXCLUDED.holder OR l.expires_at <= $4
       RETURNING holder`,
      [this.name, this.holder, new Date(now.getTime() + this.options.ttlMs), now],
    );
    return rows[0]?.holder === this.holder;
  }

  /** Gives the lease up (on a clean stop), so a standby takes over at once instead of after the ttl. */
  async release(): Promise<void> {
    await this.db.query(`DELETE FROM ${this.table} WHERE name = $1 AND holder = $2`, [this.name, this.holder]);
  }
}
