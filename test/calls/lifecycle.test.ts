/**
 * The call service through gRPC, in the local system (every service in this process on ephemeral
 * ports, the sandbox as carrier with fast timing): a call's lifecycle and its credits, failures that
 * release the hold, idempotency, replayed and forged callbacks, isolation between users, history
 * paging, WatchCall, and PlaceCall's validation.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { callCost, loadCatalog } from '@callgate/common';
import { SANDBOX_AUTH_TOKEN } from '@callgate/sandbox';
import { checkLedger } from '@callgate/user-credit';
import { status } from '@grpc/grpc-js';
import twilio from 'twilio';
import {
  ACCOUNT_CALLER_ID,
  balanceOf,
  type Call,
  type CallSystem,
  carrierCall,
  entryKindsOf,
  NUMBERS,
  newUser,
  placeRequest,
  postStatusCallback,
  rejection,
  SIGNUP_CREDITS,
  settledCall,
  startCallSystem,
  statusParams,
  usageOf,
  watchAll,
} from '../support/calls.js';

const catalog = loadCatalog();
const STANDARD = 10; // callgate-standard, credits per started minute
const DEFAULT_HOLD = callCost(catalog.pricing, STANDARD, 300); // the default max duration (300 s) on the default model
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let s: CallSystem;
before(async () => {
  s = await startCallSystem();
});
after(async () => {
  await s.stop();
});

const statuses = (call: Call) => call.timeline.map((e) => e.status);

/** No ledger discrepancy for the user (PostgreSQL only: on PGlite the database is not reachable from here). */
async function ledgerConsistent(userId: string): Promise<void> {
  if (s.db) assert.deepEqual(await checkLedger(s.db, userId), [], 'the balance equals the sum of the ledger');
}

describe('a call that is answered', () => {
  it('runs queued → initiated → ringing → in-progress → completed and is charged the price-table cost', async () => {
    const userId = await newUser(s.credit);
    const placed = await s.call.placeCall(placeRequest(userId));
    assert.equal(placed.deduplicated, false);
    const callId = placed.call?.callId ?? '';
    assert.match(callId, UUID);
    assert.equal(DEFAULT_HOLD, 50);
    assert.equal(placed.call?.reservedCredits, DEFAULT_HOLD, 'the worst case is held while the call runs');
    assert.equal(placed.call?.model, 'callgate-standard');
    assert.equal(placed.call?.from, '+15005550006', 'the account caller id by default');

    const call = await settledCall(s.call, userId, callId);
    assert.equal(call.status, 'CALL_STATUS_COMPLETED');
    assert.deepEqual(statuses(call), [
      'CALL_STATUS_QUEUED',
      'CALL_STATUS_INITIATED',
      'CALL_STATUS_RINGING',
      'CALL_STATUS_IN_PROGRESS',
      'CALL_STATUS_COMPLETED',
    ]);
    assert.deepEqual(
      call.timeline.map((e) => e.sequence),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      call.timeline.map((e) => e.source),
      ['api', 'callback', 'callback', 'callback', 'callback'],
    );
    assert.equal(call.durationSeconds, 1, 'SANDBOX_TALK_MS=200 is billed as one second');
    assert.equal(call.costCredits, callCost(catalog.pricing, STANDARD, call.durationSeconds));
    assert.equal(call.costCredits, 10, 'one started minute of the standard model');
    assert.match(call.carrierCallId, /^CA[0-9a-f]{32}$/);
    assert.ok(call.answeredAt && call.endedAt, 'answered and ended times are set');
    assert.ok(Date.parse(call.answeredAt) <= Date.parse(call.endedAt));

    assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS - 10, held: 0 });
    const usage = (await usageOf(s.credit, userId, callId)).reverse();
    assert.deepEqual(
      usage.map((e) => [e.kind, e.amount, e.heldChange, e.charged]),
      [
        ['ENTRY_KIND_RESERVE', -DEFAULT_HOLD, DEFAULT_HOLD, 0],
        ['ENTRY_KIND_SETTLE', DEFAULT_HOLD - 10, -DEFAULT_HOLD, 10],
      ],
    );
    await ledgerConsistent(userId);
    assert.equal((await carrierCall(s.twilio, call.carrierCallId)).status, 'completed');
  });

  it('GetCallProgress of an ended call says so', async () => {
    const userId = await newUser(s.credit);
    const { call } = await s.call.placeCall(placeRequest(userId));
    const callId = call?.callId ?? '';
    await settledCall(s.call, userId, callId);
    const { progress } = await s.call.getCallProgress({ userId, callId });
    assert.equal(progress?.status, 'CALL_STATUS_COMPLETED');
    assert.equal(progress?.terminal, true);
    assert.equal(progress?.percent, 100);
    assert.equal(progress?.lastEvent?.sequence, 5);
    assert.equal(progress?.lastEvent?.status, 'CALL_STATUS_COMPLETED');
  });
});

