/**
 * Status callbacks and WatchCall with the carrier standing still: the sandbox takes a call and would
 * move it only after 10 minutes, so every callback here is one the test sends, signed as Twilio signs
 * them, in the order (and as often) the test chooses. The rig's database is read directly.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { callCost, createLogger, loadCatalog, systemClock } from '@callgate/common';
import { SANDBOX_AUTH_TOKEN } from '@callgate/sandbox';
import { checkLedger } from '@callgate/user-credit';
import twilio from 'twilio';
import {
  balanceOf,
  type Call,
  type CallInstance,
  type CallRig,
  entryKindsOf,
  newUser,
  placeRequest,
  postStatusCallback,
  recordCrashedIntent,
  SIGNUP_CREDITS,
  settledCall,
  startCallRig,
  statusParams,
  type WatchEvent,
  watchAll,
} from '../../../test/support/calls.js';
import { within } from '../../../test/support/within.js';
import { BILLING_GRACE_SECONDS } from './call-limits.js';
import { CallStore } from './call-store.js';
import { TranscriptStore } from './transcript-store.js';
import { CallWatchers } from './watch.js';

const catalog = loadCatalog();
const HOLD = 50;

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

/** A new user's call, placed and taken by the (still) carrier: queued, with its CallSid. */
async function placedCall(): Promise<{ userId: string; call: Call }> {
  const userId = await newUser(rig.credit);
  const { call } = await instance.client.placeCall(placeRequest(userId));
  assert.ok(call);
  assert.equal(call.status, 'CALL_STATUS_QUEUED');
  assert.match(call.carrierCallId, /^CA[0-9a-f]{32}$/);
  return { userId, call };
}

async function send(call: Call, callStatus: string, extra: Record<string, string> = {}): Promise<void> {
  const reply = await postStatusCallback(instance.webhooks, call.callId, statusParams(call, callStatus, extra));
  assert.deepEqual(reply, { status: 200, text: '' }, `${callStatus} callback accepted`);
}

async function current(userId: string, callId: string): Promise<Call> {
  const { call } = await instance.client.getCall({ userId, callId });
  assert.ok(call);
  return call;
}

async function callbackRows(callId: string): Promise<{ carrier_status: string; applied: boolean }[]> {
  const { rows } = await rig.db.query<{ carrier_status: string; applied: boolean }>(
    'SELECT carrier_status, applied FROM calls.carrier_callbacks WHERE call_id = $1 ORDER BY id',
    [callId],
  );
  return rows;
}

describe('callbacks in order, each delivered more than once', () => {
  it('move the call once per status; five concurrent "completed" settle once', async () => {
    const { userId, call } = await placedCall();
    await send(call, 'initiated', { SequenceNumber: '0' });
    await send(call, 'initiated', { SequenceNumber: '0' });
    await send(call, 'ringing', { SequenceNumber: '1' });
    await send(call, 'in-progress', { SequenceNumber: '2' });
    await send(call, 'in-progress', { SequenceNumber: '2' });
    await Promise.all(
      Array.from({ length: 5 }, () =>
        send(call, 'completed', { SequenceNumber: '3', CallDuration: '42', SipResponseCode: '200' }),
      ),
    );
    const ended = await settledCall(instance.client, userId, call.callId);
    assert.equal(ended.status, 'CALL_STATUS_COMPLETED');
    assert.deepEqual(
      ended.timeline.map((e) => [e.sequence, e.status, e.source]),
      [
        [1, 'CALL_STATUS_QUEUED', 'api'],
        [2, 'CALL_STATUS_INITIATED', 'callback'],
        [3, 'CALL_STATUS_RINGING', 'callback'],
        [4, 'CALL_STATUS_IN_PROGRESS', 'callback'],
        [5, 'CALL_STATUS_COMPLETED', 'callback'],
      ],
    );
    assert.equal(ended.durationSeconds, 42);
    assert.equal(ended.costCredits, callCost(catalog.pricing, 10, 42));
    assert.deepEqual(await entryKindsOf(rig.credit, userId, call.callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_SETTLE']);
    assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS - 10, held: 0 });
    const rows = await callbackRows(call.callId);
    assert.equal(rows.length, 10, 'every delivery is recorded');
    assert.deepEqual(
      rows.filter((r) => r.applied).map((r) => r.carrier_status),
      ['initiated', 'ringing', 'in-progress', 'completed'],
    );
    assert.deepEqual(await checkLedger(rig.db, userId), []);
  });
});

