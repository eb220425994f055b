import type { ServerResponse } from 'node:http';
import { type Clock, ConfigError, MemoryTokenBucket, systemClock } from '@callgate/common';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { RateLimiterCompatibleAbstract, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { GatewayConfig } from './config.js';

/**
 * JSON-RPC error code of a request refused by a rate limit. MCP defines none. The 2026-07-28 revision
 * reserves -32020..-32099 for codes the specification defines, keeps -32000..-32019 for existing
 * implementation usage, and asks for new application codes outside the JSON-RPC reserved range
 * (-32768..-32000); 429 is outside it, legal in every revision, and mirrors HTTP 429.
 */
export const RATE_LIMITED = 429;

/** The buckets every user has: one for every request, one more for makePhoneCall. */
export type BucketName = 'general' | 'makePhoneCall';

export interface BucketLimit {
  /** Tokens the bucket holds: requests a user may send at once. */
  burst: number;
  /** Tokens added per minute, up to burst. */
  perMinute: number;
}

export interface RateLimitsOptions {
  /** Taken from by every JSON-RPC request (not notifications or responses). */
  general: BucketLimit;
  /** Taken from by tools/call of makePhoneCall, in addition to the general bucket. */
  makePhoneCall: BucketLimit;
  /**
   * Keeps the buckets in Redis, shared by every gateway replica; when Redis fails, each bucket falls
   * back to an in-process one with the same limits (never to no limit). Default: in-process only.
   */
  redis?: Redis;
  /** Prefix of the buckets' keys. Default `callgate:rl`. */
  keyPrefix?: string;
  /** Registry of gateway_rate_limited_total. Default: none (not exported). */
  registry?: Registry;
  /** Clock of the in-process buckets; the Redis ones use the Redis server's clock. Default systemClock. */
  clock?: Clock;
}

/**
 * A refusal: which bucket was empty, when to retry, and the JSON-RPC error that answers the request.
 * A batch costing more than the bucket holds can never pass: it has no retryAfterMs, and says so.
 */
export interface RateLimited {
  bucket: BucketName;
  retryAfterMs?: number;
  error: {
    code: number;
    message: string;
    data: { bucket: BucketName; retryAfterMs: number } | { bucket: BucketName; limit: number };
  };
}

/** Seconds for a Retry-After header: rounded up, at least 1. */
export const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** Seconds an empty bucket takes to fill: the limiter's `duration`. */
const fillSeconds = (limit: BucketLimit) => (limit.burst * 60) / limit.perMinute;

/**
 * The buckets' limits from the configuration. A bucket must refill no faster than in one second
 * (RATE_LIMIT_PER_MINUTE ≤ 60 × RATE_LIMIT_BURST): rate-limiter-flexible gives Redis whole seconds.
 */
export function rateLimitSettings(
  config: Pick<
    GatewayConfig,
    'RATE_LIMIT_BURST' | 'RATE_LIMIT_PER_MINUTE' | 'RATE_LIMIT_CALL_BURST' | 'RATE_LIMIT_CALL_PER_MINUTE'
  >,
): { general: BucketLimit; makePhoneCall: BucketLimit } {
  const general = { burst: config.RATE_LIMIT_BURST, perMinute: config.RATE_LIMIT_PER_MINUTE };
  const makePhoneCall = { burst: config.RATE_LIMIT_CALL_BURST, perMinute: config.RATE_LIMIT_CALL_PER_MINUTE };
  const problems = [
    { variable: 'RATE_LIMIT_PER_MINUTE', limit: general, burst: 'RATE_LIMIT_BURST' },
    { variable: 'RATE_LIMIT_CALL_PER_MINUTE', limit: makePhoneCall, burst: 'RATE_LIMIT_CALL_BURST' },
  ]
    .filter(({ limit }) => fillSeconds(limit) < 1)
    .map(({ variable, limit, burst }) => ({
      variable,
      message: `${limit.perMinute} is more than 60 × ${burst} (${60 * limit.burst}); raise ${burst} or lower ${variable}`,
    }));
  if (problems.length) throw new ConfigError('gateway', problems);
  return { general, makePhoneCall };
}

/**
 * A token bucket as GCRA in Redis, run by RateLimiterRedis in place of its fixed-window script. The key
 * holds the moment (µs, Redis server clock, so replicas agree) the bucket will be full again, and
 * expires then. ARGV as RateLimiterRedis passes them: [1] tokens to take, [2] unused, [3] burst (the
 * limiter's points), [4] seconds to fill an empty bucket (its duration). Returns {consumed, ms} in the
 * shape RateLimiterRedis reads: consumed > burst means refused, with ms the wait until the tokens are
 * there; otherwise consumed = burst − tokens left and ms = time until the bucket is full. A refusal
 * takes nothing.
 */
export const TOKEN_BUCKET_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local cost = tonumber(ARGV[1])
local burst = tonumber(ARGV[3])
local fill = tonumber(ARGV[4]) * 1000000
local step = fill / burst
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local full_at = tonumber(redis.call('GET', KEYS[1])) or now
if full_at < now then full_at = now end
local next_full_at = full_at + cost * step
local wait = next_full_at - fill - now
if wait > 0 then
  return {burst + cost, math.ceil(wait / 1000)}
end
local ms = math.ceil((next_full_at - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', next_full_at), 'PX', ms)
return {burst - math.floor((fill - (next_full_at - now)) / step + 1e-9), ms}
`;

/**
 * The buckets without Redis, and each Redis bucket's insurance while Redis fails: one common
 * MemoryTokenBucket (the same GCRA arithmetic as TOKEN_BUCKET_LUA) per user, behind the interface of a
 * rate-limiter-flexible limiter (consume, get, delete), so RateLimiterRedis can fall back to it. Full
 * buckets are forgotten, so memory follows active users.
 */
export class MemoryRateLimiter extends RateLimiterCompatibleAbstract {
  override readonly keyPrefix: string;
  override blockDuration = 0;
  override execEvenly = false;
  private readonly limit: BucketLimit;
  /** ms to fill an empty bucket: how long a full bucket may stay tracked at most. */
  private readonly fillMs: number;
  private readonly clock: Clock;
  /** Each active user's bucket; absent means full. */
  private readonly buckets = new Map<string, MemoryTokenBucket>();
  private lastSweep: number;

  constructor(options: BucketLimit & { keyPrefix: string; clock?: Clock }) {
    super();
    this.keyPrefix = options.keyPrefix;
    this.limit = { burst: options.burst, perMinute: options.perMinute };
    this.fillMs = fillSeconds(options) * 1000;
    this.clock = options.clock ?? systemClock;
    this.lastSweep = this.clock.now();
  }

  override consume(key: string | number, points = 1): Promise<RateLimiterRes> {
    this.sweep(this.clock.now());
    const id = String(key);
    let bucket = this.buckets.get(id);
    if (!bucket) {
      bucket = new MemoryTokenBucket({ capacity: this.limit.burst, perMinute: this.limit.perMinute }, this.clock);
      this.buckets.set(id, bucket);
    }
    const wasFull = bucket.msUntilFull() === 0;
    const taken = bucket.takeNow(points);
    if (!taken.granted) {
      return Promise.reject(new RateLimiterRes(0, taken.waitMs, this.limit.burst + points, false));
    }
    return Promise.resolve(this.state(bucket, taken.available, wasFull));
  }

  override get(key: string | number): Promise<RateLimiterRes | null> {
    const bucket = this.buckets.get(String(key));
    if (!bucket || bucket.msUntilFull() === 0) return Promise.resolve(null);
    return bucket.peek().then((available) => this.state(bucket, available, false));
  }

  override delete(key: string | number): Promise<boolean> {
    return Promise.resolve(this.buckets.delete(String(key)));
  }

  /** Buckets tracked (full ones are dropped at most one fill time after they filled). */
  get size(): number {
    return this.buckets.size;
  }

  /** The answer RateLimiterRedis gives: whole tokens left, and ms until the bucket is full again. */
  private state(bucket: MemoryTokenBucket, available: number, first: boolean): RateLimiterRes {
    const left = Math.floor(available + 1e-9);
    return new RateLimiterRes(left, Math.ceil(bucket.msUntilFull()), this.limit.burst - left, first);
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.fillMs) return;
    this.lastSweep = now;
    for (const [id, bucket] of this.buckets) if (bucket.msUntilFull() === 0) this.buckets.delete(id);
  }
}

type Limiter = RateLimiterRedis | MemoryRateLimiter;

/** Requests in a JSON-RPC message or batch (objects with a method and an id), and how many place calls. */
export function costOf(body: unknown): { requests: number; calls: number } {
  let requests = 0;
  let calls = 0;
  for (const message of Array.isArray(body) ? body : [body]) {
    if (typeof message !== 'object' || message === null) continue;
    const { method, id, params } = message as { method?: unknown; id?: unknown; params?: { name?: unknown } };
    if (typeof method !== 'string' || id === undefined) continue;
    requests++;
    if (method === 'tools/call' && params?.name === 'makePhoneCall') calls++;
  }
  return { requests, calls };
}

/**
 * Per-user token buckets, keyed by the authenticated user (the token's subject), never by address:
 * every JSON-RPC request takes a token from the user's general bucket, and makePhoneCall one more from
 * its own, stricter bucket. With Redis the buckets are shared by every replica.
 */
export class RateLimits {
  private readonly limits: Record<BucketName, BucketLimit>;
  private readonly limiters: Record<BucketName, Limiter>;
  private readonly limited: Counter<'bucket'>;

  constructor(options: RateLimitsOptions) {
    const prefix = options.keyPrefix ?? 'callgate:rl';
    this.limits = { general: options.general, makePhoneCall: options.makePhoneCall };
    const limiter = (name: BucketName): Limiter => {
      const limit = this.limits[name];
      const keyPrefix = `${prefix}:${name}`;
      const memory = new MemoryRateLimiter({ ...limit, keyPrefix, clock: options.clock });
      if (!options.redis) return memory;
      return new RateLimiterRedis({
        storeClient: options.redis,
        keyPrefix,
        points: limit.burst,
        duration: fillSeconds(limit),
        customIncrTtlLuaScript: TOKEN_BUCKET_LUA,
        // Disconnected: decide at once in process, rather than wait for a reconnect.
        rejectIfRedisNotReady: true,
        insuranceLimiter: memory,
      });
    };
    this.limiters = { general: limiter('general'), makePhoneCall: limiter('makePhoneCall') };
    this.limited = new Counter({
      name: 'gateway_rate_limited_total',
      help: 'MCP requests (or batches) refused by a per-user rate limit, by bucket (general, makePhoneCall).',
      labelNames: ['bucket'],
      registers: options.registry ? [options.registry] : [],
    });
  }

  /**
   * Takes what a JSON-RPC message or batch costs from userId's buckets: one general token per request
   * (all of a batch at once), then one makePhoneCall token per call. Resolves undefined when admitted,
   * else the refusal (nothing taken from the bucket that refused). `cost` overrides what the body costs
   * (the WebSocket transport charges every entry a frame makes it answer).
   */
  async take(userId: string, body: unknown, cost = costOf(body)): Promise<RateLimited | undefined> {
    const { requests, calls } = cost;
    if (requests > 0) {
      const refused = await this.consume('general', userId, requests);
      if (refused) return refused;
    }
    return calls > 0 ? this.consume('makePhoneCall', userId, calls) : undefined;
  }

  private async consume(bucket: BucketName, userId: string, tokens: number): Promise<RateLimited | undefined> {
    const limit = this.limits[bucket];
    if (tokens > limit.burst) {
      this.limited.inc({ bucket });
      return tooLarge(bucket, limit, tokens);
    }
    try {
      await this.limiters[bucket].consume(userId, tokens);
      return undefined;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      this.limited.inc({ bucket });
      return refusal(bucket, limit, error.msBeforeNext);
    }
  }
}

const requestsOf = (bucket: BucketName) => (bucket === 'makePhoneCall' ? 'makePhoneCall requests' : 'requests');

function refusal(bucket: BucketName, limit: BucketLimit, retryAfterMs: number): RateLimited {
  const rule = `at most ${limit.burst} ${requestsOf(bucket)} at once and ${limit.perMinute} per minute per user`;
  const message = `Rate limit exceeded: ${rule}. Retry in ${retryAfterSeconds(retryAfterMs)} s.`;
  return { bucket, retryAfterMs, error: { code: RATE_LIMITED, message, data: { bucket, retryAfterMs } } };
}

/** A batch that costs more than the bucket holds: no wait lets it through, so it is invalid as sent. */
function tooLarge(bucket: BucketName, limit: BucketLimit, tokens: number): RateLimited {
  const what = requestsOf(bucket);
  const message = `Invalid Request: a batch of ${tokens} ${what} is more than the ${limit.burst} a user may send at once; split it into batches of at most ${limit.burst}.`;
  return { bucket, error: { code: -32600, message, data: { bucket, limit: limit.burst } } };
}

/**
 * The HTTP answer to a refused POST: 429 with Retry-After (seconds, rounded up) and the JSON-RPC
 * error for each request of the body (one object, or an array for a batch). A batch that can never
 * pass gets 413 and no Retry-After: waiting would not help.
 */
export function sendRateLimited(res: ServerResponse, body: unknown, limited: RateLimited): void {
  // An id JSON-RPC does not allow (an object, say) is answered as id null.
  const answer = (id: unknown) => ({
    jsonrpc: '2.0',
    id: typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null,
    error: limited.error,
  });
  const ids = (Array.isArray(body) ? body : [body])
    .filter((m): m is { id: unknown } => typeof m === 'object' && m !== null && 'method' in m && 'id' in m)
    .map((m) => m.id);
  const retry = limited.retryAfterMs;
  res
    .writeHead(retry === undefined ? 413 : 429, {
      'content-type': 'application/json',
      ...(retry === undefined ? {} : { 'retry-after': String(retryAfterSeconds(retry)) }),
    })
    .end(JSON.stringify(Array.isArray(body) ? ids.map(answer) : answer(ids[0])));
}
