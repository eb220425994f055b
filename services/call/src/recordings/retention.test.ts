/**
 * The retention job with an injected clock: recordings stored longer ago than RECORDING_RETENTION_DAYS
 * and transcripts of calls that ended longer ago than TRANSCRIPT_RETENTION_DAYS are deleted (the S3
 * object too), and nothing else; the calls' money columns are untouched; a second replica does nothing
 * while the first holds the lease. Real PostgreSQL/PGlite and the S3 emulator (fauxqs).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createLogger, Lease, ManualClock, migrate, readMigrations } from '@callgate/common';
import { Registry } from 'prom-client';
import { type LocalSqs, startLocalSqs } from '../../../../scripts/local-sqs.js';
import { openTestDatabase, type TestDatabase } from '../../../../test/support/database.js';
import { CallStore } from '../call-store.js';
import { newCallFixture } from '../new-call.fixture.js';
import { TranscriptStore } from '../transcript-store.js';
import { CallData } from './call-data.js';
import { recordingMetrics } from './metrics.js';
import { RecordingObjects, recordingKey } from './object-store.js';
import { RecordingStore } from './recording-store.js';
import { RetentionJob } from './retention.js';

const DAY = 86_400_000;
const log = createLogger('test', 'silent');
// In the past: the job's sweep is global, and other test files in the same database store recordings at
// today's date; a test clock in the future would count theirs as past their time too.
const start = new Date('2001-01-01T00:00:00Z').getTime();

let test: TestDatabase;
let fauxqs: LocalSqs;
let objects: RecordingObjects;
const clock = new ManualClock(start);

before(async () => {
  test = await openTestDatabase();
  await migrate(test.db, 'calls', readMigrations(fileURLToPath(new URL('../../migrations/', import.meta.url))), log);
  fauxqs = await startLocalSqs();
  objects = new RecordingObjects({ bucket: 'retention-test', region: 'us-east-1', endpoint: fauxqs.address });
  await objects.ensureLocalBucket();
});
after(async () => {
  objects?.close();
  await fauxqs?.stop();
  await test?.close();
});

const exists = async (key: string) => {
  try {
    await objects.s3.send(new HeadObjectCommand({ Bucket: objects.bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFound') return false;
    throw error;
  }
};

describe('retention job', () => {
  it('deletes exactly what is past its time, once, by one replica', async () => {
    const store = new CallStore(test.db, clock);
    const recordings = new RecordingStore(test.db, clock);
    const transcripts = new TranscriptStore(test.db, clock);
    const mirrored: string[] = [];
    const data = new CallData({
      store,
      recordings,
      objects,
      metrics: recordingMetrics(new Registry()),
      mirror: (call) => mirrored.push(call.call_id),
      clock,
      log,
    });
    const job = (holder: string) =>
      new RetentionJob({
        db: test.db,
        store,
        recordings,
        data,
        lease: new Lease(test.db, `retention-${randomUUID()}`, holder, { table: 'calls.leases', ttlMs: 60_000, clock }),
        clock,
        log,
        recordingDays: 30,
        transcriptDays: 90,
        batchSize: 2,
      });
    const userId = `retention-${randomUUID()}`;

    // A recorded call that ended and was stored at `ageDays` ago (relative to the time of the run).
    const runAt = start + 200 * DAY;
    const recordedCall = async (ageDays: number) => {
      clock.set(runAt - ageDays * DAY);
      const inserted = await store.insertIntent(
        newCallFixture(userId, { record: true, created_at: clock.date() }),
        100,
      );
      assert.ok(inserted && typeof inserted === 'object' && 'call_id' in inserted);
      const callId = inserted.call_id;
      await test.db.query(
        `UPDATE calls.calls SET status = 'completed', ended_at = $2, settlement = 'settled', cost_credits = 7 WHERE call_id = $1`,
        [callId, clock.date()],
      );
      await transcripts.appendTurn(callId, {
        speaker: 'callee',
        text: 'my number is 555',
        startedAt: clock.date(),
        interrupted: false,
      });
      await transcripts.saveOutcome(callId, {
        fields: { phone: '555' },
        missingFields: [],
        summary: 'they gave their number',
        objectiveReached: true,
        endReason: 'objective',
      });
      await recordings.report({
        callId,
        userId,
        recordingSid: `RE${randomUUID().replaceAll('-', '')}`,
        status: 'completed',
        durationSeconds: 3,
        channels: 2,
      });
      const key = recordingKey(userId, callId, 'wav');
      await objects.put(key, new Uint8Array([82, 73, 70, 70]), 'audio/wav');
      assert.equal(await recordings.markStored(callId, { key, contentType: 'audio/wav', sizeBytes: 4 }), true);
      return { callId, key };
    };
    // Past and within each retention, and one exactly at the boundary (not past it).
    const old = await recordedCall(120); // both past
    const mid = await recordedCall(45); // recording past (30 d), transcript not (90 d)
    const edge = await recordedCall(30); // exactly 30 days: not past
    const fresh = await recordedCall(1);
    clock.set(runAt);

    const ledgerBefore = (
      await test.db.query(
        'SELECT call_id, settlement, cost_credits, reserved_credits FROM calls.calls WHERE user_id = $1 ORDER BY call_id',
        [userId],
      )
    ).rows;
    const first = job('replica-a');
    const result = await first.run();
    assert.equal(result.leader, true);
    assert.equal(result.recordings, 2, 'the 120-day and 45-day recordings');
    assert.equal(result.transcripts, 1, 'the 120-day transcript');

    assert.equal(await exists(old.key), false);
    assert.equal(await exists(mid.key), false);
    assert.equal(await exists(edge.key), true, 'exactly at its time is not past it');
    assert.equal(await exists(fresh.key), true);
    const status = async (callId: string) => (await recordings.byCall(callId))?.status;
    assert.deepEqual(
      [await status(old.callId), await status(mid.callId), await status(edge.callId), await status(fresh.callId)],
      ['deleted', 'deleted', 'ready', 'ready'],
    );
    assert.equal((await recordings.byCall(old.callId))?.deleted_by, 'retention');
    assert.deepEqual(await transcripts.turns(old.callId), []);
    assert.equal((await transcripts.outcome(old.callId))?.summary, '');
    assert.deepEqual((await transcripts.outcome(old.callId))?.fields, {});
    for (const kept of [mid, edge, fresh]) {
      assert.equal((await transcripts.turns(kept.callId)).length, 1, 'a transcript within its time stays');
      assert.equal((await transcripts.outcome(kept.callId))?.summary, 'they gave their number');
    }
    assert.deepEqual(mirrored, [old.callId], 'the blanked row goes to sheets-sync');
    const ledgerAfter = (
      await test.db.query(
        'SELECT call_id, settlement, cost_credits, reserved_credits FROM calls.calls WHERE user_id = $1 ORDER BY call_id',
        [userId],
      )
    ).rows;
    assert.deepEqual(ledgerAfter, ledgerBefore, 'money columns untouched');

    // Another replica while the first holds the lease: not the leader, deletes nothing.
    const standby = new RetentionJob({
      db: test.db,
      store,
      recordings,
      data,
      lease: new Lease(test.db, 'retention-shared', 'replica-b', { table: 'calls.leases', ttlMs: 60_000, clock }),
      clock,
      log,
      recordingDays: 1,
      transcriptDays: 1,
    });
    const holder = new Lease(test.db, 'retention-shared', 'replica-a', { table: 'calls.leases', ttlMs: 60_000, clock });
    assert.equal(await holder.acquire(), true);
    assert.deepEqual(await standby.run(), { leader: false, recordings: 0, transcripts: 0 });
    assert.equal(await exists(fresh.key), true);

    // Run again a day later: the 30-day one is now past; nothing is deleted twice.
    clock.advance(DAY + 1);
    const again = await job('replica-a').run();
    assert.deepEqual(again, { leader: true, recordings: 1, transcripts: 0 });
    assert.equal(await exists(edge.key), false);
    assert.equal(await exists(fresh.key), true);
    const listed = await objects.s3.send(
      new ListObjectsV2Command({ Bucket: objects.bucket, Prefix: `recordings/${userId}/` }),
    );
    assert.deepEqual(
      (listed.Contents ?? []).map((o) => o.Key),
      [fresh.key],
    );
  });
});
