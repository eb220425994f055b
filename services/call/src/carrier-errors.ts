import { DomainError, type ErrorDetailInit, type ErrorKind } from '@callgate/common';
import twilio from 'twilio';

/**
 * Failures of the carrier (Twilio) and the one table that turns them into domain errors.
 *
 * The carrier throws only `CarrierError`. The caller decides what a failure means for the call's
 * state (`mayHaveTakenEffect`), then reports it with `carrierErrorToDomain`.
 */

export type CarrierOperation = 'create' | 'fetch' | 'cancel' | 'hangUp';

export type CarrierFailure =
  /** The carrier answered with an HTTP error status (`status`, and usually a Twilio `code`). */
  | 'rejected'
  /** No answer within the client's timeout. */
  | 'timeout'
  /** No HTTP answer: connection refused or reset, DNS, TLS. */
  | 'network'
  /** A success status with a body we cannot read: not JSON, no valid call sid, unknown call status. */
  | 'bad_response'
  /** Refused before anything was sent, e.g. a malformed call sid. */
  | 'invalid_request'
  /** Anything else the client threw. */
  | 'unexpected';

export interface CarrierErrorInit {
  operation: CarrierOperation;
  failure: CarrierFailure;
  message: string;
  callSid?: string | null;
  status?: number | null;
  code?: number | null;
  moreInfo?: string | null;
  networkCode?: string | null;
  mayHaveTakenEffect?: boolean;
}

/**
 * A failed carrier request. It deliberately keeps no `cause`: the HTTP client's errors hold the
 * request configuration, Authorization header (account sid and auth token) included, and a logger
 * that serializes causes would print it.
 */
export class CarrierError extends Error {
  override readonly name = 'CarrierError';
  readonly operation: CarrierOperation;
  readonly failure: CarrierFailure;
  /** The call the request was about, or the sid the carrier returned in a response we could not read. */
  readonly callSid: string | null;
  /** HTTP status of the carrier's answer; null when there was none. */
  readonly status: number | null;
  /** Twilio error code (https://www.twilio.com/docs/api/errors), when the carrier gave one. */
  readonly code: number | null;
  /** Twilio's link explaining `code`. */
  readonly moreInfo: string | null;
  /** System or HTTP client error code of a network failure or timeout (ECONNREFUSED, ECONNABORTED, ...). */
  readonly networkCode: string | null;
  /**
   * True when the request may have been carried out although it failed here (a timeout, a reset
   * connection, a 5xx, an unreadable success). For `create` it means a call may have been placed:
   * look for it (status callbacks, fetch) before placing it again.
   */
  readonly mayHaveTakenEffect: boolean;

  constructor(init: CarrierErrorInit) {
    super(init.message);
    this.operation = init.operation;
    this.failure = init.failure;
    this.callSid = init.callSid ?? null;
    this.status = init.status ?? null;
    this.code = init.code ?? null;
    this.moreInfo = init.moreInfo ?? null;
    this.networkCode = init.networkCode ?? null;
    this.mayHaveTakenEffect = init.mayHaveTakenEffect ?? false;
  }
}

export const isCarrierError = (e: unknown): e is CarrierError => e instanceof CarrierError;

/** Errors whose request certainly never reached the carrier: nothing can have taken effect. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_INVALID_URL',
]);
/** axios reports its own timeout as ECONNABORTED (ETIMEDOUT with `transitional.clarifyTimeoutError`). */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ECONNABORTED', 'ETIMEDOUT']);

const MAX_MESSAGE = 300;
const clip = (text: string) => (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text);

/**
 * Turns whatever the twilio client threw into a CarrierError. Twilio 6 throws `RestException`
 * (legacy JSON bodies: status, code, message, more_info) or, for RFC 9457 problem bodies that carry
 * a numeric `code`, `TwilioServiceException` (not exported by the package, so recognized by shape);
 * network failures and timeouts surface as axios errors with a string `code`.
 */
