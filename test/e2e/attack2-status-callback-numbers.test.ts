/**
 * Found from outside (attack2): numbers in a signed status callback are taken as they come. A negative
 * CallDuration is stored as the call's duration (getCallDetails then shows durationSeconds -500), and a
 * CallDuration or SequenceNumber beyond PostgreSQL's integer makes the INSERT/UPDATE fail: the callback
 * is answered 500 "internal error" (and the carrier retries it) instead of being read as a value the
 * call can have. These check what reaches the store: a duration that is a whole, non-negative number of
 * seconds a call could last (or none), and a sequence number PostgreSQL can hold (or none).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@callgate/common';
import { Registry } from 'prom-client';
import twilio from 'twilio';
import type { CallStore, StatusReport } from '../../services/call/src/call-store.js';
import type { Settlement } from '../../services/call/src/credits.js';
import { createWebhookServer } from '../../services/call/src/webhooks.js';

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
  apply: async (_id: string, report: StatusReport) => {
    applied.push(report);
    return { call, changed: true, ended: false };
  },
  recordCallback: async (row: { carrierSequence: number | null }) => {
    recorded.push(row);
  },
} as unknown as CallStore;

let base = '';
const server = createWebhookServer({
  store,
  settlement: { settle: async () => undefined } as unknown as Settlement,
  authToken: TOKEN,
  get publicBaseUrl() {
    return base;
  },
  log: createLogger('test', 'silent'),
  registry: new Registry(),
  now: () => new Date(),
  endOrphan: async () => undefined,
});
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

async function callback(params: Record<string, string>): Promise<number> {
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
  await res.text();
  return res.status;
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

  it('a SequenceNumber beyond a PostgreSQL integer is not handed to the store as is', async () => {
    recorded.length = 0;
    assert.notEqual(await callback({ CallStatus: 'ringing', SequenceNumber: '99999999999' }), 500);
    for (const row of recorded) {
      const sequence = row.carrierSequence;
      assert.ok(sequence === null || (sequence >= 0 && sequence <= INT4_MAX), `carrierSequence ${sequence}`);
    }
  });
});
