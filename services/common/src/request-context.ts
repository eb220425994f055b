/**
 * The request id of the work in progress, carried by AsyncLocalStorage so that every log line and every
 * outgoing gRPC call made on behalf of a request carries it without threading it through each function.
 * The gateway starts a context per MCP request; each gRPC server starts one per call from `x-request-id`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** The gRPC metadata key and HTTP header that carry the id between services. */
export const REQUEST_ID_HEADER = 'x-request-id';

const storage = new AsyncLocalStorage<string>();

/**
 * A caller's id is accepted when it is short and plain (it ends up in logs and headers: no control
 * characters, no log injection); otherwise a fresh one is made.
 */
const ACCEPTABLE = /^[\w.:-]{1,128}$/;

export function acceptRequestId(candidate: unknown): string {
  const value = Array.isArray(candidate) ? candidate[0] : candidate;
  if (Buffer.isBuffer(value)) return acceptRequestId(value.toString('latin1'));
  return typeof value === 'string' && ACCEPTABLE.test(value) ? value : randomUUID();
}

/** Runs fn with requestId as the current request's id (also for whatever fn starts asynchronously). */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return storage.run(requestId, fn);
}

/** The id of the request being served here, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore();
}
