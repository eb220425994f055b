import { type CallStatus, inSpan, isCallStatus, SpanKind } from '@callgate/common';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { CallInstance, CallListInstanceCreateOptions } from 'twilio/lib/rest/api/v2010/account/call.js';
import { withTraceQuery } from './callback-trace.js';
import { CarrierError, type CarrierOperation, toCarrierError } from './carrier-errors.js';

export {
  CarrierError,
  type CarrierFailure,
  type CarrierOperation,
  carrierErrorToDomain,
  isCarrierError,
} from './carrier-errors.js';

/**
 * The call service's only door to the carrier (Twilio's 2010-04-01 REST API), through the real
 * `twilio` client. It places, reads, cancels and hangs up calls; it never retries anything.
 */

/** Twilio's call statuses are the words of the call status vocabulary (services/common call-status.ts). */
export type TwilioCallStatus = CallStatus;

export interface CarrierCall {
  sid: string;
  status: TwilioCallStatus;
  /** Whole seconds the call lasted; null until it ends. */
  durationSeconds: number | null;
  /** What the call cost as Twilio writes it (a negative decimal string, e.g. "-0.03000"); null until known. */
  price: string | null;
  /** Currency of `price` (ISO 4217, e.g. "USD"). */
  priceUnit: string | null;
  /** Answering machine detection's verdict (`human`, `machine_start`, ...), when it was asked for. */
  answeredBy: string | null;
  startTime: Date | null;
  endTime: Date | null;
}

export interface PlaceCallParams {
  /** Destination, E.164. */
  to: string;
  /** Caller id, E.164: a number of the carrier account. */
  from: string;
  /** TwiML the call runs once answered; or `url`, where Twilio fetches it (POST, signed) when answered. */
  twiml?: string;
  url?: string;
  /** Where Twilio POSTs status callbacks (initiated, ringing, answered, completed). */
  statusCallbackUrl: string;
  /** The call is ended after this many seconds in progress (Twilio `TimeLimit`). */
  timeLimitSeconds: number;
  /** Seconds to let it ring before giving up (Twilio `Timeout`). Default: Twilio's, 60. */
  ringTimeoutSeconds?: number;
  /** Ask Twilio to tell a person from an answering machine (`MachineDetection=Enable`). Default false. */
  machineDetection?: boolean;
  /**
   * Record the call, one channel per party (`Record`, `RecordingChannels=dual`); Twilio POSTs the
   * recording's status (signed, as status callbacks are) to this URL when it is ready or absent.
   */
  recordingStatusCallbackUrl?: string;
}

/** The recording events Twilio reports to `recordingStatusCallbackUrl`. */
export const RECORDING_CALLBACK_EVENTS = ['completed', 'absent'] as const;

export interface Carrier {
  /**
   * Places a call. Never retried, by this code or by the client: a repeated create can dial twice.
   * On a CarrierError with `mayHaveTakenEffect`, a call may exist anyway.
   */
  create(params: PlaceCallParams): Promise<CarrierCall>;
  /** The call as the carrier sees it now. */
  fetch(sid: string): Promise<CarrierCall>;
  /**
   * Ends a call that has not been answered yet (queued or ringing): `Status=canceled`. Twilio leaves
   * a call that is already in progress as it is, so look at the returned status.
   */
  cancel(sid: string): Promise<CarrierCall>;
  /** Ends the call whatever its state (`Status=completed`). */
  hangUp(sid: string): Promise<CarrierCall>;
}

