import { type CallStatus, isTerminal, toProtoStatus } from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import type { CallRow, EventRow } from './call-store.js';
import type { OutcomeRow, TurnRow } from './transcript-store.js';

const iso = (d: Date | null) => (d ? d.toISOString() : '');

export function toEvent(row: EventRow): callV1.CallEvent__Output {
  return {
    sequence: Number(row.sequence),
    status: toProtoStatus(row.status),
    occurredAt: row.occurred_at.toISOString(),
    source: row.source,
    detail: row.detail,
    kind: row.kind === 'settlement' ? 'CALL_EVENT_KIND_SETTLEMENT' : 'CALL_EVENT_KIND_STATUS',
    costCredits: Number(row.cost_credits),
  };
}

export const isSettlementEvent = (row: EventRow) => row.kind === 'settlement';

export function toTurn(row: TurnRow): callV1.TranscriptTurn__Output {
  return {
    speaker: row.speaker,
    text: row.text,
    startedAt: row.started_at.toISOString(),
    interrupted: row.interrupted,
  };
}

export function toOutcome(row: OutcomeRow): callV1.CallOutcome__Output {
  return {
    fieldsJson: JSON.stringify(row.fields),
    missingFields: row.missing_fields,
    summary: row.summary,
    objectiveReached: row.objective_reached,
    endReason: row.end_reason,
  };
}

/** What was said and learned on a call, when the caller read it (GetCall). */
export interface Conversation {
  turns: TurnRow[];
  outcome: OutcomeRow | undefined;
}

/** A call as the API shows it; the timeline and conversation only when given (GetCall). */
export function toCall(
  row: CallRow,
  events: EventRow[] = [],
  conversation?: Conversation,
  recording: callV1.CallRecording__Output | null = null,
): callV1.Call__Output {
  return {
    callId: row.call_id,
    userId: row.user_id,
    to: row.to_number,
    from: row.from_number,
    status: toProtoStatus(row.status),
    task: row.task,
    firstMessage: row.first_message,
    voice: row.voice,
    model: row.model,
    language: row.language,
    maxDurationSeconds: row.max_duration_seconds,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    answeredAt: iso(row.answered_at),
    endedAt: iso(row.ended_at),
    durationSeconds: row.duration_seconds,
    costCredits: Number(row.cost_credits),
    answeredBy: row.answered_by,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    carrierCallId: row.carrier_call_id ?? '',
    metadata: row.metadata,
    timeline: events.filter((e) => !isSettlementEvent(e)).map(toEvent),
    transcript: conversation?.turns.map(toTurn) ?? [],
    outcome: conversation?.outcome ? toOutcome(conversation.outcome) : null,
    reservedCredits: row.settlement === 'open' || row.settlement === 'pending' ? Number(row.reserved_credits) : 0,
    cancelRequestedAt: iso(row.cancel_requested_at ?? null),
    record: row.record ?? false,
    recording,
    transcriptDeletedAt: iso(row.transcript_deleted_at ?? null),
  };
}

const STAGE: Record<CallStatus, string> = {
  queued: 'queued for dialling',
  initiated: 'dialling',
  ringing: 'ringing',
  'in-progress': 'in progress',
  completed: 'completed',
  busy: 'ended: the line was busy',
  'no-answer': 'ended: nobody answered',
  failed: 'ended: the call failed',
  canceled: 'ended: canceled',
};

const BASE_PERCENT: Record<CallStatus, number> = {
  queued: 5,
  initiated: 15,
  ringing: 30,
  'in-progress': 40,
  completed: 100,
  busy: 100,
  'no-answer': 100,
  failed: 100,
  canceled: 100,
};

/** Where a call stands, for people and agents: a phrase, a percentage of the expected lifecycle, elapsed time. */
export function toProgress(row: CallRow, lastEvent: EventRow | undefined, now: Date): callV1.CallProgress__Output {
  const end = row.ended_at ?? now;
  const elapsed = Math.max(0, Math.round((end.getTime() - row.created_at.getTime()) / 1000));
  // Progress as of the event it goes with: a watcher replaying a call's events says "ringing" for the
  // ringing event even if the call is already talking when it reads them.
  const status = lastEvent?.status ?? row.status;
  let percent = BASE_PERCENT[status];
  let stage = STAGE[status];
  if (status === 'in-progress' && row.status === 'in-progress' && row.answered_at) {
    const talking = Math.max(0, Math.round((now.getTime() - row.answered_at.getTime()) / 1000));
    // The rest of the bar is the time limit: a call can end sooner, never later.
    percent = Math.min(95, 40 + Math.round((55 * talking) / row.max_duration_seconds));
    stage = `in progress ${Math.floor(talking / 60)}:${String(talking % 60).padStart(2, '0')}`;
  }
  return {
    callId: row.call_id,
    status: toProtoStatus(status),
    stage,
    percent,
    elapsedSeconds: elapsed,
    lastEvent: lastEvent ? toEvent(lastEvent) : null,
    terminal: isTerminal(status),
  };
}
