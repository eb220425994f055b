import type { callV1 } from '@callgate/protos';
import type { TwilioCallStatus } from './carrier.js';

/**
 * The call lifecycle: queued → initiated → ringing → in-progress → completed | busy | no-answer | failed | canceled.
 * A call only moves forward; a state may be skipped (a lost callback), never revisited, and a terminal
 * state is final. So duplicate and out-of-order reports (callbacks, polls, API answers) are harmless.
 */
export type CallStatus = TwilioCallStatus;

const RANK: Record<CallStatus, number> = {
  queued: 0,
  initiated: 1,
  ringing: 2,
  'in-progress': 3,
  completed: 4,
  busy: 4,
  'no-answer': 4,
  failed: 4,
  canceled: 4,
};

export const TERMINAL: ReadonlySet<CallStatus> = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);
export const ACTIVE_STATUSES: readonly CallStatus[] = ['queued', 'initiated', 'ringing', 'in-progress'];

export const isTerminal = (status: CallStatus) => TERMINAL.has(status);

/** Whether a report of `next` moves a call that is in `current`. */
export function advances(current: CallStatus, next: CallStatus): boolean {
  return !isTerminal(current) && RANK[next] > RANK[current];
}

export function isCallStatus(value: string): value is CallStatus {
  return value in RANK;
}

/** "in-progress" → "CALL_STATUS_IN_PROGRESS". */
export function toProtoStatus(status: CallStatus): callV1.CallStatus__Output {
  return `CALL_STATUS_${status.replace('-', '_').toUpperCase()}` as callV1.CallStatus__Output;
}

/** "CALL_STATUS_IN_PROGRESS" → "in-progress"; undefined for UNSPECIFIED or unknown. */
export function fromProtoStatus(status: string): CallStatus | undefined {
  const name = status
    .replace(/^CALL_STATUS_/, '')
    .toLowerCase()
    .replace('_', '-');
  return isCallStatus(name) ? name : undefined;
}
