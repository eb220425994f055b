import type { Clock, Database, Lease, Logger } from '@callgate/common';
import type { CallRow, CallStore } from '../call-store.js';
import type { CallData } from './call-data.js';
import type { RecordingStore } from './recording-store.js';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  db: Database;
  store: CallStore;
  recordings: RecordingStore;
  data: CallData;
  /** One replica at a time runs the job (calls.leases, as the poller's sweep elects itself). */
  lease: Lease;
  clock: Clock;
  log: Logger;
  recordingDays: number;
  transcriptDays: number;
  /** Deletions per batch; the lease is renewed between batches. Default 100. */
  batchSize?: number;
}

export interface RetentionResult {
  /** False when another replica holds the lease: this one did nothing. */
  leader: boolean;
  recordings: number;
  transcripts: number;
}

/**
 * RECORDING_RETENTION_DAYS and TRANSCRIPT_RETENTION_DAYS: deletes recordings stored longer ago than
 * their retention, and transcripts of calls that ended longer ago than theirs, and nothing else. Run
 * periodically by the replica holding the lease. Recordings count from when they were stored (as the
 * bucket's lifecycle rule counts from the object's creation), transcripts from the call's end.
 */
export class RetentionJob {
  constructor(private readonly options: RetentionOptions) {}

  async run(signal?: AbortSignal): Promise<RetentionResult> {
    const { lease, clock, log } = this.options;
    const result: RetentionResult = { leader: false, recordings: 0, transcripts: 0 };
    if (!(await lease.acquire())) return result;
    result.leader = true;
    const batchSize = this.options.batchSize ?? 100;
    const now = clock.now();
    const recordingCutoff = new Date(now - this.options.recordingDays * DAY_MS);
    const transcriptCutoff = new Date(now - this.options.transcriptDays * DAY_MS);
    for (;;) {
      if (signal?.aborted) return result;
      const due = await this.options.recordings.readyBefore(recordingCutoff, batchSize);
      for (const row of due) {
        if (await this.options.data.deleteRecording(row.call_id, 'retention')) result.recordings++;
      }
      if (due.length < batchSize || !(await lease.acquire())) break;
    }
    for (;;) {
      if (signal?.aborted) return result;
      const { rows } = await this.options.db.query<CallRow>(
        `SELECT * FROM calls.calls WHERE transcript_deleted_at IS NULL AND ended_at IS NOT NULL AND ended_at < $1
          ORDER BY ended_at LIMIT $2`,
        [transcriptCutoff, batchSize],
      );
      for (const call of rows) {
        if (await this.options.data.deleteTranscript(call, 'retention')) result.transcripts++;
      }
      if (rows.length < batchSize || !(await lease.acquire())) break;
    }
    if (result.recordings || result.transcripts) log.info(result, 'retention: deleted what was past its time');
    return result;
  }
}