export function toCarrierError(
  error: unknown,
  operation: CarrierOperation,
  callSid: string | null = null,
): CarrierError {
  if (isCarrierError(error)) return error;
  const mutating = operation !== 'fetch';
  if (error instanceof twilio.RestException || isTwilioServiceException(error)) {
    const status = error.status;
    const code = typeof error.code === 'number' && error.code !== 0 ? error.code : null;
    // RestException sets `message` from the body's `message`, which is undefined for bodies without one.
    const said = (isTwilioServiceException(error) ? (error.detail ?? error.title) : error.message) || `HTTP ${status}`;
    const moreInfo = error instanceof twilio.RestException ? (error.moreInfo ?? null) : error.type || null;
    return new CarrierError({
      operation,
      failure: 'rejected',
      message: clip(said),
      callSid,
      status,
      code,
      moreInfo,
      mayHaveTakenEffect: mutating && !(status >= 400 && status < 500),
    });
  }
  if (error instanceof Error) {
    const networkCode = (error as { code?: unknown }).code;
    if (typeof networkCode === 'string') {
      const timedOut = TIMEOUT_CODES.has(networkCode);
      return new CarrierError({
        operation,
        failure: timedOut ? 'timeout' : 'network',
        message: clip(error.message || networkCode),
        callSid,
        networkCode,
        mayHaveTakenEffect: mutating && !NOT_SENT_CODES.has(networkCode),
      });
    }
    // The client parses a success body with JSON.parse when axios could not: a SyntaxError means
    // the carrier said yes in a form we cannot read.
    if (error instanceof SyntaxError) {
      return new CarrierError({
        operation,
        failure: 'bad_response',
        message: clip(`unreadable answer: ${error.message}`),
        callSid,
        mayHaveTakenEffect: mutating,
      });
    }
  }
  return new CarrierError({
    operation,
    failure: 'unexpected',
    message: clip(error instanceof Error ? error.message : String(error)),
    callSid,
    mayHaveTakenEffect: mutating,
  });
}

interface TwilioServiceExceptionShape extends Error {
  type: string;
  title: string;
  status: number;
  code: number;
  detail?: string;
}

function isTwilioServiceException(e: unknown): e is TwilioServiceExceptionShape {
  const x = e as Partial<TwilioServiceExceptionShape>;
  return (
    e instanceof Error &&
    typeof x.type === 'string' &&
    typeof x.title === 'string' &&
    typeof x.status === 'number' &&
    typeof x.code === 'number'
  );
}

// ---------------------------------------------------------------------------------------------
// The mapping table: Twilio error code first, then HTTP status, then the kind of failure.
// ---------------------------------------------------------------------------------------------

interface Mapping {
  kind: ErrorKind;
  /** The request field at fault, as the caller named it (`to`, `callerId`): sent as `details.field`. */
  field?: string;
  message: (e: CarrierError) => string;
}

const CREDENTIALS: Mapping = {
  kind: 'unavailable',
  message: () => 'carrier rejected our credentials; check TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN',
};
const NOT_FOUND: Mapping = {
  kind: 'not_found',
  message: (e) =>
    e.callSid ? `call ${e.callSid} was not found at the carrier` : `the carrier found nothing to ${what(e)}`,
};
const RATE_LIMITED: Mapping = {
  kind: 'resource_exhausted',
  message: (e) => `the carrier is rate-limiting our requests and did not ${what(e)}; try again shortly`,
};
const INVALID_TO = (problem: string): Mapping => ({
  kind: 'invalid_argument',
  field: 'to',
  message: (e) => `${problem} (${carrierSaid(e)})`,
});
const INVALID_CALLER_ID = (problem: string): Mapping => ({
  kind: 'invalid_argument',
  field: 'callerId',
  message: (e) => `${problem} (${carrierSaid(e)})`,
});

/** Twilio error codes we act on (https://www.twilio.com/docs/api/errors). */
const BY_TWILIO_CODE: ReadonlyMap<number, Mapping> = new Map([
  [20003, CREDENTIALS],
  [20404, NOT_FOUND],
  [20429, RATE_LIMITED],
  [21211, INVALID_TO('not a valid phone number')],
  [21217, INVALID_TO('not a valid phone number')],
  [21214, INVALID_TO('this number cannot be reached')],
  [21215, INVALID_TO('the carrier account may not call this destination (geographic permissions)')],
  [21219, INVALID_TO('a trial carrier account may only call verified numbers')],
  [21210, INVALID_CALLER_ID('not a number verified for outgoing calls on the carrier account')],
  [21212, INVALID_CALLER_ID('not a valid caller id')],
  [
    21220,
    {
      kind: 'failed_precondition',
      message: (e) => `the call is no longer in a state that allows this (${carrierSaid(e)})`,
    },
  ],
]);

