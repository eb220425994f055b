import type { Logger } from '@callgate/common';
import { Counter, type Registry } from 'prom-client';
import type { Ledger } from './ledger.js';

/**
 * Returns holds that were never settled or released (a call service that crashed mid-call, say).
 * Replicas may all sweep: each reservation is taken with SKIP LOCKED, so none is expired twice.
 */
export function startExpirySweeper(options: { ledger: Ledger; intervalMs: number; log: Logger; registry: Registry }): {
  stop(): Promise<void>;
  runOnce(): Promise<number>;
} {
  const expired = new Counter({
    name: 'credits_reservations_expired_total',
    help: 'Credit holds returned by the sweeper because they were never settled or released.',
    registers: [options.registry],
  });
  let running: Promise<number> | undefined;
  const runOnce = () => {
    running ??= (async () => {
      try {
        let total = 0;
        for (let batch = await options.ledger.expireDue(); batch > 0; batch = await options.ledger.expireDue()) {
          total += batch;
        }
        if (total > 0) {
          expired.inc(total);
          options.log.warn({ expired: total }, 'credit holds expired: their calls never settled or released them');
        }
        return total;
      } catch (error) {
        options.log.error({ err: error }, 'expiry sweep failed; next interval retries');
        return 0;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const timer = setInterval(() => void runOnce(), options.intervalMs);
  timer.unref();
  return {
    runOnce,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
