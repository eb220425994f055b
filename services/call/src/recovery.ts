import type { Logger } from '@callgate/common';
import type { CallStore } from './call-store.js';
import type { Settlement } from './credits.js';
import type { Dialer } from './dialer.js';
import type { SheetsMirror } from './sheets-mirror.js';

export interface RecoveryOptions {
  store: CallStore;
  dialer: Dialer;
  settlement: Settlement;
  mirror: SheetsMirror;
  log: Logger;
  now: () => Date;
  intervalMs: number;
  /** An intent older than this that nobody claimed is dialled here (its PlaceCall crashed). */
  dialGraceMs: number;
  /** A dial whose outcome the carrier never confirmed fails after this long without a callback. */
  dialUnknownTimeoutMs: number;
}

/**
 * Finishes what a crash or an outage left half done, at start-up and then periodically:
 *  - an intent recorded but never dialled is dialled, once (the dial claim makes it exclusive);
 *  - a dial whose answer was lost (a timeout) and that no callback confirmed is failed and released,
 *    never dialled again, since the carrier may have placed it;
 *  - a finished call whose credits were not settled (user-credit was down) is settled;
 *  - a call whose sheet row sheets-sync has not acknowledged is handed over again.
 */
export function startRecovery(options: RecoveryOptions): { runOnce(): Promise<void>; stop(): Promise<void> } {
  let running: Promise<void> | undefined;

  async function pass(): Promise<void> {
    const now = options.now();
    for (const call of await options.store.unfinishedDials(new Date(now.getTime() - options.dialGraceMs))) {
      if (call.dial_state === 'pending') {
        if (await options.store.claimDial(call.call_id)) {
          options.log.warn({ callId: call.call_id }, 'dialling a recorded call whose request did not finish');
          await options.dialer.dial(call);
        }
      } else if (call.carrier_call_id) {
        await options.store.markDialed(call.call_id, call.carrier_call_id);
      } else if (now.getTime() - (call.dial_started_at ?? call.created_at).getTime() > options.dialUnknownTimeoutMs) {
        await options.store.setDialState(call.call_id, 'refused');
        const failed = await options.store.apply(call.call_id, {
          status: 'failed',
          occurredAt: now,
          source: 'system',
          errorMessage: 'the carrier never confirmed the call and no status callback arrived',
          detail: 'dial outcome unknown',
        });
        if (failed.ended) await options.settlement.settle(failed.call);
      }
    }
    for (const call of await options.store.pendingSettlements()) await options.settlement.settle(call);
    for (const call of await options.store.behindSheets()) {
      // sheets-sync down (or not deployed): stop for this pass rather than knock on its door per call.
      if (!(await options.mirror.push(call))) break;
    }
  }

  const runOnce = () => {
    running ??= pass()
      .catch((error: unknown) => options.log.error({ err: error }, 'recovery pass failed; the next one retries'))
      .finally(() => {
        running = undefined;
      });
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
