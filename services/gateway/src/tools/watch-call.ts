import type { callV1 } from '@callgate/protos';
import type { Backends } from '../backends.js';
import { isAnsweredOrLater, isTerminalStatus } from './call-status.js';

export type WaitUntil = 'answered' | 'completed';

/**
 * How long a wait stays silent before a heartbeat. A call on hold or in a phone menu produces no event
 * for minutes, and clients give up on a request after 60 s without progress (the SDKs' default), even
 * those that reset their timeout on progress: well under that, and no more often.
 */
export const HEARTBEAT_MS = 15_000;

/**
 * How long makePhoneCall waits for a call's settlement after its end: normally milliseconds; when
 * user-credit is down the result says what is still held and the recovery pass settles it later.
 */
export const SETTLEMENT_GRACE_MS = 2000;

/** 42 → "0:42", as the call service words a call's talk time. */
const clock = (seconds: number) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;

/**
 * Follows a call over the call service's WatchCall stream until it is answered or ends (`until`),
 * reporting each change. The stream is pushed from PostgreSQL NOTIFY, so nothing polls. After
 * `heartbeatMs` without an event, reports the call's progress as it is now ("in progress 0:42"), read
 * from the call service, so the client's request timeout does not fire while the call goes on quietly.
 * Aborting the signal (the client cancelled the request or went away) cancels the gRPC stream.
 */
export async function waitForCall(options: {
  backends: Backends;
  userId: string;
  callId: string;
  until: WaitUntil;
  /** The longest the wait may last: the call's time limit plus ringing. */
  timeoutMs: number;
  signal: AbortSignal;
  /** Each event, one at a time; heartbeats arrive as events carrying only `progress`. */
  onEvent: (event: callV1.WatchCallEvent__Output) => Promise<void>;
  /** Silence before a heartbeat (default HEARTBEAT_MS; tests pass less). */
  heartbeatMs?: number;
  /**
   * With `until: "completed"`: go on past the end to the settlement of the call's credits (its own event
   * on the stream, a moment after the end), so the caller reads the final cost. The settlement is waited
   * for at most `graceMs` after the end (user-credit down: the call service's recovery settles it later).
   */
  settlement?: { graceMs: number };
}): Promise<void> {
  const client = options.backends.call.raw as unknown as callV1.CallServiceClient;
  const stream = client.watchCall(
    { userId: options.userId, callId: options.callId, afterSequence: 0, untilSettled: Boolean(options.settlement) },
    { deadline: Date.now() + options.timeoutMs },
  );
  const cancel = () => stream.cancel();
  if (options.signal.aborted) {
    stream.cancel();
    return;
  }
  options.signal.addEventListener('abort', cancel, { once: true });
  // Events and heartbeats go out one after the other, so progress numbers reach the client in order.
  let sending = Promise.resolve();
  const send = (event: callV1.WatchCallEvent__Output) => {
    sending = sending.catch(() => undefined).then(() => options.onEvent(event));
    return sending;
  };
  /** Stream events seen: a heartbeat read while one arrived is older than it, and is dropped. */
  let seen = 0;
  const started = Date.now();
  let last: callV1.CallProgress__Output | null = null;
  let timer: NodeJS.Timeout | undefined;
  let over = false;
  const beat = async () => {
    const before = seen;
    const event = await heartbeatEvent(options, started, last);
    if (over || seen !== before) return;
    await send(event).catch(() => undefined);
    rearm();
  };
  const rearm = () => {
    clearTimeout(timer);
    if (!over) timer = setTimeout(() => void beat(), options.heartbeatMs ?? HEARTBEAT_MS);
  };
  rearm();
  /** Set once the settlement was given its grace after the end and did not come. */
  let settlementLate = false;
  let grace: NodeJS.Timeout | undefined;
  try {
    for await (const event of stream as AsyncIterable<callV1.WatchCallEvent__Output>) {
      seen++;
      rearm();
      // The settlement says nothing new to the client (the end was said): it only ends the wait.
      if (event.event?.kind === 'CALL_EVENT_KIND_SETTLEMENT') return;
      if (event.progress) last = event.progress;
      await send(event);
      const status = event.progress?.status ?? event.event?.status ?? '';
      if (event.terminal || (options.until === 'answered' && isAnsweredOrLater(status))) return;
      if (options.settlement && !grace && isTerminalStatus(status)) {
        grace = setTimeout(() => {
          settlementLate = true;
          stream.cancel();
        }, options.settlement.graceMs);
      }
    }
  } catch (error) {
    // A cancel we asked for ends the wait quietly; the caller reads the call as it is now.
    if (options.signal.aborted || settlementLate) return;
    throw error;
  } finally {
    over = true;
    clearTimeout(grace);
    clearTimeout(timer);
    options.signal.removeEventListener('abort', cancel);
    stream.cancel();
  }
}

/**
 * What a watcher is told of an event, naming the call (a client may wait on several): "call <id>:
 * in progress 0:42 (52%)", and each transcript turn as it is spoken.
 */
export function progressMessages(callId: string, event: callV1.WatchCallEvent__Output): string[] {
  const messages: string[] = [];
  if (event.progress) messages.push(`call ${callId}: ${event.progress.stage} (${event.progress.percent}%)`);
  if (event.turn) messages.push(`call ${callId}: ${event.turn.speaker}: ${event.turn.text}`);
  return messages;
}

/**
 * A heartbeat: the call's progress now, its stage carrying the time ("in progress 0:42" from the call
 * service; "ringing 0:31" since the call was made otherwise). When the call service cannot say, the
 * time since the wait began, so the client still hears that the wait goes on.
 */
async function heartbeatEvent(
  options: { backends: Backends; userId: string; callId: string; signal: AbortSignal },
  started: number,
  last: callV1.CallProgress__Output | null,
): Promise<callV1.WatchCallEvent__Output> {
  const base = { callId: options.callId, event: null, turn: null, terminal: false };
  try {
    const { progress } = await options.backends.call.getCallProgress(
      { userId: options.userId, callId: options.callId },
      { signal: options.signal },
    );
    if (progress) {
      const stage = /\d:\d\d/.test(progress.stage)
        ? progress.stage
        : `${progress.stage} ${clock(progress.elapsedSeconds)}`;
      // Terminal only when the stream says so: the stream's last event carries the outcome.
      return { ...base, progress: { ...progress, stage, terminal: false } };
    }
  } catch {
    // Reported below from what the gateway knows.
  }
  const waited = Math.round((Date.now() - started) / 1000);
  return {
    ...base,
    progress: {
      callId: options.callId,
      status: last?.status ?? 'CALL_STATUS_UNSPECIFIED',
      stage: `${last?.stage.replace(/ \d+:\d\d$/, '') ?? 'waiting'} ${clock(waited)}`,
      percent: last?.percent ?? 0,
      elapsedSeconds: waited,
      lastEvent: null,
      terminal: false,
    },
  };
}
