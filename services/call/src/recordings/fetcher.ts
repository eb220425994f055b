import type { Clock, Database, Logger } from '@callgate/common';
import type { CarrierRecordings } from './carrier-recordings.js';
import type { RecordingMetrics } from './metrics.js';
import { type RecordingObjects, recordingKey } from './object-store.js';
import type { RecordingRow, RecordingStore } from './recording-store.js';

export interface FetcherOptions {
  store: RecordingStore;
  carrier: CarrierRecordings;
  objects: RecordingObjects;
  metrics: RecordingMetrics;
  db: Database;
  clock: Clock;
  log: Logger;
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  /** How long a claimed recording is this worker's before another may take it (a fetch's longest time). */
  claimMs?: number;
  /** Recordings worked on per sweep. */
  batchSize?: number;
}

/** Wait after the nth failed attempt (1-based): backoffMs doubled each time, capped. */
export function backoffAfter(attempt: number, backoffMs: number, maxBackoffMs: number): number {
  return Math.min(maxBackoffMs, backoffMs * 2 ** Math.max(0, attempt - 1));
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Moves recordings from the carrier to S3: fetch the audio, store it (encrypted, one object per call),
 * then delete the carrier's copy. Durable: the work is rows of calls.recordings with a due time, so a
 * failure (the carrier, S3, a crash) is retried with exponential backoff by the next sweep on any
 * replica, reported on the call (attempts, last error), and after RECORDING_FETCH_MAX_ATTEMPTS marked
 * failed and alerted on; never silently lost. The carrier's copy is deleted only after the store.
 */
export class RecordingFetcher {
  private readonly claimMs: number;
  private readonly batchSize: number;

  constructor(private readonly options: FetcherOptions) {
    this.claimMs = options.claimMs ?? 5 * 60_000;
    this.batchSize = options.batchSize ?? 10;
  }

  /** Works on every recording due now (one sweep); returns how many were worked on. */
  async sweep(signal?: AbortSignal): Promise<number> {
    let done = 0;
    for (;;) {
      if (signal?.aborted) break;
      const batch = await this.options.store.claimDue(this.claimMs, this.batchSize);
      for (const row of batch) await this.process(row);
      done += batch.length;
      if (batch.length < this.batchSize) break;
    }
    const { rows } = await this.options.db.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM calls.recordings WHERE status = 'failed'`,
    );
    this.options.metrics.failed.set(Number(rows[0]?.n ?? 0));
    return done;
  }

  /** Works on one call's recording now if it is due (right after its callback). */
  async now(callId: string): Promise<void> {
    for (const row of await this.options.store.claimDue(this.claimMs, 1, callId)) await this.process(row);
  }

  private async process(row: RecordingRow): Promise<void> {
    const { store, log } = this.options;
    if (row.status === 'processing') {
      try {
        await this.fetchAndStore(row);
      } catch (error) {
        await this.failed(row, error);
        return;
      }
    }
    if (row.carrier_deleted_at === null && row.status !== 'failed' && row.status !== 'absent') {
      try {
        await this.options.carrier.remove(row.recording_sid);
        await store.markCarrierDeleted(row.call_id);
      } catch (error) {
        this.options.metrics.carrierDeleteFailures.inc();
        const retryAt = this.retryAt(row.attempts + 1);
        log.warn(
          { err: error, callId: row.call_id, recordingSid: row.recording_sid },
          'could not delete the recording at the carrier; retried',
        );
        await store.markAttemptFailed(row.call_id, `carrier delete: ${errorText(error)}`, retryAt, false);
      }
    }
  }

  private async fetchAndStore(row: RecordingRow): Promise<void> {
    const { carrier, objects, store, log } = this.options;
    const media = await carrier.media(row.recording_sid);
    const key = recordingKey(row.user_id, row.call_id, 'wav');
    // Overwrites on a retry after a crash between the put and the mark: one object per call, never two.
    await objects.put(key, media.bytes, media.contentType);
    if (
      !(await store.markStored(row.call_id, { key, contentType: media.contentType, sizeBytes: media.bytes.byteLength }))
    ) {
      const current = await store.byCall(row.call_id);
      if (current?.status === 'ready' && current.object_key === key) {
        // Another worker claimed it after this one's claim ran out, and stored it first: the object is
        // theirs (same key, same audio); deleting it would leave a ready row over nothing.
        log.info({ callId: row.call_id }, 'recording stored meanwhile by another worker');
        return;
      }
      // Deleted on request while it was being fetched: the request wins.
      await objects.delete(key);
      log.info({ callId: row.call_id }, 'recording deleted while it was fetched; the stored copy was removed');
      return;
    }
    this.options.metrics.fetches.inc();
    log.info(
      { callId: row.call_id, recordingSid: row.recording_sid, bytes: media.bytes.byteLength },
      'recording stored',
    );
  }

  private async failed(row: RecordingRow, error: unknown): Promise<void> {
    const attempt = row.attempts + 1;
    const giveUp = attempt >= this.options.maxAttempts;
    const retryAt = giveUp ? null : this.retryAt(attempt);
    this.options.metrics.fetchFailures.inc({ outcome: giveUp ? 'gave_up' : 'retry' });
    const fields = { err: error, callId: row.call_id, recordingSid: row.recording_sid, attempt };
    if (giveUp)
      this.options.log.error(
        fields,
        'recording fetch failed for the last time; reported failed (runbook: recording-fetch-failing)',
      );
    else this.options.log.warn({ ...fields, retryAt }, 'recording fetch failed; retried with backoff');
    await this.options.store.markAttemptFailed(row.call_id, errorText(error), retryAt, giveUp);
  }

  private retryAt(attempt: number): Date {
    const { clock, backoffMs, maxBackoffMs } = this.options;
    return new Date(clock.now() + backoffAfter(attempt, backoffMs, maxBackoffMs));
  }
}
