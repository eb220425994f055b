import { CallStatusEnum, type callV1 } from '@callgate/protos';

/**
 * The call status vocabulary, derived once from the CallStatus enum of protos/callgate/call/v1/call.proto.
 * Every service, every SQL status list and the gateway's MCP surface take their statuses from here.
 *
 * A status has two spellings: the enum name on gRPC ("CALL_STATUS_IN_PROGRESS") and its word
 * ("in-progress": the enum name without its prefix, lowercase, hyphenated), which is the carrier's (Twilio's)
 * word, the database's, the sheet's and what MCP clients read.
 */
export type ProtoCallStatus = Exclude<callV1.CallStatus__Output, 'CALL_STATUS_UNSPECIFIED'>;

type Hyphenated<S extends string> = S extends `${infer A}_${infer B}` ? `${A}-${Hyphenated<B>}` : S;
type WordOf<P> = P extends `CALL_STATUS_${infer W}` ? Lowercase<Hyphenated<W>> : never;

/** A call status as a word: "queued", "in-progress", "no-answer", … */
export type CallStatus = WordOf<ProtoCallStatus>;

/**
 * Whether each status is final. The only hand-written fact about statuses; typed by the enum, so a status
 * added to call.proto does not compile until it is placed here.
 */
const PHASE = {
  queued: 'active',
  initiated: 'active',
  ringing: 'active',
  'in-progress': 'active',
  completed: 'terminal',
  busy: 'terminal',
  'no-answer': 'terminal',
  failed: 'terminal',
  canceled: 'terminal',
} as const satisfies Record<CallStatus, 'active' | 'terminal'>;

const wordOf = (proto: string): string =>
  proto
    .replace(/^CALL_STATUS_/, '')
    .toLowerCase()
    .replace(/_/g, '-');

/** Every status in lifecycle order (the enum's): queued → initiated → ringing → in-progress → the final ones. */
export const CALL_STATUSES: readonly CallStatus[] = Object.keys(CallStatusEnum)
  .filter((name) => name !== 'CALL_STATUS_UNSPECIFIED')
  .map((name) => wordOf(name) as CallStatus);

/** The statuses a call is still in motion in (not final), in order. */
export const ACTIVE_STATUSES: readonly CallStatus[] = CALL_STATUSES.filter((s) => PHASE[s] === 'active');

/** The statuses a call never leaves. */
export const TERMINAL_STATUSES: readonly CallStatus[] = CALL_STATUSES.filter((s) => PHASE[s] === 'terminal');

export const isCallStatus = (value: string): value is CallStatus => value in PHASE;

export const isTerminal = (status: CallStatus): boolean => PHASE[status] === 'terminal';

/** A status's place in the lifecycle: active ones in enum order, all final ones one step after the last active. */
export function statusRank(status: CallStatus): number {
  return isTerminal(status) ? ACTIVE_STATUSES.length : ACTIVE_STATUSES.indexOf(status);
}

/**
 * Whether a report of `next` moves a call that is in `current`. A call only moves forward; a state may be
 * skipped (a lost callback), never revisited, and a final state is final, so duplicate and out-of-order
 * reports are harmless.
 */
export const advances = (current: CallStatus, next: CallStatus): boolean =>
  !isTerminal(current) && statusRank(next) > statusRank(current);

/** "in-progress" → "CALL_STATUS_IN_PROGRESS". */
export const toProtoStatus = (status: CallStatus): ProtoCallStatus =>
  `CALL_STATUS_${status.replace(/-/g, '_').toUpperCase()}` as ProtoCallStatus;

/** "CALL_STATUS_IN_PROGRESS" → "in-progress"; undefined for UNSPECIFIED or a status this build does not know. */
export function fromProtoStatus(proto: string): CallStatus | undefined {
  const word = wordOf(proto);
  return isCallStatus(word) ? word : undefined;
}

/** Whether a status as gRPC sends it ("CALL_STATUS_…") is final. */
export const isTerminalProto = (proto: string): boolean => {
  const status = fromProtoStatus(proto);
  return status !== undefined && isTerminal(status);
};

/**
 * Statuses as a SQL list for `status IN (…)`: `'queued', 'initiated'`. Safe to splice: the words are the
 * enum's, letters and hyphens only.
 */
export const sqlStatusList = (statuses: readonly CallStatus[]): string => statuses.map((s) => `'${s}'`).join(', ');
