/**
 * Dialling exactly once, against real services: the sandbox carrier behind a proxy that counts (and
 * can hold) every create request, user-credit, and call-service instances this test starts and stops
 * to play crashes and replicas. The database is the rig's (PostgreSQL at DATABASE_URL, else PGlite),
 * so the test can record an intent the way PlaceCall does and read the rows.
 *
 * A recovery pass takes every unfinished intent in created_at order; an intent recorded later than the
 * one under test (a sentinel) being dialled proves a pass looked at the one under test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callCost, loadCatalog, ManualClock, systemClock } from '@callgate/common';
import { checkLedger } from '@callgate/user-credit';
import { status } from '@grpc/grpc-js';
import {
  balanceOf,
  type CallInstance,
  type CallRig,
  callWhere,
  carrierCall,
  entryKindsOf,
  eventually,
  NUMBERS,
  newUser,
  placeRequest,
  recordCrashedIntent,
  rejection,
  SIGNUP_CREDITS,
  settledCall,
  startCallRig,
} from '../../../test/support/calls.js';
import { within } from '../../../test/support/within.js';
import { type CallRow, CallStore } from './call-store.js';
import { callIdFor } from './place-call.js';

const catalog = loadCatalog();
const HOLD = callCost(catalog.pricing, 10, 300);
/** Instances that never dial an intent on their own: PlaceCall's dial is the only one. */
const NO_RECOVERY = { DIAL_GRACE_MS: '3600000', RECOVERY_INTERVAL_MS: '3600000' };
/** Replicas that look for unfinished intents every 50 ms and dial any older than 1 s. */
const EAGER_RECOVERY = { DIAL_GRACE_MS: '1000', RECOVERY_INTERVAL_MS: '50' };

let rig: CallRig;
before(async () => {
  rig = await startCallRig();
});
after(async () => {
  await rig.stop();
});

/** Starts instances, and stops them when the test ends, failed or not. */
async function withInstances<T>(envs: Record<string, string>[], fn: (i: CallInstance[]) => Promise<T>): Promise<T> {
  const instances: CallInstance[] = [];
  try {
    for (const env of envs) instances.push(await rig.startCall(env));
    return await fn(instances);
  } finally {
    for (const instance of instances) await instance.stop();
  }
}

const recordIntent = (userId: string, options: { agoMs: number; to?: string }) =>
  recordCrashedIntent(rig, userId, options);

async function row(callId: string, on: CallRig = rig): Promise<CallRow> {
  const found = await new CallStore(on.db, systemClock).byId(callId);
  if (!found) throw new Error(`no call ${callId}`);
  return found;
}

async function ledgerConsistent(userId: string): Promise<void> {
  assert.deepEqual(await checkLedger(rig.db, userId), [], 'the balance equals the sum of the ledger');
}

