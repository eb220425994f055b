import {
  ACTIVE_STATUSES,
  advances,
  type CallStatus,
  type Clock,
  type Database,
  decodeCursor,
  encodeCursor,
  invalidArgument,
  isTerminal,
  notFound,
  pageSize,
  type Queryable,
  sqlStatusList,
  TERMINAL_STATUSES,
  timeBound,
} from '@callgate/common';
import { DAILY_USAGE_SQL, type DailyCap } from './daily-minutes.js';

export const EVENTS_CHANNEL = 'call_events';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The position a list cursor names. A token is only base64url JSON, so one can be crafted: values the
 * query cannot use are refused like any token we did not make, rather than failing in PostgreSQL.
 */
function listPosition(token: string): { t: Date; id: string } | undefined {
  const cursor = decodeCursor(token, ['t', 'id'] as const);
  if (!cursor) return undefined;
  const t = new Date(typeof cursor.t === 'string' ? cursor.t : Number.NaN);
  if (Number.isNaN(t.getTime()) || typeof cursor.id !== 'string' || !UUID.test(cursor.id)) {
    throw invalidArgument('pageToken', 'not a page token from a previous response; start without one');
  }
  return { t, id: cursor.id };
}

/** The NOTIFY payload of a call event: small, since watchers read the events from the table. */
export interface CallChangeNotice {
  callId: string;
  sequence: number;
  userId: string;
  status: CallStatus;
  kind: EventRow['kind'];
}

export interface CallRow {
  call_id: string;
  user_id: string;
  idempotency_key: string;
  to_number: string;
  from_number: string;
  status: CallStatus;
  dial_state: 'pending' | 'dialing' | 'dialed' | 'refused' | 'canceled';
  dial_started_at: Date | null;
  task: string;
  first_message: string;
  voice: string;
  model: string;
  language: string;
  max_duration_seconds: number;
  machine_detection: boolean;
  outcome_schema_json: string;
  metadata: Record<string, string>;
  credits_per_minute: number;
  reservation_id: string;
  reserved_credits: string | number;
  carrier_call_id: string | null;
  created_at: Date;
  updated_at: Date;
  answered_at: Date | null;
  ended_at: Date | null;
  duration_seconds: number;
  answered_by: string;
  error_code: string;
  error_message: string;
  settlement: 'open' | 'pending' | 'settled' | 'released';
  cost_credits: string | number;
  last_sequence: string | number;
  row_version: string | number;
  sheets_version: string | number;
  request_hash: string;
  cancel_requested_at: Date | null;
  /** Recorded at the carrier (makePhoneCall's record, else the user's preference; migration 0009). */
  record: boolean;
  /** When the transcript was deleted, on request or by retention. */
  transcript_deleted_at: Date | null;
}

export interface EventRow {
  call_id: string;
  sequence: string | number;
  /** For a settlement, the status the call ended in. */
  status: CallStatus;
  occurred_at: Date;
  source: 'api' | 'callback' | 'poll' | 'relay' | 'system';
  detail: string;
  /** A status change, or the settlement of the call's credits (its own sequence, after the end). */
  kind: 'status' | 'settlement';
  /** Credits charged by a settlement (0 when the hold was released; 0 for a status). */
  cost_credits: string | number;
}

export type NewCall = Omit<
  CallRow,
  | 'status'
  | 'dial_state'
  | 'dial_started_at'
  | 'carrier_call_id'
  | 'updated_at'
  | 'answered_at'
  | 'ended_at'
  | 'duration_seconds'
  | 'answered_by'
  | 'error_code'
  | 'error_message'
  | 'settlement'
  | 'cancel_requested_at'
  | 'transcript_deleted_at'
  | 'cost_credits'
  | 'last_sequence'
  | 'row_version'
  | 'sheets_version'
>;

