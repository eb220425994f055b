import { ACTIVE_STATUSES, sqlStatusList } from '@callgate/common';

/**
 * The plan's daily cap on call minutes. A day is the user's local calendar day; what counts is what
 * the calls of that day may cost in time: the billed duration of ended calls and the full time limit
 * of calls still running (they may use all of it), plus the new call's time limit. Checked under
 * the same per-user lock as the concurrent-call limit, so concurrent calls cannot overshoot it.
 */

/** Midnight of `now`'s day in `timeZone` (exact except on a day with a daylight-saving change). */
export function startOfLocalDay(now: Date, timeZone: string): Date {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const sinceMidnightMs = ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000 + now.getUTCMilliseconds();
  return new Date(now.getTime() - sinceMidnightMs);
}

export interface DailyCap {
  /** The plan's minutes per day. */
  minutes: number;
  /** Start of the user's day. */
  since: Date;
  /** The new call's time limit. */
  addSeconds: number;
}

/** Seconds counted against the cap of the day; the query is run under the per-user lock. */
export const DAILY_USAGE_SQL = `SELECT coalesce(sum(CASE WHEN status IN (${sqlStatusList(ACTIVE_STATUSES)})
  THEN max_duration_seconds ELSE duration_seconds END), 0) AS seconds
  FROM calls.calls WHERE user_id = $1 AND created_at >= $2`;

export function dailyCapMessage(cap: DailyCap, usedSeconds: number, timeZone: string): string {
  const used = Math.ceil(usedSeconds / 60);
  const asked = Math.ceil(cap.addSeconds / 60);
  return (
    `your plan allows ${cap.minutes} call minutes a day and today's calls may use ${used} (running calls count ` +
    `their full time limit); this call could add ${asked}. Lower maxDurationSeconds, wait for running calls ` +
    `to end, or call after midnight (${timeZone})`
  );
}
