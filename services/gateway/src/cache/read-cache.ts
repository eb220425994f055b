import { LRUCache } from 'lru-cache';
import { Counter, type Registry } from 'prom-client';

/**
 * What the gateway keeps of reads that are frequent and change rarely, per replica. Every entry has a
 * time to live, so a change the gateway hears nothing about (an operator's grant, a plan change) is
 * seen within that time; changes it does hear about drop the entry at once (cached-backends.ts).
 */
export const CACHE_POLICIES = {
  /** The voice and model catalogue: fixed for a deployment's lifetime. */
  options: { ttlMs: 5 * 60_000, max: 64 },
  profile: { ttlMs: 60_000, max: 50_000 },
  /** Dropped on every change made through any replica (Redis), so the TTL only bounds other writers. */
  preferences: { ttlMs: 60_000, max: 50_000 },
  /** Dropped on every change of the user's calls, settlement included; the TTL bounds grants. */
  balance: { ttlMs: 10_000, max: 50_000 },
} as const;

export type CacheName = keyof typeof CACHE_POLICIES;

export class ReadCache {
  private readonly caches = new Map<CacheName, LRUCache<string, object>>();
  /**
   * Bumped by every invalidation of a cache. A read that began before one may carry the old value (a
   * balance read racing its call's settlement); it is returned but not kept. Per cache, not per key,
   * so nothing can forget an invalidation: a busy cache keeps a little less, never something stale.
   */
  private readonly generations = new Map<CacheName, number>();
  private readonly lookups: Counter<'cache' | 'result'>;

  constructor(registry: Registry | undefined) {
    for (const [name, policy] of Object.entries(CACHE_POLICIES) as [CacheName, (typeof CACHE_POLICIES)[CacheName]][]) {
      this.caches.set(name, new LRUCache({ max: policy.max, ttl: policy.ttlMs }));
    }
    this.lookups = new Counter({
      name: 'callgate_gateway_cache_lookups_total',
      help: 'Reads served from the gateway cache (hit) or from the owning service (miss), by cache.',
      labelNames: ['cache', 'result'],
      registers: registry ? [registry] : [],
    });
  }

  /** The cached value, or what `load` returns (then kept). Failures are never cached. */
  async get<T extends object>(cache: CacheName, key: string, load: () => Promise<T>): Promise<T> {
    const store = this.store(cache);
    const hit = store.get(key);
    if (hit !== undefined) {
      this.lookups.inc({ cache, result: 'hit' });
      return hit as T;
    }
    this.lookups.inc({ cache, result: 'miss' });
    const generation = this.generations.get(cache) ?? 0;
    const value = await load();
    if ((this.generations.get(cache) ?? 0) === generation) store.set(key, value);
    return value;
  }

  invalidate(cache: CacheName, key: string): void {
    this.store(cache).delete(key);
    this.generations.set(cache, (this.generations.get(cache) ?? 0) + 1);
  }

  /** Forgets a whole cache: its invalidations may have been missed (a change stream was down). */
  clear(cache: CacheName): void {
    this.store(cache).clear();
    this.generations.set(cache, (this.generations.get(cache) ?? 0) + 1);
  }

  private store(cache: CacheName): LRUCache<string, object> {
    const store = this.caches.get(cache);
    if (!store) throw new Error(`no cache named ${cache}`);
    return store;
  }
}
