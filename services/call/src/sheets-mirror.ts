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
  constructor(
    private readonly sheets: SheetsClient,
    private readonly store: CallStore,
    private readonly log: Logger,
  ) {}

  async push(call: CallRow): Promise<boolean> {
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
          outcomeSummary: call.error_message,
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
