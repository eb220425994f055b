/**
 * CancelCall while a call rings and while it is in progress, through gRPC in the local system. The calls
 * go to the sandbox's held number, which rings until the test answers it (heldPerson) and then talks
 * until hung up: each test waits for the stage it acts in, and no stage ends on its own while the
 * machine is slow. Also: the concurrent-call limit and a retry with the same key.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { callCost, loadCatalog } from '@callgate/common';
import { checkLedger } from '@callgate/user-credit';
import { status } from '@grpc/grpc-js';
import {
  balanceOf,
  type CallSystem,
  callWhere,
  carrierCall,
  entryKindsOf,
  FAST,
  heldPerson,
  NUMBERS,
  newUser,
  placeRequest,
  rejection,
  SIGNUP_CREDITS,
  settledCall,
  startCallSystem,
} from '../support/calls.js';

const catalog = loadCatalog();

let s: CallSystem;
before(async () => {
  s = await startCallSystem({ ...FAST });
});
after(async () => {
  await s.stop();
});

async function ledgerConsistent(userId: string): Promise<void> {
  if (s.db) assert.deepEqual(await checkLedger(s.db, userId), [], 'the balance equals the sum of the ledger');
}

describe('CancelCall', () => {
  it('while ringing: canceled before answer, the carrier call is canceled, the hold released', async () => {
    const userId = await newUser(s.credit);
    const { call: placed } = await s.call.placeCall(placeRequest(userId, { to: NUMBERS.held }));
    const callId = placed?.callId ?? '';
    await callWhere(s.call, userId, callId, 'ringing', (c) => c.status === 'CALL_STATUS_RINGING');
    const { call, outcome } = await s.call.cancelCall({ userId, callId, reason: 'changed my mind' });
    assert.equal(outcome, 'CANCEL_OUTCOME_CANCELED_BEFORE_ANSWER');
    assert.equal(call?.status, 'CALL_STATUS_CANCELED');
    // The carrier's own "canceled" callback may be applied before CancelCall applies the carrier's answer.
    assert.equal(call?.timeline.at(-1)?.status, 'CALL_STATUS_CANCELED');

    const ended = await settledCall(s.call, userId, callId);
    assert.deepEqual(
      ended.timeline.map((e) => e.status),
      ['CALL_STATUS_QUEUED', 'CALL_STATUS_INITIATED', 'CALL_STATUS_RINGING', 'CALL_STATUS_CANCELED'],
    );
    assert.equal(ended.costCredits, 0);
    assert.equal(ended.answeredAt, '');
    assert.equal((await carrierCall(s.twilio, ended.carrierCallId)).status, 'canceled', 'the phone stopped ringing');
    assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
    assert.deepEqual(await entryKindsOf(s.credit, userId, callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_RELEASE']);
    await ledgerConsistent(userId);

    const again = await rejection(s.call.cancelCall({ userId, callId }));
    assert.equal(again.code, status.FAILED_PRECONDITION, 'a second cancel finds it ended');
    assert.match(again.details, /already ended \(canceled at /);
  });

  it('while in progress: hung up, completed, charged for the time talked', async () => {
    const userId = await newUser(s.credit);
    const { call: placed } = await s.call.placeCall(placeRequest(userId, { to: NUMBERS.held }));
    const callId = placed?.callId ?? '';
    const ringing = await callWhere(s.call, userId, callId, 'ringing', (c) => c.status === 'CALL_STATUS_RINGING');
    await heldPerson(s.twilio, { sid: ringing.carrierCallId }, 'answer');
    await callWhere(s.call, userId, callId, 'in progress', (c) => c.status === 'CALL_STATUS_IN_PROGRESS');
    const { call, outcome } = await s.call.cancelCall({ userId, callId, reason: 'got the answer' });
    assert.equal(outcome, 'CANCEL_OUTCOME_HUNG_UP');
    assert.equal(call?.status, 'CALL_STATUS_COMPLETED');

    const ended = await settledCall(s.call, userId, callId);
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
    assert.ok(ended.durationSeconds >= 1, `talked a started second at least (${ended.durationSeconds} s)`);
    const cost = callCost(catalog.pricing, 10, ended.durationSeconds);
    assert.equal(ended.costCredits, cost);
    const carrier = await carrierCall(s.twilio, ended.carrierCallId);
    assert.equal(carrier.status, 'completed');
    assert.equal(Number(carrier.duration), ended.durationSeconds, 'billed what the carrier measured');
    assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS - cost, held: 0 });
    assert.deepEqual(await entryKindsOf(s.credit, userId, callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_SETTLE']);
    await ledgerConsistent(userId);
  });
});

describe('the concurrent-call limit', () => {
  it('refuses a call over the limit with FAILED_PRECONDITION (never retried automatically) and holds nothing for it', async () => {
    const userId = await newUser(s.credit);
    await s.credit.updatePreferences({ userId, patch: { maxConcurrentCalls: 1 } });
    const { call: first } = await s.call.placeCall(placeRequest(userId, { to: NUMBERS.held }));
    const refused = await rejection(s.call.placeCall(placeRequest(userId, { to: NUMBERS.busy })));
    assert.equal(refused.code, status.FAILED_PRECONDITION);
    assert.equal(
      refused.details,
      'you already have 1 call(s) in progress, your limit; place this call when one ends, with a new idempotencyKey',
    );
    assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS - 50, held: 50 });
    assert.deepEqual(
      (await s.call.listCalls({ userId })).calls.map((c) => c.callId),
      [first?.callId],
      'no call recorded for the refused request',
    );
    await s.call.cancelCall({ userId, callId: first?.callId ?? '' });
    await settledCall(s.call, userId, first?.callId ?? '');
    assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
    await ledgerConsistent(userId);
  });

  it('a retry with the refused key once a call has ended is refused (its hold was given back); a new key places it, held', async () => {
    const userId = await newUser(s.credit);
    await s.credit.updatePreferences({ userId, patch: { maxConcurrentCalls: 1 } });
    const { call: first } = await s.call.placeCall(placeRequest(userId, { to: NUMBERS.held }));
    const request = placeRequest(userId);
    assert.equal((await rejection(s.call.placeCall(request))).code, status.FAILED_PRECONDITION);
    await s.call.cancelCall({ userId, callId: first?.callId ?? '' });
    await settledCall(s.call, userId, first?.callId ?? '');

    // Placing it with the old key would replay a hold that no longer exists: a call with nothing held.
    const retried = await rejection(s.call.placeCall(request));
    assert.equal(retried.code, status.FAILED_PRECONDITION);
    assert.equal(
      retried.details,
      `idempotencyKey "${request.idempotencyKey}" belongs to an earlier attempt that did not place a call; use a new key`,
    );
    assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
    assert.equal((await s.call.listCalls({ userId })).calls.length, 1, 'only the first call');

    const { call: second, deduplicated } = await s.call.placeCall({
      ...request,
      to: NUMBERS.held,
      idempotencyKey: `new-${randomUUID()}`,
    });
    try {
      assert.equal(deduplicated, false);
      assert.equal(second?.reservedCredits, 50);
      assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS - 50, held: 50 });
    } finally {
      await s.call.cancelCall({ userId, callId: second?.callId ?? '' }).catch(() => undefined);
    }
    await settledCall(s.call, userId, second?.callId ?? '');
    assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
    await ledgerConsistent(userId);
  });
});
