/**
 * The stale-call sweep ends calls that can no longer end by themselves (issue 17, item 9), as after a crash
 * and a restart: one the carrier does not know any more, and ones long past their maximum duration that the
 * carrier still reports queued. Their user, at the concurrent-call limit because of them, can call again.
 *
 * The real poller (SQS consumer and sweeper) runs in this process beside the call rig, with a clock of its
 * own set in a distant year: its sweep lists only calls last updated before that year, i.e. the calls
 * this test moved there, never those of other tests or runs sharing the database.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Clock, loadConfig, type ServiceHandle, systemClock } from '@callgate/common';
import { checkLedger } from '@callgate/user-credit';
import {
  balanceOf,
  type Call,
  type CallInstance,
  type CallRig,
  entryKindsOf,
  newUser,
  placeRequest,
  rejection,
  SIGNUP_CREDITS,
  settledCall,
  startCallRig,
} from '../../../test/support/calls.js';
import { pollerConfigShape } from './config.js';
import { startPollerService } from './service.js';

const run = randomUUID().slice(0, 8);
// After the years stale-calls.test.ts dates its rows in (1200–1899), so that test's listing never includes
// this test's calls, even ones a failed run left behind; its rows, if any, this sweep merely ends.
const year = 1900 + Math.floor(Math.random() * 100);
const pollerEpoch = Date.UTC(year, 5, 1);
const realStart = performance.now();
/** The poller's clock: the distant year, moving as time passes here (leases and intervals work as usual). */
const pollerClock: Clock = {
  now: () => pollerEpoch + (performance.now() - realStart),
  date: () => new Date(pollerClock.now()),
  after: systemClock.after,
};

let rig: CallRig;
let instance: CallInstance;
before(async () => {
  rig = await startCallRig({ SANDBOX_CALL_STEP_MS: '600000' });
  instance = await rig.startCall({ DIAL_GRACE_MS: '3600000', RECOVERY_INTERVAL_MS: '3600000' });
});
after(async () => {
  await instance.stop();
  await rig.stop();
});

async function startPoller(): Promise<ServiceHandle> {
  const config = loadConfig('poller', pollerConfigShape, {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    CALL_SERVICE_ADDR: `127.0.0.1:${instance.handle.grpcPort}`,
    SQS_ENDPOINT: rig.callEnv.SQS_ENDPOINT as string,
    SQS_QUEUE_NAME: `stuck-${run}`,
    SQS_DLQ_NAME: `stuck-${run}-dlq`,
    POLL_WAIT_SECONDS: '1',
    POLL_RETRY_MIN_SECONDS: '1',
    POLL_RETRY_MAX_SECONDS: '2',
    SWEEP_ENABLED: 'true',
    SWEEP_NAME: `stuck-${run}`,
    SWEEP_INTERVAL_MS: '500',
    SWEEP_STALE_AFTER_MS: '1000',
    SWEEP_LEASE_MS: '3000',
  });
  return startPollerService(config, { db: rig.db, ownsDb: false, clock: pollerClock });
}

/** Dates the call's timestamps into the poller's year: dialled and last heard of then. */
async function inPollerYear(callId: string, columns: string[]): Promise<void> {
  const sets = columns.map((c) => `${c} = $2`).join(', ');
  await rig.db.query(`UPDATE calls.calls SET ${sets} WHERE call_id = $1`, [callId, new Date(pollerEpoch - 3_600_000)]);
}

describe('poller: the stale-call sweep ends stuck calls', () => {
  it('a call the carrier forgot and calls past their maximum duration end failed, holds released; the user calls again', async () => {
    const userId = await newUser(rig.credit, 'stuck');
    const calls: Call[] = [];
    for (let i = 0; i < 3; i++) {
      const { call } = await instance.client.placeCall(placeRequest(userId));
      assert.ok(call);
      calls.push(call);
    }
    const [forgotten, overdue, overdueToo] = calls as [Call, Call, Call];
    // The carrier lost this one (a restarted carrier sandbox); nothing heard of it for an hour of the poller's time.
    await rig.db.query('UPDATE calls.calls SET carrier_call_id = $2 WHERE call_id = $1', [
      forgotten.callId,
      `CA${randomUUID().replaceAll('-', '')}`,
    ]);
    await inPollerYear(forgotten.callId, ['updated_at']);
    // These were dialled centuries ago by the call service's clock, and the carrier still says queued.
    for (const c of [overdue, overdueToo])
      await inPollerYear(c.callId, ['created_at', 'dial_started_at', 'updated_at']);
    const refused = await rejection(instance.client.placeCall(placeRequest(userId)));
    assert.match(refused.details, /3 call\(s\) in progress/);

    const poller = await startPoller();
    try {
      const ended = [];
      for (const c of calls) ended.push(await settledCall(instance.client, userId, c.callId, 60_000));
      assert.deepEqual(
        ended.map((c) => c.status),
        ['CALL_STATUS_FAILED', 'CALL_STATUS_FAILED', 'CALL_STATUS_FAILED'],
      );
      assert.match(ended[0]?.errorMessage ?? '', /carrier has no record of call/);
      assert.match(ended[1]?.errorMessage ?? '', /^exceeded maximum duration/);
      assert.match(ended[2]?.errorMessage ?? '', /^exceeded maximum duration/);
      for (const c of ended) {
        assert.equal(c.timeline.at(-1)?.source, 'poll');
        assert.deepEqual(await entryKindsOf(rig.credit, userId, c.callId), [
          'ENTRY_KIND_RESERVE',
          'ENTRY_KIND_RELEASE',
        ]);
      }
      assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
      const { call } = await instance.client.placeCall(placeRequest(userId));
      assert.equal(call?.status, 'CALL_STATUS_QUEUED', 'no longer locked out');
      assert.deepEqual(await checkLedger(rig.db, userId), []);
    } finally {
      await poller.stop();
    }
  });
});
