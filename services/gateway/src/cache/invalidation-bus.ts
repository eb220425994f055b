import { randomUUID } from 'node:crypto';
import type { Logger } from '@callgate/common';
import type { Redis } from 'ioredis';
import { CACHE_POLICIES, type CacheName, type ReadCache } from './read-cache.js';

const CHANNEL = 'callgate:gateway:cache-invalidations';

export interface InvalidationBus {
  /** Tells every other replica to drop an entry (this one has dropped it already). */
  publish(cache: CacheName, key: string): void;
  close(): Promise<void>;
}

/**
 * Cache invalidations between gateway replicas over Redis pub/sub. A message lost while Redis is
 * down leaves another replica's entry until its TTL ends, which is what bounds staleness then.
 * Without Redis there is one replica to tell: publishing does nothing.
 */
export function invalidationBus(redis: Redis | undefined, cache: ReadCache, log: Logger): InvalidationBus {
  if (!redis) return { publish: () => undefined, close: async () => undefined };
  const origin = randomUUID();
  // Its own connection (a subscribed connection runs no other command), queueing the SUBSCRIBE until
  // Redis answers; ioredis subscribes again after every reconnect.
  const subscriber = redis.duplicate({ enableOfflineQueue: true, connectionName: 'callgate-gateway-cache' });
  subscriber.on('error', () => undefined); // the main client already reports Redis outages
  // Invalidations published while this replica was not subscribed are lost: forget what they covered.
  let subscribedOnce = false;
  subscriber.on('ready', () => {
    if (subscribedOnce) {
      cache.clear('preferences');
      cache.clear('profile');
    }
    subscribedOnce = true;
  });
  subscriber
    .subscribe(CHANNEL)
    .catch((error: unknown) => log.warn({ err: error }, 'cache invalidations: subscribe failed'));
  subscriber.on('message', (_channel: string, message: string) => {
    try {
      const { cache: name, key, from } = JSON.parse(message) as { cache: CacheName; key: string; from: string };
      if (from !== origin && name in CACHE_POLICIES && typeof key === 'string') cache.invalidate(name, key);
    } catch {
      log.debug('cache invalidations: unreadable message ignored');
    }
  });
  return {
    publish: (name, key) => {
      redis.publish(CHANNEL, JSON.stringify({ cache: name, key, from: origin })).catch((error: unknown) => {
        log.warn(
          { err: error, cache: name },
          'cache invalidation not published; other replicas keep the entry until its TTL',
        );
      });
    },
    close: async () => {
      subscriber.disconnect();
    },
  };
}
