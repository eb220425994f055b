/** What a take answered: granted, or how long until the tokens are there. */
export interface TakeResult {
  granted: boolean;
  /** When refused: ms until `cost` tokens will be available (including a drain's block). 0 when granted. */
  waitMs: number;
  /** Tokens left after the take (fractional: the bucket refills continuously). */
  available: number;
}

/**
 * A token bucket: a budget of `capacity` requests at once, refilled continuously at `perMinute`. Every
 * request takes its tokens first. In memory (one process), in Redis (every replica shares it), or the
 * Redis one with a per-replica share in reserve while Redis is down (FallbackTokenBucket).
 */
export interface TokenBucket {
  readonly capacity: number;
  readonly perMinute: number;
  take(cost?: number): Promise<TakeResult>;
  /**
   * The remote side answered 429: our idea of the budget was wrong (another client shares the quota, or
   * the quota shrank). Empties the bucket and stops refilling it for `blockMs`, for everyone sharing it.
   */
  drain(blockMs: number): Promise<void>;
  /** Tokens available now, for metrics and status reports. */
  peek(): Promise<number>;
}

export interface BucketLimits {
  /** Tokens the bucket holds: requests sent at once after a quiet spell. */
  capacity: number;
  /** Tokens added per minute, continuously, up to capacity. */
  perMinute: number;
}
