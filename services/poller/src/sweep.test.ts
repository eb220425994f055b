/**
 * The sweep's lease and checkpoint, and the de-duplication window, against the test database (PostgreSQL
 * at DATABASE_URL, else PGlite) with a clock the test moves: no sleeping.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, ManualClock, migrate, readMigrations } from '@callgate/common';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { retryDelaySeconds } from './backoff.js';
import { RefreshDedup } from './dedup.js';
import { Lease } from './lease.js';
import { CheckpointStore, type StaleCallSource, Sweeper } from './sweep.js';

const log = createLogger('test', 'silent');
let test: TestDatabase;
const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
const now = () => clock.date();

before(async () => {
  test = await openTestDatabase();
  await migrate(test.db, 'poller', readMigrations(fileURLToPath(new URL('../migrations/', import.meta.url))), log);
});
after(async () => test.close());

/** A call service with `ids` stale calls, paged by index, recording every page asked for. */
function source(ids: string[]): StaleCallSource & { pages: string[] } {
  const pages: string[] = [];
  return {
    pages,
    list: async ({ limit, after: cursor }) => {
      pages.push(cursor);
      const start = cursor ? Number(cursor) : 0;
      const end = Math.min(ids.length, start + limit);
      return {
        callIds: ids.slice(start, end),
        nextCursor: end < ids.length ? String(end) : '',
        remaining: ids.length - end,
      };
    },
  };
}

describe('stale-call sweep', () => {
  it('saves its checkpoint after each batch and resumes there after a crash, enqueuing each call once', async () => {
    const name = `sweep-${randomUUID().slice(0, 8)}`;
    const ids = Array.from({ length: 35 }, () => randomUUID());
    const enqueued: string[] = [];
    let failOnBatch = 3;
    const make = () =>
      new Sweeper({
        lease: new Lease(test.db, name, randomUUID(), { ttlMs: 1000, clock }),
        checkpoints: new CheckpointStore(test.db, name),
        source: source(ids),
        enqueue: async (messages) => {
          if (--failOnBatch === 0) throw new Error('process killed mid-sweep');
          enqueued.push(...messages.map((m) => m.callId));
        },
        clock,
        intervalMs: 60_000,
        staleAfterMs: 120_000,
        batchSize: 10,
        log,
      });
    await assert.rejects(make().tick(), /killed/);
    assert.deepEqual(enqueued, ids.slice(0, 20));
    const saved = await new CheckpointStore(test.db, name).load();
    assert.equal(saved.cursor, '20');
    assert.equal(saved.enqueued, 20);
    assert.equal(saved.backlog, 15);
    assert.deepEqual(saved.updatedBefore, new Date(clock.now() - 120_000));

    // A new replica (the old one's lease expired) resumes at the cursor, not at the start.
    clock.advance(1001);
    const next = make();
    await next.tick();
    assert.deepEqual(enqueued, ids);
    assert.equal(next.checkpoint.updatedBefore, null);
    assert.equal(next.checkpoint.cursor, '');
    assert.equal(next.checkpoint.enqueued, 35);
    assert.deepEqual(next.checkpoint.lastCompletedAt, now());

    // Not due again until the interval has passed.
    await next.tick();
    assert.equal(enqueued.length, 35);
    clock.advance(60_000);
    await next.tick();
    assert.equal(enqueued.length, 70);
  });

  it('one holder at a time; a standby takes over only once the lease expired, at once after a release', async () => {
    const name = `lease-${randomUUID().slice(0, 8)}`;
    const a = new Lease(test.db, name, 'a', { ttlMs: 3000, clock });
    const b = new Lease(test.db, name, 'b', { ttlMs: 3000, clock });
    assert.equal(await a.acquire(), true);
    assert.equal(await b.acquire(), false);
    clock.advance(2999);
    assert.equal(await b.acquire(), false);
    assert.equal(await a.acquire(), true, 'renewed');
    clock.advance(2999);
    assert.equal(await b.acquire(), false, 'the renewal counts from its own time');
    clock.advance(1);
    assert.equal(await b.acquire(), true, 'expired: taken over');
    assert.equal(await a.acquire(), false);
    await b.release();
    assert.equal(await a.acquire(), true, 'released: taken at once');
  });

  it('a leader that lost its lease cannot write its checkpoint over the new leader’s', async () => {
    const name = `fence-${randomUUID().slice(0, 8)}`;
    const a = new Lease(test.db, name, 'a', { ttlMs: 1000, clock });
    const b = new Lease(test.db, name, 'b', { ttlMs: 1000, clock });
    const store = new CheckpointStore(test.db, name);
    assert.equal(await a.acquire(), true);
    const first = await store.load();
    first.cursor = 'a-1';
    assert.equal(await store.save(first, now(), a), true, 'the holder saves');
    clock.advance(1001);
    assert.equal(await b.acquire(), true, 'a paused past its lease; b took over');
    const mine = await store.load();
    mine.cursor = 'b-7';
    assert.equal(await store.save(mine, now(), b), true);
    first.cursor = 'a-2';
    assert.equal(await store.save(first, now(), a), false, 'the stale leader is fenced off');
    assert.equal((await store.load()).cursor, 'b-7');
  });
});

