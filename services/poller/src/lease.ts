import type { Clock, Database } from '@callgate/common';

/**
 * A named lease in PostgreSQL (poller.leases): one holder at a time until it expires. The holder renews
 * it; another replica takes it only once it has expired, so a dead holder is replaced within the lease
 * time. A lease row rather than an advisory lock: it works the same on PGlite, survives a connection
 * blip of a live holder, and its expiry is a time the tests can control through the clock.
 */
export class Lease {
  constructor(
    private readonly db: Database,
    readonly name: string,
    readonly holder: string,
    private readonly options: { ttlMs: number; clock: Clock },
  ) {}

  /** Takes or renews the lease; true when this holder has it until now + ttl. */
  async acquire(): Promise<boolean> {
    const now = this.options.clock.date();
    const { rows } = await this.db.query<{ holder: string }>(
      `INSERT INTO poller.leases AS l (name, holder, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
        WHERE l.holder = EXCLUDED.holder OR l.expires_at <= $4
       RETURNING holder`,
      [this.name, this.holder, new Date(now.getTime() + this.options.ttlMs), now],
    );
    return rows[0]?.holder === this.holder;
  }

  /** Gives the lease up (on a clean stop), so a standby takes over at once instead of after the ttl. */
  async release(): Promise<void> {
    await this.db.query('DELETE FROM poller.leases WHERE name = $1 AND holder = $2', [this.name, this.holder]);
  }
}
