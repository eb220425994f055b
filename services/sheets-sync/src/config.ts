import { baseConfigShape, databaseConfigShape, env, redisConfigShape } from '@callgate/common';
import { z } from 'zod';
import { COLUMN_NAMES } from './columns.js';

const positiveInt = (fallback: number, max: number) => z.coerce.number().int().positive().max(max).default(fallback);

export const sheetsSyncConfigShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  ...redisConfigShape,
  GRPC_PORT: env.grpcPort(50053),
  METRICS_PORT: env.metricsPort(9104),
  GOOGLE_SHEETS_ID: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Spreadsheet that holds the call log (the id in its URL). Unset: rows are kept in the outbox and nothing is written.',
    ),
  GOOGLE_SHEETS_TAB: z
    .string()
    .min(1)
    .default('Calls')
    .describe('Sheet (tab) of the call log; row 1 is the header, column A the call id.'),
  GOOGLE_SHEETS_COLUMNS: z
    .string()
    .default('created_at,user_id,to,from,status,duration_seconds,cost_credits,ended_at,outcome_summary')
    .transform((value, ctx) => {
      const names = value
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean);
      const bad = names.filter((n) => !(COLUMN_NAMES as readonly string[]).includes(n));
      if (names.length === 0 || bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `comma-separated names from ${COLUMN_NAMES.join(', ')}; unknown: ${bad.join(', ') || '(none given)'}`,
        });
        return z.NEVER;
      }
      return names as (typeof COLUMN_NAMES)[number][];
    })
    .describe('Columns after the call id (column A), in order, comma-separated.'),
  GOOGLE_SHEETS_API_URL: env
    .url()
    .optional()
    .describe(
      'Send Sheets API requests here (services/sandbox) instead of https://sheets.googleapis.com, unauthenticated.',
    ),
  GOOGLE_SERVICE_ACCOUNT_JSON: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Service-account key (JSON) for the Sheets API. Unset: GOOGLE_APPLICATION_CREDENTIALS or the platform credentials. Secret.',
    ),
  SHEETS_WRITES_PER_MINUTE: positiveInt(250, 100_000).describe(
    'Refill of the write token bucket; keep the burst plus this under the API quota (300 per minute per project).',
  ),
  SHEETS_WRITE_BURST: positiveInt(20, 10_000).describe(
    'Capacity of the write token bucket: write requests sent at once after a quiet spell.',
  ),
  SHEETS_READS_PER_MINUTE: positiveInt(250, 100_000).describe(
    'Refill of the read token bucket (reads have their own quota).',
  ),
  SHEETS_READ_BURST: positiveInt(20, 10_000).describe('Capacity of the read token bucket.'),
  SHEETS_MAX_REPLICAS: positiveInt(4, 100).describe(
    'Most sheets-sync replicas that run at once (the ECS max_capacity). While Redis is down each replica takes from its own bucket of 1/N of the budget, so together they stay within it.',
  ),
  SHEETS_BATCH_MAX_ROWS: positiveInt(500, 10_000).describe('Most rows in one append or values.batchUpdate request.'),
  SHEETS_BATCH_MAX_BYTES: positiveInt(2_000_000, 10_000_000).describe(
    'Largest payload (JSON bytes of the rows) of one request; the API refuses bodies much larger than 2 MB.',
  ),
  SHEETS_FLUSH_AGE_MS: env
    .milliseconds(1000)
    .describe('A pending row is written at the latest this long after it changed, even when no full batch waits.'),
  SHEETS_REQUEST_TIMEOUT_MS: env.milliseconds(30_000).describe('Timeout of each Sheets API request.'),
  SHEETS_BREAKER_FAILURES: positiveInt(5, 1000).describe(
    'Consecutive failed requests (5xx, timeouts, network) that open the circuit breaker.',
  ),
  SHEETS_BREAKER_HALF_OPEN_MS: env
    .milliseconds(30_000)
    .describe('How long the breaker stays open before one probe request may try the API again.'),
  SHEETS_BACKOFF_MAX_MS: env
    .milliseconds(60_000)
    .describe('Longest wait between retries after a failed request (jittered).'),
};

export type SheetsSyncConfig = z.infer<z.ZodObject<typeof sheetsSyncConfigShape>>;
