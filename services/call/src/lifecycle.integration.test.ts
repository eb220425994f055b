/**
 * Every source of a status report goes through CallLifecycle: the carrier's answer at dial, a signed
 * status callback, the poller's refresh, the ConversationRelay's connection, the recovery pass and a
 * cancel each drive a call to its end against the real services (sandbox carrier behind the rig's
 * proxy, user-credit, sheets-sync writing to the sandbox's Google Sheet). For each, the call's row in
 * the sheet, read with the googleapis client, shows every status the call was given, one after the
 * other (the test waits for each before giving the next: a transition that did not reach sheets-sync
 * would never show, as the recovery pass that would resend it does not run here), and the credits were
 * settled or released exactly once: one settle or release in the ledger, one settlement event on the
 * call's WatchCall stream (its own sequence, after the end), which ends with it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SANDBOX_AUTH_TOKEN } from '@callgate/sandbox';
import { google } from 'googleapis';
import twilio from 'twilio';
import { WebSocket } from 'ws';
import {
  type Call,
  type CallInstance,
  type CallRig,
  entryKindsOf,
  eventually,
  isTerminalStatus,
  newUser,
  placeRequest,
  postStatusCallback,
  recordCrashedIntent,
  rejection,
  startCallRig,
  statusParams,
  type WatchEvent,
  watchAll,
} from '../../../test/support/calls.js';
import { callIdFor } from './place-call.js';

/** The sheet's columns (sheets-sync's default GOOGLE_SHEETS_COLUMNS): A is the call id. */
const STATUS_COLUMN = 5;
const COST_COLUMN = 7;

let rig: CallRig;
let instance: CallInstance;
let sheet: { apiUrl: string; spreadsheetId: string };
before(async () => {
  // The carrier stands still (a step every 10 minutes): every status here is one the test gives.
  rig = await startCallRig(
    { SANDBOX_CALL_STEP_MS: '600000', SANDBOX_SHEETS_QUOTA_PER_MINUTE: '100000' },
    { sheet: true },
  );
  sheet = rig.sheet as typeof sheet;
  instance = await rig.startCall({ DIAL_GRACE_MS: '3600000', RECOVERY_INTERVAL_MS: '3600000' });
});
after(async () => {
  await instance?.stop();
  await rig?.stop();
});

/** The call's row in the sandbox's Google Sheet, read through the Sheets API v4 (googleapis). */
async function sheetRow(callId: string): Promise<string[] | undefined> {
  const sheets = google.sheets({ version: 'v4', rootUrl: `${sheet.apiUrl}/`, retry: false });
  try {
    const { data } = await sheets.spreadsheets.values.get({ spreadsheetId: sheet.spreadsheetId, range: 'Calls!A:J' });
    return (data.values as string[][] | undefined)?.find((row) => row[0] === callId);
  } catch {
    return undefined; // Not written yet (the spreadsheet is created by its first write).
  }
}

/** Waits until the call's sheet row shows the status (the lowercase word the carrier uses). */
async function sheetShows(callId: string, status: string): Promise<string[]> {
  let seen = 'no row';
  return eventually(
    `the sheet row of ${callId} to show ${status}`,
    async () => {
      const row = await sheetRow(callId);
      seen = row ? `status ${row[STATUS_COLUMN]}, cost ${row[COST_COLUMN]}` : 'no row';
      return row?.[STATUS_COLUMN] === status ? row : undefined;
    },
    5000,
    { intervalMs: 25, lastSeen: () => seen },
  );
}

/** The whole WatchCall stream until the settlement (until_settled), which must come once and last. */
async function eventsUntilSettled(userId: string, callId: string): Promise<WatchEvent[]> {
  const { events, error } = await watchAll(instance.client, { userId, callId, untilSettled: true });
  assert.equal(error, undefined, 'the stream ends by itself');
  const settlements = events.filter((e) => e.event?.kind === 'CALL_EVENT_KIND_SETTLEMENT');
  assert.equal(settlements.length, 1, 'one settlement event');
  const last = events.at(-1);
  assert.equal(last?.event?.kind, 'CALL_EVENT_KIND_SETTLEMENT', 'the settlement ends the stream');
  assert.equal(last?.terminal, true);
  const ended = events.find((e) => e.event && isTerminalStatus(e.event.status));
  assert.ok(ended?.event && last.event && Number(last.event.sequence) > Number(ended.event.sequence));
  return events;
}

