/**
 * Cache invalidations between two gateway replicas over real Redis (REDIS_URL): what one replica drops,
 * the other drops too.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { closeRedis, connectRedis, createLogger, redisReady } from '@callgate/common';
import type { Redis } from 'ioredis';
import { eventually } from '../../../../test/support/eventually.js';
import { invalidationBus } from './invalidation-bus.js';
import { ReadCache } from './read-cache.js';

const log = createLogger('test', 'silent');
const url = process.env.REDIS_URL;

describe('cache invalidation bus', { skip: url ? false : 'REDIS_URL is not set' }, () => {
  const clients: Redis[] = [];
  after(async () => {
    for (const client of clients) await closeRedis(client);
  });

  it('drops an entry on the other replica when one replica changes it', async () => {
    const replicas = [0, 1].map(() => {
      const redis = connectRedis(url as string, log, { connectionName: 'test', meanwhile: 'test' });
      clients.push(redis);
      const cache = new ReadCache(undefined);
      return { redis, cache, bus: invalidationBus(redis, cache, log) };
    });
    for (const { redis } of replicas) assert.ok(await redisReady(redis, 5000));
    const [a, b] = replicas as [(typeof replicas)[number], (typeof replicas)[number]];
    let loads = 0;
    const load = async () => ({ version: ++loads });
    await b.cache.get('preferences', 'user-1', load);
    assert.deepEqual(await b.cache.get('preferences', 'user-1', load), { version: 1 }, 'cached');
    // The subscriber connects on its own: publish until the other replica has dropped the entry (no deadline:
    // on a loaded machine the subscription may take a while; the test runner's timeout bounds a real hang).
    await eventually('replica b to drop the entry replica a invalidated', async () => {
      a.cache.invalidate('preferences', 'user-1');
      a.bus.publish('preferences', 'user-1');
      await new Promise((resolve) => setTimeout(resolve, 50));
      return (await b.cache.get('preferences', 'user-1', load)).version > 1 ? true : undefined;
    });
    for (const { bus } of replicas) await bus.close();
  });
});
