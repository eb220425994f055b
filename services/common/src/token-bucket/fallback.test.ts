/**
 * Redis down: a shared bucket falls back to this replica's share of the budget (never unlimited,
 * never stopped), and the shared bucket applies again once Redis answers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock.js';
import { createLogger } from '../logger.js';
import type { TokenBucket } from './bucket.js';
import { FallbackTokenBucket, replicaShare } from './fallback.js';
import { MemoryTokenBucket } from './memory.js';

/** A shared bucket whose Redis fails while `down` is set. */
function flakyShared(inner: TokenBucket, state: { down: boolean }): TokenBucket {
  const guard = <T>(fn: () => Promise<T>) => (state.down ? Promise.reject(new Error('Connection is closed.')) : fn());
  return {
    capacity: inner.capacity,
    perMinute: inner.perMinute,
    take: (cost) => guard(() => inner.take(cost)),
    drain: (ms) => guard(() => inner.drain(ms)),
    peek: () => guard(() => inner.peek()),
  };
}

describe('FallbackTokenBucket', () => {
  const log = createLogger('test', 'silent');

  it('while Redis fails, grants only the replica share, then the shared budget again when it is back', async () => {
    const clock = new ManualClock(0);
    const state = { down: false };
    const limits = { capacity: 20, perMinute: 240 };
    const shared = new MemoryTokenBucket(limits, clock);
    const local = new MemoryTokenBucket(replicaShare(limits, 4), clock);
    const bucket = new FallbackTokenBucket({
      shared: flakyShared(shared, state),
      local,
      sharedReady: () => true,
      log,
      name: 'write',
    });
    state.down = true;
    let granted = 0;
    while ((await bucket.take()).granted) granted++;
    assert.equal(granted, 5, 'a quarter of the burst (4 replicas at most)');
    assert.equal(bucket.usingLocal, true);
    // One minute later: a quarter of the rate refilled, never more.
    clock.set(60_000);
    granted = 0;
    while ((await bucket.take()).granted) granted++;
    assert.equal(granted, 5, 'refilled at 60/min up to its capacity of 5');
    state.down = false;
    granted = 0;
    while ((await bucket.take()).granted) granted++;
    assert.equal(granted, 20, 'the shared bucket (untouched while Redis was down) serves again');
    assert.equal(bucket.usingLocal, false);
  });

  it('does not wait for a disconnected Redis: the local bucket answers at once', async () => {
    let asked = 0;
    const shared: TokenBucket = {
      capacity: 10,
      perMinute: 100,
      take: () => {
        asked++;
        return new Promise(() => {}); // a command queued for a Redis that is not coming back soon
      },
      drain: () => Promise.resolve(),
      peek: () => Promise.resolve(0),
    };
    const bucket = new FallbackTokenBucket({
      shared,
      local: new MemoryTokenBucket(replicaShare(shared, 4)),
      sharedReady: () => false,
      log,
      name: 'write',
    });
    assert.equal((await bucket.take()).granted, true);
    assert.equal(asked, 0);
  });

  it('a 429 drain blocks the local bucket too', async () => {
    const clock = new ManualClock(0);
    const state = { down: true };
    const limits = { capacity: 8, perMinute: 80 };
    const bucket = new FallbackTokenBucket({
      shared: flakyShared(new MemoryTokenBucket(limits, clock), state),
      local: new MemoryTokenBucket(replicaShare(limits, 4), clock),
      sharedReady: () => true,
      log,
      name: 'write',
    });
    await bucket.drain(10_000);
    assert.equal((await bucket.take()).granted, false);
    clock.set(10_000 + 3000); // the block, then one token at 20/min
    assert.equal((await bucket.take()).granted, true);
  });

  it('a replica share is at least one token and one a minute', () => {
    assert.deepEqual(replicaShare({ capacity: 3, perMinute: 2 }, 4), { capacity: 1, perMinute: 1 });
    assert.deepEqual(replicaShare({ capacity: 20, perMinute: 250 }, 4), { capacity: 5, perMinute: 62 });
  });
});
