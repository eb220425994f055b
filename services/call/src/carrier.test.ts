import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '@callgate/common';
import {
  CarrierError,
  type CarrierOperation,
  carrierErrorToDomain,
  isCarrierError,
  type PlaceCallParams,
  rewriteTwilioUrl,
  twilioCarrier,
} from './carrier.js';

const ACCOUNT = `AC${'0123456789abcdef'.repeat(2)}`;
const TOKEN = 'unit-test-auth-token-0123456789';
const SID = `CA${'fedcba9876543210'.repeat(2)}`;
const CALLS = `/2010-04-01/Accounts/${ACCOUNT}/Calls.json`;
const CALL = `/2010-04-01/Accounts/${ACCOUNT}/Calls/${SID}.json`;

const placeCall: PlaceCallParams = {
  to: '+14155550001',
  from: '+14155550002',
  twiml: '<Response><Say>hello</Say></Response>',
  statusCallbackUrl: 'https://callgate.example/twilio/status',
  timeLimitSeconds: 600,
};

/** A call resource as Twilio's API writes it. */
function twilioCall(fields: Record<string, unknown> = {}) {
  return {
    sid: SID,
    account_sid: ACCOUNT,
    to: placeCall.to,
    from: placeCall.from,
    status: 'queued',
    start_time: null,
    end_time: null,
    duration: null,
    price: null,
    price_unit: 'USD',
    answered_by: null,
    date_created: 'Tue, 31 Aug 2010 20:36:28 +0000',
    date_updated: 'Tue, 31 Aug 2010 20:36:28 +0000',
    direction: 'outbound-api',
    api_version: '2010-04-01',
    ...fields,
  };
}

interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
  form: URLSearchParams;
}
type Answer = { status: number; json?: unknown; raw?: string } | 'never';

/** A local HTTP server that answers like Twilio, recording what it was sent. */
class FakeTwilio {
  readonly seen: Seen[] = [];
  answer: (seen: Seen) => Answer = () => ({ status: 201, json: twilioCall() });
  private server: Server = createServer(async (req, res) => {
    const seen = await record(req);
    this.seen.push(seen);
    const answer = this.answer(seen);
    if (answer === 'never') return;
    const body = answer.raw ?? JSON.stringify(answer.json);
    res.writeHead(answer.status, { 'content-type': answer.raw ? 'text/html' : 'application/json' });
    res.end(body);
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function record(req: IncomingMessage): Promise<Seen> {
  let body = '';
  for await (const chunk of req) body += chunk;
  const url = new URL(req.url ?? '/', 'http://x');
  return {
    method: req.method ?? '',
    path: url.pathname,
    authorization: req.headers.authorization,
    form: new URLSearchParams(body),
  };
}

async function rejection(promise: Promise<unknown>): Promise<CarrierError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isCarrierError(error), `expected a CarrierError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the carrier to fail');
}

describe('rewriteTwilioUrl', () => {
  const base = new URL('http://127.0.0.1:8090');

  it('moves the path and query of a Twilio API URL to the base origin', () => {
    assert.equal(
      rewriteTwilioUrl(`https://api.twilio.com${CALLS}?PageSize=20&Page=1`, base),
      `http://127.0.0.1:8090${CALLS}?PageSize=20&Page=1`,
    );
  });

  it('keeps a path of the base URL as a prefix, with or without a trailing slash', () => {
    for (const prefix of ['http://sandbox:8090/twilio', 'http://sandbox:8090/twilio/']) {
      assert.equal(
        rewriteTwilioUrl(`https://api.twilio.com${CALL}`, new URL(prefix)),
        `http://sandbox:8090/twilio${CALL}`,
      );
    }
  });

  it('rewrites the edge and region hosts the client builds from TWILIO_EDGE / TWILIO_REGION', () => {
    assert.equal(rewriteTwilioUrl(`https://api.sydney.au1.twilio.com${CALL}`, base), `http://127.0.0.1:8090${CALL}`);
  });

  it('refuses any other URL, so credentials go nowhere else', () => {
    assert.throws(() => rewriteTwilioUrl('https://evil.example/2010-04-01/x', base), /not a Twilio API URL/);
    assert.throws(() => rewriteTwilioUrl('https://twilio.com.evil.example/x', base), /not a Twilio API URL/);
    assert.throws(() => rewriteTwilioUrl(`http://api.twilio.com${CALLS}`, base), /not a Twilio API URL/);
  });
});