describe('refresh de-duplication', () => {
  it('skips a message enqueued before the last refresh of its call, and one whose call is being refreshed', async () => {
    const r1 = new RefreshDedup(test.db, { holder: 'r1', windowMs: 60_000, claimTtlMs: 5000, clock });
    const r2 = new RefreshDedup(test.db, { holder: 'r2', windowMs: 60_000, claimTtlMs: 5000, clock });
    const callId = randomUUID();
    const enqueued = new Date(clock.now() - 10);
    assert.deepEqual(await r1.claim(callId, enqueued), { claimed: true });
    assert.deepEqual(await r1.claim(callId, enqueued), { claimed: false, reason: 'refresh-in-progress' });
    assert.deepEqual(await r2.claim(callId, enqueued), { claimed: false, reason: 'refresh-in-progress' });
    await r1.finish(callId, now());
    assert.deepEqual(await r2.claim(callId, enqueued), { claimed: false, reason: 'refreshed-since-enqueued' });
    assert.deepEqual(await r1.claim(callId, enqueued), { claimed: false, reason: 'refreshed-since-enqueued' });
    // The follow-up poll (enqueued after the refresh) is not a duplicate.
    assert.deepEqual(await r2.claim(callId, new Date(clock.now() + 1)), { claimed: true });
    await r2.abandon(callId);
    assert.deepEqual(
      await r1.claim(callId, new Date(clock.now() + 1)),
      { claimed: true },
      'an abandoned claim frees the call',
    );
  });

  it('a killed refresher’s claim expires after the claim ttl', async () => {
    const dead = new RefreshDedup(test.db, { holder: 'dead', windowMs: 60_000, claimTtlMs: 5000, clock });
    const alive = new RefreshDedup(test.db, { holder: 'alive', windowMs: 60_000, claimTtlMs: 5000, clock });
    const callId = randomUUID();
    assert.deepEqual(await dead.claim(callId, now()), { claimed: true });
    clock.advance(4999);
    assert.deepEqual(await alive.claim(callId, now()), { claimed: false, reason: 'refresh-in-progress' });
    clock.advance(2);
    assert.deepEqual(await alive.claim(callId, now()), { claimed: true });
  });

  it('forgets refreshes older than the window', async () => {
    const d = new RefreshDedup(test.db, { holder: 'p', windowMs: 1000, claimTtlMs: 500, clock });
    const callId = randomUUID();
    const enqueued = now();
    await d.claim(callId, enqueued);
    await d.finish(callId, now());
    clock.advance(1001);
    await d.prune();
    assert.equal(await d.lastRefresh(callId), null);
    assert.deepEqual(await d.claim(callId, enqueued), { claimed: true });
  });
});

describe('retry backoff', () => {
  it('grows with the call’s age between the bounds', () => {
    const bounds = { minSeconds: 10, maxSeconds: 300 };
    assert.equal(retryDelaySeconds(0, bounds), 10);
    assert.equal(retryDelaySeconds(60_000, bounds), 15);
    assert.equal(retryDelaySeconds(400_000, bounds), 100);
    assert.equal(retryDelaySeconds(3_600_000, bounds), 300);
    assert.equal(retryDelaySeconds(3_600_000, { minSeconds: 10, maxSeconds: 5000 }), 900);
  });
});
