import type { Logger } from '@callgate/common';
import twilio from 'twilio';
import { rfc2822 } from './dates.js';
import type { CallRecord, Progress, StatusCallback } from './lifecycle.js';
import { API_VERSION } from './resource.js';

/** The SIP answer Twilio reports in the final callback of each outcome. */
const SIP_RESPONSE_CODE: Readonly<Record<string, number>> = {
  completed: 200,
  busy: 486,
  'no-answer': 487,
  canceled: 487,
  failed: 404,
};

/** The form parameters Twilio posts to a StatusCallback for one step of an outbound API call. */
export function callbackParams(
  call: Readonly<CallRecord>,
  progress: Progress,
  sequence: number,
): Record<string, string> {
  const params: Record<string, string> = {
    AccountSid: call.accountSid,
    ApiVersion: API_VERSION,
    CallSid: call.sid,
    CallStatus: progress.callStatus,
    Called: call.to,
    Caller: call.from,
    CallbackSource: 'call-progress-events',
    Direction: 'outbound-api',
    From: call.from,
    SequenceNumber: String(sequence),
    Timestamp: rfc2822(progress.at),
    To: call.to,
  };
  if (call.answeredBy && progress.event !== 'initiated' && progress.event !== 'ringing') {
    params.AnsweredBy = call.answeredBy;
  }
  if (progress.event === 'completed') {
    const seconds = call.durationSeconds ?? 0;
    params.CallDuration = String(seconds);
    // Duration is in billed minutes; CallDuration in seconds.
    params.Duration = String(Math.ceil(seconds / 60));
    params.SipResponseCode = String(SIP_RESPONSE_CODE[progress.callStatus] ?? 500);
  }
  return params;
}

export interface SignedRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

/**
 * Twilio signs the URL it calls plus, for a POST, the sorted form parameters; a GET carries the
 * parameters in its query string, so the URL alone is signed.
 */
export function signedRequest(
  authToken: string,
  target: StatusCallback,
  params: Record<string, string>,
): SignedRequest {
  const headers: Record<string, string> = { 'user-agent': 'TwilioProxy/1.1' };
  if (target.method === 'GET') {
    const url = `${target.url}${target.url.includes('?') ? '&' : '?'}${new URLSearchParams(params)}`;
    headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(authToken, url, {});
    return { url, method: 'GET', headers };
  }
  headers['content-type'] = 'application/x-www-form-urlencoded';
  headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(authToken, target.url, params);
  return { url: target.url, method: 'POST', headers, body: new URLSearchParams(params).toString() };
}

export interface StatusCallbacksOptions {
  /** Signs every callback, as the account's auth token does on Twilio. */
  authToken: string;
  log: Logger;
  /** How long one callback may take; Twilio gives up on a webhook after 15 s. */
  timeoutMs?: number;
}

/**
 * Delivers status callbacks. Each is built when its step happens (the call moves on meanwhile) and
 * sent after the same call's earlier ones have finished, so a receiver sees them in order. A failed
 * callback is logged and not retried, as Twilio does by default.
 */
export class StatusCallbacks {
  readonly #queues = new Map<string, Promise<void>>();
  readonly #sequences = new Map<string, number>();
  readonly #stopped = new AbortController();
  readonly #timeoutMs: number;

  constructor(private readonly options: StatusCallbacksOptions) {
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** Given to the lifecycle: called synchronously at each step, so it must not wait on the network. */
  readonly onProgress = (call: Readonly<CallRecord>, progress: Progress): void => {
    const target = call.statusCallback;
    if (!target || this.#stopped.signal.aborted) return;
    if (progress.event !== 'completed' && !target.events.has(progress.event)) return;
    const sequence = this.#sequences.get(call.sid) ?? 0;
    if (progress.event === 'completed') this.#sequences.delete(call.sid);
    else this.#sequences.set(call.sid, sequence + 1);
    const request = signedRequest(this.options.authToken, target, callbackParams(call, progress, sequence));
    const delivery = (this.#queues.get(call.sid) ?? Promise.resolve()).then(() => this.#deliver(call.sid, request));
    this.#queues.set(call.sid, delivery);
    void delivery.then(() => {
      if (this.#queues.get(call.sid) === delivery) this.#queues.delete(call.sid);
    });
  };

  /** Aborts callbacks in flight and drops those not yet sent. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    await Promise.all(this.#queues.values());
  }

  /** Never rejects: one receiver's failure must not hold up or break the call's later callbacks. */
  async #deliver(callSid: string, request: SignedRequest): Promise<void> {
    if (this.#stopped.signal.aborted) return;
    const { log } = this.options;
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.any([this.#stopped.signal, AbortSignal.timeout(this.#timeoutMs)]),
      });
      await response.body?.cancel();
      if (response.ok) log.debug({ callSid, url: request.url }, 'status callback delivered');
      // Twilio records these as error 11200 (HTTP retrieval failure) and moves on.
      else log.warn({ callSid, url: request.url, status: response.status }, 'status callback refused; not retried');
    } catch (error) {
      if (this.#stopped.signal.aborted) return;
      log.warn({ callSid, url: request.url, err: error }, 'status callback failed; not retried');
    }
  }
}