describe('twilioCarrier against a local server that answers like Twilio', () => {
  const twilioServer = new FakeTwilio();
  let baseUrl = '';
  const carrier = () => twilioCarrier({ accountSid: ACCOUNT, authToken: TOKEN, apiBaseUrl: baseUrl, timeoutMs: 2_000 });

  before(async () => {
    baseUrl = await twilioServer.start();
  });
  after(() => twilioServer.stop());

  function answerOnce(answer: Answer) {
    twilioServer.seen.length = 0;
    twilioServer.answer = () => answer;
  }

  it('create posts Twilio parameters with Basic auth and reads the created call', async () => {
    answerOnce({ status: 201, json: twilioCall({ status: 'queued' }) });
    const call = await carrier().create({ ...placeCall, ringTimeoutSeconds: 25, machineDetection: true });
    assert.deepEqual(call, {
      sid: SID,
      status: 'queued',
      durationSeconds: null,
      price: null,
      priceUnit: 'USD',
      answeredBy: null,
      startTime: null,
      endTime: null,
    });
    assert.equal(twilioServer.seen.length, 1);
    const [seen] = twilioServer.seen;
    assert.ok(seen);
    assert.equal(seen.method, 'POST');
    assert.equal(seen.path, CALLS);
    assert.equal(seen.authorization, `Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64')}`);
    assert.equal(seen.form.get('To'), placeCall.to);
    assert.equal(seen.form.get('From'), placeCall.from);
    assert.equal(seen.form.get('Twiml'), placeCall.twiml);
    assert.equal(seen.form.get('StatusCallback'), placeCall.statusCallbackUrl);
    assert.deepEqual(seen.form.getAll('StatusCallbackEvent'), ['initiated', 'ringing', 'answered', 'completed']);
    assert.equal(seen.form.get('StatusCallbackMethod'), 'POST');
    assert.equal(seen.form.get('TimeLimit'), '600');
    assert.equal(seen.form.get('Timeout'), '25');
    assert.equal(seen.form.get('MachineDetection'), 'Enable');
  });

  it('create leaves out Timeout and MachineDetection unless asked', async () => {
    answerOnce({ status: 201, json: twilioCall() });
    await carrier().create(placeCall);
    const form = twilioServer.seen[0]?.form;
    assert.ok(form);
    assert.equal(form.has('Timeout'), false);
    assert.equal(form.has('MachineDetection'), false);
  });

  it('fetch reads a finished call: duration, price and times', async () => {
    answerOnce({
      status: 200,
      json: twilioCall({
        status: 'completed',
        duration: '15',
        price: '-0.03000',
        answered_by: 'human',
        start_time: 'Tue, 31 Aug 2010 20:36:29 +0000',
        end_time: 'Tue, 31 Aug 2010 20:36:44 +0000',
      }),
    });
    const call = await carrier().fetch(SID);
    assert.deepEqual(call, {
      sid: SID,
      status: 'completed',
      durationSeconds: 15,
      price: '-0.03000',
      priceUnit: 'USD',
      answeredBy: 'human',
      startTime: new Date('2010-08-31T20:36:29Z'),
      endTime: new Date('2010-08-31T20:36:44Z'),
    });
    assert.equal(twilioServer.seen[0]?.method, 'GET');
    assert.equal(twilioServer.seen[0]?.path, CALL);
  });

  it('cancel posts Status=canceled and hangUp posts Status=completed to the call', async () => {
    answerOnce({ status: 200, json: twilioCall({ status: 'canceled' }) });
    assert.equal((await carrier().cancel(SID)).status, 'canceled');
    answerOnce({ status: 200, json: twilioCall({ status: 'completed', duration: '42' }) });
    assert.equal((await carrier().hangUp(SID)).durationSeconds, 42);
    const [hangUp] = twilioServer.seen;
    assert.equal(hangUp?.method, 'POST');
    assert.equal(hangUp?.path, CALL);
    assert.equal(hangUp?.form.get('Status'), 'completed');
  });

  it('refuses a malformed call sid without sending anything', async () => {
    answerOnce({ status: 200, json: twilioCall() });
    for (const sid of ['', '../Calls', `${SID}/Recordings`, 'CA123']) {
      const error = await rejection(carrier().hangUp(sid));
      assert.equal(error.failure, 'invalid_request');
      assert.equal(carrierErrorToDomain(error).detail.field, 'callSid');
    }
    assert.equal(twilioServer.seen.length, 0);
  });

  it('a 429 is not retried, and is reported as resource exhausted', async () => {
    answerOnce({ status: 429, json: { code: 20429, message: 'Too Many Requests', status: 429 } });
    const error = await rejection(carrier().create(placeCall));
    assert.equal(twilioServer.seen.length, 1, 'exactly one request: a retried create could dial twice');
    assert.equal(error.status, 429);
    assert.equal(carrierErrorToDomain(error).kind, 'resource_exhausted');
  });

  it('an invalid To (400, 21211) is invalid_argument on field to, and nothing was placed', async () => {
    answerOnce({
      status: 400,
      json: {
        code: 21211,
        message: "Invalid 'To' Phone Number: +1415555000",
        more_info: 'https://www.twilio.com/docs/errors/21211',
        status: 400,
      },
    });
    const error = await rejection(carrier().create(placeCall));
    assert.equal(error.failure, 'rejected');
    assert.equal(error.code, 21211);
    assert.equal(error.moreInfo, 'https://www.twilio.com/docs/errors/21211');
    assert.equal(error.mayHaveTakenEffect, false);
    const domain = carrierErrorToDomain(error);
    assert.equal(domain.kind, 'invalid_argument');
    assert.equal(domain.detail.field, 'to');
    assert.equal(domain.detail.carrierStatus, 400);
    assert.equal(domain.detail.carrierCode, 21211);
    assert.match(domain.message, /^to: not a valid phone number \(HTTP 400, Twilio error 21211: Invalid 'To'/);
  });

  it('rejected credentials (401, 20003) are unavailable, and no message carries a secret', async () => {
    answerOnce({ status: 401, json: { code: 20003, message: 'Authenticate', status: 401 } });
    const error = await rejection(carrier().fetch(SID));
    const domain = carrierErrorToDomain(error);
    assert.equal(domain.kind, 'unavailable');
    assert.equal(domain.message, 'carrier rejected our credentials; check TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN');
    const basic = Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64');
    for (const text of [JSON.stringify(error), error.message, String(error.stack), JSON.stringify(domain)]) {
      assert.ok(!text.includes(TOKEN) && !text.includes(basic), `a secret leaked into: ${text}`);
    }
  });

  it('an unknown call (404, 20404) is not_found, naming the call', async () => {
    answerOnce({ status: 404, json: { code: 20404, message: 'The requested resource was not found', status: 404 } });
    const domain = carrierErrorToDomain(await rejection(carrier().fetch(SID)));
    assert.equal(domain.kind, 'not_found');
    assert.equal(domain.message, `call ${SID} was not found at the carrier`);
  });

  it('a 5xx with a non-JSON body on create is unavailable and may have placed the call', async () => {
    answerOnce({ status: 502, raw: '<html>Bad Gateway</html>' });
    const error = await rejection(carrier().create(placeCall));
    assert.equal(error.status, 502);
    assert.equal(error.mayHaveTakenEffect, true);
    const domain = carrierErrorToDomain(error);
    assert.equal(domain.kind, 'unavailable');
    assert.equal(domain.detail.outcomeUnknown, true);
    assert.match(domain.message, /the call may have been placed/);
  });

  it('an RFC 9457 problem body with a Twilio code is mapped by its code', async () => {
    answerOnce({
      status: 400,
      json: { type: 'https://www.twilio.com/docs/errors/21212', title: 'Invalid From', status: 400, code: 21212 },
    });
    const error = await rejection(carrier().create(placeCall));
    assert.equal(error.code, 21212);
    assert.equal(error.moreInfo, 'https://www.twilio.com/docs/errors/21212');
    assert.equal(carrierErrorToDomain(error).detail.field, 'callerId');
  });

  it('a created call in a status we do not know is an unreadable answer that still names the call', async () => {
    answerOnce({ status: 201, json: twilioCall({ status: 'teleported' }) });
    const error = await rejection(carrier().create(placeCall));
    assert.equal(error.failure, 'bad_response');
    assert.equal(error.callSid, SID);
    assert.equal(error.mayHaveTakenEffect, true);
    assert.equal(carrierErrorToDomain(error).kind, 'internal');
  });

  it('a success whose body is not JSON is an unreadable answer', async () => {
    answerOnce({ status: 201, raw: 'created!' });
    const error = await rejection(carrier().create(placeCall));
    assert.equal(error.failure, 'bad_response');
    assert.equal(error.mayHaveTakenEffect, true);
  });

  it('no answer within timeoutMs is a timeout that may have placed the call, sent once', async () => {
    answerOnce('never');
    const quick = twilioCarrier({ accountSid: ACCOUNT, authToken: TOKEN, apiBaseUrl: baseUrl, timeoutMs: 150 });
    const error = await rejection(quick.create(placeCall));
    assert.equal(error.failure, 'timeout');
    assert.equal(error.mayHaveTakenEffect, true);
    assert.equal(twilioServer.seen.length, 1);
    const domain = carrierErrorToDomain(error);
    assert.equal(domain.kind, 'unavailable');
    assert.equal(domain.detail.outcomeUnknown, true);
  });

  it('a refused connection is unavailable and certainly placed nothing', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const nowhere = twilioCarrier({ accountSid: ACCOUNT, authToken: TOKEN, apiBaseUrl: `http://127.0.0.1:${port}` });
    const error = await rejection(nowhere.create(placeCall));
    assert.equal(error.failure, 'network');
    assert.equal(error.networkCode, 'ECONNREFUSED');
    assert.equal(error.mayHaveTakenEffect, false);
    assert.equal(carrierErrorToDomain(error).kind, 'unavailable');
  });
});

