import { type Clock, type Database, type Logger, type PollMessage, periodic } from '@callgate/common';
import type { Registry } from 'prom-client';
import type { Lease } from './lease.js';

/** Where a sweep stands (poller.sweep_checkpoints). `updatedBefore` is set while a sweep is running. */
export interface Checkpoint {
  cursor: string;
  updatedBefore: Date | null;
  startedAt: Date | null;
  enqueued: number;
  batches: number;
  backlog: number;
  savedAt: Date | null;
  lastCompletedAt: Date | null;
  lastDurationMs: number | null;
}

/** The checkpoint of a sweep that never ran. */
export const NO_CHECKPOINT: Readonly<Checkpoint> = {
  cursor: '',
  updatedBefore: null,
  startedAt: null,
  enqueued: 0,
  batches: 0,
  backlog: 0,
  savedAt: null,
  lastCompletedAt: null,
  lastDurationMs: null,
};

export class CheckpointStore {
  constructor(
    private readonly db: Database,
    readonly name = 'stale-calls',
  ) {}

  async load(): Promise<Checkpoint> {
    const { rows } = await this.db.query<{
      cursor: string;
      updated_before: Date | null;
      started_at: Date | null;
      enqueued: string | number;
      batches: number;
      backlog: string | number;
      saved_at: Date;
      last_completed_at: Date | null;
      last_duration_ms: number | null;
    }>('SELECT * FROM poller.sweep_checkpoints WHERE name = $1', [this.name]);
    const row = rows[0];
    if (!row) return { ...NO_CHECKPOINT };
    return {
      cursor: row.cursor,
      updatedBefore: row.updated_before,
      startedAt: row.started_at,
      enqueued: Number(row.enqueued),
      batches: row.batches,
      backlog: Number(row.backlog),
      savedAt: row.saved_at,
      lastCompletedAt: row.last_completed_at,
      lastDurationMs: row.last_duration_ms,
    };
  }

  /**
   * Saves the checkpoint. With a fence, only while that holder still has the lease: a leader that paused past
   * its lease must not write its stale cursor over the new leader's. Returns whether it was saved.
   */
  async save(checkpoint: Checkpoint, at: Date, fence?: { name: string; holder: string }): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `INSERT INTO poller.sweep_checkpoints AS c
         (name, cursor, updated_before, started_at, enqueued, batches, backlog, saved_at, last_completed_at, last_duration_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (name) DO UPDATE SET cursor = EXCLUDED.cursor, updated_before = EXCLUDED.updated_before,
         started_at = EXCLUDED.started_at, enqueued = EXCLUDED.enqueued, batches = EXCLUDED.batches,
         backlog = EXCLUDED.backlog, saved_at = EXCLUDED.saved_at, last_completed_at = EXCLUDED.last_completed_at,
         last_duration_ms = EXCLUDED.last_duration_ms
       WHERE $11::text IS NULL
          OR EXISTS (SELECT 1 FROM poller.leases l WHERE l.name = $11 AND l.holder = $12 AND l.expires_at > $8)`,
      [
        this.name,
        checkpoint.cursor,
        checkpoint.updatedBefore,
        checkpoint.startedAt,
        checkpoint.enqueued,
        checkpoint.batches,
        checkpoint.backlog,
        at,
        checkpoint.lastCompletedAt,
        checkpoint.lastDurationMs,
        fence?.name ?? null,
        fence?.holder ?? null,
      ],
    );
    if (rowCount === 0) return false;
    checkpoint.savedAt = at;
    return true;
  }
}

/** The call service's ListStaleCalls, as the sweep needs it. */
export interface StaleCallSource {
  list(request: { updatedBefore: Date; limit: number; after: string }): Promise<{
    callIds: string[];
    nextCursor: string;
    remaining: number;
  }>;
}

export interface SweeperOptions {
  lease: Lease;
  checkpoints: CheckpointStore;
  source: StaleCallSource;
  /** Puts poll messages on the queue; resolves once all are accepted. */
  enqueue: (messages: PollMessage[]) => Promise<void>;
  clock: Clock;
  intervalMs: number;
  staleAfterMs: number;
  batchSize: number;
  log: Logger;
  /** After each saved batch (metrics). */
  onBatch?: (checkpoint: Checkpoint) => void;
  /** When a sweep completes (metrics). */
  onComplete?: (durationMs: number) => void;
}

