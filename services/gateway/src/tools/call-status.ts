import {
  ACTIVE_STATUSES,
  CALL_STATUSES as ALL_STATUSES,
  type CallStatus,
  statusOf,
  statusRank,
  TERMINAL_STATUSES,
  toProtoStatus,
} from '@callgate/common';
import type { callV1 } from '@callgate/protos';

/**
 * The MCP surface's mapping of call statuses and cancel outcomes: what MCP clients read and write
 * (tool inputs and outputs, resources, task results, docs) are the words of the status vocabulary
 * (@callgate/common call-status.ts, derived from the proto enum); the gRPC contract keeps its enum
 * names. This is the gateway's only mapping of either.
 */
// statusOf (the MCP word for a gRPC status) is defined beside the call view in @callgate/common.
export { type CallStatus, statusOf, TERMINAL_STATUSES, toProtoStatus };

/** Every status, in lifecycle order, as a tuple for zod enums. */
export const CALL_STATUSES = ALL_STATUSES as [CallStatus, ...CallStatus[]];

/** Answered, or ended without an answer: what `wait: "answered"` waits for. */
export const ANSWERED_OR_LATER: readonly CallStatus[] = ALL_STATUSES.filter(
  (s) => statusRank(s) >= ACTIVE_STATUSES.indexOf('in-progress'),
);

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