describe('a crash between recording the intent and dialling', () => {
  it('is dialled by recovery exactly once, however many replicas look, and runs to its end', async () => {
    const userId = await newUser(rig.credit);
    await withInstances([EAGER_RECOVERY, EAGER_RECOVERY, EAGER_RECOVERY], async ([replica]) => {
      const client = replica?.client;
      assert.ok(client);
      // The process that recorded it died before dialling; three replicas, each passing every 50 ms,
      // find it older than DIAL_GRACE_MS and race for the dial claim.
      const intent = await recordIntent(userId, { agoMs: 2000 });
      assert.equal(intent.dial_state, 'pending');
      const ended = await settledCall(client, userId, intent.call_id);
      assert.equal(ended.status, 'CALL_STATUS_COMPLETED');
      assert.deepEqual(
        ended.timeline.map((e) => e.status),
        [
          'CALL_STATUS_QUEUED',
          'CALL_STATUS_INITIATED',
          'CALL_STATUS_RINGING',
          'CALL_STATUS_IN_PROGRESS',
          'CALL_STATUS_COMPLETED',
        ],
      );
      assert.equal(ended.costCredits, 10);

      // Later passes of the replicas: a sentinel intent recorded now is dialled by one of them.
      const sentinelUser = await newUser(rig.credit);
      const sentinel = await recordIntent(sentinelUser, { agoMs: 1500, to: NUMBERS.busy });
      await within(rig.carrier.createArrived(sentinel.call_id), 'a later recovery pass', 5000);
      await settledCall(client, sentinelUser, sentinel.call_id);
      assert.equal(rig.carrier.createsFor(sentinel.call_id), 1);

      assert.equal(rig.carrier.createsFor(intent.call_id), 1, 'the carrier was asked to place the call once');
      const after = await row(intent.call_id);
      assert.equal(after.dial_state, 'dialed');
      assert.match(after.carrier_call_id ?? '', /^CA[0-9a-f]{32}$/);
      assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS - 10, held: 0 });
      assert.deepEqual(await entryKindsOf(rig.credit, userId, intent.call_id), [
        'ENTRY_KIND_RESERVE',
        'ENTRY_KIND_SETTLE',
      ]);
      await ledgerConsistent(userId);
    });
  });

  it('a retried PlaceCall after the crash returns the recorded call and lets recovery dial it once', async () => {
    await withInstances([NO_RECOVERY], async ([instance]) => {
      const client = instance?.client;
      assert.ok(client);
      const userId = await newUser(rig.credit);
      const intent = await recordIntent(userId, { agoMs: 2000 });
      const retried = await client.placeCall(placeRequest(userId, { idempotencyKey: intent.idempotency_key }));
      assert.equal(retried.deduplicated, true);
      assert.equal(retried.call?.callId, intent.call_id);
      assert.equal(retried.call?.status, 'CALL_STATUS_QUEUED');
      assert.equal(rig.carrier.createsFor(intent.call_id), 0, 'the retry itself does not dial: the claim is pending');
      await withInstances([EAGER_RECOVERY], async () => {
        await settledCall(client, userId, intent.call_id);
      });
      assert.equal(rig.carrier.createsFor(intent.call_id), 1);
      assert.deepEqual(await entryKindsOf(rig.credit, userId, intent.call_id), [
        'ENTRY_KIND_RESERVE',
        'ENTRY_KIND_SETTLE',
      ]);
    });
  });

  it('a dial whose carrier answer was lost is failed and released after DIAL_UNKNOWN_TIMEOUT_MS, never dialled again', async () => {
    const userId = await newUser(rig.credit);
    const intent = await recordIntent(userId, { agoMs: 5000 });
    // The crashed process had claimed the dial 5 s ago and may have reached the carrier: outcome unknown.
    assert.equal(await new CallStore(rig.db, new ManualClock(Date.now() - 5000)).claimDial(intent.call_id), true);
    await withInstances([{ ...EAGER_RECOVERY, DIAL_UNKNOWN_TIMEOUT_MS: '2000' }], async ([instance]) => {
      const client = instance?.client;
      assert.ok(client);
      const ended = await settledCall(client, userId, intent.call_id);
      assert.equal(ended.status, 'CALL_STATUS_FAILED');
      assert.equal(ended.errorMessage, 'the carrier never confirmed the call and no status callback arrived');
      assert.equal(ended.timeline.at(-1)?.source, 'system');
    });
    assert.equal(rig.carrier.createsFor(intent.call_id), 0, 'never dialled by recovery');
    assert.equal((await row(intent.call_id)).dial_state, 'refused');
    assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
    assert.deepEqual(await entryKindsOf(rig.credit, userId, intent.call_id), [
      'ENTRY_KIND_RESERVE',
      'ENTRY_KIND_RELEASE',
    ]);
    await ledgerConsistent(userId);
  });
});

