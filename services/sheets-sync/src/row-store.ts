import { assertIdentifier, type Database } from '@callgate/common';
import type { RowFields } from './columns.js';

/** A dirty row a writer holds (leased) while it writes it. */
export interface ClaimedRow {
  callId: string;
  version: number;
  fields: Partial<RowFields>;
  terminal: boolean;
  sheetRowNumber: number | null;
  appendPending: boolean;
}

/** What the writer does next: look up unsure appends, append new rows, or rewrite existing ones. */
export type WorkKind = 'reconcile' | 'append' | 'update';

export interface QueueStats {
  /** Rows whose newest version is not in the sheet yet. */
  depth: number;
  /** When the oldest of them became dirty. */
  oldestDirtySince: Date | null;
  /** Of those, rows whose write failed at least once (they wait for the API to recover). */
  failed: number;
}

const dirty = 'written_version < version';
const free = '(lease_until IS NULL OR lease_until < $1)';

interface RowRecord {
  call_id: string;
  version: string | number;
  cells: Partial<RowFields>;
  terminal: boolean;
  sheet_row_number: number | null;
  append_pending: boolean;
  dirty_since?: Date | string;
}

const toClaimed = (r: RowRecord): ClaimedRow => ({
  callId: r.call_id,
  version: Number(r.version),
  fields: r.cells,
  terminal: r.terminal,
  sheetRowNumber: r.sheet_row_number,
  appendPending: r.append_pending,
});

/**
 * sheets.rows: the durable queue and outbox. Every method is one statement, so a crash leaves the
 * table consistent; leases (not transactions held across API calls) keep replicas off each other's rows.
 */
export class RowStore {
  private readonly table: string;

  /** `schema` is the service's schema (`sheets`); tests give each run its own. */
  constructor(
    private readonly db: Database,
    schema = 'sheets',
  ) {
    this.table = `${assertIdentifier(schema)}.rows`;
  }

  /**
   * Merges a row; only a higher version replaces the stored one. `coalesced` when it replaced a
   * version that was never written (two updates, one write).
   */
  async upsert(
    row: { callId: string; version: number; fields: RowFields; terminal: boolean },
    now: Date,
  ): Promise<{ accepted: boolean; coalesced: boolean }> {
    // The CTE reads the row as it was before this statement: an update that lands on a row still
    // dirty replaces a version nobody wrote (a coalesced update).
    const result = await this.db.query<{ coalesced: boolean }>(
      `WITH before AS (SELECT written_version < version AS dirty FROM ${this.table} WHERE call_id = $1)
       INSERT INTO ${this.table} AS r (call_id, version, cells, terminal, dirty_since, updated_at)
       VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT (call_id) DO UPDATE SET
         version = EXCLUDED.version, cells = EXCLUDED.cells, terminal = EXCLUDED.terminal,
         updated_at = EXCLUDED.updated_at,
         dirty_since = CASE WHEN r.written_version < r.version THEN r.dirty_since ELSE EXCLUDED.dirty_since END
       WHERE r.version < EXCLUDED.version
       RETURNING coalesce((SELECT dirty FROM before), false) AS coalesced`,
      [row.callId, row.version, JSON.stringify(row.fields), row.terminal, now.toISOString()],
    );
    const first = result.rows[0];
    return { accepted: Boolean(first), coalesced: Boolean(first?.coalesced) };
  }

  async stats(): Promise<QueueStats> {
    const { rows } = await this.db.query<{ depth: string; oldest: Date | string | null; failed: string }>(
      `SELECT count(*) AS depth, min(dirty_since) AS oldest, count(*) FILTER (WHERE failed_attempts > 0) AS failed
         FROM ${this.table} WHERE ${dirty}`,
    );
    const r = rows[0];
    return {
      depth: Number(r?.depth ?? 0),
      oldestDirtySince: r?.oldest ? new Date(r.oldest) : null,
      failed: Number(r?.failed ?? 0),
    };
  }

  /**
   * The kind of the most urgent free dirty row: unsure appends first (nothing may be appended twice),
   * then never-written rows, then rewrites; within each, terminal before intermediate, then oldest.
   */
  async nextKind(now: Date): Promise<WorkKind | null> {
    const { rows } = await this.db.query<{ kind: WorkKind }>(
      `SELECT CASE WHEN append_pending THEN 'reconcile' WHEN sheet_row_number IS NULL THEN 'append' ELSE 'update' END AS kind
         FROM ${this.table} WHERE ${dirty} AND ${free}
        ORDER BY append_pending DESC, (sheet_row_number IS NULL) DESC, terminal DESC, dirty_since, call_id
        LIMIT 1`,
      [now.toISOString()],
    );
    return rows[0]?.kind ?? null;
  }

