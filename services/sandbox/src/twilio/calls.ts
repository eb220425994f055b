import * as errors from './errors.js';
import { param } from './form.js';
import type {
  CallEvent,
  CallLifecycle,
  CallRecord,
  CallRequest,
  MachineDetection,
  StatusCallback,
} from './lifecycle.js';
import { isE164 } from './phone-numbers.js';
import { parseRecordingRequest } from './recordings.js';
import { type CallResource, callPath, callResource } from './resource.js';

export interface Reply {
  status: number;
  body: CallResource;
}

const EVENTS: ReadonlySet<string> = new Set<CallEvent>(['initiated', 'ringing', 'answered', 'completed']);
const MACHINE_DETECTION: ReadonlySet<string> = new Set<MachineDetection>(['Enable', 'DetectMessageEnd']);
/** Twilio's defaults for Timeout (ringing) and TimeLimit (4 hours), and its documented bounds. */
const TIMEOUT = { fallback: 60, max: 600 };
const TIME_LIMIT = { fallback: 14_400, max: 86_400 };

/**
 * The Calls endpoints: create, fetch, update. Parameters are checked in Twilio's terms (names,
 * error codes) so a caller's mistakes surface here exactly as they would against Twilio.
 */
export class CallsApi {
  constructor(private readonly lifecycle: CallLifecycle) {}

  create(accountSid: string, form: URLSearchParams): Reply {
    return { status: 201, body: callResource(this.lifecycle.place(parseCallRequest(accountSid, form))) };
  }

  fetch(accountSid: string, callSid: string): Reply {
    return { status: 200, body: callResource(this.#find(accountSid, callSid)) };
  }

  /** Status=canceled or Status=completed end the call; a redirect (Url, Twiml) is accepted and not played. */
  update(accountSid: string, callSid: string, form: URLSearchParams): Reply {
    const call = this.#find(accountSid, callSid);
    const status = param(form, 'Status');
    switch (status) {
      case 'canceled':
        this.lifecycle.cancel(call.sid);
        break;
      case 'completed':
        this.lifecycle.hangUp(call.sid);
        break;
      case undefined:
        if ((param(form, 'Url') ?? param(form, 'Twiml')) !== undefined && call.status !== 'in-progress') {
          throw errors.notInProgress();
        }
        break;
      default:
        throw errors.invalidParameter('Status', `must be canceled or completed, not ${status}`);
    }
    return { status: 200, body: callResource(call) };
  }

  /**
   * The person called acts on a call to the held number (…0006): `answer` picks up a ringing call,
   * `hang-up` declines a ringing one or ends an answered one. Sandbox-only, not a Twilio endpoint.
   */
  personActs(callSid: string, action: 'answer' | 'hang-up'): { status: number; body: unknown } {
    if (!this.lifecycle.get(callSid)) return { status: 404, body: { error: `no call ${callSid}` } };
    const result = action === 'answer' ? this.lifecycle.answerHeld(callSid) : this.lifecycle.hangUpHeld(callSid);
    return 'refused' in result
      ? { status: 409, body: { error: result.refused } }
      : { status: 200, body: callResource(result.call) };
  }

  /**
   * The same for every live call to the held number `to` (a test that does not know the carrier's sid):
   * 409 when none is ringing or talking, else each call's resource after the action, or its refusal.
   */
  personActsOnNumber(to: string, action: 'answer' | 'hang-up'): { status: number; body: unknown } {
    const live = this.lifecycle.liveHeldCallsTo(to);
    if (live.length === 0) return { status: 409, body: { error: `no call to ${to} is ringing or in progress` } };
    return { status: 200, body: { calls: live.map((call) => this.personActs(call.sid, action).body) } };
  }

  #find(accountSid: string, callSid: string): Readonly<CallRecord> {
    const call = this.lifecycle.get(callSid);
    if (!call || call.accountSid !== accountSid) throw errors.resourceNotFound(`${callPath(accountSid, callSid)}.json`);
    return call;
  }
}

/** POST …/Calls.json parameters, validated in the order Twilio reports them. */
export function parseCallRequest(accountSid: string, form: URLSearchParams): CallRequest {
  const to = param(form, 'To');
  const from = param(form, 'From');
  if (to === undefined) throw errors.missingTo();
  if (from === undefined) throw errors.missingFrom();
  if (param(form, 'ApplicationSid') !== undefined) throw errors.invalidApplicationSid();
  const url = param(form, 'Url');
  if (url === undefined && param(form, 'Twiml') === undefined) throw errors.missingUrl();
  if (!isE164(to)) throw errors.invalidTo(to);
  if (!isE164(from)) throw errors.invalidFrom(from);
  if (url !== undefined && !isHttpUrl(url)) throw errors.invalidUrl(url);
  const machineDetection = param(form, 'MachineDetection');
  if (machineDetection !== undefined && !MACHINE_DETECTION.has(machineDetection)) {
    throw errors.invalidParameter('MachineDetection', 'must be Enable or DetectMessageEnd');
  }
  return {
    accountSid,
    to,
    from,
    statusCallback: parseStatusCallback(form),
    machineDetection: machineDetection as MachineDetection | undefined,
    timeoutSeconds: seconds(form, 'Timeout', TIMEOUT),
    timeLimitSeconds: seconds(form, 'TimeLimit', TIME_LIMIT),
    voiceUrl: url,
    voiceMethod: (param(form, 'Method') ?? 'POST').toUpperCase() === 'GET' ? 'GET' : 'POST',
    recording: parseRecordingRequest(form, callbackUrlCheck),
  };
}

/** A callback URL the sandbox will call: http(s), and loopback only (it must never be an open relay). */
function callbackUrlCheck(url: string, name: string): void {
  if (!isHttpUrl(url)) throw errors.invalidParameter(name, `${url} is not a valid URL`);
  if (!isLoopback(new URL(url))) throw errors.invalidParameter(name, 'this sandbox only calls back loopback URLs');
}

function parseStatusCallback(form: URLSearchParams): StatusCallback | undefined {
  // Either repeated (what the twilio client sends) or space-separated in one value.
  const events = form.getAll('StatusCallbackEvent').flatMap((value) => value.split(/\s+/).filter(Boolean));
  if (events.some((event) => !EVENTS.has(event))) throw errors.invalidStatusCallbackEvent();
  const method = (param(form, 'StatusCallbackMethod') ?? 'POST').toUpperCase();
  if (method !== 'GET' && method !== 'POST') {
    throw errors.invalidParameter('StatusCallbackMethod', 'must be GET or POST');
  }
  const url = param(form, 'StatusCallback');
  if (url === undefined) return undefined;
  if (!isHttpUrl(url)) throw errors.invalidStatusCallback(`${url} is not a valid URL`);
  // The sandbox runs beside the services it calls back; anything else would make it an open relay.
  if (!isLoopback(new URL(url))) throw errors.invalidStatusCallback('this sandbox only calls back loopback URLs');
  return { url, method, events: new Set(events as CallEvent[]) };
}

function seconds(form: URLSearchParams, name: string, bounds: { fallback: number; max: number }): number {
  const value = param(form, name);
  if (value === undefined) return bounds.fallback;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= bounds.max)) {
    throw errors.invalidParameter(name, `must be a whole number of seconds from 1 to ${bounds.max}`);
  }
  return n;
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}

function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}
