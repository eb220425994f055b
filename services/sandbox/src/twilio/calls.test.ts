/**
 * The carrier stand-in through the official `twilio` client, as the call service will use it, with a
 * real HTTP server on 127.0.0.1 receiving the signed status callbacks.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type ServiceHandle } from '@callgate/common';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { within } from '../../../../test/support/within.js';
import {
  SANDBOX_ACCOUNT_SID,
  SANDBOX_AUTH_TOKEN,
  SANDBOX_NUMBERS,
  sandboxConfigShape,
  startSandbox,
} from '../service.js';

const FROM = '+15005550006';
const TWIML = '<Response><Say>Hello</Say></Response>';

/** Sends the client's requests for https://api.twilio.com to the sandbox instead. */
class SandboxRequestClient extends twilio.RequestClient {
  constructor(private readonly baseUrl: string) {
    super();
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request({ ...opts, uri: opts.uri.replace('https://api.twilio.com', this.baseUrl) });
  }
}

interface Callback {
  method: string;
  url: string;
  params: Record<string, string>;
  signatureValid: boolean;
}

/** A status callback receiver that checks each request's X-Twilio-Signature as a real webhook would. */
class Receiver {
  readonly received: Callback[] = [];
  #server: Server | undefined;
  #waiters: { test: (c: Callback) => boolean; resolve: () => void }[] = [];
  url = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        const url = `${this.url}${(req.url ?? '/').slice(1)}`;
        const params = Object.fromEntries(new URLSearchParams(req.method === 'GET' ? new URL(url).search : body));
        const signature = String(req.headers['x-twilio-signature'] ?? '');
        // A GET carries its parameters in the signed URL itself.
        const signed = req.method === 'GET' ? {} : params;
        const callback = {
          method: req.method ?? '',
          url,
          params,
          signatureValid: twilio.validateRequest(SANDBOX_AUTH_TOKEN, signature, url, signed),
        };
        this.received.push(callback);
        res.writeHead(204).end();
        for (const waiter of this.#waiters.filter((w) => w.test(callback))) waiter.resolve();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.#server?.close(() => resolve()));
  }

  /** The call's callbacks, once the final one (the completed event) has arrived. */
  async final(callSid: string): Promise<Callback[]> {
    await this.#until(
      `the final callback of ${callSid}`,
      (c) => c.params.CallSid === callSid && 'CallDuration' in c.params,
    );
    return this.of(callSid);
  }

  until(callSid: string, status: string): Promise<void> {
    return this.#until(
      `${status} of ${callSid}`,
      (c) => c.params.CallSid === callSid && c.params.CallStatus === status,
    );
  }

  of(callSid: string): Callback[] {
    return this.received.filter((c) => c.params.CallSid === callSid);
  }

  #until(what: string, test: (c: Callback) => boolean): Promise<void> {
    if (this.received.some(test)) return Promise.resolve();
    return within(new Promise<void>((resolve) => this.#waiters.push({ test, resolve })), what);
  }
}

async function sandbox(stepMs: number, talkMs: number): Promise<ServiceHandle> {
  const env = {
    LOG_LEVEL: 'silent',
    SANDBOX_PORT: '0',
    SANDBOX_CALL_STEP_MS: String(stepMs),
    SANDBOX_TALK_MS: String(talkMs),
  };
  return startSandbox(loadConfig('sandbox', sandboxConfigShape, env));
}

const clientFor = (
  handle: ServiceHandle,
  accountSid = SANDBOX_ACCOUNT_SID,
  authToken = SANDBOX_AUTH_TOKEN,
  path?: string,
) =>
  twilio(accountSid, authToken, {
    httpClient: new SandboxRequestClient(handle.endpoints.twilio ?? ''),
    ...(path ? { accountSid: path } : {}),
  });

const isRestException = (status: number, code: number) => (error: unknown) => {
  assert.ok(error instanceof twilio.RestException, `expected a RestException, got ${String(error)}`);
  assert.equal(error.status, status);
  assert.equal(error.code, code);
  assert.equal(error.moreInfo, `https://www.twilio.com/docs/errors/${code}`);
  return true;
};

