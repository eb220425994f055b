/**
 * A status callback that cannot be applied because the database is down: answered 500 (never a crash),
 * and a prompt status poll is asked for, since Twilio does not resend status callbacks.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger, systemClock } from '@callgate/common';
import { Registry } from 'prom-client';
import twilio from 'twilio';
import type { CallStore } from './call-store.js';
import type { CallLifecycle } from './lifecycle.js';
import { createWebhookServer } from './webhooks.js';

const TOKEN = 'test-auth-token';

describe('status callback during a database outage', () => {
  it('answers 500 and asks for a prompt status poll of that call', async () => {
    const polled: string[] = [];
    const down = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    // The database is what fails here: every store read rejects as a refused connection would.
    const store = { byId: down, byCarrierId: down, recordCallback: down } as unknown as CallStore;
    let base = '';
    const server = createWebhookServer({
      store,
      lifecycle: {} as CallLifecycle,
      authToken: TOKEN,
      get publicBaseUrl() {
        return base;
      },
      log: createLogger('test', 'silent'),
      registry: new Registry(),
      clock: systemClock,
      endOrphan: async () => undefined,
      pollSoon: async (callId) => {
        polled.push(callId);
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const callId = '0b8f5a9e-2f6c-5d3a-9c1e-7a4b2c9d0e1f';
      const url = `${base}/twilio/status?callId=${callId}`;
      const params = { CallSid: `CA${'1'.repeat(32)}`, CallStatus: 'completed', CallDuration: '12' };
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, url, params),
        },
        body: new URLSearchParams(params).toString(),
      });
      assert.equal(res.status, 500);
      assert.deepEqual(polled, [callId]);
    } finally {
      server.close();
    }
  });
});