/** The statuses (with their source) of the call's timeline, as GetCall shows it. */
async function timeline(userId: string, callId: string): Promise<string[]> {
  const { call } = await instance.client.getCall({ userId, callId });
  return (call?.timeline ?? []).map((e) => `${e.status.replace('CALL_STATUS_', '').toLowerCase()}:${e.source}`);
}

async function placed(): Promise<{ userId: string; call: Call }> {
  const userId = await newUser(rig.credit, 'lifecycle');
  const { call } = await instance.client.placeCall(placeRequest(userId));
  assert.ok(call);
  assert.match(call.carrierCallId, /^CA[0-9a-f]{32}$/);
  await sheetShows(call.callId, 'queued');
  return { userId, call };
}

async function callback(call: Call, status: string, extra: Record<string, string> = {}): Promise<void> {
  const reply = await postStatusCallback(instance.webhooks, call.callId, statusParams(call, status, extra));
  assert.deepEqual(reply, { status: 200, text: '' });
}

describe('every source of a status report goes through CallLifecycle', () => {
  it('signed status callbacks: each status reaches the sheet, and the end is settled once', async () => {
    const { userId, call } = await placed();
    for (const status of ['initiated', 'ringing', 'in-progress']) {
      await callback(call, status);
      await sheetShows(call.callId, status);
    }
    await callback(call, 'completed', { CallDuration: '42' });
    await sheetShows(call.callId, 'completed');
    const events = await eventsUntilSettled(userId, call.callId);
    const settlement = events.at(-1)?.event;
    assert.ok(settlement && Number(settlement.costCredits) > 0, 'a connected call is charged');
    assert.deepEqual(await entryKindsOf(rig.credit, userId, call.callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_SETTLE']);
    await eventually('the sheet row to show the cost', async () =>
      (await sheetRow(call.callId))?.[COST_COLUMN] === String(settlement.costCredits) ? true : undefined,
    );
    assert.deepEqual(await timeline(userId, call.callId), [
      'queued:api',
      'initiated:callback',
      'ringing:callback',
      'in_progress:callback',
      'completed:callback',
    ]);
  });

  it("the carrier's answer at dial: a refused call is failed and released once", async () => {
    // The sandbox calls back only loopback URLs: a service that gives it another is refused at create.
    const refusing = await rig.startCall({
      PUBLIC_BASE_URL: 'http://callgate.example',
      RECOVERY_INTERVAL_MS: '3600000',
    });
    try {
      const userId = await newUser(rig.credit, 'lifecycle');
      const request = placeRequest(userId);
      const release = rig.carrier.holdCreates();
      const placing = rejection(refusing.client.placeCall(request));
      const callId = callIdFor(userId, request.idempotencyKey);
      await rig.carrier.createArrived(callId);
      // Recorded before the carrier was asked: the sheet shows the queued call while it is being dialled.
      await sheetShows(callId, 'queued');
      release();
      const refused = await placing;
      assert.match(refused.details, /StatusCallback|loopback/i, 'the carrier said why');
      await sheetShows(callId, 'failed');
      await eventsUntilSettled(userId, callId);
      assert.deepEqual(await entryKindsOf(rig.credit, userId, callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_RELEASE']);
      assert.deepEqual(await timeline(userId, callId), ['queued:api', 'failed:api']);
    } finally {
      await refusing.stop();
    }
  });

  it("the poller's refresh: each status the carrier reports to a poll reaches the sheet", async () => {
    const { userId, call } = await placed();
    const sid = call.carrierCallId;
    try {
      for (const status of ['ringing', 'in-progress']) {
        rig.carrier.answerFetch(sid, { status });
        const refreshed = await instance.client.refreshStatus({ callId: call.callId, reason: 'poll' });
        assert.equal(refreshed.changed, true);
        await sheetShows(call.callId, status);
      }
      rig.carrier.answerFetch(sid, { status: 'completed', duration: '61', end_time: new Date().toUTCString() });
      const ended = await instance.client.refreshStatus({ callId: call.callId, reason: 'poll' });
      assert.equal(ended.terminal, true);
      await sheetShows(call.callId, 'completed');
    } finally {
      rig.carrier.answerFetch(sid, undefined);
    }
    await eventsUntilSettled(userId, call.callId);
    assert.deepEqual(await entryKindsOf(rig.credit, userId, call.callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_SETTLE']);
    assert.deepEqual(await timeline(userId, call.callId), [
      'queued:api',
      'ringing:poll',
      'in_progress:poll',
      'completed:poll',
    ]);
  });

  it('the relay: its connection reports the answer, which reaches the sheet', async () => {
    const { userId, call } = await placed();
    await callback(call, 'ringing');
    await sheetShows(call.callId, 'ringing');
    // The carrier's part on answer: fetch the voice URL (signed), then open the relay socket it names.
    const voiceUrl = `${instance.webhooks}/twilio/voice?callId=${call.callId}`;
    const params = {
      CallSid: call.carrierCallId,
      CallStatus: 'in-progress',
      AccountSid: 'AC',
      To: call.to,
      From: call.from,
    };
    const twiml = await fetch(voiceUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(SANDBOX_AUTH_TOKEN, voiceUrl, params),
      },
      body: new URLSearchParams(params).toString(),
    }).then((r) => r.text());
    const relayUrl = /url="([^"]+)"/.exec(twiml)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(relayUrl, `a relay URL in ${twiml}`);
    const ws = new WebSocket(relayUrl, {
      headers: { 'x-twilio-signature': twilio.getExpectedTwilioSignature(SANDBOX_AUTH_TOKEN, relayUrl, {}) },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(
      JSON.stringify({
        type: 'setup',
        sessionId: 'VX1',
        callSid: call.carrierCallId,
        accountSid: 'AC',
        customParameters: { callId: call.callId },
      }),
    );
    await sheetShows(call.callId, 'in-progress');
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.close();
    await closed;
    await callback(call, 'completed', { CallDuration: '30' });
    await sheetShows(call.callId, 'completed');
    await eventsUntilSettled(userId, call.callId);
    assert.deepEqual(await entryKindsOf(rig.credit, userId, call.callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_SETTLE']);
    assert.deepEqual(await timeline(userId, call.callId), [
      'queued:api',
      'ringing:callback',
      'in_progress:relay',
      'completed:callback',
    ]);
  });

  it('the recovery pass: an intent too old to dial is failed, and released once', async () => {
    const userId = await newUser(rig.credit, 'lifecycle');
    // A PlaceCall that died after recording its intent, two hours ago (past DIAL_MAX_AGE_MS).
    const intent = await recordCrashedIntent(rig, userId, { agoMs: 2 * 3600_000 });
    // A replica starting up runs a recovery pass at once.
    const recovering = await rig.startCall({ DIAL_GRACE_MS: '1000', RECOVERY_INTERVAL_MS: '3600000' });
    try {
      await sheetShows(intent.call_id, 'failed');
    } finally {
      await recovering.stop();
    }
    await eventsUntilSettled(userId, intent.call_id);
    assert.deepEqual(await entryKindsOf(rig.credit, userId, intent.call_id), [
      'ENTRY_KIND_RESERVE',
      'ENTRY_KIND_RELEASE',
    ]);
    assert.deepEqual(await timeline(userId, intent.call_id), ['queued:api', 'failed:system']);
  });

  it('a cancel: the ringing call is canceled at the carrier, and released once', async () => {
    // The carrier's own report of the cancel would race the API's answer: only the test's callbacks arrive.
    rig.carrier.divertCallbacks(true);
    const { userId, call } = await placed().finally(() => rig.carrier.divertCallbacks(false));
    for (const status of ['initiated', 'ringing']) {
      await callback(call, status);
      await sheetShows(call.callId, status);
    }
    const { outcome } = await instance.client.cancelCall({ userId, callId: call.callId, reason: 'not now' });
    assert.equal(outcome, 'CANCEL_OUTCOME_CANCELED_BEFORE_ANSWER');
    await sheetShows(call.callId, 'canceled');
    await eventsUntilSettled(userId, call.callId);
    assert.deepEqual(await entryKindsOf(rig.credit, userId, call.callId), ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_RELEASE']);
    const seen = await timeline(userId, call.callId);
    assert.deepEqual(seen, ['queued:api', 'initiated:callback', 'ringing:callback', 'canceled:api']);
  });
});
