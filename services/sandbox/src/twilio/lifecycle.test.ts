import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '@callgate/common';
import { CallLifecycle, type CallRecord, type CallRequest, type Progress } from './lifecycle.js';
import { SANDBOX_NUMBERS } from './outcomes.js';

const STEP = 1000;
const TALK = 5000;

function setup(stepMs = STEP) {
  const clock = new ManualClock(1_700_000_000_000);
  const progress: (Progress & { status: string })[] = [];
  const lifecycle = new CallLifecycle({
    stepMs,
    talkMs: TALK,
    clock,
    onProgress: (call, p) => progress.push({ ...p, status: call.status }),
  });
  const place = (to: string, extra: Partial<CallRequest> = {}) =>
    lifecycle.place({
      accountSid: 'AC00000000000000000000000000000000',
      to,
      from: '+15005550006',
      timeoutSeconds: 60,
      timeLimitSeconds: 14_400,
      ...extra,
    });
  const steps = () => progress.map((p) => `${p.event}:${p.callStatus}`);
  return { clock, lifecycle, place, progress, steps };
}

describe('CallLifecycle', () => {
  it('plays an answered call: queued, initiated, ringing, in-progress, completed after the talk time', () => {
    const { clock, place, progress, steps } = setup();
    const call: Readonly<CallRecord> = place(SANDBOX_NUMBERS.answers);
    assert.equal(call.status, 'queued');
    assert.match(call.sid, /^CA[0-9a-f]{32}$/);
    const created = clock.now();
    clock.advance(STEP);
    assert.equal(call.status, 'queued', 'the resource has no initiated status; only the callback does');
    assert.equal(call.startTime, created + STEP);
    clock.advance(STEP);
    assert.equal(call.status, 'ringing');
    clock.advance(STEP);
    assert.equal(call.status, 'in-progress');
    assert.equal(call.answeredBy, undefined, 'AnsweredBy only with machine detection');
    clock.advance(TALK - 1);
    assert.equal(call.status, 'in-progress');
    clock.advance(1);
    assert.deepEqual(steps(), [
      'initiated:initiated',
      'ringing:ringing',
      'answered:in-progress',
      'completed:completed',
    ]);
    assert.equal(call.status, 'completed');
    assert.equal(call.durationSeconds, 5);
    assert.equal(call.price, '-0.01300');
    assert.equal(call.endTime, created + 3 * STEP + TALK);
    assert.equal(progress.at(-1)?.at, call.endTime);
    assert.equal(clock.pending, 0);
  });

  for (const [to, status, stepsToEnd] of [
    [SANDBOX_NUMBERS.busy, 'busy', 3],
    [SANDBOX_NUMBERS.noAnswer, 'no-answer', 3],
    [SANDBOX_NUMBERS.fails, 'failed', 2],
  ] as const) {
    it(`ends a call to …${to.slice(-4)} as ${status}, with no duration, end time or price`, () => {
      const { clock, place, steps } = setup();
      const call = place(to);
      clock.advance(stepsToEnd * STEP);
      assert.equal(call.status, status);
      assert.equal(steps().at(-1), `completed:${status}`);
      assert.ok(!steps().includes('answered:in-progress'));
      assert.equal(call.durationSeconds, undefined);
      assert.equal(call.endTime, undefined);
      assert.equal(call.price, undefined);
      assert.equal(clock.pending, 0);
    });
  }

  it('reports an answering machine only when machine detection was asked for', () => {
    const { clock, place } = setup();
    const detected = place(SANDBOX_NUMBERS.machine, { machineDetection: 'Enable' });
    const person = place(SANDBOX_NUMBERS.answers, { machineDetection: 'DetectMessageEnd' });
    const undetected = place(SANDBOX_NUMBERS.machine);
    clock.advance(3 * STEP);
    assert.equal(detected.answeredBy, 'machine_start');
    assert.equal(person.answeredBy, 'human');
    assert.equal(undetected.answeredBy, undefined);
    assert.equal(undetected.status, 'in-progress');
  });

  it('ends an answered call at its TimeLimit, and rounds the duration up', () => {
    const { clock, place } = setup();
    const call = place(SANDBOX_NUMBERS.answers, { timeLimitSeconds: 2 });
    clock.advance(3 * STEP + 1999);
    assert.equal(call.status, 'in-progress');
    clock.advance(1);
    assert.equal(call.status, 'completed');
    assert.equal(call.durationSeconds, 2);
  });

  it('gives up ringing after Timeout when that is shorter than a step', () => {
    const { clock, place, steps } = setup(2000);
    const call = place(SANDBOX_NUMBERS.answers, { timeoutSeconds: 1 });
    clock.advance(2 * 2000 + 1000);
    assert.equal(call.status, 'no-answer');
    assert.deepEqual(steps(), ['initiated:initiated', 'ringing:ringing', 'completed:no-answer']);
  });

  it('cancels a ringing call; the canceled status is the final callback', () => {
    const { clock, lifecycle, place, steps } = setup();
    const call = place(SANDBOX_NUMBERS.answers);
    clock.advance(2 * STEP);
    assert.equal(lifecycle.cancel(call.sid)?.status, 'canceled');
    assert.deepEqual(steps(), ['initiated:initiated', 'ringing:ringing', 'completed:canceled']);
    assert.equal(clock.pending, 0, 'no stage runs after a cancel');
  });

  it('Status=canceled leaves an answered call alone; Status=completed hangs it up', () => {
    const { clock, lifecycle, place, steps } = setup();
    const call = place(SANDBOX_NUMBERS.answers);
    clock.advance(3 * STEP + 1500);
    assert.equal(lifecycle.cancel(call.sid)?.status, 'in-progress');
    assert.equal(lifecycle.hangUp(call.sid)?.status, 'completed');
    assert.equal(call.durationSeconds, 2);
    assert.equal(steps().at(-1), 'completed:completed');
    assert.equal(clock.pending, 0);
  });

  it('Status=completed on a call not yet answered cancels it', () => {
    const { lifecycle, place } = setup();
    const call = place(SANDBOX_NUMBERS.answers);
    assert.equal(lifecycle.hangUp(call.sid)?.status, 'canceled');
  });

  it('changes nothing on a call that has ended', () => {
    const { clock, lifecycle, place, progress } = setup();
    const call = place(SANDBOX_NUMBERS.busy);
    clock.advance(3 * STEP);
    const before = progress.length;
    assert.equal(lifecycle.hangUp(call.sid)?.status, 'busy');
    assert.equal(lifecycle.cancel(call.sid)?.status, 'busy');
    assert.equal(progress.length, before);
    assert.equal(lifecycle.get('CA00000000000000000000000000000000'), undefined);
  });

  it('a call to the held number (…0006) rings until the person answers, past Timeout, then talks until hung up', () => {
    const { clock, lifecycle, place, steps } = setup();
    const call = place(SANDBOX_NUMBERS.held, { timeoutSeconds: 1 });
    const early = lifecycle.answerHeld(call.sid);
    assert.deepEqual(early, { refused: `${call.sid} is queued, not ringing` });
    clock.advance(2 * STEP);
    assert.equal(call.status, 'ringing');
    clock.advance(3_600_000);
    assert.equal(call.status, 'ringing', 'no timer moves it: neither Timeout nor the step time');
    assert.equal(clock.pending, 0);
    assert.ok('call' in lifecycle.answerHeld(call.sid));
    assert.equal(call.status, 'in-progress');
    clock.advance(TALK * 10);
    assert.equal(call.status, 'in-progress', 'SANDBOX_TALK_MS does not end it');
    assert.ok('call' in lifecycle.hangUpHeld(call.sid));
    assert.equal(call.status, 'completed');
    assert.equal(call.durationSeconds, 50);
    assert.deepEqual(steps(), [
      'initiated:initiated',
      'ringing:ringing',
      'answered:in-progress',
      'completed:completed',
    ]);
    assert.deepEqual(lifecycle.hangUpHeld(call.sid), {
      refused: `${call.sid} is completed, neither ringing nor in progress`,
    });
    assert.equal(clock.pending, 0);
  });

  it('a held call is canceled while ringing, or declined (busy) when the person hangs up; other calls refuse', () => {
    const { clock, lifecycle, place } = setup();
    const canceled = place(SANDBOX_NUMBERS.held);
    const declined = place(SANDBOX_NUMBERS.held);
    const timed = place(SANDBOX_NUMBERS.answers);
    clock.advance(2 * STEP);
    assert.equal(lifecycle.cancel(canceled.sid)?.status, 'canceled');
    assert.ok('call' in lifecycle.hangUpHeld(declined.sid));
    assert.equal(declined.status, 'busy');
    assert.match((lifecycle.answerHeld(timed.sid) as { refused: string }).refused, /not a call to a held number/);
    assert.equal(timed.status, 'ringing');
    assert.deepEqual(lifecycle.answerHeld('CA0'), { refused: 'no call CA0' });
  });

  it('a held call answered is hung up by Status=completed, or ends at its TimeLimit', () => {
    const { clock, lifecycle, place } = setup();
    const hungUp = place(SANDBOX_NUMBERS.held);
    const limited = place(SANDBOX_NUMBERS.held, { timeLimitSeconds: 30 });
    clock.advance(2 * STEP);
    lifecycle.answerHeld(hungUp.sid);
    lifecycle.answerHeld(limited.sid);
    clock.advance(2500);
    assert.equal(lifecycle.hangUp(hungUp.sid)?.status, 'completed');
    assert.equal(hungUp.durationSeconds, 3);
    clock.advance(30_000);
    assert.equal(limited.status, 'completed');
    assert.equal(limited.durationSeconds, 30);
  });

  it('stop() clears every timer, so no call moves afterwards', () => {
    const { clock, lifecycle, place, progress } = setup();
    place(SANDBOX_NUMBERS.answers);
    place(SANDBOX_NUMBERS.busy);
    clock.advance(STEP);
    const before = progress.length;
    lifecycle.stop();
    assert.equal(clock.pending, 0);
    clock.advance(60_000);
    assert.equal(progress.length, before);
    assert.throws(() => place(SANDBOX_NUMBERS.answers), /stopped/);
  });
});
