import { type Clock, type Logger, type Periodic, periodic } from '@callgate/common';
import type { Registry } from 'prom-client';
import type { CallStore } from './call-store.js';
import type { Dialer } from './dialer.js';
import type { CallLifecycle } from './lifecycle.js';

export interface RecoveryOptions {
  store: CallStore;
  dialer: Dialer;
  /** Where what the pass decides is reported; it also settles and resends sheet rows. */
  lifecycle: CallLifecycle;
  log: Logger;
  /** Where periodic_job_failures_total{job="recovery pass"} goes. */
  registry?: Registry;
  clock: Clock;
  intervalMs: number;
  /** An intent older than this that nobody claimed is dialled here (its PlaceCall crashed). */
  dialGraceMs: number;
  /** A dial whose outcome the carrier never confirmed fails after this long without a callback. */
  dialUnknownTimeoutMs: number;
  /** A recorded intent older than this is not dialled any more: it fails and its credits are released. */
  dialMaxAgeMs: number;
}

/**
 * Finishes what a crash or an outage left half done, at start-up and then periodically:
 *  - an intent recorded but never dialled is dialled, once (the dial claim makes it exclusive), unless
 *    it is older than DIAL_MAX_AGE_MS: then it fails and its hold is released;
 *  - a dial whose answer was lost (a timeout) and that no callback confirmed is failed and released,
 *    never dialled again, since the carrier may have placed it;
 *  - a finished call whose credits were not settled (user-credit was down) is settled;
 *  - a call whose sheet row sheets-sync has not acknowledged is handed over again.
 */
export function startRecovery(options: RecoveryOptions): Periodic<void> {
  async function pass(): Promise<void> {
    const now = options.clock.date();
    // One failing call must not stop the others: each step is tried on its own and logged.
    const attempt = async (callId: string, step: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (error) {
        options.log.error({ err: error, callId, step }, 'recovery step failed; the next pass retries it');
        await options.store.touch(callId).catch(() => undefined);
      }
    };
    for (const call of await options.store.unfinishedDials(new Date(now.getTime() - options.dialGraceMs))) {
      const age = now.getTime() - (call.dial_started_at ?? call.created_at).getTime();
      if (call.dial_state === 'pending' && age > options.dialMaxAgeMs) {
        // Too late to ring someone for a request made this long ago (quiet hours, a stale task).
        await attempt(call.call_id, 'expire intent', async () => {
          await options.lifecycle.reportIf(
            call.call_id,
            {
              status: 'failed',
              occurredAt: now,
              source: 'system',
              errorMessage: 'the call was not dialled in time (the service was unavailable); place it again',
              detail: 'intent expired',
            },
            'undialed',
          );
        });
      } else if (call.dial_state === 'pending') {
        await attempt(call.call_id, 'dial', async () => {
          if (await options.store.claimDial(call.call_id)) {
            options.log.warn({ callId: call.call_id }, 'dialling a recorded call whose request did not finish');
            await options.dialer.dial(call);
          }
        });
      } else if (call.carrier_call_id) {
        await attempt(call.call_id, 'mark dialed', () =>
          options.store.markDialed(call.call_id, call.carrier_call_id as string),
        );
      } else if (age > options.dialUnknownTimeoutMs) {
        await attempt(call.call_id, 'fail unconfirmed dial', async () => {
          await options.lifecycle.reportIf(
            call.call_id,
            {
              status: 'failed',
              occurredAt: now,
              source: 'system',
              errorMessage: 'the carrier never confirmed the call and no status callback arrived',
              detail: 'dial outcome unknown',
            },
            'unconfirmed',
          );
        });
      }
    }
    for (const call of await options.store.pendingSettlements()) {
      await attempt(call.call_id, 'settle', () => options.lifecycle.settle(call));
    }
    await options.lifecycle.resyncSheets();
  }

  return periodic({
    name: 'recovery pass',
    run: pass,
    intervalMs: options.intervalMs,
    // Replicas started together do not sweep the calls table in step.
    jitter: 0.1,
    log: options.log,
    ...(options.registry && { registry: options.registry }),
    failureLevel: 'error',
    clock: options.clock,
  });
}
