/**
 * Calls that can no longer end by themselves (issue 17, item 9): the carrier does not know them (it
 * lost them, as the sandbox does on a restart), or they are past their maximum duration while the carrier
 * still reports them live. A refresh (the poller's RefreshStatus) ends them as failed with the reason and
 * releases their hold, once, whatever callback races it. The sandbox stands still (a call stays queued for
 * 10 minutes); time past the limit is the call's own timestamps moved back, not a wait.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '@callgate/common';
import { checkLedger } from '@callgate/user-credit';
import {
  balanceOf,
  type Call,
  type CallInstance,
  type CallRig,
  carrierCall,
  entryKindsOf,
  newUser,
  placeRequest,
  postStatusCallback,
  rejection,
  SIGNUP_CREDITS,
  settledCall,
  startCallRig,
  statusParams,
} from '../../../test/support/calls.js';
import { OVERDUE_MARGIN_SECONDS, RING_TIMEOUT_SECONDS } from './call-limits.js';
import { CallStore } from './call-store.js';

const HOLD = 50;

let rig: CallRig;
let instance: CallInstance;
let sandboxTwilio: string;
before(async () => {
  rig = await startCallRig({ SANDBOX_CALL_STEP_MS: '600000' });
  instance = await rig.startCall({ DIAL_GRACE_MS: '3600000', RECOVERY_INTERVAL_MS: '3600000' });
  sandboxTwilio = rig.callEnv.TWILIO_API_BASE_URL as string;
});
after(async () => {
  await instance.stop();
  await rig.stop();
});

async function placedCall(userId?: string): Promise<{ userId: string; call: Call }> {
  const user = userId ?? (await newUser(rig.credit));
  const { call } = await instance.client.placeCall(placeRequest(user));
  assert.ok(call);
  assert.equal(call.status, 'CALL_STATUS_QUEUED');
  return { userId: user, call };
}

/** The carrier loses the call (as a restarted sandbox does): the call now names a sid it never issued. */
async function forgottenByCarrier(call: Call): Promise<Call> {
  const sid = `CA${randomUUID().replaceAll('-', '')}`;
  await rig.db.query('UPDATE calls.calls SET carrier_call_id = $2 WHERE call_id = $1', [call.callId, sid]);
  return { ...call, carrierCallId: sid };
}

/** Moves the call's clock back: dialled (and recorded) `seconds` ago, nothing heard since. */
async function dialledAgo(callId: string, seconds: number): Promise<void> {
  await rig.db.query(
    `UPDATE calls.calls SET created_at = now() - make_interval(secs => $2), dial_started_at = now() - make_interval(secs => $2),
       updated_at = now() - make_interval(secs => $2) WHERE call_id = $1`,
    [callId, seconds],
  );
}

async function current(userId: string, callId: string): Promise<Call> {
  const { call } = await instance.client.getCall({ userId, callId });
  assert.ok(call);
  return call;
}

