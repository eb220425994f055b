/**
 * Deleting a call's transcript redacts the call's stored webhook bodies in the same transaction (attack
 * review of Dec 2026, finding 4: they kept a full copy for good, and retries after the deletion sent it).
 * Real PostgreSQL/PGlite; the bodies are written as the relay renders them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  createLogger,
  ManualClock,
  migrate,
  readMigrations,
  type WebhookEventType,
  webhookEventId,
} from '@callgate/common';
import { Registry } from 'prom-client';
import { openTestDatabase, type TestDatabase } from '../../../../test/support/database.js';
import { CallStore } from '../call-store.js';
import { newCallFixture } from '../new-call.fixture.js';
import { CallData } from './call-data.js';
import { recordingMetrics } from './metrics.js';
import { RecordingObjects } from './object-store.js';
import { RecordingStore } from './recording-store.js';

const log = createLogger('test', 'silent');
const clock = new ManualClock(Date.parse('2026-12-08T00:00:00Z'));
const SECRET_WORDS = 'my door code is 4711';
let test: TestDatabase;

before(async () => {
  test = await openTestDatabase();
  await migrate(test.db, 'calls', readMigrations(fileURLToPath(new URL('../../migrations/', import.meta.url))), log);
});
after(async () => {
  await test?.close();
});

/** A webhook body as the relay renders it: the call as getCallDetails shows it. */
const body = (callId: string, type: WebhookEventType, outcome: unknown) =>
  JSON.stringify({
    id: webhookEventId(callId, type),
    type,
    createdAt: clock.date().toISOString(),
    data: {
      call: {
        callId,
        status: 'completed',
        transcript: [{ speaker: 'callee', text: SECRET_WORDS }],
        outcome,
        transcriptDeletedAt: '',
      },
    },
  });

describe('deleting a transcript', () => {
  it('redacts the stored webhook bodies of that call, and only of that call', async () => {
    const store = new CallStore(test.db, clock);
    const data = new CallData({
      store,
      recordings: new RecordingStore(test.db, clock),
      // Never reached: no recording is deleted here.
      objects: new RecordingObjects({ bucket: 'unused', region: 'us-east-1' }),
      metrics: recordingMetrics(new Registry()),
      mirror: () => {},
      clock,
      log,
    });
    const userId = `redaction-${randomUUID()}`;
    const ended = async () => {
      const call = newCallFixture(userId);
      await store.insertIntent(call, 100);
      await test.db.query(`UPDATE calls.calls SET status = 'completed', ended_at = $2 WHERE call_id = $1`, [
        call.call_id,
        clock.date(),
      ]);
      return call.call_id;
    };
    const mine = await ended();
    const other = await ended();
    const outcome = { summary: `They said ${SECRET_WORDS}`, fields: { code: '4711' }, missingFields: [] };
    const stored: [string, WebhookEventType, string][] = [
      [mine, 'call.completed', body(mine, 'call.completed', outcome)],
      [mine, 'call.answered', body(mine, 'call.answered', null)],
      [other, 'call.completed', body(other, 'call.completed', outcome)],
    ];
    for (const [callId, type, text] of stored) {
      await test.db.query(
        'INSERT INTO calls.webhook_events (event_id, call_id, user_id, type, created_at, body) VALUES ($1, $2, $3, $4, $5, $6)',
        [webhookEventId(callId, type), callId, userId, type, clock.date(), text],
      );
    }

    const row = (await store.forUser(userId, mine)) as Parameters<CallData['deleteTranscript']>[0];
    assert.equal(await data.deleteTranscript(row, 'request'), true);

    const bodies = async (callId: string) =>
      (
        await test.db.query<{ type: string; body: string }>(
          'SELECT type, body FROM calls.webhook_events WHERE call_id = $1 ORDER BY type',
          [callId],
        )
      ).rows;
    for (const { type, body: text } of await bodies(mine)) {
      assert.equal(text.includes(SECRET_WORDS) || text.includes('4711'), false, `${type}: nothing of the transcript`);
      const call = JSON.parse(text).data.call;
      assert.deepEqual(call.transcript, []);
      assert.equal(call.transcriptDeletedAt, clock.date().toISOString());
      assert.equal(call.callId, mine, 'the rest of the body stays');
      if (type === 'call.completed') assert.deepEqual([call.outcome.summary, call.outcome.fields], ['', {}]);
      else assert.equal(call.outcome, null, 'a body without an outcome keeps none');
    }
    const untouched = await bodies(other);
    assert.equal(untouched[0]?.body, stored[2]?.[2], "another call's body is not touched");
  });
});
