import type { Clock, Database } from '@callgate/common';

export type RecordingStatus = 'processing' | 'ready' | 'failed' | 'absent' | 'deleted';

export interface RecordingRow {
  call_id: string;
  user_id: string;
  recording_sid: string;
  status: RecordingStatus;
  duration_seconds: number;
  channels: number;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string;
  object_key: string | null;
  content_type: string | null;
  size_bytes: string | number | null;
  reported_at: Date;
  stored_at: Date | null;
  carrier_deleted_at: Date | null;
  deleted_at: Date | null;
  deleted_by: 'request' | 'retention' | null;
}

export interface RecordingReport {
  callId: string;
  userId: string;
  recordingSid: string;
  /** completed: there is audio to fetch; absent: the carrier made none. */
  status: 'completed' | 'absent';
  durationSeconds: number;
  channels: number;
}

const COLUMNS = `call_id, user_id, recording_sid, status, duration_seconds, channels, attempts, next_attempt_at,
  last_error, object_key, content_type, size_bytes, reported_at, stored_at, carrier_deleted_at, deleted_at, deleted_by`;

/** calls.recordings (migration 0009): each recording's way from the carrier to S3, and its deletion. */
export class RecordingStore {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /**
   * Records a carrier's report; a repeat of it (Twilio retries callbacks) changes nothing. Returns the
   * row and whether it is new. A completed recording is due for its first fetch at once.
   */
  async report(report: RecordingReport): Promise<{ row: RecordingRow; created: boolean }> {
    const now = this.clock.date();
    const absent = report.status === 'absent';
    const { rows } = await this.db.query<RecordingRow>(
      `INSERT INTO calls.recordings (call_id, user_id, recording_sid, status, duration_seconds, channels, next_attempt_at, reported_at, carrier_deleted_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (call_id) DO NOTHING RETURNING ${COLUMNS}`,
      [
        report.callId,
        report.userId,
        report.recordingSid,
        absent ? 'absent' : 'processing',
        report.durationSeconds,
        report.channels,
        absent ? null : now,
        now,
        absent ? now : null,
      ],
    );
    if (rows[0]) return { row: rows[0], created: true };
    return { row: (await this.byCall(report.callId)) as RecordingRow, created: false };
  }

  async byCall(callId: string): Promise<RecordingRow | undefined> {
    const { rows } = await this.db.query<RecordingRow>(`SELECT ${COLUMNS} FROM calls.recordings WHERE call_id = $1`, [
      callId,
    ]);
    return rows[0];
  }

  /**
   * Claims up to `limit` recordings due for work (a fetch, or the carrier-side delete after the store):
   * each claimed row's next_attempt_at moves `leaseMs` ahead, so another replica's sweep skips it while
   * this one works on it, and picks it up again if this one dies. `callId` claims that one only.
   */
  async claimDue(leaseMs: number, limit: number, callId?: string): Promise<RecordingRow[]> {
    const now = this.clock.date();
    const { rows } = await this.db.query<RecordingRow>(
      `UPDATE calls.recordings SET next_attempt_at = $2
        WHERE call_id IN (
          SELECT call_id FROM calls.recordings
           WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 AND ($4::uuid IS NULL OR call_id = $4::uuid)
           ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING ${COLUMNS}`,
      [now, new Date(now.getTime() + leaseMs), limit, callId ?? null],
    );
    return rows;
  }

  /**
   * The audio is in S3: ready; the carrier's copy is deleted next (due at once). The `recording.ready`
   * webhook event is emitted in the same statement, so it exists if and only if the recording is ready
   * (emitting twice does nothing: its id is the call's and the type's). False when the recording was
   * deleted meanwhile (the caller then deletes the object it wrote).
   */
  async markStored(callId: string, stored: { key: string; contentType: string; sizeBytes: number }): Promise<boolean> {
    const now = this.clock.date();
    const { rows } = await this.db.query(
      `WITH stored AS (
         UPDATE calls.recordings SET status = 'ready', attempts = attempts + 1, object_key = $2, content_type = $3,
           size_bytes = $4, stored_at = $5, next_attempt_at = $5, last_error = ''
          WHERE call_id = $1 AND status = 'processing' RETURNING call_id)
       SELECT call_id, calls.emit_webhook_event(call_id, 'recording.ready', $5) FROM stored`,
      [callId, stored.key, stored.contentType, stored.sizeBytes, now],
    );
    return rows.length === 1;
  }

  /** The carrier's copy is gone: nothing left to do for this recording. */
  async markCarrierDeleted(callId: string): Promise<void> {
    await this.db.query(
      `UPDATE calls.recordings SET carrier_deleted_at = $2, next_attempt_at = NULL WHERE call_id = $1`,
      [callId, this.clock.date()],
    );
  }

  /**
   * A failed attempt: retried at `retryAt`, or, with no retry left (retryAt null), the fetch is
   * reported failed. A failed carrier-side delete of a stored recording is retried the same way.
   */
  async markAttemptFailed(callId: string, error: string, retryAt: Date | null, giveUp: boolean): Promise<void> {
    await this.db.query(
      `UPDATE calls.recordings SET attempts = attempts + (CASE WHEN status = 'processing' THEN 1 ELSE 0 END),
         last_error = $2, next_attempt_at = $3,
         status = CASE WHEN $4 AND status = 'processing' THEN 'failed' ELSE status END
        WHERE call_id = $1`,
      [callId, error.slice(0, 500), retryAt, giveUp],
    );
  }

  /**
   * Marks a recording deleted (its S3 object, `deletedKey`, is deleted by the caller first) and returns the
   * row, or undefined when there was nothing to delete OR the row's object is no longer `deletedKey` (a
   * fetch stored the audio after the caller read the row: the caller reads again and deletes that object,
   * else the row would say deleted over audio still in S3).
   */
  async markDeleted(
    callId: string,
    by: 'request' | 'retention',
    deletedKey: string | null,
  ): Promise<RecordingRow | undefined> {
    const { rows } = await this.db.query<RecordingRow>(
      // The carrier's copy, if it still has one (a fetch that failed or is under way), is deleted next.
      `UPDATE calls.recordings SET status = 'deleted', deleted_at = $2, deleted_by = $3,
         next_attempt_at = CASE WHEN carrier_deleted_at IS NULL THEN coalesce(next_attempt_at, $2) END
        WHERE call_id = $1 AND status <> 'deleted' AND status <> 'absent' AND object_key IS NOT DISTINCT FROM $4
        RETURNING ${COLUMNS}`,
      [callId, this.clock.date(), by, deletedKey],
    );
    return rows[0];
  }

  /** Stored recordings stored before `storedBefore`, oldest first: the retention job's work. */
  async readyBefore(storedBefore: Date, limit: number): Promise<RecordingRow[]> {
    const { rows } = await this.db.query<RecordingRow>(
      `SELECT ${COLUMNS} FROM calls.recordings WHERE status = 'ready' AND stored_at < $1 ORDER BY stored_at LIMIT $2`,
      [storedBefore, limit],
    );
    return rows;
  }
}
