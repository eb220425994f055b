import { baseConfigShape, callerIdsConfigShape, catalogConfigShape, databaseConfigShape, env } from '@callgate/common';
import { z } from 'zod';

const credits = (fallback: number) => z.coerce.number().int().min(0).max(1_000_000_000).default(fallback);

export const userCreditConfigShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  ...catalogConfigShape,
  ...callerIdsConfigShape,
  GRPC_PORT: env.grpcPort(50052),
  METRICS_PORT: env.metricsPort(9103),
  SIGNUP_CREDITS: credits(500).describe('Credits granted once to every new user (a trial); 0 grants nothing.'),
  PLAN_DAILY_MINUTES: z
    .string()
    .default('free=120,pro=1000,business=0')
    .transform((value, ctx) => {
      const entries = value
        .split(',')
        .map((pair) => pair.trim())
        .filter(Boolean)
        .map((pair) => pair.split('='));
      // At most a million minutes (an int32 on the wire), one "=" per pair.
      const bad = entries.filter(
        ([plan, minutes, extra]) => !plan || extra !== undefined || !/^\d{1,6}$/.test(minutes ?? ''),
      );
      if (bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `plan=minutes pairs expected, got ${JSON.stringify(value)}` });
        return z.NEVER;
      }
      return Object.fromEntries(entries.map(([plan, minutes]) => [plan as string, Number(minutes)]));
    })
    .describe(
      'Minutes of calls each plan may place per day, as plan=minutes pairs; 0 is no cap, an unlisted plan has none.',
    ),
  LOW_BALANCE_CREDITS: credits(50).describe('GetBalance flags low_balance when available credits fall below this.'),
  RESERVATION_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(2 * 3600)
    .describe('How long a credit hold lives when never settled or released, before the sweeper returns it.'),
  EXPIRY_SWEEP_INTERVAL_MS: env.milliseconds(60_000).describe('How often the sweeper looks for expired credit holds.'),
  // At least 10 s: each check scans the whole ledger, so a typo such as 5 must not turn it into a hot loop.
  // At most 30 min: CreditsLedgerCheckStale fires when no check completed for an hour.
  LEDGER_CHECK_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(10_000)
    .max(1_800_000)
    .default(300_000)
    .describe(
      'Pause between background ledger checks (credits_ledger_discrepancies); the first runs within 30 s of start.',
    ),
  DEFAULT_LANGUAGE: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'a BCP 47 tag such as en-US')
    .default('en-US')
    .describe('Language of calls for users who have not chosen one.'),
  DEFAULT_TIMEZONE: z
    .string()
    .refine((zone) => isTimeZone(zone), 'an IANA time zone such as Europe/Berlin')
    .default('UTC')
    .describe('Time zone for users who have not chosen one (quiet hours are in it).'),
  DEFAULT_MAX_CALL_DURATION_SECONDS: z.coerce
    .number()
    .int()
    .min(30)
    .max(3600)
    .default(300)
    .describe('Longest call, for users who have not chosen; the credit hold is priced on it.'),
  DEFAULT_MAX_CONCURRENT_CALLS: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(3)
    .describe('Calls a user may have in progress at once, unless they chose fewer.'),
};

export type UserCreditConfig = z.infer<z.ZodObject<typeof userCreditConfigShape>>;

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