describe('callbacks out of order', () => {
  it('a late "initiated" after "ringing" changes nothing', async () => {
    const { userId, call } = await placedCall();
    await send(call, 'ringing', { SequenceNumber: '1' });
    const ringing = await current(userId, call.callId);
    await send(call, 'initiated', { SequenceNumber: '0' });
    assert.deepEqual(await current(userId, call.callId), ringing);
    assert.deepEqual(
      ringing.timeline.map((e) => e.status),
      ['CALL_STATUS_QUEUED', 'CALL_STATUS_RINGING'],
    );
  });

  it('"completed" with 75 s talked arriving before "in-progress" is charged for 75 s, once', async () => {
    const { userId, call } = await placedCall();
    await send(call, 'ringing', { SequenceNumber: '1' });
    // The answered callback is late (or lost: Twilio does not retry callbacks); the final one says the call talked.
    await send(call, 'completed', { SequenceNumber: '3', CallDuration: '75', SipResponseCode: '200' });
    await send(call, 'in-progress', { SequenceNumber: '2' });
    const ended = await settledCall(instance.client, userId, call.callId);
    assert.equal(ended.status, 'CALL_STATUS_COMPLETED');
    assert.deepEqual(
      ended.timeline.map((e) => e.status),
      ['CALL_STATUS_QUEUED', 'CALL_STATUS_RINGING', 'CALL_STATUS_COMPLETED'],
    );
    assert.equal(ended.durationSeconds, 75);
    const cost = callCost(catalog.pricing, 10, 75);
    assert.equal(cost, 20);
    assert.equal(ended.costCredits, cost, 'a call that talked 75 s costs two started minutes');
    assert.deepEqual(await entryKindsOf(rig.credit, userId, call.callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_SETTLE']);
    assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS - cost, held: 0 });
  });
});

describe('callbacks that are not from the carrier, or not about this call', () => {
  it('a bad, a missing, and a signature over other parameters are 403; the call is untouched and nothing is recorded', async () => {
    const { userId, call } = await placedCall();
    const before = await current(userId, call.callId);
    const params = statusParams(call, 'completed', { CallDuration: '3600' });
    const url = `${instance.webhooks}/twilio/status?callId=${call.callId}`;
    const signedForOther = twilio.getExpectedTwilioSignature(SANDBOX_AUTH_TOKEN, url, { ...params, CallDuration: '1' });
    const wrongToken = twilio.getExpectedTwilioSignature('not-the-auth-token', url, params);
    for (const signature of ['bm90IGEgc2lnbmF0dXJl', null, signedForOther, wrongToken]) {
      const reply = await postStatusCallback(instance.webhooks, call.callId, params, signature);
      assert.deepEqual(reply, { status: 403, text: 'invalid X-Twilio-Signature' }, `signature ${signature}`);
    }
    assert.deepEqual(await current(userId, call.callId), before);
    assert.deepEqual(await callbackRows(call.callId), []);
    assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS - HOLD, held: HOLD });
  });

  it("a signed callback naming another carrier call is recorded and ignored; this call's state stands", async () => {
    const { userId, call } = await placedCall();
    const before = await current(userId, call.callId);
    await send({ ...call, carrierCallId: `CA${'0'.repeat(32)}` }, 'completed', { CallDuration: '60' });
    assert.deepEqual(await current(userId, call.callId), before);
    assert.deepEqual(await callbackRows(call.callId), [{ carrier_status: 'completed', applied: false }]);
  });

  it('a signed callback for no known call is answered 200 (the carrier must not retry) and recorded', async () => {
    const sid = `CA${randomUUID().replaceAll('-', '')}`;
    const reply = await postStatusCallback(
      instance.webhooks,
      randomUUID(),
      statusParams({ carrierCallId: sid, to: '+14155550001', from: '+15005550006' }, 'ringing'),
    );
    assert.equal(reply.status, 200);
    const { rows } = await rig.db.query<{ call_id: string | null; applied: boolean }>(
      'SELECT call_id, applied FROM calls.carrier_callbacks WHERE carrier_call_id = $1',
      [sid],
    );
    assert.deepEqual(rows, [{ call_id: null, applied: false }]);
  });

  it('only POST /twilio/status is served', async () => {
    const get = await fetch(`${instance.webhooks}/twilio/status?callId=${randomUUID()}`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    const other = await fetch(`${instance.webhooks}/twilio/other`, { method: 'POST' });
    assert.equal(other.status, 404);
  });
});