/** A report of where a call is, from whichever source saw it. */
export interface StatusReport {
  status: CallStatus;
  occurredAt: Date;
  source: EventRow['source'];
  detail?: string;
  carrierCallId?: string;
  durationSeconds?: number | null;
  answeredBy?: string | null;
  errorCode?: string;
  errorMessage?: string;
}

export interface AppliedReport {
  call: CallRow;
  changed: boolean;
  /** The report moved the call into a terminal state: settle its credits now. */
  ended: boolean;
}

const COLUMNS = 'c.*';

/** The calls schema: calls, their timelines, and how reports move them (the state machine, under a row lock). */
export class CallStore {
  constructor(
    readonly db: Database,
    private readonly clock: Clock,
    /** Told each status a call enters, after the commit (call_status_transitions_total; status-metrics.ts). */
    private readonly onStatus: (status: CallStatus) => void = () => {},
  ) {}

  async byIdempotencyKey(userId: string, key: string): Promise<CallRow | undefined> {
    const { rows } = await this.db.query<CallRow>(
      `SELECT ${COLUMNS} FROM calls.calls c WHERE user_id = $1 AND idempotency_key = $2`,
      [userId, key],
    );
    return rows[0];
  }

  /** One call of one user; another user's call is NOT_FOUND, the same as a call that does not exist. */
  async forUser(userId: string, callId: string): Promise<CallRow> {
    const { rows } = await this.db.query<CallRow>(
      `SELECT ${COLUMNS} FROM calls.calls c WHERE call_id = $1 AND user_id = $2`,
      [callId, userId],
    );
    if (!rows[0]) throw notFound('call', callId);
    return rows[0];
  }

  async byId(callId: string): Promise<CallRow | undefined> {
    const { rows } = await this.db.query<CallRow>(`SELECT ${COLUMNS} FROM calls.calls c WHERE call_id = $1`, [callId]);
    return rows[0];
  }

  async byCarrierId(carrierCallId: string): Promise<CallRow | undefined> {
    const { rows } = await this.db.query<CallRow>(`SELECT ${COLUMNS} FROM calls.calls c WHERE carrier_call_id = $1`, [
      carrierCallId,
    ]);
    return rows[0];
  }

