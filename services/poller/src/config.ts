import { baseConfigShape, databaseConfigShape, env } from '@callgate/common';
import { z } from 'zod';

export const pollerConfigShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  GRPC_PORT: env.grpcPort(50054),
  METRICS_PORT: env.metricsPort(9105),
  AWS_REGION: z.string().min(1).default('us-east-1').describe('AWS region of the queue.'),
  SQS_QUEUE_URL: env
    .url()
    .optional()
    .describe(
      'The call-status queue (production: created by Terraform). Unset: found or created by name at SQS_ENDPOINT.',
    ),
  SQS_ENDPOINT: env
    .url()
    .optional()
    .describe('An SQS-compatible endpoint (the local emulator, LocalStack). Unset: AWS.'),
  SQS_QUEUE_NAME: z
    .string()
    .min(1)
    .default('callgate-call-status')
    .describe('Queue name, when SQS_QUEUE_URL is unset.'),
  SQS_DLQ_NAME: z
    .string()
    .min(1)
    .default('callgate-call-status-dlq')
    .describe('Dead-letter queue created beside it on an emulator.'),
  SQS_MAX_RECEIVE_COUNT: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(5)
    .describe('Receives before SQS moves a message to the dead-letter queue.'),
};

export type PollerConfig = z.infer<z.ZodObject<typeof pollerConfigShape>>;
