import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ReadCache } from './read-cache.js';

describe('ReadCache', () => {
  it('keeps a loaded value, counts hits and misses, and forgets on invalidate', async () => {
    const registry = new Registry();
    const cache = new ReadCache(registry);
    let loads = 0;
    const load = async () => ({ n: ++loads });
    assert.deepEqual(await cache.get('balance', 'u', load), { n: 1 });
    assert.deepEqual(await cache.get('balance', 'u', load), { n: 1 });
    assert.deepEqual(await cache.get('balance', 'other', load), { n: 2 }, 'per key');
    cache.invalidate('balance', 'u');
    assert.deepEqual(await cache.get('balance', 'u', load), { n: 3 });
    const values = (await registry.getSingleMetric('callgate_gateway_cache_lookups_total')?.get())?.values ?? [];
    const count = (result: string) => values.find((v) => v.labels.result === result)?.value;
    assert.equal(count('hit'), 1);
    assert.equal(count('miss'), 3);
  });

  it('does not keep a value whose read began before an invalidation (a balance racing its settlement)', async () => {
    const cache = new ReadCache(undefined);
    let release: (value: { n: number }) => void = () => undefined;
    const slow = cache.get('balance', 'u', () => new Promise<{ n: number }>((resolve) => (release = resolve)));
    cache.invalidate('balance', 'u'); // the settlement lands while the old balance is on its way
    release({ n: 1 });
    assert.deepEqual(await slow, { n: 1 }, 'the reader still gets its answer');
    assert.deepEqual(await cache.get('balance', 'u', async () => ({ n: 2 })), { n: 2 }, 'but it was not kept');
  });

  it('never keeps a failed read', async () => {
    const cache = new ReadCache(undefined);
    await assert.rejects(cache.get('profile', 'u', async () => Promise.reject(new Error('down'))));
    assert.deepEqual(await cache.get('profile', 'u', async () => ({ ok: true })), { ok: true });
  });
});
