/**
 * Found from outside (attack2 of issue 17): numbers in a signed status callback are taken as they come. A negative
 * CallDuration is stored as the call's duration (getCallDetails then shows durationSeconds -500), and a
 * CallDuration or SequenceNumber beyond PostgreSQL's integer makes the INSERT/UPDATE fail: the callback
 * is answered 500 "internal error" (and the carrier retries it) instead of being read as a value the
 * call can have. These check what reaches the store: a duration that is a whole, non-negative number of
 * seconds a call could last (or none), and a sequence number PostgreSQL can hold (or none).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger, systemClock } from '@callgate/common';
import { Registry } from 'prom-client';
import twilio from 'twilio';
import type { CallStore, StatusReport } from './call-store.js';
import type { CallLifecycle } from './lifecycle.js';
import { createWebhookServer } from './webhooks.js';

const TOKEN = 'attack2-auth-token';
const CALL_ID = '0b8f5a9e-2f6c-5d3a-9c1e-7a4b2c9d0e1f';
const CALL_SID = `CA${'1'.repeat(32)}`;
const INT4_MAX = 2 ** 31 - 1;

const applied: StatusReport[] = [];
const recorded: { carrierSequence: number | null }[] = [];
const call = { call_id: CALL_ID, carrier_call_id: CALL_SID, status: 'in-progress', dial_state: 'dialed' };
const store = {
  byId: async () => call,
  byCarrierId: async () => call,
  recordCallback: async (row: { carrierSequence: number | null }) => {
    recorded.push(row);
  },
} as unknown as CallStore;

let base = '';
// What the callback reports (the lifecycle applies it; here only what reaches it is kept).
const lifecycle = {
  report: async (_id: string, report: StatusReport) => {
    applied.push(report);
    return { call, changed: true, ended: false };
  },
} as unknown as CallLifecycle;
const server = createWebhookServer({
  store,
  lifecycle,
  authToken: TOKEN,
  get publicBaseUrl() {
    return base;
  },
  log: createLogger('test', 'silent'),
  registry: new Registry(),
  clock: systemClock,
  endOrphan: async () => undefined,
});
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

async function callback(params: Record<string, string>): Promise<number> {
  return (await answer(params)).status;
}

async function answer(params: Record<string, string>): Promise<{ status: number; body: string }> {
  const url = `${base}/twilio/status?callId=${CALL_ID}`;
  const all = { CallSid: CALL_SID, ...params };
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, url, all),
    },
    body: new URLSearchParams(all).toString(),
  });
  return { status: res.status, body: await res.text() };
}

describe('numbers in a signed status callback', () => {
  for (const duration of ['-500', '99999999999', '1e9', '12.7abc']) {
    it(`CallDuration=${duration} reaches the store as a duration a call can have, or none`, async () => {
      applied.length = 0;
      const status = await callback({ CallStatus: 'completed', CallDuration: duration });
      assert.notEqual(status, 500);
      for (const report of applied) {
        const seconds = report.durationSeconds;
        if (seconds === null || seconds === undefined) continue;
        assert.ok(Number.isInteger(seconds) && seconds >= 0 && seconds <= INT4_MAX, `durationSeconds ${seconds}`);
      }
    });
  }

  it('a number no call can have is refused with 400 naming the field, and nothing is stored', async () => {
    for (const [field, value] of [
      ['CallDuration', '-500'],
      ['CallDuration', '99999999999'],
      ['CallDuration', '12.7abc'],
      ['SequenceNumber', '99999999999'],
      ['SequenceNumber', '-1'],
    ]) {
      applied.length = 0;
      recorded.length = 0;
      const { status, body } = await answer({ CallStatus: 'completed', [field as string]: value as string });
      assert.equal(status, 400, `${field}=${value}`);
      assert.match(body, new RegExp(`^${field} must be a whole number from 0 to ${INT4_MAX}`));
      assert.deepEqual([applied.length, recorded.length], [0, 0], `${field}=${value}`);
    }
  });

  it('whole numbers in range, up to the largest PostgreSQL integer, reach the store exactly', async () => {
    applied.length = 0;
    recorded.length = 0;
    const status = await callback({ CallStatus: 'completed', CallDuration: '42', SequenceNumber: String(INT4_MAX) });
    assert.equal(status, 200);
    assert.equal(applied[0]?.durationSeconds, 42);
    assert.equal(recorded[0]?.carrierSequence, INT4_MAX);
  });

  it('a SequenceNumber beyond a PostgreSQL integer is not handed to the store as is', async () => {
    recorded.length = 0;
    assert.notEqual(await callback({ CallStatus: 'ringing', SequenceNumber: '99999999999' }), 500);
    for (const row of recorded) {
      const sequence = row.carrierSequence;
      assert.ok(sequence === null || (sequence >= 0 && sequence <= INT4_MAX), `carrierSequence ${sequence}`);
    }
  });
});
