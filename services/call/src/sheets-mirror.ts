import { isGrpcError, isTerminal, type Logger, type ServiceClient } from '@callgate/common';
import { status } from '@grpc/grpc-js';
import type { CallRow, CallStore } from './call-store.js';

export type SheetsClient = ServiceClient<'sheets'>;

/**
 * Hands a call's row to sheets-sync (the only code that talks to Google Sheets). CallLifecycle pushes
 * it when the call is recorded, on every status transition (queued, ringing, in progress, the end) and
 * once more when its credits are settled; sheets-sync's write queue coalesces repeated updates of one
 * row, so a call's quick transitions cost few writes. What was not acknowledged (sheets-sync down or not
 * deployed) is pushed again by the recovery pass, so the sheet converges. sheets-sync keeps the newest
 * version, so repeats and out-of-order pushes are harmless.
 */
export class SheetsMirror {
  /** Per call: the push under way, and the newest row waiting for it to finish (pushes of one call coalesce). */
  private readonly sending = new Map<string, Promise<boolean>>();
  private readonly waiting = new Map<string, { call: CallRow; done: Promise<boolean> }>();

  constructor(
    private readonly sheets: SheetsClient,
    private readonly store: CallStore,
    private readonly log: Logger,
  ) {}

  /**
   * Hands the row over; true once sheets-sync has it (at this version or a newer one). While a push of the
   * same call is under way, later rows wait and only the newest is sent after it: a call's quick
   * transitions (queued, ringing, the end, the settlement within milliseconds under load) cost one
   * request and one acknowledgement each only when they are far enough apart to matter.
   */
  push(call: CallRow): Promise<boolean> {
    const id = call.call_id;
    const waiting = this.waiting.get(id);
    if (waiting) {
      if (Number(call.row_version) > Number(waiting.call.row_version)) waiting.call = call;
      return waiting.done;
    }
    const current = this.sending.get(id);
    if (!current) return this.start(call);
    const entry = { call, done: Promise.resolve(false) };
    const sentVersion = Number(this.sentRow.get(id)?.row_version ?? 0);
    entry.done = current.then((acknowledged) => {
      this.waiting.delete(id);
      // The row under way was at least as new, and sheets-sync has it: nothing left to send.
      if (acknowledged && Number(entry.call.row_version) <= sentVersion) return true;
      return this.start(entry.call);
    });
    this.waiting.set(id, entry);
    return entry.done;
  }

  /** The row each push under way is sending. */
  private readonly sentRow = new Map<string, CallRow>();

  private start(call: CallRow): Promise<boolean> {
    const id = call.call_id;
    this.sentRow.set(id, call);
    const sent = this.send(call).finally(() => {
      if (this.sending.get(id) === sent) {
        this.sending.delete(id);
        this.sentRow.delete(id);
      }
    });
    this.sending.set(id, sent);
    return sent;
  }

  private async send(call: CallRow): Promise<boolean> {
    // row_version grows with every status change and once more when the cost is settled (CallStore).
    const version = Number(call.row_version);
    try {
      await this.sheets.upsertCallRow({
        row: {
          callId: call.call_id,
          version,
          userId: call.user_id,
          to: call.to_number,
          from: call.from_number,
          status: call.status,
          createdAt: call.created_at.toISOString(),
          endedAt: call.ended_at?.toISOString() ?? '',
          durationSeconds: call.duration_seconds,
          costCredits: Number(call.cost_credits),
          // Blanked once the transcript is deleted (on request or by retention): the sheet keeps no summary of it.
          outcomeSummary: call.transcript_deleted_at ? '' : call.error_message,
          terminal: isTerminal(call.status),
        },
      });
      await this.store.markMirrored(call.call_id, version);
      return true;
    } catch (error) {
      // Until sheets-sync serves UpsertCallRow (its own issue) this is expected: keep the row for later.
      const level = isGrpcError(error) && error.code === status.UNIMPLEMENTED ? 'debug' : 'warn';
      this.log[level]({ err: error, callId: call.call_id, version }, 'sheet row not handed over; retried later');
      return false;
    }
  }
}
