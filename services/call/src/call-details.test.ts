/**
 * GetCall's one-statement read (call-details.ts) gives exactly what the four separate reads it replaced
 * gave (the row, the timeline with its settlement, the turns, the outcome), for a call with everything
 * and for one with nothing yet, and NOT_FOUND for another user's call.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, migrate, readMigrations, systemClock } from '@callgate/common';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { readCallDetails } from './call-details.js';
import { CallStore } from './call-store.js';
import { toCall } from './call-view.js';
import { newCallFixture } from './new-call.fixture.js';
import { TranscriptStore } from './transcript-store.js';

let test: TestDatabase;
let store: CallStore;
let transcripts: TranscriptStore;
const user = `call-details-${randomUUID()}`;

before(async () => {
  test = await openTestDatabase();
  await migrate(
    test.db,
    'calls',
    readMigrations(fileURLToPath(new URL('../migrations/', import.meta.url))),
    createLogger('test', 'silent'),
  );
  store = new CallStore(test.db, systemClock);
  transcripts = new TranscriptStore(test.db, systemClock);
});
after(async () => {
  const mine = 'SELECT call_id FROM calls.calls WHERE user_id = $1';
  for (const table of ['call_events', 'transcript_turns', 'call_outcomes']) {
    await test.db.query(`DELETE FROM calls.${table} WHERE call_id IN (${mine})`, [user]);
  }
  await test.db.query('DELETE FROM calls.calls WHERE user_id = $1', [user]);
  await test.close();
});

const newCall = () => newCallFixture(user, { metadata: { team: 'a' } });

/** What GetCall read before: four statements. */
async function fourReads(userId: string, callId: string) {
  const call = await store.forUser(userId, callId);
  const [events, turns, outcome] = await Promise.all([
    store.events(callId),
    transcripts.turns(callId),
    transcripts.outcome(callId),
  ]);
  return { call, events, conversation: { turns, outcome } };
}

async function recorded(): Promise<string> {
  const call = await store.insertIntent(newCall(), 100);
  assert.ok(call && typeof call === 'object' && 'call_id' in call);
  return call.call_id;
}

describe('readCallDetails', () => {
  it('reads what the four reads read, for an ended, settled call with a conversation', async () => {
    const callId = await recorded();
    await store.apply(callId, { status: 'ringing', occurredAt: new Date(), source: 'callback' });
    await store.apply(callId, {
      status: 'in-progress',
      occurredAt: new Date(),
      source: 'callback',
      detail: 'answered',
    });
    await store.apply(callId, { status: 'completed', occurredAt: new Date(), source: 'poll', durationSeconds: 42 });
    // A settlement after the end, and microseconds the timestamps' parsing must treat the same way.
    await test.db.query(
      `INSERT INTO calls.call_events (call_id, sequence, status, occurred_at, recorded_at, source, detail, kind, cost_credits)
       SELECT $1, max(sequence) + 1, 'completed', '2026-12-07 10:11:12.987654+00', now(), 'system', 'settled', 'settlement', 7
         FROM calls.call_events WHERE call_id = $1`,
      [callId],
    );
    await transcripts.appendTurn(callId, {
      speaker: 'agent',
      text: 'hello',
      startedAt: new Date(),
      interrupted: false,
    });
    await transcripts.appendTurn(callId, {
      speaker: 'callee',
      text: 'hi, "you"',
      startedAt: new Date(),
      interrupted: true,
    });
    await transcripts.saveOutcome(callId, {
      fields: { name: 'Ada', nested: { n: 1 } },
      missingFields: ['email'],
      summary: 'greeted',
      objectiveReached: true,
      endReason: 'objective',
    });

    const details = await readCallDetails(test.db, user, callId);
    const before = await fourReads(user, callId);
    assert.deepEqual(details, before);
    assert.equal(details.events.length, 5);
    assert.equal(details.events.at(-1)?.kind, 'settlement');
    assert.equal(details.conversation.turns.length, 2);
    assert.ok(details.conversation.outcome);
    assert.deepEqual(
      toCall(details.call, details.events, details.conversation),
      toCall(before.call, before.events, before.conversation),
    );
    assert.ok(!Object.keys(details.call).some((k) => k.startsWith('gc_')), 'no helper column on the row');
  });

  it('reads a call with no conversation yet as no turns and no outcome', async () => {
    const callId = await recorded();
    const details = await readCallDetails(test.db, user, callId);
    assert.deepEqual(details, await fourReads(user, callId));
    assert.deepEqual(details.conversation, { turns: [], outcome: undefined });
    assert.equal(details.events.length, 1);
  });

  it("is NOT_FOUND for another user's call and for an unknown one", async () => {
    const callId = await recorded();
    await assert.rejects(readCallDetails(test.db, `${user}-other`, callId), { kind: 'not_found' });
    await assert.rejects(readCallDetails(test.db, user, randomUUID()), { kind: 'not_found' });
  });
});
