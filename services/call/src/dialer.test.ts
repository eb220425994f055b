/**
 * The safety-net status poll of a dial is on the queue before the carrier is asked. A call-service crash
 * anywhere after that (the carrier's answer not yet recorded, or recorded but not yet reported) loses
 * the status callbacks sent meanwhile (Twilio does not resend them), and the poll is then the only thing
 * that finds the call's end before the stale-call sweep (SWEEP_STALE_AFTER_MS, minutes). Found by
 * `npm run chaos`: a call the call service was SIGKILLed under, between recording the carrier's sid and
 * enqueuing its poll, stayed ringing for ~170 s until the sweep found it.
 *
 * A crash is played by a step that never finishes: the dial stops there, as the process would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, loadCatalog, systemClock } from '@callgate/common';
import type { CallRow, CallStore } from './call-store.js';
import type { Carrier, CarrierCall } from './carrier.js';
import { Dialer } from './dialer.js';
import type { CallLifecycle } from './lifecycle.js';
import type { PollQueue } from './poll-queue.js';

const never = new Promise<never>(() => {});

const call = {
  call_id: '0b0c2f9e-4c1a-5d2e-9f00-000000000001',
  to_number: '+14155550001',
  from_number: '+15005550006',
  max_duration_seconds: 30,
  machine_detection: false,
  record: false,
  status: 'queued',
} as unknown as CallRow;

/** A dialer whose steps are recorded in order; `stall` names the step the process dies in. */
function rig(stall: 'create' | 'markDialed' | 'report' | 'none') {
  const steps: string[] = [];
  let reached: (step: string) => void = () => {};
  const stalled = new Promise<string>((resolve) => {
    reached = resolve;
  });
  const step = <T>(name: string, value: T): Promise<T> => {
    steps.push(name);
    if (name === stall) {
      reached(name);
      return never;
    }
    return Promise.resolve(value);
  };
  const placed: CarrierCall = { sid: 'CA0001', status: 'queued' } as CarrierCall;
  const dialer = new Dialer({
    store: {
      markDialed: () => step('markDialed', undefined),
      byId: async () => call,
    } as unknown as CallStore,
    carrier: { create: () => step('create', placed) } as unknown as Carrier,
    lifecycle: {
      report: () => step('report', { call, changed: true, ended: false }),
      reportIf: async () => undefined,
    } as unknown as CallLifecycle,
    polls: {
      enqueue: async (callId: string) => {
        steps.push(`poll ${callId}`);
      },
    } as unknown as PollQueue,
    catalog: loadCatalog(),
    log: createLogger('test', 'silent'),
    clock: systemClock,
    publicBaseUrl: 'http://127.0.0.1:1',
    pollFirstDelaySeconds: 60,
  });
  return { dialer, steps, stalled };
}

describe('Dialer: the status poll survives a crash after the carrier is asked', () => {
  for (const stall of ['create', 'markDialed', 'report'] as const) {
    it(`a crash in ${stall} leaves the call's poll on the queue`, async () => {
      const { dialer, steps, stalled } = rig(stall);
      void dialer.dial(call);
      assert.equal(await stalled, stall);
      assert.ok(steps.includes(`poll ${call.call_id}`), `no poll enqueued before the crash: ${steps.join(', ')}`);
      assert.ok(steps.indexOf(`poll ${call.call_id}`) < steps.indexOf('create'), 'the poll comes before the create');
    });
  }

  it('a dial that runs to its end enqueues one poll', async () => {
    const { dialer, steps } = rig('none');
    const result = await dialer.dial(call);
    assert.equal(result.dialed, true);
    assert.deepEqual(
      steps.filter((s) => s.startsWith('poll ')),
      [`poll ${call.call_id}`],
    );
  });
});
