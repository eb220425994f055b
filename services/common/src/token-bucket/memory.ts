import { type Clock, systemClock } from '../clock.js';
import type { BucketLimits, TakeResult, TokenBucket } from './bucket.js';

/**
 * The token bucket in one process, as GCRA: its whole state is the moment it will be full again
 * (`fullAt`; at or before now means full), so refill needs no timer and the arithmetic stays in whole
 * milliseconds when a token takes a whole number of them. A drain moves that moment to the end of the
 * block plus a whole refill, so nothing refills during a 429 back-off. Time is read from the clock.
 */
export class MemoryTokenBucket implements TokenBucket {
  readonly capacity: number;
  readonly perMinute: number;
  /** ms to fill an empty bucket, and per token. */
  private readonly fillMs: number;
  private readonly stepMs: number;
  private fullAt: number;

  constructor(
    limits: BucketLimits,
    private readonly clock: Clock = systemClock,
  ) {
    this.capacity = limits.capacity;
    this.perMinute = limits.perMinute;
    this.stepMs = 60_000 / limits.perMinute;
    this.fillMs = this.stepMs * limits.capacity;
    this.fullAt = clock.now();
  }

  /** take, answered at once (the in-process callers that need no promise). */
  takeNow(cost = 1): TakeResult {
    const now = this.clock.now();
    const next = Math.max(this.fullAt, now) + cost * this.stepMs;
    const wait = next - this.fillMs - now;
    if (wait > 0) return { granted: false, waitMs: Math.ceil(wait), available: this.tokensAt(now) };
    this.fullAt = next;
    return { granted: true, waitMs: 0, available: this.tokensAt(now) };
  }

  take(cost = 1): Promise<TakeResult> {
    return Promise.resolve(this.takeNow(cost));
  }

  drain(blockMs: number): Promise<void> {
    this.fullAt = Math.max(this.fullAt, this.clock.now() + Math.max(0, blockMs) + this.fillMs);
    return Promise.resolve();
  }

  peek(): Promise<number> {
    return Promise.resolve(this.tokensAt(this.clock.now()));
  }

  /** ms until the bucket is full again; 0 when it is (a full bucket is as good as a forgotten one). */
  msUntilFull(): number {
    return Math.max(0, this.fullAt - this.clock.now());
  }

  private tokensAt(now: number): number {
    return Math.max(0, Math.min(this.capacity, (this.fillMs - (Math.max(this.fullAt, now) - now)) / this.stepMs));
  }
}
