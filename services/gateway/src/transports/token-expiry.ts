import type { WebSocket } from 'ws';

/** Close code and reason of a connection whose access token expired (policy violation, RFC 6455 §7.4). */
export const TOKEN_EXPIRED_CLOSE = { code: 1008, reason: 'access token expired; reconnect with a new token' } as const;

/** setTimeout takes at most 2^31 − 1 ms (about 24.8 days); a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ExpiryClock {
  now: () => number;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (timer: unknown) => void;
}

const realClock: ExpiryClock = {
  now: Date.now,
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/**
 * Closes `ws` with 1008 when its token expires (exp plus the clock tolerance, as at the upgrade),
 * whether or not the client sends anything: a quiet connection must not keep receiving a user's
 * notifications on a token that is no longer valid. The timer ends with the connection.
 */
export function closeAtTokenExpiry(
  ws: WebSocket,
  expiresAtSeconds: number | undefined,
  toleranceSeconds: number,
  clock: ExpiryClock = realClock,
): void {
  if (expiresAtSeconds === undefined) return;
  const deadline = (expiresAtSeconds + toleranceSeconds) * 1000;
  let timer: unknown;
  const check = () => {
    const left = deadline - clock.now();
    if (left > 0) {
      timer = clock.setTimer(check, Math.min(left, MAX_TIMER_MS));
      return;
    }
    timer = undefined;
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
      ws.close(TOKEN_EXPIRED_CLOSE.code, TOKEN_EXPIRED_CLOSE.reason);
    }
  };
  ws.once('close', () => {
    if (timer !== undefined) clock.clearTimer(timer);
    timer = undefined;
  });
  check();
}