export interface CarrierOptions {
  /** Twilio account sid (`AC` + 32 hex digits): TWILIO_ACCOUNT_SID. */
  accountSid: string;
  /** Twilio auth token: TWILIO_AUTH_TOKEN. */
  authToken: string;
  /**
   * Send every request to this origin instead of https://api.twilio.com (TWILIO_API_BASE_URL), e.g.
   * the sandbox `http://127.0.0.1:8090` or a Prism mock. A path is kept as a prefix. Default: unset,
   * requests go to Twilio (honouring the client's TWILIO_EDGE / TWILIO_REGION).
   */
  apiBaseUrl?: string;
  /**
   * Per-request timeout in milliseconds. axios (under the twilio client) applies it as a wall-clock
   * limit while connecting and then as a socket inactivity limit, not as a total deadline.
   * Default DEFAULT_CARRIER_TIMEOUT_MS.
   */
  timeoutMs?: number;
}

export const DEFAULT_CARRIER_TIMEOUT_MS = 15_000;

/** The events Twilio reports to `statusCallbackUrl`. */
export const STATUS_CALLBACK_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;

/** Twilio's pattern for a call sid. */
export const CALL_SID_PATTERN = /^CA[0-9a-fA-F]{32}$/;

type RequestOptions = RequestClient.RequestOptions;
type RequestClientOptions = RequestClient.RequestClientOptions;

/**
 * Rewrites a Twilio API URL (https://api.twilio.com/..., or an edge/region host such as
 * api.sydney.au1.twilio.com) to the same path and query under `base`. Any other URL is refused,
 * so credentials are only ever sent to Twilio or to the configured stand-in.
 */
export function rewriteTwilioUrl(uri: string, base: URL): string {
  const url = new URL(uri);
  if (url.protocol !== 'https:' || !(url.hostname === 'twilio.com' || url.hostname.endsWith('.twilio.com'))) {
    throw new Error(`refusing to send a carrier request to ${url.origin}: not a Twilio API URL`);
  }
  const prefix = base.pathname.replace(/\/+$/, '');
  return `${base.origin}${prefix}${url.pathname}${url.search}`;
}

/** A RequestClient that sends Twilio API requests to another origin (the sandbox, Prism). */
export class BaseUrlRequestClient extends twilio.RequestClient {
  readonly baseUrl: URL;

  constructor(baseUrl: string, options?: RequestClientOptions) {
    super(options);
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`carrier base URL ${url.origin} must be http or https`);
    }
    if (url.search || url.hash) throw new Error('carrier base URL must not have a query or fragment');
    this.baseUrl = url;
  }

  override request<TData>(opts: RequestOptions & { data?: TData }) {
    return super.request<TData>({ ...opts, uri: rewriteTwilioUrl(opts.uri, this.baseUrl) });
  }
}

/**
 * The HTTP client the carrier uses. Retries: twilio 6's RequestClient retries only 429 answers and
 * only when built with `autoRetry: true` (default false); axios and node:http never retry. It is
 * set false here explicitly, because a retried create can place a second call. (When an
 * `httpClient` is given, the twilio client's own `autoRetry` option is ignored.)
 */
export function carrierHttpClient(options: Pick<CarrierOptions, 'apiBaseUrl' | 'timeoutMs'>): RequestClient {
  const clientOptions: RequestClientOptions = {
    timeout: options.timeoutMs ?? DEFAULT_CARRIER_TIMEOUT_MS,
    autoRetry: false,
  };
  return options.apiBaseUrl
    ? new BaseUrlRequestClient(options.apiBaseUrl, clientOptions)
    : new twilio.RequestClient(clientOptions);
}

