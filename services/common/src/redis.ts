import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

export interface RedisClientOptions {
  /** A command without an answer within this many ms fails, so callers fall back instead of waiting. Default 500. */
  commandTimeoutMs?: number;
  /** How long one connection attempt may take. Default 2000. */
  connectTimeoutMs?: number;
  /** Shown by CLIENT LIST, e.g. `callgate-gateway`. */
  connectionName: string;
  /** What the service does while Redis is away, for the outage log line (e.g. "rate limits fall back to per-process buckets"). */
  meanwhile: string;
}

/**
 * The one way a service connects to Redis (REDIS_URL). It never queues commands while disconnected: a
 * command then fails at once, and callers (rate limits, token buckets) fall back to their in-process
 * stand-in rather than hang a request. It reconnects forever with backoff, and logs an outage once and
 * its end (never the URL, which may hold a password).
 */
export function connectRedis(url: string, log: Logger, options: RedisClientOptions): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs ?? 500,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    connectionName: options.connectionName,
  });
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.warn({ err: error }, `Redis unreachable: ${options.meanwhile} until it is back`);
  });
  redis.on('ready', () => {
    if (down) log.info({ connection: options.connectionName }, 'Redis reachable again');
    down = false;
  });
  return redis;
}

/** Resolves true once the client is ready, false when it is not within timeoutMs (it keeps trying). */
export function redisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}

/** Readiness check: connected and answering PING. */
export async function checkRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') {
    throw new Error(`not connected (${redis.status})`);
  }
  await redis.ping();
}

/** Closes the connection (QUIT when connected) and stops reconnecting. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
