/**
 * Delay before a call still not terminal is polled again: a quarter of its age, between min and max.
 * A young call changes fast (ringing turns into an answer within seconds); an old one that has not
 * ended is stuck, and polling it often only spends the carrier's rate limit. SQS caps delays at 900 s.
 */
export function retryDelaySeconds(callAgeMs: number, options: { minSeconds: number; maxSeconds: number }): number {
  const quarter = Math.max(0, callAgeMs) / 4000;
  return Math.min(900, options.maxSeconds, Math.max(options.minSeconds, Math.round(quarter)));
}
