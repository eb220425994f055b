import { Metadata, status } from '@grpc/grpc-js';
import { type ErrorDetail, encodeStatusDetails, STATUS_DETAILS_KEY } from './error-detail.js';

/**
 * Domain errors. Handlers throw these; the gRPC layer maps them to status codes in
 * one table (STATUS_BY_KIND) so every service reports the same failure the same way, and sends
 * their typed ErrorDetail (reason, retryable, figures) in grpc-status-details-bin: this file is
 * the only producer of error details, error-detail.ts's errorDetailOf the only reader.
 * Messages are for people: say what was wrong and what to do.
 */
export type ErrorKind =
  | 'invalid_argument'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'permission_denied'
  | 'unauthenticated'
  | 'resource_exhausted'
  | 'unavailable'
  | 'deadline_exceeded'
  | 'aborted'
  | 'unimplemented'
  | 'internal';

/** What a DomainError says beyond its kind and message; reason and retryable default from the kind. */
export type ErrorDetailInit = Partial<ErrorDetail>;

const RETRYABLE_KINDS: ReadonlySet<ErrorKind> = new Set([
  'unavailable',
  'resource_exhausted',
  'aborted',
  'deadline_exceeded',
]);

export class DomainError extends Error {
  override readonly name = 'DomainError';
  /** What the failure is, for code to act on: sent as the typed ErrorDetail (grpc-status-details-bin). */
  readonly detail: ErrorDetail;
  constructor(
    readonly kind: ErrorKind,
    message: string,
    init: ErrorDetailInit = {},
  ) {
    super(message);
    this.detail = {
      field: '',
      notPlaced: false,
      outcomeUnknown: false,
      ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)),
      reason:
        init.reason ??
        (kind === 'invalid_argument' && init.field ? 'ERROR_REASON_INVALID_FIELD' : 'ERROR_REASON_OTHER'),
      retryable: init.retryable ?? RETRYABLE_KINDS.has(kind),
    };
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

export const invalidArgument = (field: string, message: string, detail: ErrorDetailInit = {}) =>
  new DomainError('invalid_argument', `${field}: ${message}`, {
    reason: 'ERROR_REASON_INVALID_FIELD',
    ...detail,
    field,
  });
export const notFound = (what: string, id: string) => new DomainError('not_found', `${what} ${id} was not found`);
export const failedPrecondition = (message: string, detail?: ErrorDetailInit) =>
  new DomainError('failed_precondition', message, detail);
export const unavailable = (message: string, detail?: ErrorDetailInit) =>
  new DomainError('unavailable', message, detail);
/** For RPCs whose issue has not landed yet: an honest refusal, never a fake success. */
export const unimplemented = (rpc: string, detail = 'not implemented yet') =>
  new DomainError('unimplemented', `${rpc} is ${detail}`);

export const STATUS_BY_KIND: Readonly<Record<ErrorKind, status>> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  failed_precondition: status.FAILED_PRECONDITION,
  permission_denied: status.PERMISSION_DENIED,
  unauthenticated: status.UNAUTHENTICATED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  aborted: status.ABORTED,
  unimplemented: status.UNIMPLEMENTED,
  internal: status.INTERNAL,
};

export interface GrpcStatusObject {
  code: status;
  details: string;
  metadata: Metadata;
}

/** Turns anything a handler threw into a gRPC status. Unknown errors become INTERNAL without leaking internals. */
export function toGrpcStatus(error: unknown): GrpcStatusObject {
  const metadata = new Metadata();
  if (isDomainError(error)) {
    const code = STATUS_BY_KIND[error.kind];
    metadata.set(STATUS_DETAILS_KEY, encodeStatusDetails(code, error.message, error.detail));
    return { code, details: error.message, metadata };
  }
  if (isGrpcError(error)) {
    // A failure relayed from a service this one called: that call was already retried, so tell our
    // caller not to retry again (a negative pushback, gRFC A6), or one outage multiplies per tier.
    metadata.set('grpc-retry-pushback-ms', '-1');
    return { code: error.code, details: error.details, metadata };
  }
  if (isTransientDatabaseError(error)) {
    const details = 'the database is unavailable for a moment; retry in a few seconds';
    const detail: ErrorDetail = {
      reason: 'ERROR_REASON_OTHER',
      retryable: true,
      field: '',
      notPlaced: false,
      outcomeUnknown: false,
    };
    metadata.set(STATUS_DETAILS_KEY, encodeStatusDetails(status.UNAVAILABLE, details, detail));
    return { code: status.UNAVAILABLE, details, metadata };
  }
  return { code: status.INTERNAL, details: 'internal error; it has been logged', metadata };
}

/**
 * The database going away for a moment (a restart, a failover, a dropped connection) is worth retrying,
 * so it is UNAVAILABLE, not INTERNAL: SQLSTATE class 08 (connection exception) and 57P01–57P03 (admin or
 * crash shutdown, cannot connect now), node-postgres's "Connection terminated", an unreachable server.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || /^57P0[123]$/.test(code)) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(code)) return true;
  }
  return /Connection terminated|terminating connection due to administrator command|the database system is (starting up|shutting down)|Client has encountered a connection error/i.test(
    error.message,
  );
}

/** An error as @grpc/grpc-js reports a failed call on the client side. */
export interface GrpcError extends Error {
  code: status;
  details: string;
  metadata?: Metadata;
}

export function isGrpcError(e: unknown): e is GrpcError {
  return e instanceof Error && typeof (e as Partial<GrpcError>).code === 'number' && 'details' in e;
}

/**
 * A call that got no answer, or none in time (UNAVAILABLE, DEADLINE_EXCEEDED): a transport failure that
 * carries no detail of the callee's, only its code. The one definition of "the service is unreachable".
 */
export function isUnreachable(error: unknown): error is GrpcError {
  return isGrpcError(error) && (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED);
}
