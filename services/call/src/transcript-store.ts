import type { Clock, Database } from '@callgate/common';

/** NOTIFY channel of new transcript turns: payload {callId, turnSeq}; watchers read the turn from the table. */
export const TURNS_CHANNEL = 'call_turns';

export type Speaker = 'agent' | 'callee';

export interface Turn {
  speaker: Speaker;
  text: string;
  startedAt: Date;
  interrupted: boolean;
}

export interface TurnRow {
  call_id: string;
  turn_seq: number;
  speaker: Speaker;
  text: string;
  started_at: Date;
  interrupted: boolean;
}

export interface Outcome {
  /** Fields learned, validated against the call's outcome schema. */
  fields: Record<string, unknown>;
  /** Schema fields not learned: reported, never guessed. */
  missingFields: string[];
  summary: string;
  objectiveReached: boolean;
  endReason: EndReason;
}

export type EndReason = 'objective' | 'callee-ended' | 'callee-hung-up' | 'turn-limit' | 'time-limit' | 'error';

export interface OutcomeRow {
  call_id: string;
  fields: Record<string, unknown>;
  missing_fields: string[];
  summary: string;
  objective_reached: boolean;
  end_reason: EndReason;
  recorded_at: Date;
}

export interface TurnNotice {
  callId: string;
  turnSeq: number;
}

/** Where conversations are written: the relay appends turns and saves the outcome through this. */
export interface ConversationSink {
  appendTurn(callId: string, turn: Turn): Promise<number>;
  saveOutcome(callId: string, outcome: Outcome): Promise<void>;
}

/** Transcript turns and outcomes of calls (the calls schema, migration 0006). */
export class TranscriptStore implements ConversationSink {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /**
   * Appends a turn with the next sequence number and announces it (delivered on commit), in one
   * statement: one round trip per turn. One relay connection writes a call's turns one at a time, so
   * max+1 is enough; the primary key refuses a duplicate rather than overwriting.
   */
  async appendTurn(callId: string, turn: Turn): Promise<number> {
    const { rows } = await this.db.query<{ turn_seq: number }>(
      `WITH turn AS (
         INSERT INTO calls.transcript_turns (call_id, turn_seq, speaker, text, started_at, interrupted)
         SELECT $1, coalesce(max(turn_seq), 0) + 1, $2, $3, $4, $5 FROM calls.transcript_turns WHERE call_id = $1
         RETURNING turn_seq)
       SELECT turn_seq, pg_notify($6, json_build_object('callId', $7::text, 'turnSeq', turn_seq)::text) FROM turn`,
      [callId, turn.speaker, turn.text, turn.startedAt, turn.interrupted, TURNS_CHANNEL, callId],
    );
    return Number(rows[0]?.turn_seq);
  }

  async turns(callId: string, afterSeq = 0): Promise<TurnRow[]> {
    const { rows } = await this.db.query<TurnRow>(
      `SELECT call_id, turn_seq, speaker, text, started_at, interrupted FROM calls.transcript_turns
       WHERE call_id = $1 AND turn_seq > $2 ORDER BY turn_seq`,
      [callId, afterSeq],
    );
    return rows.map((r) => ({ ...r, turn_seq: Number(r.turn_seq) }));
  }

  /** The first outcome saved for a call stays: a second end of the same conversation changes nothing. */
  async saveOutcome(callId: string, outcome: Outcome): Promise<void> {
    await this.db.query(
      `INSERT INTO calls.call_outcomes (call_id, fields, missing_fields, summary, objective_reached, end_reason, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (call_id) DO NOTHING`,
      [
        callId,
        JSON.stringify(outcome.fields),
        outcome.missingFields,
        outcome.summary,
        outcome.objectiveReached,
        outcome.endReason,
        this.clock.date(),
      ],
    );
  }

  async outcome(callId: string): Promise<OutcomeRow | undefined> {
    const { rows } = await this.db.query<OutcomeRow>(
      `SELECT call_id, fields, missing_fields, summary, objective_reached, end_reason, recorded_at
       FROM calls.call_outcomes WHERE call_id = $1`,
      [callId],
    );
    return rows[0];
  }
}