  /** Leases up to `limit` free dirty rows of one kind, most urgent first; SKIP LOCKED keeps replicas apart. */
  async claim(kind: WorkKind, owner: string, now: Date, leaseMs: number, limit: number): Promise<ClaimedRow[]> {
    const condition =
      kind === 'reconcile'
        ? 'append_pending'
        : kind === 'append'
          ? 'NOT append_pending AND sheet_row_number IS NULL'
          : 'sheet_row_number IS NOT NULL';
    const { rows } = await this.db.query<RowRecord>(
      `UPDATE ${this.table} r SET lease_owner = $2, lease_until = $3
        WHERE r.call_id IN (
          SELECT call_id FROM ${this.table}
           WHERE ${dirty} AND ${free} AND ${condition}
           ORDER BY terminal DESC, dirty_since, call_id
           LIMIT $4 FOR UPDATE SKIP LOCKED)
        RETURNING r.call_id, r.version, r.cells, r.terminal, r.sheet_row_number, r.append_pending, r.dirty_since`,
      [now.toISOString(), owner, new Date(now.getTime() + leaseMs).toISOString(), limit],
    );
    // RETURNING has no order: restore the priority order the batch was chosen by.
    const since = (r: RowRecord) => new Date(r.dirty_since as Date | string).getTime();
    rows.sort(
      (a, b) =>
        Number(b.terminal) - Number(a.terminal) ||
        since(a) - since(b) ||
        (a.call_id < b.call_id ? -1 : a.call_id > b.call_id ? 1 : 0),
    );
    return rows.map(toClaimed);
  }

  /** Gives rows back without writing them (a batch cut by size, a refused token). */
  async release(callIds: readonly string[], owner: string): Promise<void> {
    if (callIds.length === 0) return;
    await this.db.query(
      `UPDATE ${this.table} SET lease_owner = NULL, lease_until = NULL WHERE call_id = ANY($1) AND lease_owner = $2`,
      [callIds, owner],
    );
  }

  /** Before an append is sent: from now on, a crash or an unclear answer means "look it up first". */
  /**
   * Marks rows as being appended, only those this writer still leases until at least `leasedUntil` (the
   * request's worst-case end). Returns their ids: a row whose lease ran out may be another replica's now,
   * and appending it too would duplicate it in the sheet.
   */
  async markAppendPending(
    rows: readonly { callId: string; version: number }[],
    owner: string,
    leasedUntil: Date,
  ): Promise<Set<string>> {
    const { rows: marked } = await this.db.query<{ call_id: string }>(
      `UPDATE ${this.table} r SET append_pending = true, append_version = p.version
         FROM unnest($1::text[], $2::bigint[]) AS p(call_id, version)
        WHERE r.call_id = p.call_id AND r.lease_owner = $3 AND r.lease_until > $4
        RETURNING r.call_id`,
      [rows.map((r) => r.callId), rows.map((r) => r.version), owner, leasedUntil],
    );
    return new Set(marked.map((m) => m.call_id));
  }

  /** The write landed: the versions written (newer ones that arrived meanwhile stay dirty). */
  async markWritten(
    written: readonly { callId: string; version: number; sheetRowNumber: number }[],
    owner: string,
  ): Promise<void> {
    if (written.length === 0) return;
    await this.db.query(
      `UPDATE ${this.table} r SET written_version = GREATEST(r.written_version, w.version),
              sheet_row_number = w.row_number, append_pending = false, failed_attempts = 0, last_error = NULL,
              lease_owner = NULL, lease_until = NULL,
              dirty_since = CASE WHEN w.version < r.version THEN r.updated_at ELSE r.dirty_since END
         FROM unnest($1::text[], $2::bigint[], $3::int[]) AS w(call_id, version, row_number)
        WHERE r.call_id = w.call_id AND r.lease_owner = $4`,
      [written.map((w) => w.callId), written.map((w) => w.version), written.map((w) => w.sheetRowNumber), owner],
    );
  }

  /** The write failed: the rows stay dirty (the outbox) and are released for a later attempt. */
  async markFailed(callIds: readonly string[], owner: string, error: string, clearPending: boolean): Promise<void> {
    if (callIds.length === 0) return;
    await this.db.query(
      `UPDATE ${this.table} SET failed_attempts = failed_attempts + 1, last_error = $3, lease_owner = NULL, lease_until = NULL,
              append_pending = append_pending AND NOT $4
        WHERE call_id = ANY($1) AND lease_owner = $2`,
      [callIds, owner, error.slice(0, 500), clearPending],
    );
  }

  /**
   * Outcome of looking up unsure appends in the sheet: rows found get their row number (a rewrite
   * follows if the sheet holds an older version); rows not found may be appended again.
   */
  async resolveAppends(found: ReadonlyMap<string, number>, callIds: readonly string[], owner: string): Promise<void> {
    const ids = [...callIds];
    await this.db.query(
      `UPDATE ${this.table} r SET append_pending = false, sheet_row_number = f.row_number,
              written_version = CASE WHEN f.row_number IS NULL THEN r.written_version
                                     ELSE GREATEST(r.written_version, r.append_version) END,
              dirty_since = CASE WHEN f.row_number IS NOT NULL AND r.append_version >= r.version THEN NULL
                                 ELSE r.dirty_since END,
              lease_owner = NULL, lease_until = NULL
         FROM unnest($1::text[], $2::int[]) AS f(call_id, row_number)
        WHERE r.call_id = f.call_id AND r.lease_owner = $3`,
      [ids, ids.map((id) => found.get(id) ?? null), owner],
    );
  }

  /** The call's stored row, for tests and tools. */
  async get(callId: string): Promise<(ClaimedRow & { writtenVersion: number }) | null> {
    const { rows } = await this.db.query<RowRecord & { written_version: string }>(
      `SELECT call_id, version, cells, terminal, sheet_row_number, append_pending, written_version
         FROM ${this.table} WHERE call_id = $1`,
      [callId],
    );
    const r = rows[0];
    return r ? { ...toClaimed(r), writtenVersion: Number(r.written_version) } : null;
  }
}
