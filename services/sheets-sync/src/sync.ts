import { type Clock, invalidArgument, type TokenBucket } from '@callgate/common';
import type { sheetsV1 } from '@callgate/protos';
import { fieldsOf } from './columns.js';
import { NEAR_QUOTA_SHARE, type SyncSnapshot } from './metrics.js';
import type { RowStore } from './row-store.js';
import { upsertLinks } from './traced-sheets-api.js';
import type { SheetsWriter } from './writer.js';

export interface SheetsSyncDeps {
  store: RowStore;
  /** Undefined when no spreadsheet is configured: rows are kept, nothing is written. */
  writer: SheetsWriter | undefined;
  writeBucket: TokenBucket;
  readBucket: TokenBucket;
  clock: Clock;
  onCoalesced?: () => void;
}

/** The service's use cases behind the gRPC handlers: accept rows durably, report the sync state. */
export class SheetsSync {
  rowsWritten = 0;

  constructor(private readonly deps: SheetsSyncDeps) {}

  /** Persists the row (only a higher version replaces one) before acknowledging, then wakes the writer. */
  async upsert(row: sheetsV1.CallRow__Output | null | undefined): Promise<{ accepted: boolean }> {
    if (!row?.callId) throw invalidArgument('row.call_id', 'is required');
    if (!(row.version > 0)) throw invalidArgument('row.version', 'must be a positive number');
    const { accepted, coalesced } = await this.deps.store.upsert(
      { callId: row.callId, version: row.version, fields: fieldsOf(row), terminal: row.terminal },
      new Date(this.deps.clock.now()),
    );
    if (coalesced) this.deps.onCoalesced?.();
    if (accepted) {
      upsertLinks.record(); // the Sheets request that writes this row links back to this call (traced-sheets-api.ts)
      this.deps.writer?.notify();
    }
    return { accepted };
  }

  async snapshot(): Promise<SyncSnapshot> {
    const [stats, writeTokens, readTokens] = await Promise.all([
      this.deps.store.stats(),
      this.deps.writeBucket.peek().catch(() => 0),
      this.deps.readBucket.peek().catch(() => 0),
    ]);
    const breakerState = this.deps.writer?.breakerState ?? 'open';
    return {
      writeTokens,
      readTokens,
      writeBurst: this.deps.writeBucket.capacity,
      queueDepth: stats.depth,
      outboxDepth: breakerState === 'closed' ? stats.failed : stats.depth,
      oldestPendingAgeSeconds: stats.oldestDirtySince
        ? Math.max(0, (this.deps.clock.now() - stats.oldestDirtySince.getTime()) / 1000)
        : 0,
      breakerState,
    };
  }

  async status(): Promise<sheetsV1.GetSyncStatusResponse> {
    const s = await this.snapshot();
    const writer = this.deps.writer;
    return {
      queueDepth: s.queueDepth,
      outboxDepth: s.outboxDepth,
      breakerState: s.breakerState,
      writeTokensAvailable: s.writeTokens,
      readTokensAvailable: s.readTokens,
      writeQuotaPerMinute: this.deps.writeBucket.perMinute,
      writeBurst: this.deps.writeBucket.capacity,
      writeRequestsLastMinute: writer?.writeRequestsLastMinute() ?? 0,
      lastSuccessAt: writer?.lastSuccessAt ? new Date(writer.lastSuccessAt).toISOString() : '',
      lastError: writer ? (writer.lastError ?? '') : 'GOOGLE_SHEETS_ID is not set: rows are kept, not written',
      oldestPendingAgeSeconds: s.oldestPendingAgeSeconds,
      rowsWritten: this.rowsWritten,
      nearQuota: s.writeTokens < s.writeBurst * NEAR_QUOTA_SHARE,
    };
  }
}