describe('WatchCall', () => {
  it('streams each change as it happens, in order, and ends after the terminal one', async () => {
    const { userId, call } = await placedCall();
    const seen: WatchEvent[] = [];
    let arrived: () => void = () => undefined;
    const watching = watchAll(instance.client, { userId, callId: call.callId }, 10_000, (event) => {
      seen.push(event);
      arrived();
    });
    const next = (count: number) =>
      within(
        new Promise<void>((resolve) => {
          arrived = () => seen.length >= count && resolve();
          arrived();
        }),
        `event ${count} on the stream`,
      );
    await next(1);
    for (const [i, status] of ['initiated', 'ringing', 'in-progress'].entries()) {
      await send(call, status);
      await next(i + 2);
    }
    await send(call, 'completed', { CallDuration: '5' });
    const { events, error } = await watching;
    assert.equal(error, undefined);
    assert.deepEqual(
      events.map((e) => [e.event?.sequence, e.event?.status, e.event?.source, e.terminal]),
      [
        [1, 'CALL_STATUS_QUEUED', 'api', false],
        [2, 'CALL_STATUS_INITIATED', 'callback', false],
        [3, 'CALL_STATUS_RINGING', 'callback', false],
        [4, 'CALL_STATUS_IN_PROGRESS', 'callback', false],
        [5, 'CALL_STATUS_COMPLETED', 'callback', true],
      ],
    );
    await settledCall(instance.client, userId, call.callId);
  });

  it('a call that ends between reading its events and reading its row still ends the stream with its terminal event', async () => {
    const userId = await newUser(rig.credit);
    const intent = await recordCrashedIntent(rig, userId, { agoMs: 0 });
    const store = new CallStore(rig.db, systemClock);
    // A store whose first events() read is followed, before the watcher reads the row, by the call ending.
    let raced = false;
    const racing = Object.create(store) as CallStore;
    racing.events = async (callId, afterSequence) => {
      const rows = await store.events(callId, afterSequence);
      if (!raced) {
        raced = true;
        await store.apply(callId, { status: 'busy', occurredAt: new Date(), source: 'callback' });
      }
      return rows;
    };
    const watchers = new CallWatchers(
      rig.db,
      racing,
      new TranscriptStore(rig.db, systemClock),
      createLogger('test', 'silent'),
      systemClock,
    );
    await watchers.start();
    const stop = new AbortController();
    const sent: WatchEvent[] = [];
    try {
      await within(
        watchers.watch(
          userId,
          intent.call_id,
          { afterSequence: 0, untilSettled: false },
          stop.signal,
          async (event) => {
            sent.push(event);
          },
        ),
        'the watch to end',
        3000,
      );
    } finally {
      stop.abort();
      await watchers.stop();
      // The call ended outside the service: RefreshStatus settles an ended call's credits.
      await instance.client.refreshStatus({ callId: intent.call_id, reason: 'test' }).catch(() => undefined);
    }
    assert.deepEqual(
      sent.map((e) => [e.event?.status, e.terminal]),
      [
        ['CALL_STATUS_QUEUED', false],
        ['CALL_STATUS_BUSY', true],
      ],
      'the watcher saw the call end, so it must send the event that ended it',
    );
  });
});

describe('a completed callback reporting more time than the call may last', () => {
  async function cappedCount(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${instance.handle.opsPort}/metrics`)).text();
    const line = text.split('\n').find((l) => /^call_billed_duration_capped_total(\{[^}]*\})? /.test(l));
    assert.ok(line, 'the counter is exported');
    return line ? Number(line.split(' ').pop()) : 0;
  }

  it('is billed at most max duration + the grace, and the anomaly is counted', async () => {
    const { userId, call } = await placedCall();
    assert.equal(call.maxDurationSeconds, 300);
    const before = await cappedCount();
    await send(call, 'in-progress', { SequenceNumber: '2' });
    // Validly signed, so the carrier (or its forger) is believed about the end, not about 100 hours talked.
    await send(call, 'completed', { SequenceNumber: '3', CallDuration: '360000', SipResponseCode: '200' });
    const ended = await settledCall(instance.client, userId, call.callId);
    const cap = callCost(catalog.pricing, 10, 300 + BILLING_GRACE_SECONDS);
    assert.equal(ended.costCredits, cap, 'charged for the cap, not for 360,000 s');
    assert.ok(cap < callCost(catalog.pricing, 10, 360_000));
    assert.deepEqual(await balanceOf(rig.credit, userId), { available: SIGNUP_CREDITS - cap, held: 0 });
    assert.equal(await cappedCount(), before + 1);
    assert.deepEqual(await checkLedger(rig.db, userId), []);
  });

  it('a duration within the grace is billed as reported and not counted', async () => {
    const { userId, call } = await placedCall();
    const before = await cappedCount();
    await send(call, 'completed', { CallDuration: String(300 + BILLING_GRACE_SECONDS), SipResponseCode: '200' });
    const ended = await settledCall(instance.client, userId, call.callId);
    assert.equal(ended.costCredits, callCost(catalog.pricing, 10, 300 + BILLING_GRACE_SECONDS));
    assert.equal(await cappedCount(), before);
  });
});