describe('a call the carrier does not know', () => {
  it('ends failed with the reason on refresh, and its hold is released once', async () => {
    const { userId, call: placed } = await placedCall();
    const call = await forgottenByCarrier(placed);
    const refreshed = await instance.client.refreshStatus({ callId: call.callId, reason: 'poll' });
    assert.equal(refreshed.terminal, true);
    assert.equal(refreshed.changed, true);
    const ended = await settledCall(instance.client, userId, call.callId);
    assert.equal(ended.status, 'CALL_STATUS_FAILED');
    assert.match(ended.errorMessage, /carrier has no record of call CA[0-9a-f]{32}.*20404/);
    assert.equal(ended.errorCode, '20404');
    assert.equal(ended.costCredits, 0);
    assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
    // Polled again (a duplicate message, the sweep): nothing more happens.
    const again = await instance.client.refreshStatus({ callId: call.callId, reason: 'sweep' });
    assert.deepEqual([again.changed, again.terminal], [false, true]);
    // A late final callback changes nothing either: the call ended once and is not charged after release.
    const late = statusParams(call, 'completed', { CallDuration: '30', SipResponseCode: '200' });
    assert.equal((await postStatusCallback(instance.webhooks, call.callId, late)).status, 200);
    assert.equal((await current(userId, call.callId)).status, 'CALL_STATUS_FAILED');
    assert.deepEqual(await entryKindsOf(rig.credit, userId, call.callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_RELEASE']);
    assert.deepEqual(await checkLedger(rig.db, userId), []);
  });

  it('no longer locks its user out: at the concurrent-call limit, a new call is accepted once they ended', async () => {
    const userId = await newUser(rig.credit);
    const stuck = [];
    for (let i = 0; i < 3; i++) stuck.push((await placedCall(userId)).call);
    const refused = await rejection(instance.client.placeCall(placeRequest(userId)));
    assert.match(refused.details, /3 call\(s\) in progress/);
    for (const call of stuck) {
      await forgottenByCarrier(call);
      await instance.client.refreshStatus({ callId: call.callId, reason: 'sweep' });
    }
    const { call } = await instance.client.placeCall(placeRequest(userId));
    assert.equal(call?.status, 'CALL_STATUS_QUEUED');
    assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS - HOLD, held: HOLD });
  });

  it('settles exactly once when a "completed" callback races the refresh that ends it', async (t) => {
    const raced = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const placed = await placedCall();
        const call = await forgottenByCarrier(placed.call);
        const callback = () =>
          postStatusCallback(
            instance.webhooks,
            call.callId,
            statusParams(call, 'completed', { CallDuration: '30', SipResponseCode: '200' }),
          );
        const refresh = () => instance.client.refreshStatus({ callId: call.callId, reason: 'poll' });
        // Both orders of starting, each racing for the call's row lock.
        const [first, second] = i % 2 ? [callback(), refresh()] : [refresh(), callback()];
        await Promise.all([first, second]);
        return { userId: placed.userId, callId: call.callId };
      }),
    );
    const outcomes = new Set<string>();
    for (const { userId, callId } of raced) {
      const ended = await settledCall(instance.client, userId, callId);
      const terminal = ended.timeline.filter((e) => ['CALL_STATUS_COMPLETED', 'CALL_STATUS_FAILED'].includes(e.status));
      assert.equal(terminal.length, 1, 'one terminal transition');
      const kinds = await entryKindsOf(rig.credit, userId, callId);
      assert.deepEqual(
        kinds,
        ['ENTRY_KIND_RESERVE', ended.status === 'CALL_STATUS_COMPLETED' ? 'ENTRY_KIND_SETTLE' : 'ENTRY_KIND_RELEASE'],
        `${ended.status}: closed once, the way it ended`,
      );
      assert.deepEqual(await balanceOf(rig.credit, userId), {
        available: SIGNUP_CREDITS - Number(ended.costCredits),
        held: 0,
      });
      assert.deepEqual(await checkLedger(rig.db, userId), []);
      outcomes.add(ended.status);
    }
    // Which report wins the row lock depends on timing; each way must close the hold once, as asserted above.
    t.diagnostic(`outcomes seen: ${[...outcomes].join(', ')}`);
  });
});

describe('a completed call recorded without its duration, that the carrier does not know', () => {
  it('is settled on what is recorded (released) instead of waiting forever for the carrier', async () => {
    const { userId, call: placed } = await placedCall();
    const call = await forgottenByCarrier(placed);
    // Ended by an answer that carried no duration (a hang-up's), then the carrier forgot the call.
    await new CallStore(rig.db, systemClock).apply(call.callId, {
      status: 'completed',
      occurredAt: new Date(),
      source: 'api',
    });
    await instance.client.refreshStatus({ callId: call.callId, reason: 'poll' });
    const ended = await settledCall(instance.client, userId, call.callId);
    assert.equal(ended.status, 'CALL_STATUS_COMPLETED');
    assert.deepEqual(await entryKindsOf(rig.credit, userId, call.callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_RELEASE']);
    assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
  });
});

describe('a call past its maximum duration', () => {
  const deadline = (maxSeconds: number) => maxSeconds + RING_TIMEOUT_SECONDS + OVERDUE_MARGIN_SECONDS;

  it('that the carrier still reports live is ended there and here (failed, hold released) on refresh', async () => {
    const { userId, call } = await placedCall();
    await dialledAgo(call.callId, deadline(call.maxDurationSeconds) + 5);
    assert.equal((await carrierCall(sandboxTwilio, call.carrierCallId)).status, 'queued');
    const refreshed = await instance.client.refreshStatus({ callId: call.callId, reason: 'sweep' });
    assert.equal(refreshed.terminal, true);
    const ended = await settledCall(instance.client, userId, call.callId);
    assert.equal(ended.status, 'CALL_STATUS_FAILED');
    assert.match(ended.errorMessage, /^exceeded maximum duration: 300 s allowed.*still reports it queued/);
    assert.equal((await carrierCall(sandboxTwilio, call.carrierCallId)).status, 'canceled', 'ended at the carrier');
    assert.deepEqual(await entryKindsOf(rig.credit, userId, call.callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_RELEASE']);
    assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
  });

  it('is left alone before its deadline', async () => {
    const { userId, call } = await placedCall();
    await dialledAgo(call.callId, deadline(call.maxDurationSeconds) - 30);
    const refreshed = await instance.client.refreshStatus({ callId: call.callId, reason: 'sweep' });
    assert.deepEqual([refreshed.changed, refreshed.terminal], [false, false]);
    assert.equal((await current(userId, call.callId)).status, 'CALL_STATUS_QUEUED');
    assert.equal((await carrierCall(sandboxTwilio, call.carrierCallId)).status, 'queued');
  });
});
