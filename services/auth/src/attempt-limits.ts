import type { Queryable } from '@callgate/common';

export interface AttemptLimitsOptions {
  db: Queryable;
  now: () => Date;
  perAddressPerHour: number;
  perAccountPerHour: number;
}

/**
 * Fixed one-hour windows of attempts per client address and per account, in PostgreSQL so every
 * replica counts together. A guesser is slowed per address and per account; another address is not
 * affected by one address's attempts (one user cannot exhaust another's budget by address).
 */
export class AttemptLimits {
  constructor(private readonly options: AttemptLimitsOptions) {}

  /** Counts one attempt in the bucket; true while the bucket is within its limit. */
  async take(kind: 'address' | 'account', key: string): Promise<boolean> {
    const now = this.options.now();
    const windowStart = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
    const { rows } = await this.options.db.query<{ count: number }>(
      `INSERT INTO auth.attempts (bucket, window_start, count) VALUES ($1, $2, 1)
       ON CONFLICT (bucket, window_start) DO UPDATE SET count = auth.attempts.count + 1 RETURNING count`,
      [`${kind}:${key}`, windowStart],
    );
    const limit = kind === 'address' ? this.options.perAddressPerHour : this.options.perAccountPerHour;
    return (rows[0]?.count ?? 0) <= limit;
  }

  /** Deletes windows older than two hours. */
  async sweep(): Promise<void> {
    await this.options.db.query('DELETE FROM auth.attempts WHERE window_start < $1', [
      new Date(this.options.now().getTime() - 2 * 3_600_000),
    ]);
  }
}
