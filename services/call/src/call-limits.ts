import { Counter, type Registry } from 'prom-client';
import type { CallRow } from './call-store.js';

/**
 * The time limits a call is held to, in one place: how much of it may be billed, and when a call that
 * has not ended is overdue and must be ended here.
 *
 * Both rest on the carrier enforcing max_duration_seconds: the call is placed with Twilio's TimeLimit
 * (the call is cut that long after it is answered) and Twilio's default ring Timeout (we set none).
 */

/**
 * Seconds past a call's max duration that are still billed. Twilio cuts the call at TimeLimit and
 * rounds CallDuration up to whole seconds, so a report a few seconds over the limit is real; anything
 * beyond this grace is an anomaly (a carrier fault, or a forged or corrupted callback) that is capped,
 * counted (call_billed_duration_capped_total) and logged, never charged to the user.
 */
export const BILLING_GRACE_SECONDS = 10;

/** Twilio's ring Timeout when none is given (dialer.ts sets none): an unanswered call gives up after this. */
export const RING_TIMEOUT_SECONDS = 60;

/**
 * How long past the latest moment a call can still be live at the carrier we wait before ending it
 * here (failed, its hold released): time for a late final callback or poll to report the real end.
 */
export const OVERDUE_MARGIN_SECONDS = 120;

export interface BilledDuration {
  /** Seconds to charge: the carrier's duration, at most max duration plus BILLING_GRACE_SECONDS. */
  seconds: number;
  /** The carrier reported more than that: an anomaly to flag. */
  capped: boolean;
}

export function billedDuration(call: Pick<CallRow, 'duration_seconds' | 'max_duration_seconds'>): BilledDuration {
  const limit = call.max_duration_seconds + BILLING_GRACE_SECONDS;
  return call.duration_seconds > limit
    ? { seconds: limit, capped: true }
    : { seconds: call.duration_seconds, capped: false };
}

/**
 * When a call that has not ended is overdue: its max duration (plus the ring time, when no answer was
 * recorded) and OVERDUE_MARGIN_SECONDS after it was answered, or else dialled (or recorded).
 */
export function overdueAt(
  call: Pick<CallRow, 'answered_at' | 'dial_started_at' | 'created_at' | 'max_duration_seconds'>,
): Date {
  const from = call.answered_at ?? call.dial_started_at ?? call.created_at;
  const ring = call.answered_at ? 0 : RING_TIMEOUT_SECONDS;
  return new Date(from.getTime() + (call.max_duration_seconds + ring + OVERDUE_MARGIN_SECONDS) * 1000);
}

export const isOverdue = (call: Parameters<typeof overdueAt>[0], now: Date) => overdueAt(call) < now;

/** call_billed_duration_capped_total: settlements whose carrier duration was over the cap (see BILLING_GRACE_SECONDS). */
export function billedDurationCapped(registry: Registry): () => void {
  const capped = new Counter({
    name: 'call_billed_duration_capped_total',
    help: `Completed calls whose carrier-reported duration exceeded max duration + ${BILLING_GRACE_SECONDS} s; billed at that cap.`,
    registers: [registry],
  });
  return () => capped.inc();
}