describe('carrierErrorToDomain', () => {
  const rejected = (status: number, code: number | null, operation: CarrierOperation = 'create') =>
    new CarrierError({ operation, failure: 'rejected', message: 'carrier says no', status, code, callSid: null });

  const cases: [string, CarrierError, string, string | undefined][] = [
    ['21210 unverified caller id', rejected(400, 21210), 'invalid_argument', 'callerId'],
    ['21212 invalid caller id', rejected(400, 21212), 'invalid_argument', 'callerId'],
    ['21211 invalid To', rejected(400, 21211), 'invalid_argument', 'to'],
    ['20003 is about credentials whatever the status', rejected(403, 20003), 'unavailable', undefined],
    ['401 without a code', rejected(401, null), 'unavailable', undefined],
    ['403 without a known code', rejected(403, 20005), 'failed_precondition', undefined],
    ['21220 invalid call state', rejected(400, 21220, 'cancel'), 'failed_precondition', undefined],
    ['another 400', rejected(400, 21999), 'invalid_argument', undefined],
    ['422 (a mock that validates)', rejected(422, null), 'invalid_argument', undefined],
    ['429 without a code', rejected(429, null), 'resource_exhausted', undefined],
    ['503', rejected(503, null), 'unavailable', undefined],
  ];
  for (const [name, error, kind, field] of cases) {
    it(`${name} → ${kind}${field ? ` on ${field}` : ''}`, () => {
      const domain = carrierErrorToDomain(error);
      assert.equal(domain.kind, kind);
      assert.equal(domain.detail.field, field ?? '', 'no field is the empty string of proto3');
    });
  }

  it('a DomainError passes through and anything else is internal, without its message', () => {
    const domain = new DomainError('not_found', 'call x was not found');
    assert.equal(carrierErrorToDomain(domain), domain);
    const internal = carrierErrorToDomain(new Error('password=hunter2'));
    assert.equal(internal.kind, 'internal');
    assert.ok(!internal.message.includes('hunter2'));
  });
});
