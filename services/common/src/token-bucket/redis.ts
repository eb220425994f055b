import type { Redis } from 'ioredis';
import type { BucketLimits, TakeResult, TokenBucket } from './bucket.js';

/**
 * The token bucket in Redis, taken atomically by one script, so every replica shares one budget. It uses
 * the Redis server's clock (TIME), so replicas with skewed clocks still agree. KEYS[1] is a hash
 * {tokens, from}; ARGV: capacity, tokens per ms, op ("take" | "drain" | "peek"), cost or block ms.
 * Returns {granted (0/1), wait ms, tokens as a string} (Lua numbers would be truncated to integers).
 */
export const BUCKET_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local op = ARGV[3]
local arg = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'from')
local tokens = tonumber(state[1]) or capacity
local from = tonumber(state[2]) or now
if now > from then
  tokens = math.min(capacity, tokens + (now - from) * rate)
  from = now
end
local granted = 0
local wait = 0
if op == 'take' then
  if now >= from and tokens >= arg then
    tokens = tokens - arg
    granted = 1
  else
    local missing = arg - tokens
    if missing < 0 then missing = 0 end
    wait = math.ceil((from - now) + missing / rate)
  end
elseif op == 'drain' then
  tokens = 0
  if now + arg > from then from = now + arg end
end
if op ~= 'peek' then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'from', tostring(from))
  -- Forgotten once it would be full again anyway: a missing key means a full bucket.
  redis.call('PEXPIRE', KEYS[1], math.ceil((from - now) + (capacity - tokens) / rate) + 1000)
end
return {granted, wait, tostring(tokens)}
`;

export class RedisTokenBucket implements TokenBucket {
  readonly capacity: number;
  readonly perMinute: number;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    limits: BucketLimits,
  ) {
    this.capacity = limits.capacity;
    this.perMinute = limits.perMinute;
    redis.defineCommand('callgateTokenBucket', { numberOfKeys: 1, lua: BUCKET_LUA });
  }

  private async run(op: 'take' | 'drain' | 'peek', arg: number): Promise<TakeResult> {
    const call = (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<[number, number, string]>>)
      .callgateTokenBucket;
    if (!call) throw new Error('callgateTokenBucket command not defined');
    const [granted, wait, tokens] = await call.call(
      this.redis,
      this.key,
      this.capacity,
      this.perMinute / 60_000,
      op,
      arg,
    );
    return { granted: granted === 1, waitMs: Number(wait), available: Number(tokens) };
  }

  take(cost = 1): Promise<TakeResult> {
    return this.run('take', cost);
  }

  async drain(blockMs: number): Promise<void> {
    await this.run('drain', Math.max(0, Math.ceil(blockMs)));
  }

  async peek(): Promise<number> {
    return (await this.run('peek', 0)).available;
  }
}
