import type { Clock, Database } from '@callgate/common';

/** Why a message was not refreshed. */
export type SkipReason = 'refreshed-since-enqueued' | 'refresh-in-progress';

export type Claim = { claimed: true } | { claimed: false; reason: SkipReason };

/**
 * De-duplication of refreshes. SQS delivers at least once and the sweep may enqueue a call already
 * queued; a message asks "refresh this call", and a refresh that finished after the message was
 * enqueued has answered it. So a message is a duplicate when its call was refreshed at or after its
 * enqueuedAt, or when a refresh of its call is running (that refresh answers it; if it fails, its own
 * message stays on the queue and comes back). Memory answers for this replica without a round trip;
 * PostgreSQL (poller.refreshed) holds across replicas. The claim expires (claimTtlMs, the visibility
 * timeout), so a poller killed mid-refresh does not block the redelivered message.
 */
export class RefreshDedup {
  private readonly running = new Set<string>();
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly options: { holder: string; windowMs: number; claimTtlMs: number; clock: Clock },
  ) {}

  async claim(callId: string, enqueuedAt: Date): Promise<Claim> {
    if (this.running.has(callId)) return { claimed: false, reason: 'refresh-in-progress' };
    const known = this.recent.get(callId);
    if (known !== undefined && known >= enqueuedAt.getTime())
      return { claimed: false, reason: 'refreshed-since-enqueued' };
    this.running.add(callId);
    try {
      const now = this.options.clock.date();
      const { rows } = await this.db.query<{ refreshed_at: Date | null; claimed: boolean }>(
        `INSERT INTO poller.refreshed AS r (call_id, refreshed_at, claimed_by, claimed_until)
              VALUES ($1, NULL, $4, $3::timestamptz + make_interval(secs => $5::double precision))
         ON CONFLICT (call_id) DO UPDATE SET claimed_by = EXCLUDED.claimed_by, claimed_until = EXCLUDED.claimed_until
          WHERE (r.refreshed_at IS NULL OR r.refreshed_at < $2) AND (r.claimed_until IS NULL OR r.claimed_until < $3)
         RETURNING true AS claimed`,
        [callId, enqueuedAt, now, this.options.holder, this.options.claimTtlMs / 1000],
      );
      if (rows.length > 0) return { claimed: true };
      this.running.delete(callId);
      const current = await this.db.query<{ refreshed_at: Date | null }>(
        'SELECT refreshed_at FROM poller.refreshed WHERE call_id = $1',
        [callId],
      );
      const refreshedAt = current.rows[0]?.refreshed_at;
      return {
        claimed: false,
        reason: refreshedAt && refreshedAt >= enqueuedAt ? 'refreshed-since-enqueued' : 'refresh-in-progress',
      };
    } catch (error) {
      this.running.delete(callId);
      throw error;
    }
  }

  /** The refresh answered: messages enqueued up to `at` are duplicates from now on. */
  async finish(callId: string, at: Date): Promise<void> {
    try {
      await this.db.query(
        `UPDATE poller.refreshed SET refreshed_at = greatest(refreshed_at, $2),
                claimed_by = CASE WHEN claimed_by = $3 THEN NULL ELSE claimed_by END,
                claimed_until = CASE WHEN claimed_by = $3 THEN NULL ELSE claimed_until END
          WHERE call_id = $1`,
        [callId, at, this.options.holder],
      );
      this.recent.set(callId, at.getTime());
    } finally {
      this.running.delete(callId);
    }
  }

  /** The refresh failed, or its follow-up could not be enqueued: the message stays on the queue and must not be skipped when it returns. */
  async abandon(callId: string): Promise<void> {
    try {
      await this.db.query(
        'UPDATE poller.refreshed SET claimed_by = NULL, claimed_until = NULL WHERE call_id = $1 AND claimed_by = $2',
        [callId, this.options.holder],
      );
    } finally {
      this.running.delete(callId);
    }
  }

  async lastRefresh(callId: string): Promise<Date | null> {
    const { rows } = await this.db.query<{ refreshed_at: Date | null }>(
      'SELECT refreshed_at FROM poller.refreshed WHERE call_id = $1',
      [callId],
    );
    return rows[0]?.refreshed_at ?? null;
  }

  /** Forgets refreshes older than the window (memory and table): a message that old is refreshed again. */
  async prune(): Promise<number> {
    const cutoff = this.options.clock.now() - this.options.windowMs;
    for (const [callId, at] of this.recent) if (at < cutoff) this.recent.delete(callId);
    const { rowCount } = await this.db.query(
      `DELETE FROM poller.refreshed WHERE refreshed_at < $1 AND (claimed_until IS NULL OR claimed_until < $2)`,
      [new Date(cutoff), this.options.clock.date()],
    );
    return rowCount;
  }
}
