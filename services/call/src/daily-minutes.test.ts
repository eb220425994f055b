/**
 * The plan's daily call minutes: where a user's day starts, and the cap enforced by PlaceCall against
 * the real call service and user-credit (plan minutes from PLAN_DAILY_MINUTES), counting a running
 * call's whole time limit and freeing it when the call ends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import {
  type CallSystem,
  eventually,
  isTerminalStatus,
  NUMBERS,
  newUser,
  placeRequest,
  rejection,
  startCallSystem,
} from '../../../test/support/calls.js';
import { startOfLocalDay } from './daily-minutes.js';

describe('startOfLocalDay', () => {
  it('is midnight of the local date, in zones ahead of and behind UTC', () => {
    const now = new Date('2026-11-24T03:30:15.250Z');
    assert.equal(startOfLocalDay(now, 'UTC').toISOString(), '2026-11-24T00:00:00.000Z');
    // 04:30 in Berlin (UTC+1 in November): the day began at 23:00 UTC the day before.
    assert.equal(startOfLocalDay(now, 'Europe/Berlin').toISOString(), '2026-11-23T23:00:00.000Z');
    // 19:30 the day before in Los Angeles (UTC-8): the day began at 08:00 UTC on the 23rd.
    assert.equal(startOfLocalDay(now, 'America/Los_Angeles').toISOString(), '2026-11-23T08:00:00.000Z');
  });
});

describe('daily call minutes of the plan', () => {
  let rig: CallSystem;
  before(async () => {
    // Calls to the held number ring until canceled, so a call stays running while the test places another.
    rig = await startCallSystem({ PLAN_DAILY_MINUTES: 'free=6' });
  });
  after(async () => {
    await rig.stop();
  });

  it("refuses a call whose time limit would pass the day's minutes, and allows it once a running call ends", async () => {
    const userId = await newUser(rig.credit, 'daily');
    const { profile } = await rig.credit.getProfile({ userId });
    assert.equal(profile?.dailyCallMinutes, 6);

    const first = await rig.call.placeCall(placeRequest(userId, { to: NUMBERS.held, maxDurationSeconds: 300 }));
    const callId = first.call?.callId ?? '';
    // 5 minutes may still be used by the running call; 2 more would make 7 of 6.
    const refused = await rejection(rig.call.placeCall(placeRequest(userId, { maxDurationSeconds: 120 })));
    assert.equal(refused.code, status.FAILED_PRECONDITION);
    assert.match(refused.details, /6 call minutes a day/);
    // One that fits is placed.
    await rig.call.placeCall(placeRequest(userId, { to: NUMBERS.held, maxDurationSeconds: 60 }));

    await rig.call.cancelCall({ userId, callId, reason: 'test' });
    await eventually('the first call to end', async () => {
      const { call } = await rig.call.getCall({ userId, callId });
      return call && isTerminalStatus(call.status) ? call : undefined;
    });
    // The cancelled call never connected: it uses no minutes, so the refused call now fits.
    const placed = await rig.call.placeCall(placeRequest(userId, { maxDurationSeconds: 120 }));
    assert.ok(placed.call?.callId);
  });
});
