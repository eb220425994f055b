import { type Database, notFound } from '@callgate/common';
import type { CallRow, EventRow } from './call-store.js';
import type { Conversation } from './call-view.js';
import type { OutcomeRow, TurnRow } from './transcript-store.js';

/** A call with everything GetCall shows of it: its row, its timeline (settlements included), its conversation. */
export interface CallDetails {
  call: CallRow;
  events: EventRow[];
  conversation: Conversation;
}

/**
 * GetCall's read in one statement (one round trip, one snapshot) instead of four: the call row, its
 * events and its transcript turns as arrays of each column (so every value goes through the same
 * type parser as when read as a row: timestamps, bigints, booleans), and its outcome's columns. The
 * extra columns are prefixed `gc_` and removed from the call row before it is returned.
 */
const DETAILS_SQL = `
SELECT c.*,
       e.gc_ev_sequence, e.gc_ev_status, e.gc_ev_occurred_at, e.gc_ev_source, e.gc_ev_detail, e.gc_ev_kind,
       e.gc_ev_cost_credits,
       t.gc_tt_turn_seq, t.gc_tt_speaker, t.gc_tt_text, t.gc_tt_started_at, t.gc_tt_interrupted,
       o.call_id AS gc_oc_call_id, o.fields AS gc_oc_fields, o.missing_fields AS gc_oc_missing_fields,
       o.summary AS gc_oc_summary, o.objective_reached AS gc_oc_objective_reached,
       o.end_reason AS gc_oc_end_reason, o.recorded_at AS gc_oc_recorded_at
  FROM calls.calls c
  LEFT JOIN LATERAL (
    SELECT array_agg(sequence ORDER BY sequence) AS gc_ev_sequence,
           array_agg(status ORDER BY sequence) AS gc_ev_status,
           array_agg(occurred_at ORDER BY sequence) AS gc_ev_occurred_at,
           array_agg(source ORDER BY sequence) AS gc_ev_source,
           array_agg(detail ORDER BY sequence) AS gc_ev_detail,
           array_agg(kind ORDER BY sequence) AS gc_ev_kind,
           array_agg(cost_credits ORDER BY sequence) AS gc_ev_cost_credits
      FROM calls.call_events WHERE call_id = c.call_id
  ) e ON true
  LEFT JOIN LATERAL (
    SELECT array_agg(turn_seq ORDER BY turn_seq) AS gc_tt_turn_seq,
           array_agg(speaker ORDER BY turn_seq) AS gc_tt_speaker,
           array_agg(text ORDER BY turn_seq) AS gc_tt_text,
           array_agg(started_at ORDER BY turn_seq) AS gc_tt_started_at,
           array_agg(interrupted ORDER BY turn_seq) AS gc_tt_interrupted
      FROM calls.transcript_turns WHERE call_id = c.call_id
  ) t ON true
  LEFT JOIN calls.call_outcomes o ON o.call_id = c.call_id
 WHERE c.call_id = $1 AND c.user_id = $2`;

interface DetailsRow {
  gc_ev_sequence: (string | number)[] | null;
  gc_ev_status: EventRow['status'][] | null;
  gc_ev_occurred_at: Date[] | null;
  gc_ev_source: EventRow['source'][] | null;
  gc_ev_detail: string[] | null;
  gc_ev_kind: EventRow['kind'][] | null;
  gc_ev_cost_credits: (string | number)[] | null;
  gc_tt_turn_seq: (string | number)[] | null;
  gc_tt_speaker: TurnRow['speaker'][] | null;
  gc_tt_text: string[] | null;
  gc_tt_started_at: Date[] | null;
  gc_tt_interrupted: boolean[] | null;
  gc_oc_call_id: string | null;
  gc_oc_fields: OutcomeRow['fields'] | null;
  gc_oc_missing_fields: string[] | null;
  gc_oc_summary: string | null;
  gc_oc_objective_reached: boolean | null;
  gc_oc_end_reason: OutcomeRow['end_reason'] | null;
  gc_oc_recorded_at: Date | null;
}

/** The user's call with its timeline and conversation, or NOT_FOUND (another user's call is not theirs). */
export async function readCallDetails(db: Database, userId: string, callId: string): Promise<CallDetails> {
  const { rows } = await db.query<CallRow & DetailsRow>(DETAILS_SQL, [callId, userId]);
  const row = rows[0];
  if (!row) throw notFound('call', callId);
  const call = { ...row } as Partial<CallRow & DetailsRow>;
  for (const key of Object.keys(call)) if (key.startsWith('gc_')) delete call[key as keyof DetailsRow];
  const events: EventRow[] = (row.gc_ev_sequence ?? []).map((sequence, i) => ({
    call_id: row.call_id,
    sequence,
    status: (row.gc_ev_status as EventRow['status'][])[i] as EventRow['status'],
    occurred_at: (row.gc_ev_occurred_at as Date[])[i] as Date,
    source: (row.gc_ev_source as EventRow['source'][])[i] as EventRow['source'],
    detail: (row.gc_ev_detail as string[])[i] as string,
    kind: (row.gc_ev_kind as EventRow['kind'][])[i] as EventRow['kind'],
    cost_credits: (row.gc_ev_cost_credits as (string | number)[])[i] as string | number,
  }));
  const turns: TurnRow[] = (row.gc_tt_turn_seq ?? []).map((turnSeq, i) => ({
    call_id: row.call_id,
    turn_seq: Number(turnSeq),
    speaker: (row.gc_tt_speaker as TurnRow['speaker'][])[i] as TurnRow['speaker'],
    text: (row.gc_tt_text as string[])[i] as string,
    started_at: (row.gc_tt_started_at as Date[])[i] as Date,
    interrupted: (row.gc_tt_interrupted as boolean[])[i] as boolean,
  }));
  const outcome: OutcomeRow | undefined =
    row.gc_oc_call_id === null
      ? undefined
      : {
          call_id: row.gc_oc_call_id,
          fields: row.gc_oc_fields as OutcomeRow['fields'],
          missing_fields: row.gc_oc_missing_fields as string[],
          summary: row.gc_oc_summary as string,
          objective_reached: row.gc_oc_objective_reached as boolean,
          end_reason: row.gc_oc_end_reason as OutcomeRow['end_reason'],
          recorded_at: row.gc_oc_recorded_at as Date,
        };
  return { call: call as CallRow, events, conversation: { turns, outcome } };
}
