import type { ActionOptions } from './call-actions.js';
import { isOverdue, OVERDUE_MARGIN_SECONDS, overdueAt } from './call-limits.js';
import type { AppliedReport, CallRow } from './call-store.js';
import type { CarrierCall } from './carrier.js';
import { carrierErrorToDomain, isCarrierNotFound } from './carrier-errors.js';

/**
 * Calls that can no longer end by themselves: nothing will ever report their end, so they would stay
 * active, holding the user's credits and counting against their concurrent-call limit, until the hold
 * expired hours later. A refresh (the poller's polls and its stale-call sweep) ends them here.
 */
export interface StuckReason {
  kind: 'carrier-not-found' | 'overdue';
  /** The Twilio error code recorded on the call, if any. */
  errorCode: string;
  /** What the user reads as the call's error. */
  message: string;
}

/**
 * Why a call not yet ended must be ended now, given what asking the carrier gave (its view of the
 * call, or the error it answered); undefined when it may still end by itself.
 */
export function stuckReason(
  call: CallRow,
  now: Date,
  asked: { view: CarrierCall } | { error: unknown },
): StuckReason | undefined {
  if ('error' in asked && isCarrierNotFound(asked.error)) {
    // Not retried: a call the carrier does not know will never get a status from it (a restarted
    // sandbox, a sid of another account). Its end is now; nobody was charged by the carrier for it.
    const { status, code } = asked.error;
    const said = [status === null ? '' : `HTTP ${status}`, code === null ? '' : `Twilio error ${code}`];
    return {
      kind: 'carrier-not-found',
      errorCode: code === null ? '' : String(code),
      message: `the carrier has no record of call ${call.carrier_call_id} (${said.filter(Boolean).join(', ')}); ended as failed and its credit hold released`,
    };
  }
  if (!isOverdue(call, now)) return undefined;
  const late = Math.round((now.getTime() - overdueAt(call).getTime()) / 1000) + OVERDUE_MARGIN_SECONDS;
  const where =
    'view' in asked
      ? `the carrier still reports it ${asked.view.status}`
      : `the carrier could not be asked (${carrierErrorToDomain(asked.error).message})`;
  return {
    kind: 'overdue',
    errorCode: '',
    message: `exceeded maximum duration: ${call.max_duration_seconds} s allowed, not ended ${late} s after its latest possible end and ${where}; ended as failed and its credit hold released`,
  };
}

/**
 * Ends a stuck call as failed, with the reason, and closes its credit hold, through the CallLifecycle
 * like any report: if the call ended meanwhile (a callback won the row lock) nothing changes and the
 * call is settled by that report, once. A call the carrier still reports live is then ended there too.
 */
export async function endStuckCall(
  options: ActionOptions,
  call: CallRow,
  reason: StuckReason,
  view?: CarrierCall,
): Promise<AppliedReport> {
  // Settled by the lifecycle once recorded; the carrier is asked to end the call after.
  const applied = await options.lifecycle.report(call.call_id, {
    status: 'failed',
    occurredAt: options.clock.date(),
    source: 'poll',
    errorCode: reason.errorCode,
    errorMessage: reason.message,
    detail: reason.kind === 'overdue' ? 'exceeded maximum duration' : 'not found at the carrier',
  });
  if (applied.ended) {
    options.log.warn(
      { callId: call.call_id, userId: call.user_id, carrierCallId: call.carrier_call_id, reason: reason.kind },
      `stuck call ended: ${reason.message}`,
    );
    // Recorded first, so the carrier's own report of the end we cause now finds the call ended and changes nothing.
    if (view && call.carrier_call_id) await endAtCarrier(options, call.carrier_call_id, view);
  }
  return applied;
}

/** Best effort: a call past its limit must not go on costing; failing to end it must not keep it active here. */
async function endAtCarrier(options: ActionOptions, sid: string, view: CarrierCall): Promise<void> {
  try {
    const after = view.status === 'in-progress' ? view : await options.carrier.cancel(sid);
    if (after.status === 'in-progress') await options.carrier.hangUp(sid);
  } catch (error) {
    options.log.error({ err: error, sid }, 'could not end an overdue call at the carrier');
  }
}
