import { baseConfigShape, databaseConfigShape, env, sqsConfigShape } from '@callgate/common';
import { z } from 'zod';

const seconds = (fallback: number, max: number) => z.coerce.number().int().min(0).max(max).default(fallback);

export const pollerConfigShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  GRPC_PORT: env.grpcPort(50054),
  METRICS_PORT: env.metricsPort(9105),
  ...sqsConfigShape,
  CALL_SERVICE_ADDR: env.grpcAddress('127.0.0.1:50051', 'call'),
  REFRESH_DEADLINE_MS: env
    .milliseconds(20_000)
    .describe(
      "Deadline of each RefreshStatus call to the call service; longer than the call service's CARRIER_TIMEOUT_MS, which bounds its Twilio request.",
    ),
  POLL_MAX_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .default(20)
    .describe('Refreshes in flight at once per replica (Twilio limits concurrent API requests per account).'),
  POLL_WAIT_SECONDS: seconds(20, 20).describe('Long-polling wait of each ReceiveMessage (0 to 20).'),
  POLL_VISIBILITY_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(43_200)
    .default(60)
    .describe(
      'Visibility timeout of received messages; longer than REFRESH_DEADLINE_MS. Slow work is extended every half of it, and a killed poller’s messages come back after it.',
    ),
  POLL_RETRY_MIN_SECONDS: seconds(10, 900).describe('Smallest delay before a call still not terminal is polled again.'),
  POLL_RETRY_MAX_SECONDS: seconds(300, 900).describe(
    'Largest delay before a call still not terminal is polled again (the delay grows with the call’s age; SQS allows 900).',
  ),
  DEDUP_WINDOW_MS: env
    .milliseconds(600_000)
    .describe(
      'How long a refresh is remembered: a message enqueued before a refresh of its call within this window is skipped as a duplicate.',
    ),
  // At least 5 s: each sample is an SQS request per replica; Prometheus scrapes every 15 s anyway.
  DLQ_DEPTH_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(5_000)
    .max(3_600_000)
    .default(60_000)
    .describe('How often the poller samples the DLQ depth (poller_dlq_depth) with GetQueueAttributes.'),
  SWEEP_ENABLED: env
    .bool(true)
    .describe('Whether this replica stands for the stale-call sweep (one replica sweeps at a time).'),
  SWEEP_INTERVAL_MS: env.milliseconds(60_000).describe('How often the stale-call sweep runs.'),
  SWEEP_STALE_AFTER_MS: env
    .milliseconds(120_000)
    .describe('A call not terminal and not updated for this long is stale and gets enqueued by the sweep.'),
  SWEEP_BATCH_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .describe('Stale calls listed and enqueued per batch; the checkpoint is saved after each batch.'),
  SWEEP_NAME: z
    .string()
    .regex(/^[a-z0-9-]{1,60}$/, 'lower-case letters, digits and dashes')
    .default('stale-calls')
    .describe('Name of the sweep lease and checkpoint: replicas with the same name share one sweep.'),
  SWEEP_LEASE_MS: env
    .milliseconds(30_000)
    .describe(
      'The sweep lease: renewed every third of it; a standby replica takes over within it when the sweeper dies.',
    ),
};

export type PollerConfig = z.infer<z.ZodObject<typeof pollerConfigShape>>;
