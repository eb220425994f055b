import { callCost, errorDetailOf, type Logger, type PriceTable, type ServiceClient } from '@callgate/common';
import { BILLING_GRACE_SECONDS, billedDuration } from './call-limits.js';
import type { CallRow, CallStore } from './call-store.js';
import type { Carrier } from './carrier.js';
import { isCarrierNotFound } from './carrier-errors.js';

export type CreditClient = ServiceClient<'credit'>;

/**
 * Closes a finished call's credit hold, exactly once: a call that connected is charged its billed
 * duration (the price table rounds), one that never connected is released. The idempotency keys are the
 * call's, so a retry after a crash or a timeout has no second effect at user-credit. Only CallLifecycle
 * calls it (it then hands the settled row to the sheet).
 */
export class Settlement {
  private readonly running = new Map<string, Promise<CallRow | undefined>>();

  constructor(
    private readonly store: CallStore,
    private readonly credit: CreditClient,
    private readonly pricing: PriceTable,
    private readonly log: Logger,
    /** Asked for the billed duration of a completed call recorded without one. */
    private readonly carrier: Pick<Carrier, 'fetch'>,
    /** Told of each settlement whose duration was capped (call_billed_duration_capped_total). */
    private readonly onCapped: () => void = () => {},
  ) {}

  /**
   * Settles or releases; the settled row when this call closed the hold. A failure leaves settlement
   * 'pending' for the recovery job to retry.
   */
  settle(call: CallRow): Promise<CallRow | undefined> {
    let run = this.running.get(call.call_id);
    if (!run) {
      run = this.close(call)
        .catch((error: unknown) => {
          this.log.warn({ err: error, callId: call.call_id }, 'credit settlement failed; the recovery job retries it');
          return undefined;
        })
        .finally(() => this.running.delete(call.call_id));
      this.running.set(call.call_id, run);
    }
    return run;
  }

  private async close(recorded: CallRow): Promise<CallRow | undefined> {
    if (recorded.settlement !== 'pending') return undefined;
    const call = await this.withBilledDuration(recorded);
    // Billed by the carrier's duration of a completed call, whatever order its reports came in.
    const connected = call.status === 'completed' && call.duration_seconds > 0;
    if (connected) {
      // Every path that ends a call (callback, poll, cancel, recovery) settles here, so the cap is applied once, here.
      const billed = billedDuration(call);
      if (billed.capped) {
        this.onCapped();
        this.log.warn(
          {
            callId: call.call_id,
            userId: call.user_id,
            carrierCallId: call.carrier_call_id,
            reportedSeconds: call.duration_seconds,
            maxDurationSeconds: call.max_duration_seconds,
            billedSeconds: billed.seconds,
          },
          `carrier reported a duration over the call's max duration + ${BILLING_GRACE_SECONDS} s grace; billed at the cap`,
        );
      }
      const cost = callCost(this.pricing, call.credits_per_minute, billed.seconds);
      await this.credit.settle({
        reservationId: call.reservation_id,
        actualAmount: cost,
        idempotencyKey: `settle:${call.call_id}`,
      });
      return this.store.markSettled(call.call_id, 'settled', cost);
    }
    try {
      await this.credit.release({
        reservationId: call.reservation_id,
        idempotencyKey: `release:${call.call_id}`,
        reason: `call ${call.call_id} ended ${call.status} without connecting`,
      });
    } catch (error) {
      // A hold that is gone already (settled by an earlier attempt) must not block the call forever.
      if (errorDetailOf(error)?.reason !== 'ERROR_REASON_ALREADY_SETTLED') throw error;
    }
    return this.store.markSettled(call.call_id, 'released', 0);
  }

  /**
   * A completed call recorded with no duration (the answer to a hang-up carries none) is asked of the
   * carrier before it is settled, so it is never released free when it was in fact answered.
   */
  private async withBilledDuration(call: CallRow): Promise<CallRow> {
    if (call.status !== 'completed' || call.duration_seconds > 0 || !call.carrier_call_id) return call;
    let view: Awaited<ReturnType<Carrier['fetch']>>;
    try {
      view = await this.carrier.fetch(call.carrier_call_id);
    } catch (error) {
      if (!isCarrierNotFound(error)) throw error;
      // The carrier will never say: settled on what we recorded (no billed time), not held until the hold expires.
      this.log.warn(
        { callId: call.call_id, carrierCallId: call.carrier_call_id },
        'completed call without a duration unknown to the carrier; settled with no billed time',
      );
      return call;
    }
    if (view.status !== 'completed' || view.durationSeconds === null) {
      throw new Error(`carrier has no final duration for ${call.carrier_call_id} yet (status ${view.status})`);
    }
    if (view.durationSeconds === 0) return call;
    const fixed = await this.store.apply(call.call_id, {
      status: 'completed',
      occurredAt: view.endTime ?? new Date(),
      source: 'poll',
      durationSeconds: view.durationSeconds,
    });
    return fixed.call;
  }
}