describe('CancelCall before the carrier is asked', () => {
  it('cancels a recorded intent: canceled before answer, released, and recovery never dials it', async () => {
    const userId = await newUser(rig.credit);
    const intent = await recordIntent(userId, { agoMs: 3000 });
    await withInstances([NO_RECOVERY], async ([instance]) => {
      const client = instance?.client;
      assert.ok(client);
      const queued = await client.getCall({ userId, callId: intent.call_id });
      assert.equal(queued.call?.status, 'CALL_STATUS_QUEUED');
      const { call, outcome } = await client.cancelCall({ userId, callId: intent.call_id, reason: 'not now' });
      assert.equal(outcome, 'CANCEL_OUTCOME_CANCELED_BEFORE_ANSWER');
      assert.equal(call?.status, 'CALL_STATUS_CANCELED');
      const ended = await settledCall(client, userId, intent.call_id);
      assert.deepEqual(
        ended.timeline.map((e) => [e.status, e.detail]),
        [
          ['CALL_STATUS_QUEUED', 'call recorded; dialling'],
          ['CALL_STATUS_CANCELED', 'canceled: not now'],
        ],
      );
      assert.equal(ended.carrierCallId, '');
      assert.equal((await row(intent.call_id)).dial_state, 'canceled');
    });
    // An eager replica's pass dials a later sentinel; the canceled intent, older, was seen and left alone.
    const sentinelUser = await newUser(rig.credit);
    const sentinel = await recordIntent(sentinelUser, { agoMs: 1500, to: NUMBERS.busy });
    await withInstances([EAGER_RECOVERY], async ([instance]) => {
      await within(rig.carrier.createArrived(sentinel.call_id), 'the recovery pass', 5000);
      assert.ok(instance);
      await settledCall(instance.client, sentinelUser, sentinel.call_id);
    });
    assert.equal(rig.carrier.createsFor(intent.call_id), 0, 'the phone never rang');
    assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
    assert.deepEqual(await entryKindsOf(rig.credit, userId, intent.call_id), [
      'ENTRY_KIND_RESERVE',
      'ENTRY_KIND_RELEASE',
    ]);
    await ledgerConsistent(userId);
  });

  it('while the carrier has not answered the create yet: refused as retryable, and the retry cancels the carrier call', async () => {
    // A carrier whose calls stay queued (an hour a stage) until canceled: with the rig's fast sandbox the call
    // was answered some 90 ms after the create, and a busy machine's retry then hung up an answered call.
    const slow = await startCallRig({ SANDBOX_CALL_STEP_MS: '3600000' });
    const instance = await slow.startCall(NO_RECOVERY);
    try {
      const client = instance.client;
      const userId = await newUser(slow.credit);
      const request = placeRequest(userId);
      const callId = callIdFor(userId, request.idempotencyKey);
      const release = slow.carrier.holdCreates();
      let placing: Promise<unknown> | undefined;
      try {
        placing = client.placeCall(request);
        await within(slow.carrier.createArrived(callId), 'the create request at the carrier');
        // Canceling locally now would leave the call the carrier is about to place ringing, unbilled.
        const refused = await rejection(client.cancelCall({ userId, callId, reason: 'stop' }));
        assert.deepEqual(refused, {
          code: status.UNAVAILABLE,
          details: `call ${callId} is being dialled right now; retry the cancel in a moment`,
          meta: {},
        });
      } finally {
        release();
      }
      await placing;
      const sid = (await row(callId, slow)).carrier_call_id;
      assert.ok(sid, 'the carrier did place it');
      assert.equal((await carrierCall(slow.carrier.url, sid)).status, 'queued', 'not answered before the retry');
      const retry = await client.cancelCall({ userId, callId, reason: 'stop' });
      assert.equal(retry.outcome, 'CANCEL_OUTCOME_CANCELED_BEFORE_ANSWER');
      const ended = await settledCall(client, userId, callId);
      assert.equal(ended.status, 'CALL_STATUS_CANCELED');
      assert.equal(ended.costCredits, 0, 'the user pays nothing for a canceled call');
      // It must not ring on into an answered call nobody pays for.
      const carrier = await eventually('the carrier call to end', async () => {
        const c = await carrierCall(slow.carrier.url, sid);
        return ['queued', 'ringing', 'in-progress'].includes(c.status) ? undefined : c;
      });
      assert.equal(carrier.status, 'canceled', 'the carrier call was canceled, not answered and talked through');
      assert.equal(slow.carrier.createsFor(callId), 1);
    } finally {
      await instance.stop();
      await slow.stop();
    }
  });
});

describe('PlaceCall with one key', () => {
  it('ten at once across two replicas: one carrier create, one reserve', async () => {
    await withInstances([NO_RECOVERY, NO_RECOVERY], async ([a, b]) => {
      assert.ok(a && b);
      const userId = await newUser(rig.credit);
      const request = placeRequest(userId, { to: NUMBERS.busy });
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).client.placeCall(request)),
      );
      const callId = callIdFor(userId, request.idempotencyKey);
      assert.deepEqual([...new Set(results.map((r) => r.call?.callId))], [callId]);
      assert.equal(results.filter((r) => !r.deduplicated).length, 1);
      // Each PlaceCall dials (or not) before it answers: every create that will ever happen has happened.
      assert.equal(rig.carrier.createsFor(callId), 1);
      const ended = await settledCall(a.client, userId, callId);
      assert.equal(ended.status, 'CALL_STATUS_BUSY');
      assert.deepEqual(await entryKindsOf(rig.credit, userId, callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_RELEASE']);
      assert.deepEqual((await a.client.listCalls({ userId })).calls.length, 1);
      await ledgerConsistent(userId);
    });
  });

  it('GetCall during dialling shows the call queued with its hold', async () => {
    await withInstances([NO_RECOVERY], async ([instance]) => {
      const client = instance?.client;
      assert.ok(client);
      const userId = await newUser(rig.credit);
      const request = placeRequest(userId);
      const callId = callIdFor(userId, request.idempotencyKey);
      const release = rig.carrier.holdCreates();
      let placing: Promise<unknown> | undefined;
      try {
        placing = client.placeCall(request);
        await within(rig.carrier.createArrived(callId), 'the create request at the carrier');
        const { call } = await client.getCall({ userId, callId });
        assert.equal(call?.status, 'CALL_STATUS_QUEUED');
        assert.equal(call?.reservedCredits, HOLD);
        assert.equal(call?.carrierCallId, '');
        assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS - HOLD, held: HOLD });
      } finally {
        release();
      }
      await placing;
      await callWhere(client, userId, callId, 'completed', (c) => c.status === 'CALL_STATUS_COMPLETED');
      await settledCall(client, userId, callId);
    });
  });
});