function byStatus(status: number): Mapping {
  if (status === 401) return CREDENTIALS;
  if (status === 404) return NOT_FOUND;
  if (status === 429) return RATE_LIMITED;
  if (status === 400 || status === 422) {
    return { kind: 'invalid_argument', message: (e) => `the carrier refused to ${what(e)}: ${carrierSaid(e)}` };
  }
  if (status >= 400 && status < 500) {
    return { kind: 'failed_precondition', message: (e) => `the carrier refused to ${what(e)}: ${carrierSaid(e)}` };
  }
  return { kind: 'unavailable', message: (e) => `the carrier failed to ${what(e)}: ${carrierSaid(e)}${maybe(e)}` };
}

const BY_FAILURE: Readonly<Record<Exclude<CarrierFailure, 'rejected'>, Mapping>> = {
  timeout: { kind: 'unavailable', message: (e) => `the carrier did not answer in time to ${what(e)}${maybe(e)}` },
  network: {
    kind: 'unavailable',
    message: (e) => `the carrier could not be reached to ${what(e)} (${e.networkCode ?? e.message})${maybe(e)}`,
  },
  bad_response: {
    kind: 'internal',
    message: (e) => `the carrier's answer to ${what(e)} could not be read: ${e.message}${maybe(e)}`,
  },
  invalid_request: { kind: 'invalid_argument', field: 'callSid', message: (e) => e.message },
  unexpected: { kind: 'internal', message: (e) => `unexpected failure trying to ${what(e)}${maybe(e)}` },
};

/**
 * The DomainError to report for a carrier failure. DomainErrors pass through; anything else that is
 * not a CarrierError is an internal error. Details carry `field` (when a request field is at
 * fault), `carrier-status`, `carrier-code` and `outcome: unknown` when the request may have taken
 * effect. Messages never contain credentials.
 */
export function carrierErrorToDomain(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  if (!isCarrierError(error)) return new DomainError('internal', 'unexpected failure talking to the carrier');
  const mapping =
    error.failure === 'rejected'
      ? ((error.code !== null ? BY_TWILIO_CODE.get(error.code) : undefined) ?? byStatus(error.status ?? 0))
      : BY_FAILURE[error.failure];
  // What the carrier said, when it said anything (else the kind's default reason).
  const said = error.status !== null || error.code !== null || error.mayHaveTakenEffect;
  const detail: ErrorDetailInit = {
    ...(said && { reason: 'ERROR_REASON_CARRIER' as const }),
    ...(mapping.field && { field: mapping.field }),
    ...(error.status !== null && { carrierStatus: error.status }),
    ...(error.code !== null && { carrierCode: error.code }),
    outcomeUnknown: error.mayHaveTakenEffect,
  };
  const message = mapping.message(error);
  return new DomainError(mapping.kind, mapping.field ? `${mapping.field}: ${message}` : message, detail);
}

const VERBS: Readonly<Record<CarrierOperation, string>> = {
  create: 'place the call',
  fetch: 'look up the call',
  cancel: 'cancel the call',
  hangUp: 'hang up the call',
};

function what(e: CarrierError): string {
  return e.callSid && e.operation !== 'create' ? `${VERBS[e.operation]} ${e.callSid}` : VERBS[e.operation];
}

function carrierSaid(e: CarrierError): string {
  const origin = [e.status !== null ? `HTTP ${e.status}` : null, e.code !== null ? `Twilio error ${e.code}` : null]
    .filter(Boolean)
    .join(', ');
  const more = e.moreInfo ? `; see ${e.moreInfo}` : '';
  return origin ? `${origin}: ${e.message}${more}` : `${e.message}${more}`;
}

function maybe(e: CarrierError): string {
  if (!e.mayHaveTakenEffect) return '';
  return e.operation === 'create'
    ? '; the call may have been placed: check its status before placing it again'
    : '; the change may have been applied: check the call status';
}

/**
 * The carrier says it has no such call (Twilio 20404, or a bare 404): a sid from another account or
 * environment, or a carrier that lost the call (the sandbox after a restart). Asking again will not help.
 */
export function isCarrierNotFound(error: unknown): error is CarrierError {
  return (
    isCarrierError(error) &&
    error.failure === 'rejected' &&
    (error.code === 20404 || (error.code === null && error.status === 404))
  );
}
