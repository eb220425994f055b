import { type CallStatus, type Catalog, type Clock, isCallStatus, isTerminal, type Logger } from '@callgate/common';
import type { CallRow, CallStore } from './call-store.js';
import { type Carrier, type CarrierCall, isCarrierError } from './carrier.js';
import type { CallLifecycle } from './lifecycle.js';
import type { PollQueue } from './poll-queue.js';

const fromCarrier = (status: string): CallStatus => (isCallStatus(status) ? status : 'queued');

export interface DialerOptions {
  store: CallStore;
  carrier: Carrier;
  /** Where the carrier's answer is reported (a refusal ends the call and releases its hold). */
  lifecycle: CallLifecycle;
  polls: PollQueue;
  catalog: Catalog;
  log: Logger;
  clock: Clock;
  /** The public base URL of the webhook server; status callbacks carry the call id in their URL. */
  publicBaseUrl: string;
  pollFirstDelaySeconds: number;
}

export type DialResult = { dialed: true; call: CallRow } | { dialed: false; call: CallRow; error?: unknown };

/**
 * Asks the carrier to place a recorded call. Only the holder of the dial claim gets here (CallStore.claimDial),
 * so PlaceCall and the recovery job never dial one intent twice.
 */
export class Dialer {
  constructor(private readonly options: DialerOptions) {}

  voiceUrl(callId: string): string {
    return `${this.options.publicBaseUrl}/twilio/voice?callId=${callId}`;
  }

  statusCallbackUrl(callId: string): string {
    return `${this.options.publicBaseUrl}/twilio/status?callId=${callId}`;
  }

  /** Where Twilio reports a recorded call's recording (recordings/recording-callback.ts). */
  recordingCallbackUrl(callId: string): string {
    return `${this.options.publicBaseUrl}/twilio/recording?callId=${callId}`;
  }

  async dial(call: CallRow): Promise<DialResult> {
    const { store, carrier, log } = this.options;
    let placed: CarrierCall;
    // The safety-net poll goes on the queue before the carrier is asked: a crash anywhere after the ask
    // (before its answer is recorded, or before it is reported) loses the status callbacks sent while
    // this process is down (Twilio does not resend them), and the poll is then what finds the call's end
    // (it is re-enqueued while the call is open; a call the carrier refused is terminal and costs it one
    // no-op). Enqueued after the dial, such a call waited for the stale-call sweep (minutes).
    await this.options.polls.enqueue(call.call_id, this.options.pollFirstDelaySeconds, this.options.clock.date());
    // Only the carrier request is guarded: a failure after the carrier accepted must never be taken
    // for a refusal (the phone is ringing; its callbacks find the call by the id in their URL).
    try {
      placed = await carrier.create({
        to: call.to_number,
        from: call.from_number,
        // Twilio fetches the call's TwiML (ConversationRelay) from us once answered: see voice-webhook.ts.
        url: this.voiceUrl(call.call_id),
        statusCallbackUrl: this.statusCallbackUrl(call.call_id),
        timeLimitSeconds: call.max_duration_seconds,
        machineDetection: call.machine_detection,
        ...(call.record && { recordingStatusCallbackUrl: this.recordingCallbackUrl(call.call_id) }),
      });
    } catch (error) {
      if (isCarrierError(error) && error.mayHaveTakenEffect) {
        // The call may exist: its callbacks name our call id and will attach it. Until then it stays
        // 'dialing'; the recovery job fails it if nothing arrives (never dials it again).
        log.warn({ err: error, callId: call.call_id }, 'carrier outcome unknown; waiting for a status callback');
        return { dialed: false, call, error };
      }
      const failed = await this.options.lifecycle.reportIf(
        call.call_id,
        {
          status: 'failed',
          occurredAt: this.options.clock.date(),
          source: 'api',
          errorCode: isCarrierError(error) && error.code ? String(error.code) : '',
          errorMessage: error instanceof Error ? error.message : String(error),
          detail: 'the carrier refused the call',
        },
        'unconfirmed',
      );
      return { dialed: false, call: failed?.call ?? call, error };
    }
    await store.markDialed(call.call_id, placed.sid);
    const applied = isCallStatus(placed.status)
      ? await this.options.lifecycle.report(call.call_id, {
          status: placed.status,
          occurredAt: this.options.clock.date(),
          source: 'api',
          carrierCallId: placed.sid,
          detail: 'the carrier accepted the call',
        })
      : undefined;
    const now = applied?.call ?? (await store.byId(call.call_id)) ?? call;
    if (isTerminal(now.status) && !isTerminal(fromCarrier(placed.status))) {
      // Canceled (or failed by recovery) while the carrier was being asked: end the real call too.
      await this.endOrphan(placed.sid);
    }
    return { dialed: true, call: now };
  }

  /** Ends a carrier call that our records already consider over, whatever stage it reached. */
  async endOrphan(sid: string): Promise<void> {
    try {
      const view = await this.options.carrier.cancel(sid);
      if (view.status === 'in-progress') await this.options.carrier.hangUp(sid);
      this.options.log.warn({ sid }, 'ended a carrier call whose record had already ended');
    } catch (error) {
      this.options.log.error({ err: error, sid }, 'could not end a carrier call whose record had already ended');
    }
  }
}
