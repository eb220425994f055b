/**
 * waitForCall while a call is quiet (hold music, a phone menu): after `heartbeatMs` without an event it
 * reports the call's progress as it is now, so a client's 60 s request timeout (reset on progress)
 * never fires during a long call; the heartbeat names the call and the time. The interval is
 * injected: the tests wait on the heartbeats themselves, never on 15 s of wall clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { callV1 } from '@callgate/protos';
import { within } from '../../../../test/support/within.js';
import type { Backends } from '../backends.js';
import { progressMessages, waitForCall } from './watch-call.js';

const CALL_ID = '5d05f9ed-a65f-5d13-82cd-0495c9c73d96';

/** A WatchCall stream the test pushes events into. */
function fakeStream() {
  const queue: callV1.WatchCallEvent__Output[] = [];
  let wake: (() => void) | undefined;
  let cancelled = false;
  return {
    push(event: Partial<callV1.WatchCallEvent__Output>) {
      queue.push({ callId: CALL_ID, event: null, progress: null, turn: null, terminal: false, ...event });
      wake?.();
    },
    get cancelled() {
      return cancelled;
    },
    cancel() {
      cancelled = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      while (!cancelled) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

const progress = (status: string, stage: string, percent: number, elapsedSeconds = 50) =>
  ({
    callId: CALL_ID,
    status,
    stage,
    percent,
    elapsedSeconds,
    lastEvent: null,
    terminal: false,
  }) as callV1.CallProgress__Output;

function backendsWith(stream: ReturnType<typeof fakeStream>, now: () => Promise<callV1.CallProgress__Output>) {
  return {
    call: {
      raw: { watchCall: () => stream },
      getCallProgress: async () => ({ progress: await now() }),
    },
  } as unknown as Backends;
}

/** Runs a wait, collecting what a client would be told, resolving `heard(n)` once n messages arrived. */
function watch(backends: Backends, heartbeatMs: number, settlement?: { graceMs: number }) {
  const messages: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const done = waitForCall({
    backends,
    userId: 'u1',
    callId: CALL_ID,
    until: 'completed',
    timeoutMs: 600_000,
    signal: new AbortController().signal,
    heartbeatMs,
    ...(settlement && { settlement }),
    onEvent: async (event) => {
      messages.push(...progressMessages(CALL_ID, event));
      for (const w of waiters) if (messages.length >= w.n) w.resolve();
    },
  });
  const heard = (n: number) =>
    messages.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }));
  return { messages, done, heard };
}

describe('waitForCall heartbeats', () => {
  it('a call talking without events gets heartbeats naming the call and its talk time, until it ends', async () => {
    const stream = fakeStream();
    let talk = 42;
    const backends = backendsWith(stream, async () =>
      progress('CALL_STATUS_IN_PROGRESS', `in progress 0:${talk++}`, 52),
    );
    const { messages, done, heard } = watch(backends, 5);
    stream.push({ progress: progress('CALL_STATUS_IN_PROGRESS', 'in progress 0:00', 40) });
    await within(heard(3), 'two heartbeats after the answer');
    assert.equal(messages[0], `call ${CALL_ID}: in progress 0:00 (40%)`);
    assert.equal(messages[1], `call ${CALL_ID}: in progress 0:42 (52%)`);
    assert.equal(messages[2], `call ${CALL_ID}: in progress 0:43 (52%)`);
    stream.push({ progress: { ...progress('CALL_STATUS_COMPLETED', 'ended: completed', 100), terminal: true } });
    stream.push({ terminal: true });
    await within(done, 'the end of the wait');
    assert.ok(stream.cancelled, 'the stream is let go');
    const told = messages.length;
    // Heartbeats stop with the wait: several intervals later nothing more was said.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(messages.length, told, JSON.stringify(messages.slice(told)));
    assert.match(messages.at(-1) ?? '', /ended: completed \(100%\)$/);
  });

  it('a stage without a time (ringing) gets the time since the call was made', async () => {
    const stream = fakeStream();
    const backends = backendsWith(stream, async () => progress('CALL_STATUS_RINGING', 'ringing', 30, 31));
    const { messages, done, heard } = watch(backends, 5);
    await within(heard(1), 'a heartbeat while ringing');
    assert.equal(messages[0], `call ${CALL_ID}: ringing 0:31 (30%)`);
    stream.push({ terminal: true });
    await within(done, 'the end of the wait');
  });

  it('when the call service cannot say, the heartbeat still goes out with the time waited', async () => {
    const stream = fakeStream();
    const backends = backendsWith(stream, async () => {
      throw new Error('UNAVAILABLE');
    });
    const { messages, done, heard } = watch(backends, 5);
    stream.push({ progress: progress('CALL_STATUS_IN_PROGRESS', 'in progress 0:00', 40) });
    await within(heard(2), 'a heartbeat without the call service');
    assert.match(messages[1] ?? '', new RegExp(`^call ${CALL_ID}: in progress \\d+:\\d\\d \\(40%\\)$`));
    stream.push({ terminal: true });
    await within(done, 'the end of the wait');
  });
});

describe('waitForCall until the settlement', () => {
  const statusEvent = (status: callV1.CallStatus__Output, sequence: number, kind = 'CALL_EVENT_KIND_STATUS') =>
    ({
      sequence,
      status,
      occurredAt: '2026-01-01T00:00:00Z',
      source: 'callback',
      detail: '',
      kind,
      costCredits: kind === 'CALL_EVENT_KIND_SETTLEMENT' ? 10 : 0,
    }) as callV1.CallEvent__Output;

  it('asks the stream for the settlement and waits past the end for it, on events alone', async () => {
    const stream = fakeStream();
    const asked: callV1.WatchCallRequest[] = [];
    const backends = {
      call: {
        raw: {
          watchCall: (request: callV1.WatchCallRequest) => {
            asked.push(request);
            return stream;
          },
        },
        getCallProgress: async () => ({ progress: null }),
      },
    } as unknown as Backends;
    const { messages, done, heard } = watch(backends, 600_000, { graceMs: 600_000 });
    assert.equal(asked[0]?.untilSettled, true, 'WatchCall asked to go on to the settlement');
    stream.push({ event: statusEvent('CALL_STATUS_COMPLETED', 5) });
    // Something after the end still reaches the client: the wait did not stop at the end.
    stream.push({ progress: progress('CALL_STATUS_COMPLETED', 'completed', 100) });
    await within(heard(1), 'what followed the end');
    assert.equal(stream.cancelled, false, 'still waiting for the settlement');
    stream.push({ event: statusEvent('CALL_STATUS_COMPLETED', 6, 'CALL_EVENT_KIND_SETTLEMENT'), terminal: true });
    await within(done, 'the end of the wait at the settlement');
    assert.deepEqual(
      messages,
      [`call ${CALL_ID}: completed (100%)`],
      'the settlement itself is not told (the end was)',
    );
  });
});
