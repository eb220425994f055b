import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  ConfigError,
  checkRedis,
  closeRedis,
  connectRedis,
  createLogger,
  ManualClock,
  redisReady,
} from '@callgate/common';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import {
  closedPort,
  needsRedis,
  openTestRedis,
  startRedisProxy,
  uniqueKeyPrefix,
} from '../../../test/support/redis.js';
import { within } from '../../../test/support/within.js';
import {
  type BucketLimit,
  costOf,
  MemoryRateLimiter,
  RATE_LIMITED,
  RateLimits,
  rateLimitSettings,
} from './rate-limits.js';

const log = createLogger('test', 'silent');
const request = (id: number, method = 'tools/list', params?: unknown) => ({ jsonrpc: '2.0', id, method, params });
const call = (id: number) => request(id, 'tools/call', { name: 'makePhoneCall', arguments: {} });
const roomy: BucketLimit = { burst: 1000, perMinute: 60_000 };

/** Takes one request per call until refused; returns how many passed (at most limit). */
async function drain(limits: RateLimits, userId: string, limit = 10_000): Promise<number> {
  for (let passed = 0; passed < limit; passed++) {
    if (await limits.take(userId, request(passed))) return passed;
  }
  return limit;
}

describe('rate limits in process', () => {
  const start = () => new ManualClock(1_000_000);

  it('a user may send the burst at once; the next request waits one refill step and is told so', async () => {
    const clock = start();
    const limits = new RateLimits({ general: { burst: 5, perMinute: 60 }, makePhoneCall: roomy, clock });
    for (let i = 0; i < 5; i++) assert.equal(await limits.take('alice', request(i)), undefined, `request ${i}`);
    const refused = await limits.take('alice', request(6));
    assert.equal(refused?.bucket, 'general');
    assert.equal(refused?.retryAfterMs, 1000, 'one token a second');
    assert.equal(refused?.error.code, RATE_LIMITED);
    assert.deepEqual(refused?.error.data, { bucket: 'general', retryAfterMs: 1000 });
    assert.match(refused?.error.message ?? '', /at most 5 requests at once and 60 per minute per user\. Retry in 1 s/);
    clock.advance(999);
    assert.equal((await limits.take('alice', request(7)))?.retryAfterMs, 1, 'a refusal takes nothing');
    clock.advance(1);
    assert.equal(await limits.take('alice', request(8)), undefined);
    assert.ok(await limits.take('alice', request(9)));
  });

  it('refills at the configured rate, never beyond the burst', async () => {
    const clock = start();
    const limits = new RateLimits({ general: { burst: 5, perMinute: 60 }, makePhoneCall: roomy, clock });
    assert.equal(await drain(limits, 'alice'), 5);
    clock.advance(3000);
    assert.equal(await drain(limits, 'alice'), 3);
    clock.advance(3_600_000);
    assert.equal(await drain(limits, 'alice'), 5);
  });

  it('keeps one bucket per user: another user is unaffected', async () => {
    const limits = new RateLimits({ general: { burst: 3, perMinute: 3 }, makePhoneCall: roomy });
    assert.equal(await drain(limits, 'alice'), 3);
    assert.equal(await drain(limits, 'bob'), 3);
  });

  it('makePhoneCall also takes from its own, stricter bucket', async () => {
    const limits = new RateLimits({
      general: { burst: 6, perMinute: 6 },
      makePhoneCall: { burst: 2, perMinute: 2 },
      clock: start(),
    });
    assert.equal(await limits.take('alice', call(1)), undefined);
    assert.equal(await limits.take('alice', call(2)), undefined);
    const refused = await limits.take('alice', call(3));
    assert.equal(refused?.bucket, 'makePhoneCall');
    assert.match(refused?.error.message ?? '', /at most 2 makePhoneCall requests at once and 2 per minute/);
    assert.equal(refused?.retryAfterMs, 30_000);
    // Other tools still pass: the general bucket had 6 and three calls took 3 of them.
    assert.equal(await drain(limits, 'alice'), 3);
    assert.equal((await limits.take('alice', call(4)))?.bucket, 'general', 'an empty general bucket refuses first');
  });

  it('counts requests only, each request of a batch, and a batch all or nothing', async () => {
    assert.deepEqual(costOf({ jsonrpc: '2.0', method: 'notifications/initialized' }), { requests: 0, calls: 0 });
    assert.deepEqual(costOf({ jsonrpc: '2.0', id: 1, result: {} }), { requests: 0, calls: 0 });
    assert.deepEqual(costOf([request(1), call(2), { jsonrpc: '2.0', method: 'notifications/x' }]), {
      requests: 2,
      calls: 1,
    });
    assert.deepEqual(costOf('nonsense'), { requests: 0, calls: 0 });

    const limits = new RateLimits({ general: { burst: 4, perMinute: 4 }, makePhoneCall: roomy });
    for (let i = 0; i < 10; i++) {
      assert.equal(await limits.take('alice', { jsonrpc: '2.0', method: 'notifications/progress' }), undefined);
    }
    assert.equal(await limits.take('alice', [request(1), request(2), request(3)]), undefined);
    assert.ok(await limits.take('alice', [request(4), request(5)]), 'two more than the one left: refused');
    assert.equal(await limits.take('alice', request(6)), undefined, 'the refused batch took nothing');
    const tooBig = await new RateLimits({ general: { burst: 2, perMinute: 2 }, makePhoneCall: roomy }).take('bob', [
      request(1),
      request(2),
      request(3),
    ]);
    assert.match(tooBig?.error.message ?? '', /a batch of 3 requests is more than the 2 a user may send at once/);
    assert.equal(tooBig?.retryAfterMs, undefined, 'no wait lets it through: no retry time');
    assert.equal(tooBig?.error.code, -32600);
  });

  it('counts refusals in gateway_rate_limited_total by bucket', async () => {
    const registry = new Registry();
    const limits = new RateLimits({
      general: { burst: 2, perMinute: 2 },
      makePhoneCall: { burst: 1, perMinute: 1 },
      registry,
    });
    await limits.take('alice', call(1));
    await limits.take('alice', call(2));
    await limits.take('alice', request(3));
    await limits.take('alice', request(4));
    const values = (await registry.getSingleMetric('gateway_rate_limited_total')?.get())?.values ?? [];
    const count = (bucket: string) => values.find((v) => v.labels.bucket === bucket)?.value;
    assert.equal(count('makePhoneCall'), 1);
    assert.equal(count('general'), 2);
  });

  it('forgets buckets once they are full again, so memory follows active users', async () => {
    const clock = new ManualClock(0);
    const bucket = new MemoryRateLimiter({ keyPrefix: 'x', burst: 2, perMinute: 60, clock });
    for (let i = 0; i < 100; i++) await bucket.consume(`user-${i}`);
    assert.equal(bucket.size, 100);
    clock.advance(2000);
    await bucket.consume('another');
    assert.equal(bucket.size, 1);
    assert.equal(await bucket.get('user-1'), null, 'a forgotten bucket is a full one');
  });

  it('refuses a configuration whose bucket would refill faster than in one second, naming the variable', () => {
    const base = { RATE_LIMIT_BURST: 60, RATE_LIMIT_PER_MINUTE: 120, RATE_LIMIT_CALL_BURST: 10 };
    assert.deepEqual(rateLimitSettings({ ...base, RATE_LIMIT_CALL_PER_MINUTE: 600 }).makePhoneCall, {
      burst: 10,
      perMinute: 600,
    });
    assert.throws(
      () => rateLimitSettings({ ...base, RATE_LIMIT_CALL_PER_MINUTE: 601 }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.length === 1 &&
        error.problems[0]?.variable === 'RATE_LIMIT_CALL_PER_MINUTE',
    );
  });
});

describe('rate limits when Redis is down', () => {
  it('a Redis nobody answers at still limits: each replica falls back to its own buckets', async () => {
    const redis = connectRedis(`redis://127.0.0.1:${await closedPort()}`, log, {
      connectTimeoutMs: 200,
      connectionName: 'test',
      meanwhile: 'test',
    });
    try {
      const limits = new RateLimits({ general: { burst: 3, perMinute: 3 }, makePhoneCall: roomy, redis });
      assert.equal(await within(drain(limits, 'alice'), 'three admitted, then a refusal', 2000), 3);
      await assert.rejects(checkRedis(redis), /not connected/);
    } finally {
      await closeRedis(redis);
    }
  });
});

describe('rate limits in Redis', { skip: needsRedis() }, () => {
  const url = openTestRedis() as string;
  const clients: Redis[] = [];
  after(async () => {
    for (const client of clients) await closeRedis(client);
  });
  async function replica(limits: { general: BucketLimit; makePhoneCall?: BucketLimit }, keyPrefix: string, at = url) {
    const redis = connectRedis(at, log, { connectionName: 'test', meanwhile: 'test' });
    clients.push(redis);
    assert.ok(await redisReady(redis, 5000), `Redis at ${at} answers`);
    return { redis, limits: new RateLimits({ makePhoneCall: roomy, ...limits, redis, keyPrefix }) };
  }

  it('two replicas share one budget per user', async () => {
    const prefix = uniqueKeyPrefix('rate-limits');
    const general = { burst: 5, perMinute: 1 };
    const a = await replica({ general }, prefix);
    const b = await replica({ general }, prefix);
    for (let i = 0; i < 3; i++) assert.equal(await a.limits.take('alice', request(i)), undefined);
    for (let i = 0; i < 2; i++) assert.equal(await b.limits.take('alice', request(i)), undefined);
    const refusedA = await a.limits.take('alice', request(9));
    const refusedB = await b.limits.take('alice', request(9));
    assert.equal(refusedA?.bucket, 'general');
    assert.equal(refusedB?.bucket, 'general');
    // One token a minute: the wait is close to a minute, on the Redis server's clock.
    assert.ok((refusedB?.retryAfterMs ?? 0) > 55_000 && (refusedB?.retryAfterMs ?? 0) <= 60_000);
    assert.equal(await a.limits.take('bob', request(1)), undefined, 'another user has a bucket of their own');
    // The key is the user's, under the bucket's prefix, and expires when the bucket is full again.
    const ttl = await a.redis.pttl(`${prefix}:general:alice`);
    assert.ok(ttl > 290_000 && ttl <= 300_000, `the key lives until the bucket is full (${ttl} ms)`);
  });

  it('makePhoneCall has its own shared bucket', async () => {
    const prefix = uniqueKeyPrefix('rate-limits');
    const settings = { general: { burst: 10, perMinute: 10 }, makePhoneCall: { burst: 2, perMinute: 1 } };
    const a = await replica(settings, prefix);
    const b = await replica(settings, prefix);
    assert.equal(await a.limits.take('alice', call(1)), undefined);
    assert.equal(await b.limits.take('alice', call(2)), undefined);
    assert.equal((await a.limits.take('alice', call(3)))?.bucket, 'makePhoneCall');
    assert.equal(await b.limits.take('alice', request(4)), undefined);
  });

  it('a refused client that waits the time it was told is admitted', async () => {
    const { limits } = await replica({ general: { burst: 10, perMinute: 600 } }, uniqueKeyPrefix('rate-limits'));
    assert.equal(await drain(limits, 'alice'), 10);
    const wait = (await limits.take('alice', request(1)))?.retryAfterMs ?? 0;
    assert.ok(wait > 0 && wait <= 100, `${wait} ms`);
    // Honouring Retry-After is the behaviour under test, so this test waits for it (at most 100 ms).
    await new Promise((resolve) => setTimeout(resolve, wait + 5));
    assert.equal(await limits.take('alice', request(2)), undefined);
  });

  it('while Redis is away each replica limits on its own, and the shared budget is back with Redis', async () => {
    const proxy = await startRedisProxy(url);
    try {
      const { redis, limits } = await replica(
        { general: { burst: 3, perMinute: 1 } },
        uniqueKeyPrefix('rl'),
        proxy.url,
      );
      assert.equal(await limits.take('alice', request(1)), undefined);
      assert.equal(await limits.take('alice', request(2)), undefined);

      await proxy.stop();
      await within(
        new Promise<void>((resolve) => (redis.status === 'ready' ? redis.once('close', () => resolve()) : resolve())),
        'the client to notice the outage',
      );
      // A fresh per-process bucket: never unlimited.
      assert.equal(await within(drain(limits, 'alice'), 'the fallback to refuse', 2000), 3);
      await assert.rejects(checkRedis(redis), /not connected/);

      await proxy.start();
      assert.ok(await redisReady(redis, 5000), 'the client reconnects');
      await checkRedis(redis);
      // Back on the shared bucket, which still holds the one token left before the outage.
      assert.equal(await drain(limits, 'alice'), 1);
    } finally {
      await proxy.stop();
    }
  });
});
