/**
 * The in-process token bucket with a clock the test moves: capacity, continuous refill, the 429 drain
 * that stops refill for Retry-After.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../clock.js';
import { MemoryTokenBucket } from './memory.js';

describe('MemoryTokenBucket', () => {
  it('grants its capacity at once, then refills continuously at perMinute', async () => {
    const clock = new ManualClock(1_000_000);
    const bucket = new MemoryTokenBucket({ capacity: 5, perMinute: 60 }, clock);
    for (let i = 0; i < 5; i++) assert.equal((await bucket.take()).granted, true, `take ${i}`);
    const refused = await bucket.take();
    assert.deepEqual(refused, { granted: false, waitMs: 1000, available: 0 });
    clock.advance(999);
    assert.equal((await bucket.take()).granted, false);
    clock.advance(1);
    assert.deepEqual(await bucket.take(), { granted: true, waitMs: 0, available: 0 });
    // A long quiet spell fills it only up to capacity.
    clock.advance(3_600_000);
    assert.equal(await bucket.peek(), 5);
  });

  it('a 429 drain empties the bucket and stops refilling until the block ends', async () => {
    const clock = new ManualClock(0);
    const bucket = new MemoryTokenBucket({ capacity: 10, perMinute: 600 }, clock);
    await bucket.drain(5000);
    assert.equal(await bucket.peek(), 0);
    clock.set(4999);
    const refused = await bucket.take();
    assert.equal(refused.granted, false);
    // Blocked 1 ms more, then one token needs 100 ms of refill.
    assert.equal(refused.waitMs, 101);
    clock.set(5100);
    assert.equal((await bucket.take()).granted, true);
  });

  it('never grants more than capacity + perMinute × minutes over any period', async () => {
    const clock = new ManualClock(0);
    const bucket = new MemoryTokenBucket({ capacity: 20, perMinute: 250 }, clock);
    let granted = 0;
    for (let now = 0; now <= 60_000; now += 240) {
      clock.set(now);
      while ((await bucket.take()).granted) granted++;
    }
    assert.equal(granted, 20 + 250);
  });
});
