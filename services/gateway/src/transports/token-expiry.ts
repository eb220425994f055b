import type { ServerResponse } from 'node:http';
import { type Clock, MAX_TIMER_MS, systemClock } from '@callgate/common';
import type { WebSocket } from 'ws';

/** Close code and reason of a connection whose access token expired (policy violation, RFC 6455 §7.4). */
export const TOKEN_EXPIRED_CLOSE = { code: 1008, reason: 'access token expired; reconnect with a new token' } as const;

/**
 * Runs `expire` once a token's exp plus the clock tolerance (as at admission) has passed: at once when it
 * already has, never for a token without exp. Returns the cancel to call when what it guards ends first.
 * The one definition of "at token expiry" for every connection and stream the token admitted.
 */
export function atTokenExpiry(
  expiresAtSeconds: number | undefined,
  toleranceSeconds: number,
  expire: () => void,
  clock: Clock = systemClock,
): () => void {
  if (expiresAtSeconds === undefined) return () => undefined;
  const deadline = (expiresAtSeconds + toleranceSeconds) * 1000;
  let cancel: (() => void) | undefined;
  // Re-read at each step (not trusted to one timer): a clock that jumps is seen, and each wait fits a timer.
  const check = () => {
    const left = deadline - clock.now();
    if (left > 0) {
      cancel = clock.after(Math.min(left, MAX_TIMER_MS), check);
      return;
    }
    cancel = undefined;
    expire();
  };
  check();
  return () => {
    cancel?.();
    cancel = undefined;
  };
}

/**
 * Closes `ws` with 1008 when its token expires, whether or not the client sends anything: a quiet
 * connection must not keep receiving a user's notifications on a token that is no longer valid.
 */
export function closeAtTokenExpiry(
  ws: WebSocket,
  expiresAtSeconds: number | undefined,
  toleranceSeconds: number,
  clock: Clock = systemClock,
): void {
  const cancel = atTokenExpiry(
    expiresAtSeconds,
    toleranceSeconds,
    () => {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
        ws.close(TOKEN_EXPIRED_CLOSE.code, TOKEN_EXPIRED_CLOSE.reason);
      }
    },
    clock,
  );
  ws.once('close', cancel);
}

/** How a transport learns when the tokens it admitted expire. */
export interface TokenExpiry {
  toleranceSeconds: number;
  clock?: Clock;
}

/**
 * Ends an HTTP event stream (a 2025 session's GET stream, a subscriptions/listen stream) when its token
 * expires, as a WebSocket is closed. It is cut as a client that left would cut it: both SDK adapters
 * already tear a stream down on the response's 'close' (and free what it held), whereas ending the
 * response under them would race their next write. The client reconnects with a fresh token.
 */
export function endAtTokenExpiry(res: ServerResponse, expiresAtSeconds: number | undefined, expiry: TokenExpiry): void {
  if (res.destroyed) return;
  const cancel = atTokenExpiry(
    expiresAtSeconds,
    expiry.toleranceSeconds,
    () => {
      if (!res.destroyed) res.destroy();
    },
    expiry.clock,
  );
  res.once('close', cancel);
}
