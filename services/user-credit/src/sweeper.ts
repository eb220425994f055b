import { type Logger, periodic } from '@callgate/common';
import { Counter, type Registry } from 'prom-client';
import type { Ledger } from './ledger.js';

/**
 * Returns holds that were never settled or released (a call service that crashed mid-call, say).
 * Replicas may all sweep: each reservation is taken with SKIP LOCKED, so none is expired twice.
 */
export function startExpirySweeper(options: { ledger: Ledger; intervalMs: number; log: Logger; registry: Registry }): {
  stop(): Promise<void>;
  runOnce(): Promise<number | undefined>;
} {
  const expired = new Counter({
    name: 'credits_reservations_expired_total',
    help: 'Credit holds returned by the sweeper because they were never settled or released.',
    registers: [options.registry],
  });
  const job = periodic({
    name: 'credit-expiry-sweep',
    intervalMs: options.intervalMs,
    jitter: 0.1,
    log: options.log,
    registry: options.registry,
    failureLevel: 'error',
    run: async () => {
      let total = 0;
      for (let batch = await options.ledger.expireDue(); batch > 0; batch = await options.ledger.expireDue()) {
        total += batch;
      }
      if (total > 0) {
        expired.inc(total);
        options.log.warn({ expired: total }, 'credit holds expired: their calls never settled or released them');
      }
      return total;
    },
  });
  return { runOnce: job.runOnce, stop: job.stop };
}