describe('a call that never connects releases its hold', () => {
  const cases = [
    { to: NUMBERS.busy, end: 'CALL_STATUS_BUSY', timeline: ['QUEUED', 'INITIATED', 'RINGING', 'BUSY'] },
    { to: NUMBERS.noAnswer, end: 'CALL_STATUS_NO_ANSWER', timeline: ['QUEUED', 'INITIATED', 'RINGING', 'NO_ANSWER'] },
    { to: NUMBERS.fails, end: 'CALL_STATUS_FAILED', timeline: ['QUEUED', 'INITIATED', 'FAILED'] },
  ];
  for (const c of cases) {
    it(`${c.to} ends ${c.end}, costs nothing, and returns the ${DEFAULT_HOLD} credits held`, async () => {
      const userId = await newUser(s.credit);
      const placed = await s.call.placeCall(placeRequest(userId, { to: c.to }));
      const callId = placed.call?.callId ?? '';
      assert.equal(placed.call?.reservedCredits, DEFAULT_HOLD);
      const call = await settledCall(s.call, userId, callId);
      assert.equal(call.status, c.end);
      assert.deepEqual(
        statuses(call),
        c.timeline.map((t) => `CALL_STATUS_${t}`),
      );
      assert.equal(call.costCredits, 0);
      assert.equal(call.durationSeconds, 0);
      assert.equal(call.answeredAt, '', 'never answered');
      if (c.end === 'CALL_STATUS_FAILED') assert.equal(call.errorCode, '404', "the carrier's SIP answer");
      assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
      assert.deepEqual(await entryKindsOf(s.credit, userId, callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_RELEASE']);
      await ledgerConsistent(userId);
    });
  }
});

describe('CancelCall of a call that has ended', () => {
  it('is FAILED_PRECONDITION saying how it ended, and changes nothing', async () => {
    const userId = await newUser(s.credit);
    const { call: placed } = await s.call.placeCall(placeRequest(userId, { to: NUMBERS.busy }));
    const callId = placed?.callId ?? '';
    const ended = await settledCall(s.call, userId, callId);
    const refused = await rejection(s.call.cancelCall({ userId, callId, reason: 'too late' }));
    assert.equal(refused.code, status.FAILED_PRECONDITION);
    assert.equal(
      refused.details,
      `call ${callId} already ended (busy at ${new Date(ended.endedAt).toISOString()}); nothing to cancel`,
    );
    const { call } = await s.call.getCall({ userId, callId });
    assert.deepEqual(call, ended, 'the call is exactly as before');
    assert.deepEqual(await entryKindsOf(s.credit, userId, callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_RELEASE']);
  });
});

describe('status callbacks after the end (duplicates, late, forged)', () => {
  let userId: string;
  let ended: Call;
  before(async () => {
    userId = await newUser(s.credit);
    const { call } = await s.call.placeCall(placeRequest(userId));
    ended = await settledCall(s.call, userId, call?.callId ?? '');
    assert.equal(ended.status, 'CALL_STATUS_COMPLETED');
  });

  it('a late "ringing" is accepted (200) and ignored: state, timeline and credits unchanged', async () => {
    const reply = await postStatusCallback(
      s.webhooks,
      ended.callId,
      statusParams(ended, 'ringing', { SequenceNumber: '1' }),
    );
    assert.equal(reply.status, 200);
    const { call } = await s.call.getCall({ userId, callId: ended.callId });
    assert.deepEqual(call, ended);
  });

  it('"completed" delivered again (twice, one with another duration) settles nothing more: one settle entry', async () => {
    for (const duration of ['1', '1', '600']) {
      const reply = await postStatusCallback(
        s.webhooks,
        ended.callId,
        statusParams(ended, 'completed', { CallDuration: duration, SequenceNumber: '3', SipResponseCode: '200' }),
      );
      assert.equal(reply.status, 200);
    }
    const { call } = await s.call.getCall({ userId, callId: ended.callId });
    assert.deepEqual(call, ended, 'duration, cost and timeline unchanged');
    assert.deepEqual(await entryKindsOf(s.credit, userId, ended.callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_SETTLE']);
    assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS - 10, held: 0 });
    await ledgerConsistent(userId);
  });

  it('a callback with a bad signature is 403; one without a signature is 403; neither changes anything', async () => {
    const params = statusParams(ended, 'completed', { CallDuration: '3600' });
    const forged = await postStatusCallback(s.webhooks, ended.callId, params, 'bm90IGEgc2lnbmF0dXJl');
    assert.deepEqual(forged, { status: 403, text: 'invalid X-Twilio-Signature' });
    const unsigned = await postStatusCallback(s.webhooks, ended.callId, params, null);
    assert.deepEqual(unsigned, { status: 403, text: 'invalid X-Twilio-Signature' });
    const { call } = await s.call.getCall({ userId, callId: ended.callId });
    assert.deepEqual(call, ended);
  });

  it('a callback signed for another call id is 403 (the signature covers the URL)', async () => {
    const params = statusParams(ended, 'completed');
    const url = `${s.webhooks}/twilio/status?callId=${randomUUID()}`;
    const signature = twilio.getExpectedTwilioSignature(SANDBOX_AUTH_TOKEN, url, params);
    const reply = await postStatusCallback(s.webhooks, ended.callId, params, signature);
    assert.equal(reply.status, 403);
  });
});

describe('PlaceCall is idempotent by key', () => {
  it('the same key twice, one after the other: one call, the second deduplicated, one hold', async () => {
    const userId = await newUser(s.credit);
    const request = placeRequest(userId);
    const first = await s.call.placeCall(request);
    const second = await s.call.placeCall(request);
    assert.equal(first.deduplicated, false);
    assert.equal(second.deduplicated, true);
    assert.equal(second.call?.callId, first.call?.callId);
    const callId = first.call?.callId ?? '';
    await settledCall(s.call, userId, callId);
    const third = await s.call.placeCall(request);
    assert.equal(third.deduplicated, true, 'also after the call ended');
    assert.equal(third.call?.status, 'CALL_STATUS_COMPLETED');
    const { calls } = await s.call.listCalls({ userId });
    assert.deepEqual(
      calls.map((c) => c.callId),
      [callId],
    );
    assert.deepEqual(await entryKindsOf(s.credit, userId, callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_SETTLE']);
    await ledgerConsistent(userId);
  });

  it('the same key ten times at once: one call, nine deduplicated, one reserve entry, one carrier call', async () => {
    const userId = await newUser(s.credit);
    const request = placeRequest(userId);
    const results = await Promise.all(Array.from({ length: 10 }, () => s.call.placeCall(request)));
    const ids = new Set(results.map((r) => r.call?.callId));
    assert.equal(ids.size, 1, 'every answer names the same call');
    assert.equal(results.filter((r) => !r.deduplicated).length, 1, 'exactly one placed it');
    const callId = results[0]?.call?.callId ?? '';
    const call = await settledCall(s.call, userId, callId);
    assert.equal(call.status, 'CALL_STATUS_COMPLETED');
    assert.equal(statuses(call).length, 5, 'one lifecycle, not several merged');
    const { calls } = await s.call.listCalls({ userId });
    assert.equal(calls.length, 1);
    assert.deepEqual(await entryKindsOf(s.credit, userId, callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_SETTLE']);
    assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS - 10, held: 0 });
    if (s.db) {
      // Every callback the carrier sent names one carrier call: a second dial would show a second CallSid.
      const { rows } = await s.db.query<{ sids: string }>(
        'SELECT count(DISTINCT carrier_call_id) AS sids FROM calls.carrier_callbacks WHERE call_id = $1',
        [callId],
      );
      assert.equal(Number(rows[0]?.sids), 1);
    }
    await ledgerConsistent(userId);
  });

  it('the same key with a different request is INVALID_ARGUMENT naming idempotencyKey; the first call stands', async () => {
    const userId = await newUser(s.credit);
    const request = placeRequest(userId, { to: NUMBERS.busy });
    const { call } = await s.call.placeCall(request);
    const refused = await rejection(s.call.placeCall({ ...request, to: NUMBERS.answers }));
    assert.equal(refused.code, status.INVALID_ARGUMENT);
    assert.equal(refused.meta.field, 'idempotencyKey');
    assert.equal(
      refused.details,
      `idempotencyKey: "${request.idempotencyKey}" was already used for a different call; use a new key`,
    );
    const ended = await settledCall(s.call, userId, call?.callId ?? '');
    assert.equal(ended.to, NUMBERS.busy);
    assert.equal((await s.call.listCalls({ userId })).calls.length, 1);
  });

  it('the same key from another user is another call', async () => {
    const alice = await newUser(s.credit);
    const bob = await newUser(s.credit);
    const key = `shared-${randomUUID()}`;
    const a = await s.call.placeCall(placeRequest(alice, { idempotencyKey: key, to: NUMBERS.busy }));
    const b = await s.call.placeCall(placeRequest(bob, { idempotencyKey: key, to: NUMBERS.busy }));
    assert.equal(b.deduplicated, false);
    assert.notEqual(a.call?.callId, b.call?.callId);
    await settledCall(s.call, alice, a.call?.callId ?? '');
    await settledCall(s.call, bob, b.call?.callId ?? '');
  });
});

describe("another user's call", () => {
  it('is NOT_FOUND for GetCall, CancelCall, GetCallProgress and WatchCall, the same as no call; nothing leaks', async () => {
    const owner = await newUser(s.credit);
    const other = await newUser(s.credit);
    const { call } = await s.call.placeCall(placeRequest(owner, { to: NUMBERS.busy }));
    const callId = call?.callId ?? '';
    const expected = { code: status.NOT_FOUND, details: `call ${callId} was not found`, meta: {} };
    assert.deepEqual(await rejection(s.call.getCall({ userId: other, callId })), expected);
    assert.deepEqual(await rejection(s.call.cancelCall({ userId: other, callId, reason: 'mine now' })), expected);
    assert.deepEqual(await rejection(s.call.getCallProgress({ userId: other, callId })), expected);
    const watched = await watchAll(s.call, { userId: other, callId });
    assert.deepEqual(watched, {
      events: [],
      error: { code: status.NOT_FOUND, details: `call ${callId} was not found` },
    });
    // The same answer as for a call that does not exist at all.
    const missing = randomUUID();
    assert.deepEqual(await rejection(s.call.getCall({ userId: owner, callId: missing })), {
      ...expected,
      details: `call ${missing} was not found`,
    });
    const ended = await settledCall(s.call, owner, callId);
    assert.equal(ended.status, 'CALL_STATUS_BUSY', "the other user's cancel did nothing");
    assert.deepEqual((await s.call.listCalls({ userId: other })).calls, []);
  });

  it('a call id that is not a UUID is INVALID_ARGUMENT naming callId', async () => {
    const userId = await newUser(s.credit);
    const refused = await rejection(s.call.getCall({ userId, callId: "1' OR '1'='1" }));
    assert.equal(refused.code, status.INVALID_ARGUMENT);
    assert.equal(refused.meta.field, 'callId');
  });
});

describe('ListCalls', () => {
  let userId: string;
  const placed: string[] = []; // in the order placed: oldest first
  before(async () => {
    userId = await newUser(s.credit);
    // One after the other, each to its end, so every call has its own created_at and none hits the concurrency limit.
    for (const to of [NUMBERS.busy, NUMBERS.answers, NUMBERS.busy, NUMBERS.fails, NUMBERS.busy]) {
      const { call } = await s.call.placeCall(placeRequest(userId, { to }));
      placed.push(call?.callId ?? '');
      await settledCall(s.call, userId, call?.callId ?? '');
    }
  });

  it('pages of 2 over 5 calls: 3 pages, newest first, no duplicates, then no token', async () => {
    const pages: string[][] = [];
    const tokens: string[] = [];
    let pageToken = '';
    do {
      const page = await s.call.listCalls({ userId, pageSize: 2, pageToken });
      pages.push(page.calls.map((c) => c.callId));
      tokens.push(page.nextPageToken);
      pageToken = page.nextPageToken;
    } while (pageToken && pages.length < 10);
    const newestFirst = [...placed].reverse();
    assert.deepEqual(pages, [newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);
    assert.equal(tokens[2], '', 'the last page has no next token');
    assert.ok(tokens[0] && tokens[1]);
  });

  it('lists have no timeline; the default page holds all five', async () => {
    const { calls, nextPageToken } = await s.call.listCalls({ userId });
    assert.equal(calls.length, 5);
    assert.equal(nextPageToken, '');
    assert.ok(calls.every((c) => c.timeline.length === 0 && c.userId === userId));
  });

  it('filters by status, and pages within the filter', async () => {
    const busy = [placed[4], placed[2], placed[0]];
    const first = await s.call.listCalls({ userId, pageSize: 2, statuses: ['CALL_STATUS_BUSY'] });
    assert.deepEqual(
      first.calls.map((c) => c.callId),
      busy.slice(0, 2),
    );
    const second = await s.call.listCalls({
      userId,
      pageSize: 2,
      statuses: ['CALL_STATUS_BUSY'],
      pageToken: first.nextPageToken,
    });
    assert.deepEqual(
      second.calls.map((c) => c.callId),
      busy.slice(2),
    );
    assert.equal(second.nextPageToken, '');
    const some = await s.call.listCalls({ userId, statuses: ['CALL_STATUS_COMPLETED', 'CALL_STATUS_FAILED'] });
    assert.deepEqual(
      some.calls.map((c) => c.callId),
      [placed[3], placed[1]],
    );
    const none = await s.call.listCalls({ userId, statuses: ['CALL_STATUS_CANCELED'] });
    assert.deepEqual(none.calls, []);
  });

  it('filters by number (to or from)', async () => {
    const to = await s.call.listCalls({ userId, number: NUMBERS.fails });
    assert.deepEqual(
      to.calls.map((c) => c.callId),
      [placed[3]],
    );
    const from = await s.call.listCalls({ userId, number: ACCOUNT_CALLER_ID });
    assert.equal(from.calls.length, 5, 'every call was made from the account number');
  });

  it('refuses a page size outside 1..100, a token it did not make, and an unspecified status', async () => {
    for (const pageSize of [-1, 101]) {
      const refused = await rejection(s.call.listCalls({ userId, pageSize }));
      assert.equal(refused.code, status.INVALID_ARGUMENT, `pageSize ${pageSize}`);
      assert.equal(refused.meta.field, 'pageSize');
    }
    const token = await rejection(s.call.listCalls({ userId, pageToken: 'not-a-token' }));
    assert.equal(token.code, status.INVALID_ARGUMENT);
    assert.equal(token.meta.field, 'pageToken');
    // Well-formed base64url JSON with the right keys but values the query cannot use: refused, not INTERNAL.
    for (const crafted of [
      { t: 'yesterday', id: randomUUID() },
      { t: new Date().toISOString(), id: 'x' },
      { t: 1e20, id: 1 },
    ]) {
      const pageToken = Buffer.from(JSON.stringify(crafted)).toString('base64url');
      const refused = await rejection(s.call.listCalls({ userId, pageToken }));
      assert.equal(refused.code, status.INVALID_ARGUMENT, JSON.stringify(crafted));
      assert.equal(refused.meta.field, 'pageToken');
    }
    const unspecified = await rejection(s.call.listCalls({ userId, statuses: ['CALL_STATUS_UNSPECIFIED'] }));
    assert.equal(unspecified.code, status.INVALID_ARGUMENT);
    assert.equal(unspecified.meta.field, 'statuses');
  });
});

describe('WatchCall', () => {
  it('streams the events in order and ends with terminal=true', async () => {
    const userId = await newUser(s.credit);
    const { call } = await s.call.placeCall(placeRequest(userId));
    const callId = call?.callId ?? '';
    const { events, error } = await watchAll(s.call, { userId, callId });
    assert.equal(error, undefined, 'the server ended the stream itself');
    assert.deepEqual(
      events.map((e) => [e.event?.sequence, e.event?.status, e.terminal]),
      [
        [1, 'CALL_STATUS_QUEUED', false],
        [2, 'CALL_STATUS_INITIATED', false],
        [3, 'CALL_STATUS_RINGING', false],
        [4, 'CALL_STATUS_IN_PROGRESS', false],
        [5, 'CALL_STATUS_COMPLETED', true],
      ],
    );
    assert.ok(events.every((e) => e.callId === callId));
    assert.equal(events.at(-1)?.progress?.terminal, true);
  });

  it('replays after a sequence, also once the call has ended', async () => {
    const userId = await newUser(s.credit);
    const { call } = await s.call.placeCall(placeRequest(userId, { to: NUMBERS.busy }));
    const callId = call?.callId ?? '';
    await settledCall(s.call, userId, callId);
    const all = await watchAll(s.call, { userId, callId });
    assert.deepEqual(
      all.events.map((e) => [e.event?.sequence, e.terminal]),
      [
        [1, false],
        [2, false],
        [3, false],
        [4, true],
      ],
    );
    const tail = await watchAll(s.call, { userId, callId, afterSequence: 2 });
    assert.deepEqual(
      tail.events.map((e) => [e.event?.sequence, e.event?.status, e.terminal]),
      [
        [3, 'CALL_STATUS_RINGING', false],
        [4, 'CALL_STATUS_BUSY', true],
      ],
    );
  });
});

describe('PlaceCall validation', () => {
  /** A refused request left nothing behind: no call, no hold, no ledger entry but the signup grant. */
  async function nothingLeft(userId: string): Promise<void> {
    assert.deepEqual((await s.call.listCalls({ userId })).calls, []);
    assert.deepEqual(await balanceOf(s.credit, userId), { available: SIGNUP_CREDITS, held: 0 });
    assert.deepEqual(
      (await usageOf(s.credit, userId)).map((e) => e.kind),
      ['ENTRY_KIND_GRANT'],
    );
    await ledgerConsistent(userId);
  }

  const invalid: [string, Partial<Parameters<typeof placeRequest>[1]>, string, RegExp][] = [
    ['a number that is not E.164', { to: '555-1234' }, 'to', /^to: an E\.164 phone number such as/],
    ['a missing idempotency key', { idempotencyKey: '' }, 'idempotencyKey', /^idempotencyKey: required/],
    ['an empty task', { task: '   ' }, 'task', /^task: /],
    [
      'a caller id that is not yours',
      { from: '+15551234567' },
      'callerId',
      /^callerId: \+15551234567 is not a number you may call from; use one of \+15005550006$/,
    ],
    ['an unknown voice', { voice: 'no-such-voice' }, 'voice', /^voice: unknown voice "no-such-voice"/],
    ['a voice for another language', { voice: 'de-DE-Journey-F' }, 'voice', /speaks de-DE, not en-US/],
    ['an unknown model', { model: 'gpt-0' }, 'model', /^model: unknown model "gpt-0"/],
    ['a max duration over an hour', { maxDurationSeconds: 3601 }, 'maxDurationSeconds', /between 30 and 3600/],
    ['an outcome schema that is not an object', { outcomeSchemaJson: '[1]' }, 'outcomeSchema', /JSON Schema/],
  ];
  for (const [what, overrides, field, message] of invalid) {
    it(`${what} is INVALID_ARGUMENT naming ${field}, and nothing is held or recorded`, async () => {
      const userId = await newUser(s.credit);
      const refused = await rejection(s.call.placeCall(placeRequest(userId, overrides)));
      assert.equal(refused.code, status.INVALID_ARGUMENT);
      assert.equal(refused.meta.field, field);
      assert.match(refused.details, message);
      await nothingLeft(userId);
    });
  }

  it('not enough credits is FAILED_PRECONDITION saying 1500 are needed and 500 available; nothing is held', async () => {
    const userId = await newUser(s.credit);
    const refused = await rejection(
      s.call.placeCall(placeRequest(userId, { model: 'callgate-advanced', maxDurationSeconds: 3600 })),
    );
    assert.equal(refused.code, status.FAILED_PRECONDITION);
    assert.match(refused.details, /needs 1500 credits held, and 500 are available/);
    assert.deepEqual(refused.meta, { needed: '1500', available: '500' });
    await nothingLeft(userId);
  });

  it('within the quiet hours is FAILED_PRECONDITION naming them; nothing is held', async () => {
    const userId = await newUser(s.credit);
    const hhmm = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString().slice(11, 16);
    const quietHours = { start: hhmm(-3600_000), end: hhmm(3600_000) };
    await s.credit.updatePreferences({ userId, patch: { quietHours } });
    const refused = await rejection(s.call.placeCall(placeRequest(userId)));
    assert.equal(refused.code, status.FAILED_PRECONDITION);
    assert.equal(
      refused.details,
      `it is within your quiet hours (${quietHours.start}–${quietHours.end} UTC); call after ${quietHours.end} or change quietHours`,
    );
    await nothingLeft(userId);
  });

  it('a user who does not exist is refused, not called', async () => {
    const userId = `nobody-${randomUUID()}`;
    const refused = await rejection(s.call.placeCall(placeRequest(userId)));
    assert.equal(refused.code, status.NOT_FOUND);
    assert.deepEqual((await s.call.listCalls({ userId })).calls, []);
  });
});
