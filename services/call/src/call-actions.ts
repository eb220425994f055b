import {
  type Clock,
  DomainError,
  failedPrecondition,
  isCallStatus,
  isTerminal,
  type Logger,
  notFound,
} from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import type { CallRow, CallStore } from './call-store.js';
import { type Carrier, type CarrierCall, carrierErrorToDomain } from './carrier.js';
import type { CallLifecycle } from './lifecycle.js';
import { endStuckCall, stuckReason } from './stuck-calls.js';

export interface ActionOptions {
  store: CallStore;
  carrier: Carrier;
  /** Where what a cancel or a refresh learned is reported. */
  lifecycle: CallLifecycle;
  log: Logger;
  clock: Clock;
}

/** Reports what the carrier says about a call to the lifecycle. */
async function reportCarrierView(
  options: ActionOptions,
  call: CallRow,
  view: CarrierCall,
  source: 'api' | 'poll',
  detail: string,
) {
  if (!isCallStatus(view.status)) return { call, changed: false, ended: false };
  return options.lifecycle.report(call.call_id, {
    status: view.status,
    occurredAt: view.endTime ?? options.clock.date(),
    source,
    carrierCallId: view.sid,
    durationSeconds: view.durationSeconds,
    answeredBy: view.answeredBy,
    detail,
  });
}

/**
 * CancelCall: before answer the call is canceled, in progress it is hung up; a call not yet dialled is
 * canceled here and never dialled. An ended call is a FAILED_PRECONDITION that says how it ended.
 */
export async function cancelCall(
  options: ActionOptions,
  request: callV1.CancelCallRequest__Output,
): Promise<{ call: CallRow; outcome: callV1.CancelOutcome__Output }> {
  let call = await options.store.forUser(request.userId, request.callId);
  const ended = (c: CallRow) =>
    failedPrecondition(
      `call ${c.call_id} already ended (${c.status}${c.ended_at ? ` at ${c.ended_at.toISOString()}` : ''}); nothing to cancel`,
    );
  if (isTerminal(call.status)) throw ended(call);
  // Recorded first: the carrier's "completed" callback for a hang-up may land before our own update.
  if (!(await options.store.markCancelRequested(call.call_id))) {
    throw ended(await options.store.forUser(request.userId, request.callId));
  }
  const reason = request.reason ? `canceled: ${request.reason.slice(0, 200)}` : 'canceled by the user';
  if (!call.carrier_call_id) {
    // Not dialled yet: cancel it here, under the row lock, only if no dial has been claimed meanwhile.
    const applied = await options.lifecycle.reportIf(
      call.call_id,
      { status: 'canceled', occurredAt: options.clock.date(), source: 'api', detail: reason },
      'undialed',
    );
    if (applied) {
      return { call: applied.call, outcome: 'CANCEL_OUTCOME_CANCELED_BEFORE_ANSWER' };
    }
    call = await options.store.forUser(request.userId, request.callId);
    if (isTerminal(call.status)) throw ended(call);
    if (!call.carrier_call_id) {
      throw new DomainError(
        'unavailable',
        `call ${call.call_id} is being dialled right now; retry the cancel in a moment`,
      );
    }
  }
  const carrierCallId = call.carrier_call_id as string;
  try {
    let view = call.status === 'in-progress' ? undefined : await options.carrier.cancel(carrierCallId);
    const hangUp = view === undefined || view.status === 'in-progress';
    // Twilio leaves an answered call alone on `canceled`: it was answered meanwhile, so hang up.
    if (hangUp) view = await options.carrier.hangUp(carrierCallId);
    const applied = await reportCarrierView(options, call, view as CarrierCall, 'api', reason);
    const outcome = hangUp
      ? 'CANCEL_OUTCOME_HUNG_UP'
      : isTerminal(applied.call.status) && applied.call.status !== 'canceled'
        ? 'CANCEL_OUTCOME_ALREADY_ENDED'
        : 'CANCEL_OUTCOME_CANCELED_BEFORE_ANSWER';
    if (outcome === 'CANCEL_OUTCOME_ALREADY_ENDED') {
      await options.store.clearCancelRequested(call.call_id);
      return { call: { ...applied.call, cancel_requested_at: null }, outcome };
    }
    return { call: applied.call, outcome };
  } catch (error) {
    throw carrierErrorToDomain(error);
  }
}

/** RefreshStatus (the poller's safety net): fetch the call from the carrier and apply it. */
export async function refreshStatus(
  options: ActionOptions,
  request: callV1.RefreshStatusRequest__Output,
): Promise<{ call: CallRow; changed: boolean }> {
  const call = await options.store.byId(request.callId);
  if (!call) throw notFound('call', request.callId);
  if (isTerminal(call.status)) {
    if (call.settlement === 'pending') await options.lifecycle.settle(call);
    return { call, changed: false };
  }
  if (!call.carrier_call_id) return { call, changed: false };
  let view: CarrierCall;
  try {
    view = await options.carrier.fetch(call.carrier_call_id);
  } catch (error) {
    // A call the carrier does not know, or one long past its limit while the carrier is unreachable, ends here.
    const reason = stuckReason(call, options.clock.date(), { error });
    if (!reason) throw carrierErrorToDomain(error);
    const ended = await endStuckCall(options, call, reason);
    return { call: ended.call, changed: ended.changed };
  }
  const applied = await reportCarrierView(options, call, view, 'poll', `refreshed (${request.reason || 'poll'})`);
  const reason = isTerminal(applied.call.status)
    ? undefined
    : stuckReason(applied.call, options.clock.date(), { view });
  if (reason) {
    const ended = await endStuckCall(options, applied.call, reason, view);
    return { call: ended.call, changed: applied.changed || ended.changed };
  }
  return { call: applied.call, changed: applied.changed };
}