export function twilioCarrier(options: CarrierOptions): Carrier {
  const client = twilio(options.accountSid, options.authToken, {
    httpClient: carrierHttpClient(options),
    // TWILIO_LOG_LEVEL=debug would make the client console.log requests between our JSON log lines.
    logLevel: 'info',
  });

  async function perform(
    operation: CarrierOperation,
    sid: string | null,
    request: () => Promise<CallInstance>,
  ): Promise<CarrierCall> {
    // A CLIENT span per carrier request (the twilio client's axios is CommonJS, out of reach of auto-instrumentation).
    const attributes = { 'callgate.carrier.operation': operation, ...(sid && { 'twilio.call_sid': sid }) };
    return inSpan(`twilio calls.${operation}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      let call: CallInstance;
      try {
        call = await request();
      } catch (error) {
        throw toCarrierError(error, operation, sid);
      }
      const result = toCarrierCall(call, operation);
      span.setAttribute('twilio.call_sid', result.sid);
      return result;
    });
  }

  const onCall = (operation: CarrierOperation, sid: string, status: 'canceled' | 'completed') => {
    requireCallSid(sid, operation);
    return perform(operation, sid, () => client.calls(sid).update({ status }));
  };

  return {
    create: (params) => perform('create', null, () => client.calls.create(createOptions(params))),
    fetch: async (sid) => {
      requireCallSid(sid, 'fetch');
      return perform('fetch', sid, () => client.calls(sid).fetch());
    },
    cancel: async (sid) => onCall('cancel', sid, 'canceled'),
    hangUp: async (sid) => onCall('hangUp', sid, 'completed'),
  };
}

function createOptions(params: PlaceCallParams): CallListInstanceCreateOptions {
  return {
    to: params.to,
    from: params.from,
    ...(params.url !== undefined ? { url: withTraceQuery(params.url), method: 'POST' } : { twiml: params.twiml }),
    // The create span's context rides along (here and in `url`), so the callbacks continue this trace (callback-trace.ts).
    statusCallback: withTraceQuery(params.statusCallbackUrl),
    statusCallbackEvent: [...STATUS_CALLBACK_EVENTS],
    statusCallbackMethod: 'POST',
    timeLimit: params.timeLimitSeconds,
    ...(params.ringTimeoutSeconds !== undefined && { timeout: params.ringTimeoutSeconds }),
    ...(params.machineDetection && { machineDetection: 'Enable' }),
    ...(params.recordingStatusCallbackUrl !== undefined && {
      record: true,
      recordingChannels: 'dual',
      recordingStatusCallback: withTraceQuery(params.recordingStatusCallbackUrl),
      recordingStatusCallbackMethod: 'POST',
      recordingStatusCallbackEvent: [...RECORDING_CALLBACK_EVENTS],
    }),
  };
}

function requireCallSid(sid: string, operation: CarrierOperation): void {
  if (typeof sid === 'string' && CALL_SID_PATTERN.test(sid)) return;
  throw new CarrierError({
    operation,
    failure: 'invalid_request',
    message: `${JSON.stringify(String(sid).slice(0, 40))} is not a Twilio call sid (CA and 32 hex digits)`,
  });
}

/** Reads the client's CallInstance. A create that succeeded but cannot be read still may have dialled. */
function toCarrierCall(call: CallInstance, operation: CarrierOperation): CarrierCall {
  const unreadable = (message: string, callSid: string | null) =>
    new CarrierError({
      operation,
      failure: 'bad_response',
      message,
      callSid,
      mayHaveTakenEffect: operation !== 'fetch',
    });
  const sid: unknown = call.sid;
  if (typeof sid !== 'string' || !CALL_SID_PATTERN.test(sid)) {
    throw unreadable('the answer has no valid call sid', null);
  }
  const status: unknown = call.status;
  if (typeof status !== 'string' || !isCallStatus(status)) {
    throw unreadable(`call ${sid} has an unknown status ${JSON.stringify(String(status).slice(0, 40))}`, sid);
  }
  return {
    sid,
    status,
    durationSeconds: seconds(call.duration),
    price: text(call.price),
    priceUnit: text(call.priceUnit),
    answeredBy: text(call.answeredBy),
    startTime: date(call.startTime),
    endTime: date(call.endTime),
  };
}

/** Twilio sends the duration as a string of whole seconds, or null. */
function seconds(value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  return typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * The client turns RFC 2822 strings into Dates; it leaves an unparseable string as it is and
 * null as null. (It would turn a missing field into the current time; Twilio sends null instead.)
 */
function date(value: unknown): Date | null {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value : null;
}