/**
 * The stale-call sweep (what the scheduled Lambda did): while this replica holds the lease, every
 * interval, list calls not terminal and not updated for staleAfterMs, most urgent first, and enqueue
 * them batch by batch, saving the checkpoint after each batch. A sweep stops after half the interval
 * and resumes at its cursor on the next tick, so a batch never runs into the next sweep; a restart (or
 * another replica taking the lease over) resumes from the saved cursor instead of starting over.
 */
export class Sweeper {
  leader = false;
  checkpoint: Checkpoint = { ...NO_CHECKPOINT };

  constructor(private readonly options: SweeperOptions) {}

  /** One tick: take or renew the lease, then continue or start a sweep when one is due. */
  async tick(signal?: AbortSignal): Promise<void> {
    const o = this.options;
    this.leader = await o.lease.acquire();
    if (!this.leader) {
      // A standby still shows the shared checkpoint (GetStatus, checkpoint age).
      this.checkpoint = await o.checkpoints.load();
      return;
    }
    const cp = await o.checkpoints.load();
    this.checkpoint = cp;
    const started = o.clock.date();
    if (!cp.updatedBefore) {
      if (cp.lastCompletedAt && started.getTime() - cp.lastCompletedAt.getTime() < o.intervalMs) return;
      Object.assign(cp, {
        cursor: '',
        updatedBefore: new Date(started.getTime() - o.staleAfterMs),
        startedAt: started,
        enqueued: 0,
        batches: 0,
        backlog: 0,
      });
      if (!(await o.checkpoints.save(cp, started, o.lease))) {
        this.leader = false;
        return;
      }
      o.log.info({ updatedBefore: cp.updatedBefore }, 'stale-call sweep started');
    } else {
      o.log.info({ cursor: cp.cursor, enqueued: cp.enqueued }, 'stale-call sweep resumed from its checkpoint');
    }
    const budgetEnd = started.getTime() + o.intervalMs / 2;
    while (!signal?.aborted && cp.updatedBefore) {
      const page = await o.source.list({ updatedBefore: cp.updatedBefore, limit: o.batchSize, after: cp.cursor });
      const at = o.clock.date();
      if (page.callIds.length > 0) {
        await o.enqueue(
          page.callIds.map((callId) => ({ callId, attempt: 1, reason: 'sweep', enqueuedAt: at.toISOString() })),
        );
      }
      cp.enqueued += page.callIds.length;
      cp.batches += 1;
      cp.backlog = page.remaining;
      cp.cursor = page.nextCursor;
      if (!page.nextCursor) {
        cp.lastCompletedAt = at;
        cp.lastDurationMs = at.getTime() - (cp.startedAt ?? at).getTime();
        cp.updatedBefore = null;
        cp.startedAt = null;
      }
      if (!(await o.checkpoints.save(cp, at, o.lease))) {
        // The lease passed on while this batch ran: the new leader's checkpoint stands.
        this.leader = false;
        break;
      }
      o.onBatch?.(cp);
      if (!cp.updatedBefore) {
        o.log.info(
          { enqueued: cp.enqueued, batches: cp.batches, durationMs: cp.lastDurationMs },
          'stale-call sweep done',
        );
        o.onComplete?.(cp.lastDurationMs ?? 0);
        break;
      }
      if (o.clock.now() >= budgetEnd) break;
      // Renewing between batches also notices a lost lease (a long pause): stop, the new holder resumes.
      this.leader = await o.lease.acquire();
      if (!this.leader) break;
    }
  }
}

/** Runs the sweeper's ticks (the first at once) until stopped; a failed tick is logged and retried next tick. */
export function runSweeper(
  sweeper: Sweeper,
  options: { tickMs: number; log: Logger; lease: Lease; registry?: Registry },
) {
  const job = periodic({
    name: 'stale-call-sweep',
    intervalMs: options.tickMs,
    firstDelayMs: 0,
    log: options.log,
    registry: options.registry,
    run: (signal) => sweeper.tick(signal),
  });
  return {
    /** Stops ticking, waits for the current batch (its checkpoint saved), then gives the lease up. */
    async stop(): Promise<void> {
      await job.stop();
      if (sweeper.leader) await options.lease.release().catch(() => undefined);
      sweeper.leader = false;
    },
  };
}
