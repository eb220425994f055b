import { type Clock, failedPrecondition, isTerminal, type Logger } from '@callgate/common';
import type { CallRow, CallStore } from '../call-store.js';
import type { RecordingMetrics } from './metrics.js';
import type { RecordingObjects } from './object-store.js';
import type { RecordingStore } from './recording-store.js';

export type DeletedBy = 'request' | 'retention';

export interface CallDataOptions {
  store: CallStore;
  recordings: RecordingStore;
  objects: RecordingObjects;
  metrics: RecordingMetrics;
  /** Hands the call's row to sheets-sync again (the outcome summary blanked). */
  mirror: (call: CallRow) => void;
  clock: Clock;
  log: Logger;
}

/**
 * Deleting a call's personal data: its recording (the S3 object, then the row says deleted; the carrier's
 * copy goes too) and its transcript (the turns, the outcome's summary and learned fields; the sheet row's
 * summary is blanked through sheets-sync). The one definition used by a user's request and by the
 * retention job. The ledger is never touched: money is not personal data beyond the call id.
 */
export class CallData {
  constructor(private readonly options: CallDataOptions) {}

  /** True when there was a recording to delete. The object goes first: a failure leaves it listed, so a retry finds it. */
  async deleteRecording(callId: string, by: DeletedBy): Promise<boolean> {
    const { recordings, objects } = this.options;
    // A fetch may store the audio between the read and the mark (its object key appears once, from none):
    // the mark then refuses, and the second pass deletes the object the fetch stored.
    for (let pass = 0; pass < 3; pass++) {
      const row = await recordings.byCall(callId);
      if (!row || row.status === 'deleted' || row.status === 'absent') return false;
      if (row.object_key) await objects.delete(row.object_key);
      const deleted = await recordings.markDeleted(callId, by, row.object_key);
      if (!deleted) continue;
      // A fetch under way when it was deleted stores nothing (markStored refuses) and removes what it wrote.
      this.options.metrics.deletions.inc({ what: 'recording', by });
      this.options.log.info({ callId, by }, 'recording deleted');
      return true;
    }
    throw new Error(`recording of call ${callId} kept changing while it was deleted; try again`);
  }

  /**
   * True when the transcript was there to delete. Refused while the call is live: its conversation is
   * still being written.
   */
  async deleteTranscript(call: CallRow, by: DeletedBy): Promise<boolean> {
    if (!isTerminal(call.status)) {
      throw failedPrecondition(`call ${call.call_id} is ${call.status}; delete its transcript once it has ended`);
    }
    const now = this.options.clock.date();
    const updated = await this.options.store.db.transaction(async (tx) => {
      const { rows } = await tx.query<CallRow>(
        // row_version moves so that sheets-sync takes the blanked row over the one it has.
        `UPDATE calls.calls SET transcript_deleted_at = $2, row_version = row_version + 1
          WHERE call_id = $1 AND transcript_deleted_at IS NULL RETURNING *`,
        [call.call_id, now],
      );
      if (!rows[0]) return undefined;
      await tx.query('DELETE FROM calls.transcript_turns WHERE call_id = $1', [call.call_id]);
      await tx.query(`UPDATE calls.call_outcomes SET summary = '', fields = '{}'::jsonb WHERE call_id = $1`, [
        call.call_id,
      ]);
      // The call's webhook bodies (rendered once, kept for retries and replays) hold the call as it was:
      // redacted the same way, so a delivery after the deletion sends no transcript, and none stays stored.
      // A body not rendered yet is rendered later from the call as it now is.
      await tx.query(
        `UPDATE calls.webhook_events SET body = jsonb_set(jsonb_set(jsonb_set(jsonb_set(body::jsonb,
            '{data,call,transcript}', '[]'::jsonb),
            '{data,call,transcriptDeletedAt}', to_jsonb($2::text)),
            '{data,call,outcome,summary}', '""'::jsonb),
            '{data,call,outcome,fields}', '{}'::jsonb)::text
          WHERE call_id = $1 AND body IS NOT NULL`,
        [call.call_id, now.toISOString()],
      );
      return rows[0];
    });
    if (!updated) return false;
    this.options.mirror(updated);
    this.options.metrics.deletions.inc({ what: 'transcript', by });
    this.options.log.info({ callId: call.call_id, by }, 'transcript deleted');
    return true;
  }
}
