import { baseConfigShape, env } from '@callgate/common';
import { z } from 'zod';

export const pollerConfigShape = {
  ...baseConfigShape,
  GRPC_PORT: env.port(50054),
  METRICS_PORT: env.port(9105),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /** The call-status queue (production: created by Terraform). Unset: found or created by name at SQS_ENDPOINT. */
  SQS_QUEUE_URL: env.url().optional(),
  /** An SQS-compatible endpoint (the local emulator, LocalStack). Unset: AWS. */
  SQS_ENDPOINT: env.url().optional(),
  SQS_QUEUE_NAME: z.string().min(1).default('callgate-call-status'),
  SQS_DLQ_NAME: z.string().min(1).default('callgate-call-status-dlq'),
  /** Receives before SQS moves a message to the dead-letter queue. */
  SQS_MAX_RECEIVE_COUNT: z.coerce.number().int().min(1).max(1000).default(5),
};

export type PollerConfig = z.infer<z.ZodObject<typeof pollerConfigShape>>;
