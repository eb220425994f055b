/**
 * A Redis logical database of its own for one `npm test` run. The services' keys have fixed prefixes
 * (`callgate:session:…`, `callgate:rl:…`, `callgate:sheets…`), so two runs on one Redis (or a run and
 * what an earlier run left) would share sessions, rate-limit buckets and the Sheets token bucket. A
 * logical database separates every key without any change to the services: the run claims one of
 * databases 1–15 with SET NX in database 0 (so concurrent runs never pick the same), empties it, and
 * hands the tests REDIS_URL …/<n>. The claim expires by itself, so a killed run frees its database.
 *
 * Pub/sub channels are not per database in Redis: the gateways' invalidation and session channels stay
 * shared. That is harmless: every message names its origin and the ids (sessions, random test users)
 * it concerns, and a foreign message at worst drops a cache entry that is loaded again.
 */
import { Redis } from 'ioredis';
import { STALE_AFTER_MS } from './database.js';

const FIRST_DB = 1;
const LAST_DB = 15;
const claimKey = (db: number) => `callgate:test-run:redis-db:${db}`;
// Deletes the claim only if it is still ours (it may have expired and been taken by another run).
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/** The same server as url, on logical database db. */
export function withLogicalDb(url: string, db: number): string {
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.toString();
}

export interface RunRedis {
  db: number;
  /** REDIS_URL for the tests of this run. */
  url: string;
  release(): Promise<void>;
}

/**
 * Claims a free logical database for runId and empties it. When all are taken (15 runs at once), waits
 * for one to be freed, saying so once.
 */
export async function claimRunRedis(
  url: string,
  runId: string,
  options: { ttlMs?: number; onWait?: () => void; retryMs?: number } = {},
): Promise<RunRedis> {
  const control = new Redis(withLogicalDb(url, 0), { lazyConnect: true, maxRetriesPerRequest: 2 });
  await control.connect();
  try {
    let waited = false;
    for (;;) {
      for (let db = FIRST_DB; db <= LAST_DB; db++) {
        if ((await control.set(claimKey(db), runId, 'PX', options.ttlMs ?? STALE_AFTER_MS, 'NX')) !== 'OK') continue;
        const mine = withLogicalDb(url, db);
        await flush(mine);
        return {
          db,
          url: mine,
          release: async () => {
            await flush(mine);
            const c = new Redis(withLogicalDb(url, 0), { lazyConnect: true, maxRetriesPerRequest: 2 });
            await c.connect();
            try {
              await c.eval(RELEASE, 1, claimKey(db), runId);
            } finally {
              c.disconnect();
            }
          },
        };
      }
      if (!waited) options.onWait?.();
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 2000));
    }
  } finally {
    control.disconnect();
  }
}

async function flush(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await client.connect();
  try {
    await client.flushdb();
  } finally {
    client.disconnect();
  }
}