describe('sandbox carrier through the twilio client', () => {
  const receiver = new Receiver();
  /** Fast: every stage 20 ms, answered calls talk 100 ms. */
  let fast: ServiceHandle;
  /** Slow enough to act on a call while it rings or talks. */
  let slow: ServiceHandle;

  before(async () => {
    await receiver.start();
    fast = await sandbox(20, 100);
    slow = await sandbox(300, 60_000);
  });
  after(async () => {
    await Promise.all([fast.stop(), slow.stop()]);
    await receiver.stop();
  });

  it('creates a queued call in Twilio’s shape, then reports every stage in order, signed', async () => {
    const client = clientFor(fast);
    const call = await client.calls.create({
      to: SANDBOX_NUMBERS.answers,
      from: FROM,
      twiml: TWIML,
      statusCallback: receiver.url,
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
    });
    assert.match(call.sid, /^CA[0-9a-f]{32}$/);
    assert.equal(call.status, 'queued');
    assert.equal(call.accountSid, SANDBOX_ACCOUNT_SID);
    assert.equal(call.direction, 'outbound-api');
    assert.equal(call.apiVersion, '2010-04-01');
    assert.equal(call.toFormatted, '(415) 555-0001');
    assert.equal(call.duration, null);
    assert.equal(call.price, null);
    assert.equal(call.uri, `/2010-04-01/Accounts/${SANDBOX_ACCOUNT_SID}/Calls/${call.sid}.json`);
    assert.ok(call.dateCreated instanceof Date && !Number.isNaN(call.dateCreated.getTime()), 'RFC 2822 dates parse');

    const callbacks = await receiver.final(call.sid);
    assert.deepEqual(
      callbacks.map((c) => c.params.CallStatus),
      ['initiated', 'ringing', 'in-progress', 'completed'],
    );
    assert.deepEqual(
      callbacks.map((c) => c.params.SequenceNumber),
      ['0', '1', '2', '3'],
    );
    for (const c of callbacks) {
      assert.equal(c.method, 'POST');
      assert.ok(c.signatureValid, `signature of ${c.params.CallStatus} validates`);
      assert.equal(c.params.AccountSid, SANDBOX_ACCOUNT_SID);
      assert.equal(c.params.To, SANDBOX_NUMBERS.answers);
      assert.equal(c.params.From, FROM);
      assert.equal(c.params.Direction, 'outbound-api');
      assert.equal(c.params.CallbackSource, 'call-progress-events');
      assert.match(c.params.Timestamp ?? '', /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    }
    const completed = callbacks.at(-1)?.params;
    assert.equal(completed?.CallDuration, '1');
    assert.equal(completed?.Duration, '1');
    assert.equal(completed?.SipResponseCode, '200');

    const fetched = await client.calls(call.sid).fetch();
    assert.equal(fetched.status, 'completed');
    assert.equal(fetched.duration, '1');
    assert.equal(fetched.price, '-0.01300');
    assert.equal(fetched.priceUnit, 'USD');
    assert.ok(fetched.endTime instanceof Date && fetched.startTime instanceof Date);
  });

  for (const [to, status, sip] of [
    [SANDBOX_NUMBERS.busy, 'busy', '486'],
    [SANDBOX_NUMBERS.noAnswer, 'no-answer', '487'],
    [SANDBOX_NUMBERS.fails, 'failed', '404'],
  ] as const) {
    it(`ends a call to …${to.slice(-4)} as ${status}; without StatusCallbackEvent only the final callback comes`, async () => {
      const client = clientFor(fast);
      const call = await client.calls.create({
        to,
        from: FROM,
        url: 'https://example.com/twiml',
        statusCallback: receiver.url,
      });
      const callbacks = await receiver.final(call.sid);
      assert.equal(callbacks.length, 1);
      assert.deepEqual(
        { ...callbacks[0]?.params, Timestamp: undefined },
        {
          AccountSid: SANDBOX_ACCOUNT_SID,
          ApiVersion: '2010-04-01',
          CallSid: call.sid,
          CallStatus: status,
          Called: to,
          Caller: FROM,
          CallbackSource: 'call-progress-events',
          Direction: 'outbound-api',
          From: FROM,
          SequenceNumber: '0',
          Timestamp: undefined,
          To: to,
          CallDuration: '0',
          Duration: '0',
          SipResponseCode: sip,
        },
      );
      assert.ok(callbacks[0]?.signatureValid);
      const fetched = await client.calls(call.sid).fetch();
      assert.equal(fetched.status, status);
      assert.equal(fetched.duration, null);
      assert.equal(fetched.price, null);
    });
  }

  it('reports an answering machine with AnsweredBy when MachineDetection is set, and calls back with GET on request', async () => {
    const client = clientFor(fast);
    const call = await client.calls.create({
      to: SANDBOX_NUMBERS.machine,
      from: FROM,
      twiml: TWIML,
      machineDetection: 'Enable',
      statusCallback: `${receiver.url}status?leg=a`,
      statusCallbackMethod: 'GET',
      statusCallbackEvent: ['answered'],
    });
    const callbacks = await receiver.final(call.sid);
    assert.deepEqual(
      callbacks.map((c) => [c.method, c.params.CallStatus, c.params.AnsweredBy, c.params.leg]),
      [
        ['GET', 'in-progress', 'machine_start', 'a'],
        ['GET', 'completed', 'machine_start', 'a'],
      ],
    );
    assert.ok(callbacks.every((c) => c.signatureValid));
    assert.equal((await client.calls(call.sid).fetch()).answeredBy, 'machine_start');
  });

  it('cancels a ringing call: the fetch shows ringing, the update and the final callback canceled', async () => {
    const client = clientFor(slow);
    // The held number rings until canceled: no 300 ms window to fetch and cancel in.
    const call = await client.calls.create({
      to: SANDBOX_NUMBERS.held,
      from: FROM,
      twiml: TWIML,
      statusCallback: receiver.url,
      statusCallbackEvent: ['ringing'],
    });
    await receiver.until(call.sid, 'ringing');
    assert.equal((await client.calls(call.sid).fetch()).status, 'ringing');
    const canceled = await client.calls(call.sid).update({ status: 'canceled' });
    assert.equal(canceled.status, 'canceled');
    const callbacks = await receiver.final(call.sid);
    assert.deepEqual(
      callbacks.map((c) => c.params.CallStatus),
      ['ringing', 'canceled'],
    );
    assert.equal(callbacks[1]?.params.SipResponseCode, '487');
  });

  it('hangs up an answered call with Status=completed (Status=canceled leaves it talking)', async () => {
    const client = clientFor(slow);
    // The held number talks until hung up: nothing ends the call behind the test's back.
    const call = await client.calls.create({
      to: SANDBOX_NUMBERS.held,
      from: FROM,
      twiml: TWIML,
      statusCallback: receiver.url,
      statusCallbackEvent: ['ringing', 'answered'],
    });
    await receiver.until(call.sid, 'ringing');
    const answered = await fetch(`${slow.endpoints.twilio}/sandbox/calls/${call.sid}/answer`, { method: 'POST' });
    assert.equal(answered.status, 200, await answered.text());
    await receiver.until(call.sid, 'in-progress');
    assert.equal((await client.calls(call.sid).update({ status: 'canceled' })).status, 'in-progress');
    const ended = await client.calls(call.sid).update({ status: 'completed' });
    assert.equal(ended.status, 'completed');
    assert.ok(Number(ended.duration) >= 1, `seconds since the answer, rounded up: ${ended.duration}`);
    const callbacks = await receiver.final(call.sid);
    assert.deepEqual(
      callbacks.map((c) => c.params.CallStatus),
      ['ringing', 'in-progress', 'completed'],
    );
  });

  it('the person called acts on held calls only: by sid or by number, refusals say why', async () => {
    const client = clientFor(slow);
    const base = slow.endpoints.twilio ?? '';
    const post = async (path: string, method = 'POST') => {
      const response = await fetch(`${base}${path}`, { method });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const to = '+14155520006';
    const held = await client.calls.create({
      to,
      from: FROM,
      twiml: TWIML,
      statusCallback: receiver.url,
      statusCallbackEvent: ['ringing'],
    });
    const timed = await client.calls.create({
      to: SANDBOX_NUMBERS.answers,
      from: FROM,
      twiml: TWIML,
      statusCallback: receiver.url,
      statusCallbackEvent: ['ringing'],
    });
    assert.deepEqual(await post(`/sandbox/calls/${held.sid}/answer`), {
      status: 409,
      body: { error: `${held.sid} is queued, not ringing` },
    });
    await receiver.until(held.sid, 'ringing');
    await receiver.until(timed.sid, 'ringing');
    const notHeld = await post(`/sandbox/calls/${timed.sid}/answer`);
    assert.equal(notHeld.status, 409);
    assert.match(String(notHeld.body.error), /not a call to a held number/);
    assert.equal((await post('/sandbox/calls/CA0/answer')).status, 404);
    assert.equal((await post(`/sandbox/calls/${held.sid}/answer`, 'GET')).status, 405);
    assert.equal((await post(`/sandbox/calls/${held.sid}/pick-up`)).status, 404);
    // A malformed %-escape is a 400, not a URIError thrown out of the request listener (which ended the process).
    assert.deepEqual(await post('/sandbox/calls/%E0%A4%A/answer'), {
      status: 400,
      body: { error: 'not a valid %-encoded call sid: %E0%A4%A' },
    });
    assert.equal((await post('/sandbox/numbers/%ZZ/hang-up')).status, 400);

    const byNumber = await post(`/sandbox/numbers/${encodeURIComponent(to)}/hang-up`);
    assert.equal(byNumber.status, 200);
    assert.deepEqual(
      (byNumber.body.calls as { sid: string; status: string }[]).map((c) => [c.sid, c.status]),
      [[held.sid, 'busy']],
      'a ringing held call the person hangs up on is declined',
    );
    assert.deepEqual(await post(`/sandbox/numbers/${encodeURIComponent(to)}/answer`), {
      status: 409,
      body: { error: `no call to ${to} is ringing or in progress` },
    });
    await client.calls(timed.sid).update({ status: 'canceled' });
  });

  it('ends an answered call at its TimeLimit', async () => {
    const client = clientFor(slow);
    const call = await client.calls.create({
      to: SANDBOX_NUMBERS.answers,
      from: FROM,
      twiml: TWIML,
      timeLimit: 1,
      statusCallback: receiver.url,
    });
    const [completed] = await receiver.final(call.sid);
    assert.equal(completed?.params.CallStatus, 'completed');
    assert.equal(completed?.params.CallDuration, '1');
  });

  it('refuses bad credentials, and good ones used on another account’s path, with 401 and 20003', async () => {
    await assert.rejects(
      clientFor(fast, SANDBOX_ACCOUNT_SID, 'wrong-token').calls.create({
        to: SANDBOX_NUMBERS.answers,
        from: FROM,
        twiml: TWIML,
      }),
      isRestException(401, 20003),
    );
    const other = `AC${'1'.repeat(32)}`;
    await assert.rejects(
      clientFor(fast, SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, other)
        .calls(`CA${'0'.repeat(32)}`)
        .fetch(),
      isRestException(401, 20003),
    );
    const response = await fetch(`${fast.endpoints.twilio}/2010-04-01/Accounts/${SANDBOX_ACCOUNT_SID}/Calls.json`, {
      method: 'POST',
    });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Basic /);
    assert.deepEqual(await response.json(), {
      code: 20003,
      message: 'Authenticate',
      more_info: 'https://www.twilio.com/docs/errors/20003',
      status: 401,
    });
  });

  it('answers an unknown call with 404 and 20404', async () => {
    await assert.rejects(
      clientFor(fast)
        .calls(`CA${'0'.repeat(32)}`)
        .fetch(),
      isRestException(404, 20404),
    );
    await assert.rejects(
      clientFor(fast)
        .calls(`CA${'0'.repeat(32)}`)
        .update({ status: 'completed' }),
      isRestException(404, 20404),
    );
  });

  it('validates parameters with Twilio’s error codes', async () => {
    const calls = clientFor(fast).calls;
    const valid = { to: SANDBOX_NUMBERS.answers, from: FROM, twiml: TWIML };
    await assert.rejects(calls.create({ ...valid, to: '415-555-0001' }), isRestException(400, 21211));
    await assert.rejects(calls.create({ ...valid, from: 'nobody' }), isRestException(400, 21212));
    await assert.rejects(calls.create({ ...valid, twiml: undefined }), isRestException(400, 21205));
    await assert.rejects(calls.create({ ...valid, statusCallbackEvent: ['picked-up'] }), isRestException(400, 21626));
    await assert.rejects(calls.create({ ...valid, timeout: 0 }), isRestException(400, 20001));
    await assert.rejects(calls.create({ ...valid, statusCallback: 'https://example.com/status' }), (error: unknown) => {
      isRestException(400, 21609)(error);
      assert.match((error as Error).message, /this sandbox only calls back loopback URLs/);
      return true;
    });
  });

  it('keeps the Google Sheets paths as they were', async () => {
    const response = await fetch(`${fast.endpoints.sheets}/v4/spreadsheets/abc/values/A1`);
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { status: string } }).error.status, 'NOT_FOUND');
  });
});
