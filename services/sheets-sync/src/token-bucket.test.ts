/**
 * The token bucket with an injected clock: capacity, continuous refill, the 429 drain that stops refill
 * for Retry-After; and the Redis bucket's atomicity and sharing (real Redis when REDIS_URL is set).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { needsRedis, openTestRedis, uniqueKeyPrefix } from '../../../test/support/redis.js';
import { MemoryTokenBucket, RedisTokenBucket } from './token-bucket.js';

describe('MemoryTokenBucket', () => {
  it('grants its capacity at once, then refills continuously at perMinute', async () => {
    let now = 1_000_000;
    const bucket = new MemoryTokenBucket({ capacity: 5, perMinute: 60 }, () => now);
    for (let i = 0; i < 5; i++) assert.equal((await bucket.take()).granted, true, `take ${i}`);
    const refused = await bucket.take();
    assert.deepEqual(refused, { granted: false, waitMs: 1000, available: 0 });
    now += 999;
    assert.equal((await bucket.take()).granted, false);
    now += 1;
    assert.deepEqual(await bucket.take(), { granted: true, waitMs: 0, available: 0 });
    // A long quiet spell fills it only up to capacity.
    now += 3_600_000;
    assert.equal(await bucket.peek(), 5);
  });

  it('a 429 drain empties the bucket and stops refilling until the block ends', async () => {
    let now = 0;
    const bucket = new MemoryTokenBucket({ capacity: 10, perMinute: 600 }, () => now);
    await bucket.drain(5000);
    assert.equal(await bucket.peek(), 0);
    now = 4999;
    const refused = await bucket.take();
    assert.equal(refused.granted, false);
    // Blocked 1 ms more, then one token needs 100 ms of refill.
    assert.equal(refused.waitMs, 101);
    now = 5100;
    assert.equal((await bucket.take()).granted, true);
  });

  it('never grants more than capacity + perMinute × minutes over any period', async () => {
    let now = 0;
    const bucket = new MemoryTokenBucket({ capacity: 20, perMinute: 250 }, () => now);
    let granted = 0;
    for (now = 0; now <= 60_000; now += 240) while ((await bucket.take()).granted) granted++;
    assert.equal(granted, 20 + 250);
  });
});

describe('RedisTokenBucket', { skip: needsRedis() }, () => {
  const clients: Redis[] = [];
  const connect = () => {
    const client = new Redis(openTestRedis() as string);
    clients.push(client);
    return client;
  };
  after(() => {
    for (const c of clients) c.disconnect();
  });

  it('takes atomically: 200 concurrent takes from two clients on a bucket of 25 grant exactly 25', async () => {
    const key = uniqueKeyPrefix('sheets-bucket');
    // A slow refill (1 per minute) so that the run's own duration cannot add a token.
    const a = new RedisTokenBucket(connect(), key, { capacity: 25, perMinute: 1 });
    const b = new RedisTokenBucket(connect(), key, { capacity: 25, perMinute: 1 });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).take()));
    assert.equal(results.filter((r) => r.granted).length, 25);
    const refused = results.find((r) => !r.granted);
    assert.ok(refused && refused.waitMs > 0 && refused.waitMs <= 60_000, `waitMs ${refused?.waitMs}`);
  });

  it('a drain by one replica blocks the others', async () => {
    const key = uniqueKeyPrefix('sheets-bucket');
    const a = new RedisTokenBucket(connect(), key, { capacity: 10, perMinute: 6000 });
    const b = new RedisTokenBucket(connect(), key, { capacity: 10, perMinute: 6000 });
    assert.equal((await b.take()).granted, true);
    await a.drain(30_000);
    const refused = await b.take();
    assert.equal(refused.granted, false);
    assert.ok(refused.waitMs > 29_000 && refused.waitMs <= 30_010, `waitMs ${refused.waitMs}`);
    assert.equal(await b.peek(), 0);
  });
});
