import { ConfigError, env } from '@callgate/common';
import { z } from 'zod';

/** Outbound webhooks: the delivery queue, the retry schedule, the bounds of each attempt, the endpoint cap. */
export const webhookConfigShape = {
  WEBHOOK_QUEUE_URL: env
    .url()
    .optional()
    .describe(
      'The webhook delivery queue (production: created by Terraform, with its dead-letter queue). Unset: found or created by name at SQS_ENDPOINT.',
    ),
  WEBHOOK_QUEUE_NAME: z
    .string()
    .min(1)
    .default('callgate-webhooks')
    .describe('Webhook delivery queue name, when WEBHOOK_QUEUE_URL is unset.'),
  WEBHOOK_DLQ_NAME: z
    .string()
    .min(1)
    .default('callgate-webhooks-dlq')
    .describe('Dead-letter queue of webhook deliveries given up after WEBHOOK_RETRY_WINDOW_SECONDS.'),
  WEBHOOK_MAX_RECEIVE_COUNT: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(60)
    .describe(
      "Receives before SQS dead-letters a delivery by itself (a worker that crashes on it); above the retry schedule's attempts in the window.",
    ),
  WEBHOOK_RETRY_BASE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(30)
    .describe('Delay before the second attempt; each later one doubles it (exponential backoff).'),
  WEBHOOK_RETRY_MAX_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(43_200)
    .default(3600)
    .describe('Longest delay between two attempts (SQS visibility timeouts end at 12 h).'),
  WEBHOOK_RETRY_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_209_600)
    .default(86_400)
    .describe('How long after its event a delivery is retried; then it is dead-lettered (the delivery log says so).'),
  WEBHOOK_TIMEOUT_MS: env
    .milliseconds(10_000)
    .describe('Bound on one attempt: connecting, sending, and the answer (its status and the first bytes read).'),
  WEBHOOK_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_536)
    .default(4096)
    .describe("Bytes of a receiver's response body read (for the delivery log); the rest is discarded."),
  WEBHOOK_MAX_ENDPOINTS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(10)
    .describe('Webhook endpoints one user may have.'),
  WEBHOOK_DELIVERY_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(0)
    .max(100)
    .default(10)
    .describe(
      'Deliveries this replica makes at once (off the call path: its own queue, its own connections). 0: this replica delivers nothing.',
    ),
  WEBHOOK_DELIVERY_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(2)
    .describe(
      "Attempts one user's endpoints may have in flight on a replica (at most WEBHOOK_DELIVERY_CONCURRENCY - 1, so one user never takes every slot); the user's other deliveries wait in memory, their messages kept hidden.",
    ),
  WEBHOOK_RECEIVE_WAIT_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(20)
    .default(20)
    .describe('Long-polling wait of each receive from the delivery queue.'),
  WEBHOOK_RELAY_INTERVAL_MS: env
    .milliseconds(5000)
    .describe(
      'How often events not yet on the delivery queue are looked for (a crash between commit and enqueue); new ones are enqueued at once.',
    ),
  WEBHOOK_DLQ_DEPTH_INTERVAL_MS: env
    .milliseconds(60_000)
    .describe('How often the webhook dead-letter queue depth (webhook_dlq_depth) is sampled.'),
  WEBHOOK_LOCAL_MODE: env
    .bool(false)
    .describe(
      'Local runs and tests only: endpoints on a loopback address are allowed, over http too. Refused with the real SQS (SQS_ENDPOINT unset) or the real Twilio (TWILIO_API_BASE_URL unset).',
    ),
};

export type WebhookConfig = z.infer<z.ZodObject<typeof webhookConfigShape>>;

/**
 * Combinations the schema cannot see: local mode (loopback receivers over http) on a system that talks
 * to AWS and the real carrier is a production system, where it would let a user aim deliveries at the
 * service's own loopback. Stops the start naming the variables.
 */
export function checkWebhookConfig(
  config: WebhookConfig & { SQS_ENDPOINT?: string | undefined; TWILIO_API_BASE_URL?: string | undefined },
): void {
  const problems: { variable: string; message: string }[] = [];
  if (config.WEBHOOK_LOCAL_MODE && !config.SQS_ENDPOINT) {
    problems.push({
      variable: 'WEBHOOK_LOCAL_MODE',
      message: 'is for local runs only, but SQS_ENDPOINT is unset (the real SQS): unset WEBHOOK_LOCAL_MODE',
    });
  }
  if (config.WEBHOOK_LOCAL_MODE && !config.TWILIO_API_BASE_URL) {
    problems.push({
      variable: 'WEBHOOK_LOCAL_MODE',
      message: 'is for local runs only, but TWILIO_API_BASE_URL is unset (the real Twilio): unset WEBHOOK_LOCAL_MODE',
    });
  }
  if (config.WEBHOOK_RETRY_MAX_SECONDS < config.WEBHOOK_RETRY_BASE_SECONDS) {
    problems.push({
      variable: 'WEBHOOK_RETRY_MAX_SECONDS',
      message: `must be at least WEBHOOK_RETRY_BASE_SECONDS (${config.WEBHOOK_RETRY_BASE_SECONDS})`,
    });
  }
  if (problems.length) throw new ConfigError('call', problems);
}
