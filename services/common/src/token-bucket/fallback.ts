import type { Logger } from '../logger.js';
import type { BucketLimits, TakeResult, TokenBucket } from './bucket.js';

export interface FallbackBucketOptions {
  /** The shared bucket (Redis). */
  shared: TokenBucket;
  /** This process's own bucket, sized to its share of the budget. */
  local: TokenBucket;
  /** Whether the shared bucket can answer now (the Redis client is connected); when not, it is not even asked. */
  sharedReady: () => boolean;
  log: Logger;
  /** Which bucket, for the log (write, read). */
  name: string;
  /** What the budget is of, for the log (`Sheets budget`). Default `budget`. */
  budget?: string;
}

/**
 * The shared Redis bucket, with a per-process bucket in reserve: while Redis is down (or a take fails)
 * each replica takes from its own, smaller bucket, so writes go on at a conservative pace instead of
 * stopping (or, worse, going unlimited). When Redis is back the shared budget applies again.
 */
export class FallbackTokenBucket implements TokenBucket {
  readonly capacity: number;
  readonly perMinute: number;
  private degraded = false;
  private readonly budget: string;

  constructor(private readonly options: FallbackBucketOptions) {
    this.capacity = options.shared.capacity;
    this.perMinute = options.shared.perMinute;
    this.budget = options.budget ?? 'budget';
  }

  /** Runs op on the shared bucket, or on the local one while the shared one cannot answer. */
  private async either<T>(op: (bucket: TokenBucket) => Promise<T>): Promise<T> {
    if (this.options.sharedReady()) {
      try {
        const result = await op(this.options.shared);
        if (this.degraded) {
          this.degraded = false;
          this.options.log.info(
            { bucket: this.options.name },
            `Redis is back: the shared ${this.budget} applies again`,
          );
        }
        return result;
      } catch (error) {
        this.enterDegraded(error);
      }
    } else {
      this.enterDegraded(undefined);
    }
    return op(this.options.local);
  }

  private enterDegraded(error: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    this.options.log.warn(
      {
        err: error,
        bucket: this.options.name,
        capacity: this.options.local.capacity,
        perMinute: this.options.local.perMinute,
      },
      `Redis unavailable: this replica takes from its own share of the ${this.budget} until it is back`,
    );
  }

  take(cost = 1): Promise<TakeResult> {
    return this.either((bucket) => bucket.take(cost));
  }

  async drain(blockMs: number): Promise<void> {
    // A 429 blocks both: the local bucket must not send while the API says stop, whichever is in use.
    await this.options.local.drain(blockMs);
    if (this.options.sharedReady()) await this.options.shared.drain(blockMs).catch(() => undefined);
  }

  peek(): Promise<number> {
    return this.either((bucket) => bucket.peek());
  }

  /** Whether the local bucket is in use (for metrics and tests). */
  get usingLocal(): boolean {
    return this.degraded;
  }
}

/** One replica's share of a budget: 1/replicas of capacity and rate, at least one token and one a minute. */
export function replicaShare(limits: BucketLimits, replicas: number): BucketLimits {
  return {
    capacity: Math.max(1, Math.floor(limits.capacity / replicas)),
    perMinute: Math.max(1, Math.floor(limits.perMinute / replicas)),
  };
}
