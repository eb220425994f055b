import type { callV1 } from '@callgate/protos';
import type { Backends } from '../backends.js';
import { isAnsweredOrLater } from './call-status.js';

export type WaitUntil = 'answered' | 'completed';

/**
 * Follows a call over the call service's WatchCall stream until it is answered or ends (`until`),
 * reporting each change. The stream is pushed from PostgreSQL NOTIFY, so nothing polls. Aborting the
 * signal (the client cancelled the request or went away) cancels the gRPC stream.
 */
export async function waitForCall(options: {
  backends: Backends;
  userId: string;
  callId: string;
  until: WaitUntil;
  /** The longest the wait may last: the call's time limit plus ringing. */
  timeoutMs: number;
  signal: AbortSignal;
  onEvent: (event: callV1.WatchCallEvent__Output) => Promise<void>;
}): Promise<void> {
  const client = options.backends.call.raw as unknown as callV1.CallServiceClient;
  const stream = client.watchCall(
    { userId: options.userId, callId: options.callId, afterSequence: 0 },
    { deadline: Date.now() + options.timeoutMs },
  );
  const cancel = () => stream.cancel();
  if (options.signal.aborted) {
    stream.cancel();
    return;
  }
  options.signal.addEventListener('abort', cancel, { once: true });
  try {
    for await (const event of stream as AsyncIterable<callV1.WatchCallEvent__Output>) {
      await options.onEvent(event);
      const status = event.progress?.status ?? event.event?.status ?? '';
      if (event.terminal || (options.until === 'answered' && isAnsweredOrLater(status))) return;
    }
  } catch (error) {
    // A cancel we asked for ends the wait quietly; the caller reads the call as it is now.
    if (options.signal.aborted) return;
    throw error;
  } finally {
    options.signal.removeEventListener('abort', cancel);
    stream.cancel();
  }
}
