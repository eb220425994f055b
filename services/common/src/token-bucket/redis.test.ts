/** The Redis token bucket's atomicity and sharing between replicas (real Redis at REDIS_URL). */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { needsRedis, openTestRedis, uniqueKeyPrefix } from '../../../../test/support/redis.js';
import { RedisTokenBucket } from './redis.js';

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
    const key = uniqueKeyPrefix('token-bucket');
    // A slow refill (1 per minute) so that the run's own duration cannot add a token.
    const a = new RedisTokenBucket(connect(), key, { capacity: 25, perMinute: 1 });
    const b = new RedisTokenBucket(connect(), key, { capacity: 25, perMinute: 1 });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).take()));
    assert.equal(results.filter((r) => r.granted).length, 25);
    const refused = results.find((r) => !r.granted);
    assert.ok(refused && refused.waitMs > 0 && refused.waitMs <= 60_000, `waitMs ${refused?.waitMs}`);
  });

  it('a drain by one replica blocks the others', async () => {
    const key = uniqueKeyPrefix('token-bucket');
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