  /**
   * Records the intent to call, before the carrier is asked. Serialised per user (an advisory lock) so
   * the concurrent-call limit and the plan's daily minutes hold under concurrency. Returns undefined when the idempotency key was
   * taken meanwhile (a concurrent duplicate won): the caller returns that call instead.
   */
  async insertIntent(
    call: NewCall,
    maxConcurrent: number,
    daily?: DailyCap,
  ): Promise<CallRow | 'limit' | { dailyUsedSeconds: number } | undefined> {
    const result = await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`calls:${call.user_id}`]);
      // One round trip for every check (the key, the concurrent calls, the plan's daily minutes), under the lock.
      const cap = daily && daily.minutes > 0 ? daily : undefined;
      const checks = await tx.query<{ taken: boolean; n: string | number; seconds: string | number | null }>(
        `SELECT EXISTS (SELECT 1 FROM calls.calls WHERE user_id = $1 AND idempotency_key = $2) AS taken,
           (SELECT count(*) FROM calls.calls WHERE user_id = $1 AND status IN (${sqlStatusList(ACTIVE_STATUSES)})) AS n,
           ${cap ? `(${DAILY_USAGE_SQL.replace('$2', '$3')})` : 'NULL'} AS seconds`,
        cap ? [call.user_id, call.idempotency_key, cap.since] : [call.user_id, call.idempotency_key],
      );
      const check = checks.rows[0];
      if (check?.taken) return undefined;
      if (Number(check?.n) >= maxConcurrent) return 'limit';
      if (cap) {
        const usedSeconds = Number(check?.seconds ?? 0);
        if (usedSeconds + cap.addSeconds > cap.minutes * 60) return { dailyUsedSeconds: usedSeconds };
      }
      const now = this.clock.date();
      const { rows } = await tx.query<CallRow>(
        // The intent and the first event of its timeline in one statement.
        `WITH inserted AS (INSERT INTO calls.calls (call_id, user_id, idempotency_key, to_number, from_number, status, dial_state, task,
           first_message, voice, model, language, max_duration_seconds, machine_detection, outcome_schema_json, metadata,
           credits_per_minute, reservation_id, reserved_credits, created_at, updated_at, last_sequence, request_hash, record)
         VALUES ($1, $2, $3, $4, $5, 'queued', 'pending', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18, 1, $19, $20)
         RETURNING *),
         event AS (
           INSERT INTO calls.call_events (call_id, sequence, status, occurred_at, recorded_at, source, detail, kind, cost_credits)
           SELECT call_id, 1, 'queued', $18, $18, 'api', 'call recorded; dialling', 'status', 0 FROM inserted)
         SELECT * FROM inserted`,
        [
          call.call_id,
          call.user_id,
          call.idempotency_key,
          call.to_number,
          call.from_number,
          call.task,
          call.first_message,
          call.voice,
          call.model,
          call.language,
          call.max_duration_seconds,
          call.machine_detection,
          call.outcome_schema_json,
          JSON.stringify(call.metadata),
          call.credits_per_minute,
          call.reservation_id,
          call.reserved_credits,
          now,
          call.request_hash,
          call.record,
        ],
      );
      return rows[0] as CallRow;
    });
    if (typeof result === 'object' && 'call_id' in result) this.onStatus('queued');
    return result;
  }

  /** Takes the right to dial: exactly one of PlaceCall and the recovery job wins it. */
  async claimDial(callId: string): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE calls.calls SET dial_state = 'dialing', dial_started_at = $2, updated_at = $2
       WHERE call_id = $1 AND dial_state = 'pending'`,
      [callId, this.clock.date()],
    );
    return r.rowCount === 1;
  }

  async markDialed(callId: string, carrierCallId: string): Promise<void> {
    await this.db.query(
      `UPDATE calls.calls SET dial_state = 'dialed', carrier_call_id = coalesce(carrier_call_id, $2), updated_at = $3
       WHERE call_id = $1`,
      [callId, carrierCallId, this.clock.date()],
    );
  }

  /**
   * Applies a status report through the state machine, under the call's row lock: a report that does not
   * move the call forward changes nothing (duplicates, late or out-of-order callbacks). A change is added
   * to the timeline and announced on NOTIFY (delivered on commit), so any replica's watchers see it.
   */
  async apply(callId: string, report: StatusReport): Promise<AppliedReport> {
    return (await this.applyIf(callId, report, undefined)) as AppliedReport;
  }

  /** Cancels a call nobody has started dialling; undefined when a dial was claimed meanwhile. */
  cancelUndialed(callId: string, report: StatusReport): Promise<AppliedReport | undefined> {
    return this.applyIf(callId, report, 'undialed');
  }

  /** Fails a dial the carrier never confirmed; undefined when a callback confirmed it meanwhile. */
  failDial(callId: string, report: StatusReport): Promise<AppliedReport | undefined> {
    return this.applyIf(callId, report, 'unconfirmed');
  }

  /**
   * apply, under a condition on the dial checked under the same row lock, so a concurrent dial or
   * callback either happens entirely before (and the condition fails) or entirely after.
   */
  private async applyIf(
    callId: string,
    report: StatusReport,
    guard: 'undialed' | 'unconfirmed' | undefined,
  ): Promise<AppliedReport | undefined> {
    const applied = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<CallRow>(`SELECT ${COLUMNS} FROM calls.calls c WHERE call_id = $1 FOR UPDATE`, [
        callId,
      ]);
      const call = rows[0];
      if (!call) throw notFound('call', callId);
      let dialState: CallRow['dial_state'] | null = null;
      if (guard === 'undialed') {
        if (call.dial_state !== 'pending') return undefined;
        dialState = 'canceled';
      } else if (guard === 'unconfirmed') {
        if (call.carrier_call_id || !['pending', 'dialing'].includes(call.dial_state)) return undefined;
        dialState = 'refused';
      }
      if (!advances(call.status, report.status)) {
        // Not a move, but a late report may still carry facts the call lacks: its carrier id, or the
        // billed duration of a completed call that was recorded without one (a hang-up's answer).
        if (report.carrierCallId && !call.carrier_call_id) {
          await tx.query('UPDATE calls.calls SET carrier_call_id = $2 WHERE call_id = $1', [
            callId,
            report.carrierCallId,
          ]);
        }
        const duration = report.durationSeconds ?? 0;
        if (
          report.status === 'completed' &&
          call.status === 'completed' &&
          call.duration_seconds === 0 &&
          duration > 0 &&
          (call.settlement === 'open' || call.settlement === 'pending')
        ) {
          const fixed = await tx.query<CallRow>(
            `UPDATE calls.calls SET duration_seconds = $2,
               answered_at = coalesce(answered_at, $3::timestamptz - make_interval(secs => $2::integer)), updated_at = $4
             WHERE call_id = $1 RETURNING *`,
            [callId, duration, report.occurredAt, this.clock.date()],
          );
          return { call: fixed.rows[0] as CallRow, changed: false, ended: false };
        }
        return { call, changed: false, ended: false };
      }
      const now = this.clock.date();
      const sequence = Number(call.last_sequence) + 1;
      const ended = isTerminal(report.status);
      const updated = await tx.query<CallRow>(
        `UPDATE calls.calls SET status = $2, last_sequence = $3::bigint, row_version = $3::bigint * 2, updated_at = $4,
           carrier_call_id = coalesce(carrier_call_id, $5),
           answered_at = CASE
             WHEN answered_at IS NOT NULL THEN answered_at
             WHEN $2 = 'in-progress' THEN $6
             -- A completed report that overtook its in-progress one still tells when the call was answered.
             WHEN $2 = 'completed' AND coalesce($8::integer, 0) > 0 THEN $6::timestamptz - make_interval(secs => $8::integer)
             ELSE NULL END,
           ended_at = CASE WHEN $7 THEN $6 ELSE ended_at END,
           duration_seconds = coalesce($8, duration_seconds),
           answered_by = coalesce($9, answered_by),
           error_code = coalesce($10, error_code),
           error_message = coalesce($11, error_message),
           settlement = CASE WHEN $7 THEN 'pending' ELSE settlement END,
           dial_state = coalesce($12, CASE WHEN dial_state = 'pending' AND $7 THEN 'canceled' ELSE dial_state END)
         WHERE call_id = $1 RETURNING *`,
        [
          callId,
          report.status,
          sequence,
          now,
          report.carrierCallId ?? null,
          report.occurredAt,
          ended,
          report.durationSeconds ?? null,
          report.answeredBy || null,
          report.errorCode || null,
          report.errorMessage || null,
          dialState,
        ],
      );
      const change: CallChangeNotice = {
        callId,
        sequence,
        userId: call.user_id,
        status: report.status,
        kind: 'status',
      };
      await insertEvent(
        tx,
        callId,
        sequence,
        report.status,
        report.occurredAt,
        now,
        report.source,
        report.detail ?? '',
        change,
      );
      return { call: updated.rows[0] as CallRow, changed: true, ended };
    });
    if (applied?.changed) this.onStatus(report.status);
    return applied;
  }

  async recordCallback(entry: {
    callId: string | null;
    carrierCallId: string;
    carrierStatus: string;
    carrierSequence: number | null;
    params: Record<string, string>;
    applied: boolean;
  }): Promise<void> {
    await this.db.query(
      `INSERT INTO calls.carrier_callbacks (call_id, carrier_call_id, carrier_status, carrier_sequence, params, applied, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        entry.callId,
        entry.carrierCallId,
        entry.carrierStatus,
        entry.carrierSequence,
        JSON.stringify(entry.params),
        entry.applied,
        this.clock.date(),
      ],
    );
  }

  /**
   * Records the settlement as an event of its own, with the next sequence number, and announces it:
   * the call's cost and the user's balance changed, so a watcher waiting for the final cost, subscribers
   * and the gateway's balance cache hear of it. Only the first settlement of a call counts.
   */
  async markSettled(callId: string, outcome: 'settled' | 'released', cost: number): Promise<CallRow | undefined> {
    const now = this.clock.date();
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<CallRow>(
        `UPDATE calls.calls SET settlement = $2, cost_credits = $3, updated_at = $4, row_version = row_version + 1,
           last_sequence = last_sequence + 1
         WHERE call_id = $1 AND settlement = 'pending' RETURNING *`,
        [callId, outcome, cost, now],
      );
      const row = rows[0];
      if (!row) return undefined;
      const sequence = Number(row.last_sequence);
      const change: CallChangeNotice = {
        callId,
        sequence,
        userId: row.user_id,
        status: row.status,
        kind: 'settlement',
      };
      await insertEvent(tx, callId, sequence, row.status, now, now, 'system', `credits ${outcome}`, change, {
        kind: 'settlement',
        cost,
      });
      return row;
    });
  }

  /** Records that the user asked to cancel the call (kept if it was asked before); false once it has ended. */
  async markCancelRequested(callId: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE calls.calls SET cancel_requested_at = coalesce(cancel_requested_at, $2)
       WHERE call_id = $1 AND status NOT IN (${sqlStatusList(TERMINAL_STATUSES)})`,
      [callId, this.clock.date()],
    );
    return rowCount > 0;
  }

  /** The carrier had ended the call before the cancel reached it: it was not cancelled after all. */
  async clearCancelRequested(callId: string): Promise<void> {
    await this.db.query('UPDATE calls.calls SET cancel_requested_at = NULL WHERE call_id = $1', [callId]);
  }

  /** Moves a call to the back of the recovery job's queues (after a failed attempt). */
  async touch(callId: string): Promise<void> {
    await this.db.query('UPDATE calls.calls SET updated_at = $2 WHERE call_id = $1', [callId, this.clock.date()]);
  }

  /** Records that sheets-sync has the call's row at this version (never moves back). */
  async markMirrored(callId: string, version: number): Promise<void> {
    await this.db.query('UPDATE calls.calls SET sheets_version = greatest(sheets_version, $2) WHERE call_id = $1', [
      callId,
      version,
    ]);
  }

  /** Calls whose current row version sheets-sync has not acknowledged, oldest change first. */
  async behindSheets(limit = 50): Promise<CallRow[]> {
    const { rows } = await this.db.query<CallRow>(
      `SELECT ${COLUMNS} FROM calls.calls c
        WHERE sheets_version < row_version ORDER BY updated_at LIMIT $1`,
      [limit],
    );
    return rows;
  }

  async events(callId: string, afterSequence = 0): Promise<EventRow[]> {
    const { rows } = await this.db.query<EventRow>(
      `SELECT call_id, sequence, status, occurred_at, source, detail, kind, cost_credits FROM calls.call_events
       WHERE call_id = $1 AND sequence > $2 ORDER BY sequence`,
      [callId, afterSequence],
    );
    return rows;
  }

  /** The call's latest status change (its settlement, which comes after, is not one). */
  async lastStatusEvent(callId: string): Promise<EventRow | undefined> {
    const { rows } = await this.db.query<EventRow>(
      `SELECT call_id, sequence, status, occurred_at, source, detail, kind, cost_credits FROM calls.call_events
       WHERE call_id = $1 AND kind = 'status' ORDER BY sequence DESC LIMIT 1`,
      [callId],
    );
    return rows[0];
  }

  /**
   * The user's calls, newest first, keyset-paged on (created_at, call_id). `number` searches the
   * destination and the caller id for those characters (a substring, matched literally: LIKE's own
   * characters escaped): "which calls went to this number" and "which calls showed this caller id".
   * No trigram index: the scan is bounded by the user's own calls (calls_by_user).
   */
  async list(request: {
    userId: string;
    pageSize: number;
    pageToken: string;
    statuses: CallStatus[];
    createdAfter: string;
    createdBefore: string;
    number: string;
  }): Promise<{ calls: CallRow[]; nextPageToken: string }> {
    const size = pageSize(request.pageSize);
    const cursor = listPosition(request.pageToken);
    const after = timeBound('createdAfter', request.createdAfter);
    const before = timeBound('createdBefore', request.createdBefore);
    const { rows } = await this.db.query<CallRow>(
      `SELECT ${COLUMNS} FROM calls.calls c
        WHERE user_id = $1
          AND (cardinality($2::text[]) = 0 OR status = ANY($2))
          AND ($3::timestamptz IS NULL OR created_at >= $3)
          AND ($4::timestamptz IS NULL OR created_at <= $4)
          AND ($5 = '' OR to_number LIKE '%' || $5 || '%' ESCAPE '\\' OR from_number LIKE '%' || $5 || '%' ESCAPE '\\')
          AND ($6::timestamptz IS NULL OR (created_at, call_id) < ($6, $7::uuid))
        ORDER BY created_at DESC, call_id DESC LIMIT $8`,
      [
        request.userId,
        request.statuses,
        after ?? null,
        before ?? null,
        likeLiteral(request.number),
        cursor?.t ?? null,
        cursor?.id ?? null,
        size + 1,
      ],
    );
    const page = rows.slice(0, size);
    const last = page.at(-1);
    return {
      calls: page,
      nextPageToken:
        rows.length > size && last ? encodeCursor({ t: last.created_at.toISOString(), id: last.call_id }) : '',
    };
  }

  /** Intents whose dialling never finished: pending ones not claimed, and dialing ones never answered. */
  async unfinishedDials(olderThan: Date, limit = 50): Promise<CallRow[]> {
    const { rows } = await this.db.query<CallRow>(
      `SELECT ${COLUMNS} FROM calls.calls c
        WHERE dial_state IN ('pending', 'dialing') AND coalesce(dial_started_at, created_at) < $1
        ORDER BY created_at LIMIT $2`,
      [olderThan, limit],
    );
    return rows;
  }

  async pendingSettlements(limit = 50): Promise<CallRow[]> {
    const { rows } = await this.db.query<CallRow>(
      `SELECT ${COLUMNS} FROM calls.calls c WHERE settlement = 'pending' ORDER BY updated_at LIMIT $1`,
      [limit],
    );
    return rows;
  }
}

/** Text LIKE matches literally: its wildcards (% and _) and the escape character (\\) escaped. */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Adds an event to a call's timeline and announces the change on NOTIFY (delivered on commit) in one
 * statement: one round trip per transition instead of two.
 */
async function insertEvent(
  tx: Queryable,
  callId: string,
  sequence: number,
  status: CallStatus,
  occurredAt: Date,
  recordedAt: Date,
  source: EventRow['source'],
  detail: string,
  change: CallChangeNotice,
  settlement?: { kind: 'settlement'; cost: number },
): Promise<void> {
  await tx.query(
    `WITH event AS (
       INSERT INTO calls.call_events (call_id, sequence, status, occurred_at, recorded_at, source, detail, kind, cost_credits)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING 1)
     SELECT pg_notify($10, $11) FROM event`,
    [
      callId,
      sequence,
      status,
      occurredAt,
      recordedAt,
      source,
      detail,
      settlement?.kind ?? 'status',
      settlement?.cost ?? 0,
      EVENTS_CHANNEL,
      JSON.stringify(change),
    ],
  );
}
