/**
 * Races of the recording fetch (attack2 findings), each of which lost or kept audio against the row:
 *
 * 1. A user's deletion racing the fetch that stores the recording: the deletion read the
 * row while the fetch was under way (no object yet), the fetch then stored the audio and marked it ready,
 * and the deletion marked the row deleted without deleting the object it never saw. The row said
 * "deleted" and the audio stayed in S3 (until the bucket's expiry), with nothing left to delete it.
 * The pause between the deletion's read and its write is injected (a gate in the read).
 * 2. Two workers fetching one recording (the first took longer than its claim, so a sweep claimed it
 *    again): the second stored it and marked it ready; the first, finding it no longer "processing", took
 *    it for deleted and deleted the object, so the row said ready over no audio, and the carrier's copy
 *    was deleted next: the recording was lost.
 * Everything else is real: PostgreSQL/PGlite, the S3 emulator (fauxqs), the fetcher with the carrier's audio stubbed at
 * the carrier boundary.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { createLogger, ManualClock, migrate, readMigrations } from '@callgate/common';
import { Registry } from 'prom-client';
import { type LocalSqs, startLocalSqs } from '../../../../scripts/local-sqs.js';
import { openTestDatabase, type TestDatabase } from '../../../../test/support/database.js';
import { CallStore } from '../call-store.js';
import { newCallFixture } from '../new-call.fixture.js';
import { CallData } from './call-data.js';
import type { CarrierRecordings } from './carrier-recordings.js';
import { RecordingFetcher } from './fetcher.js';
import { recordingMetrics } from './metrics.js';
import { RecordingObjects, recordingKey } from './object-store.js';
import { type RecordingRow, RecordingStore } from './recording-store.js';

const log = createLogger('test', 'silent');
const clock = new ManualClock(new Date('2002-02-02T00:00:00Z').getTime());
let test: TestDatabase;
let fauxqs: LocalSqs;
let objects: RecordingObjects;

before(async () => {
  test = await openTestDatabase();
  await migrate(test.db, 'calls', readMigrations(fileURLToPath(new URL('../../migrations/', import.meta.url))), log);
  fauxqs = await startLocalSqs();
  objects = new RecordingObjects({ bucket: 'deletion-race-test', region: 'us-east-1', endpoint: fauxqs.address });
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

/** The real store whose next read of a recording waits, after reading, until `release` is called. */
class PausingStore extends RecordingStore {
  private gate: { read: () => void; wait: Promise<void> } | undefined;
  release: () => void = () => {};

  /** Resolves once the next read has happened (and is held). */
  pauseNextRead(): Promise<void> {
    return new Promise((read) => {
      const wait = new Promise<void>((resolve) => {
        this.release = resolve;
      });
      this.gate = { read, wait };
    });
  }

  override async byCall(callId: string): Promise<RecordingRow | undefined> {
    const row = await super.byCall(callId);
    const gate = this.gate;
    this.gate = undefined;
    if (gate) {
      gate.read();
      await gate.wait;
    }
    return row;
  }
}

it('a deletion that read the row before the fetch stored the audio still deletes the stored object', async () => {
  const wav = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'), Buffer.alloc(32)]);
  const carrier: CarrierRecordings = {
    media: async () => ({ bytes: new Uint8Array(wav), contentType: 'audio/wav' }),
    remove: async () => {},
  };
  const store = new CallStore(test.db, clock);
  const recordings = new RecordingStore(test.db, clock);
  const metrics = recordingMetrics(new Registry());
  const fetcher = new RecordingFetcher({
    store: recordings,
    carrier,
    objects,
    metrics,
    db: test.db,
    clock,
    log,
    maxAttempts: 3,
    backoffMs: 1000,
    maxBackoffMs: 1000,
  });
  const pausing = new PausingStore(test.db, clock);
  const data = new CallData({ store, recordings: pausing, objects, metrics, mirror: () => {}, clock, log });

  const userId = `race-${randomUUID()}`;
  const inserted = await store.insertIntent(newCallFixture(userId, { record: true, created_at: clock.date() }), 100);
  assert.ok(inserted && typeof inserted === 'object' && 'call_id' in inserted);
  const callId = inserted.call_id;
  await recordings.report({
    callId,
    userId,
    recordingSid: `RE${randomUUID().replaceAll('-', '')}`,
    status: 'completed',
    durationSeconds: 3,
    channels: 2,
  });

  const read = pausing.pauseNextRead();
  const deletion = data.deleteRecording(callId, 'request');
  await read; // the deletion saw the recording still being fetched (no object yet)
  await fetcher.now(callId); // the fetch stores the audio and marks it ready meanwhile
  const key = recordingKey(userId, callId, 'wav');
  assert.equal(await exists(key), true, 'control: the fetch stored the audio');
  pausing.release();
  assert.equal(await deletion, true);

  assert.equal((await recordings.byCall(callId))?.status, 'deleted');
  assert.equal(await exists(key), false, 'the row says deleted, so the audio must be gone from S3');
});

it('a fetch that outlived its claim does not delete the audio another worker stored meanwhile', async () => {
  const wav = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'), Buffer.alloc(32)]);
  let releaseSlow: () => void = () => {};
  let slowStarted: () => void = () => {};
  const slowStart = new Promise<void>((resolve) => {
    slowStarted = resolve;
  });
  let calls = 0;
  const carrier: CarrierRecordings = {
    // The first fetch hangs at the carrier until released; the second answers at once.
    media: async () => {
      if (++calls === 1) {
        slowStarted();
        await new Promise<void>((resolve) => {
          releaseSlow = resolve;
        });
      }
      return { bytes: new Uint8Array(wav), contentType: 'audio/wav' };
    },
    remove: async () => {},
  };
  const store = new CallStore(test.db, clock);
  const recordings = new RecordingStore(test.db, clock);
  const metrics = recordingMetrics(new Registry());
  const worker = () =>
    new RecordingFetcher({
      store: recordings,
      carrier,
      objects,
      metrics,
      db: test.db,
      clock,
      log,
      maxAttempts: 3,
      backoffMs: 1000,
      maxBackoffMs: 1000,
      claimMs: 60_000,
    });
  const userId = `race-${randomUUID()}`;
  const inserted = await store.insertIntent(newCallFixture(userId, { record: true, created_at: clock.date() }), 100);
  assert.ok(inserted && typeof inserted === 'object' && 'call_id' in inserted);
  const callId = inserted.call_id;
  await recordings.report({
    callId,
    userId,
    recordingSid: `RE${randomUUID().replaceAll('-', '')}`,
    status: 'completed',
    durationSeconds: 3,
    channels: 2,
  });

  const slow = worker().now(callId);
  await slowStart;
  clock.advance(60_001); // the first worker's claim has run out
  await worker().now(callId);
  const key = recordingKey(userId, callId, 'wav');
  assert.equal((await recordings.byCall(callId))?.status, 'ready', 'control: the second worker stored it');
  releaseSlow();
  await slow;

  const row = await recordings.byCall(callId);
  assert.deepEqual([row?.status, row?.object_key], ['ready', key]);
  assert.equal(await exists(key), true, 'the row says ready, so the audio must be in S3');
});
