import { status } from '@grpc/grpc-js';

/**
 * The only codes a client retries: the request never reached a handler (UNAVAILABLE) or
 * was shed for load (RESOURCE_EXHAUSTED). Anything else may have had an effect, so a retry
 * is the caller's decision, made with an idempotency key.
 */
export const RETRYABLE_CODES = [status.UNAVAILABLE, status.RESOURCE_EXHAUSTED] as const;

/** Retry with exponential backoff, enforced by grpc-js from the channel's service config. */
export const RETRY_POLICY = {
  maxAttempts: 4,
  initialBackoff: '0.1s',
  maxBackoff: '2s',
  backoffMultiplier: 2,
  retryableStatusCodes: RETRYABLE_CODES.map((code) => status[code]),
} as const;
