import { type Clock, type Queryable, systemClock } from '@callgate/common';

export interface AttemptLimitsOptions {
  db: Queryable;
  /** Default systemClock. */
  clock?: Clock;
  perAddressPerHour: number;
  perAccountPerHour: number;
  /** Dynamic Client Registrations per client address per hour. Default: perAddressPerHour. */
  registrationsPerHour?: number;
}

/**
 * What a bucket counts: every attempt from a client address, wrong passwords for an account (from
 * all addresses together), reset mails and "someone tried to sign up with your address" mails sent
 * for an account (per-account limit), client registrations from a client address.
 */
export type AttemptKind = 'address' | 'account' | 'reset-mail' | 'signup-mail' | 'registration';

/**
 * Fixed one-hour windows of attempts per client address and per account, in PostgreSQL so every
 * replica counts together. A guesser is slowed per address and per account; another address is not
 * affected by one address's attempts (one user cannot exhaust another's budget by address).
 */
export class AttemptLimits {
  private readonly clock: Clock;

  constructor(private readonly options: AttemptLimitsOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Counts one attempt in the bucket; true while the bucket is within its limit. */
  async take(kind: AttemptKind, key: string): Promise<boolean> {
    const { rows } = await this.options.db.query<{ count: number }>(
      `INSERT INTO auth.attempts (bucket, window_start, count) VALUES ($1, $2, 1)
       ON CONFLICT (bucket, window_start) DO UPDATE SET count = auth.attempts.count + 1 RETURNING count`,
      [`${kind}:${key}`, this.windowStart()],
    );
    return (rows[0]?.count ?? 0) <= this.limit(kind);
  }

  /** True while the bucket has room for one more, without counting one. */
  async allows(kind: AttemptKind, key: string): Promise<boolean> {
    const { rows } = await this.options.db.query<{ count: number }>(
      'SELECT count FROM auth.attempts WHERE bucket = $1 AND window_start = $2',
      [`${kind}:${key}`, this.windowStart()],
    );
    return (rows[0]?.count ?? 0) < this.limit(kind);
  }

  /** Empties the bucket (a password reset proves the owner; the guesses before it no longer count). */
  async forget(kind: AttemptKind, key: string): Promise<void> {
    await this.options.db.query('DELETE FROM auth.attempts WHERE bucket = $1', [`${kind}:${key}`]);
  }

  private limit(kind: AttemptKind): number {
    if (kind === 'address') return this.options.perAddressPerHour;
    if (kind === 'registration') return this.options.registrationsPerHour ?? this.options.perAddressPerHour;
    return this.options.perAccountPerHour;
  }

  private windowStart(): Date {
    return new Date(Math.floor(this.clock.date().getTime() / 3_600_000) * 3_600_000);
  }

  /** Deletes windows older than two hours. */
  async sweep(): Promise<void> {
    await this.options.db.query('DELETE FROM auth.attempts WHERE window_start < $1', [
      new Date(this.clock.date().getTime() - 2 * 3_600_000),
    ]);
  }
}
