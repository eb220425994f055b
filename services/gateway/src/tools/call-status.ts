import type { callV1 } from '@callgate/protos';

/**
 * The call statuses and cancel outcomes as MCP clients read and write them, and their gRPC enum
 * names. The gRPC contract keeps its enums; everything the gateway serves (tool inputs and outputs,
 * resources, task results, docs) speaks the lowercase words below, which are also the README's and
 * the carrier's. This is the only place either list is written down.
 */

const PROTO_BY_STATUS = {
  queued: 'CALL_STATUS_QUEUED',
  initiated: 'CALL_STATUS_INITIATED',
  ringing: 'CALL_STATUS_RINGING',
  'in-progress': 'CALL_STATUS_IN_PROGRESS',
  completed: 'CALL_STATUS_COMPLETED',
  busy: 'CALL_STATUS_BUSY',
  'no-answer': 'CALL_STATUS_NO_ANSWER',
  failed: 'CALL_STATUS_FAILED',
  canceled: 'CALL_STATUS_CANCELED',
} as const satisfies Record<string, callV1.CallStatus__Output>;

export type CallStatus = keyof typeof PROTO_BY_STATUS;

/** Every status, in lifecycle order. */
export const CALL_STATUSES = Object.keys(PROTO_BY_STATUS) as [CallStatus, ...CallStatus[]];

/** The statuses a call never leaves. */
export const TERMINAL_STATUSES: readonly CallStatus[] = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];

/** Answered, or ended without an answer: what `wait: "answered"` waits for. */
export const ANSWERED_OR_LATER: readonly CallStatus[] = ['in-progress', ...TERMINAL_STATUSES];

const STATUS_BY_PROTO = new Map<string, CallStatus>(
  Object.entries(PROTO_BY_STATUS).map(([word, proto]) => [proto, word as CallStatus]),
);

export const toProtoStatus = (status: CallStatus): callV1.CallStatus__Output => PROTO_BY_STATUS[status];

/**
 * The MCP word for a gRPC status. A status the gateway does not know yet (a newer call service) is
 * passed on lowercased rather than dropped, so a client still sees something readable.
 */
export function statusOf(proto: string): CallStatus {
  return (
    STATUS_BY_PROTO.get(proto) ??
    (proto
      .replace(/^CALL_STATUS_/, '')
      .toLowerCase()
      .replace(/_/g, '-') as CallStatus)
  );
}

/** Whether a gRPC status (as the call service sends it) is final. */
export const isTerminalStatus = (proto: string): boolean => TERMINAL_STATUSES.includes(statusOf(proto));

/** Whether a gRPC status is answered or final. */
export const isAnsweredOrLater = (proto: string): boolean => ANSWERED_OR_LATER.includes(statusOf(proto));

/** "no-answer" → "no answer", for sentences. */
export const statusPhrase = (proto: string): string => statusOf(proto).replace(/-/g, ' ');

const CANCEL_OUTCOME_BY_PROTO = {
  CANCEL_OUTCOME_CANCELED_BEFORE_ANSWER: 'canceled-before-answer',
  CANCEL_OUTCOME_HUNG_UP: 'hung-up',
  CANCEL_OUTCOME_ALREADY_ENDED: 'already-ended',
} as const satisfies Partial<Record<callV1.CancelOutcome__Output, string>>;

export type CancelOutcome = (typeof CANCEL_OUTCOME_BY_PROTO)[keyof typeof CANCEL_OUTCOME_BY_PROTO];

/** What cancelCall did, in the words of its result. */
export const CANCEL_OUTCOMES = Object.values(CANCEL_OUTCOME_BY_PROTO) as [CancelOutcome, ...CancelOutcome[]];

export function cancelOutcomeOf(proto: string): CancelOutcome {
  return (
    (CANCEL_OUTCOME_BY_PROTO as Record<string, CancelOutcome>)[proto] ??
    (proto
      .replace(/^CANCEL_OUTCOME_/, '')
      .toLowerCase()
      .replace(/_/g, '-') as CancelOutcome)
  );
}
