import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { env } from './config.js';

/** Where the call-status queue is: the call service enqueues status polls, the poller consumes them. */
export const sqsConfigShape = {
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

export type SqsConfig = z.infer<z.ZodObject<typeof sqsConfigShape>>;

export function createSqsClient(config: SqsConfig): SQSClient {
  return new SQSClient({
    region: config.AWS_REGION,
    ...(config.SQS_ENDPOINT
      ? {
          endpoint: config.SQS_ENDPOINT,
          // A local emulator accepts any signature; AWS credentials come from the usual chain otherwise.
          credentials: {
            accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
            secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
          },
        }
      : {}),
  });
}

/**
 * The call-status queue's URL. With an explicit SQS_QUEUE_URL it is used as is (production queues
 * come from Terraform). Against an emulator the queue and its dead-letter queue are created when
 * missing, with the redrive policy, so a fresh local run works.
 */
export async function resolveQueue(sqs: SQSClient, config: SqsConfig): Promise<string> {
  if (config.SQS_QUEUE_URL) return config.SQS_QUEUE_URL;
  if (!config.SQS_ENDPOINT) {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: config.SQS_QUEUE_NAME }));
    if (!QueueUrl) throw new Error(`SQS queue ${config.SQS_QUEUE_NAME} not found; set SQS_QUEUE_URL`);
    return QueueUrl;
  }
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: config.SQS_DLQ_NAME }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: config.SQS_QUEUE_NAME,
      Attributes: {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes?.QueueArn,
          maxReceiveCount: config.SQS_MAX_RECEIVE_COUNT,
        }),
      },
    }),
  );
  if (!queue.QueueUrl) throw new Error(`SQS did not return a URL for ${config.SQS_QUEUE_NAME}`);
  return queue.QueueUrl;
}

/**
 * The dead-letter queue's URL: the main queue's URL with the DLQ's name (from its redrive policy, else
 * fallbackName) as its last segment. Both queues live in one account and region, so this needs no
 * sqs:GetQueueUrl: the task role only gains GetQueueAttributes on the DLQ (terraform/modules/stack/iam.tf).
 * The one DLQ lookup: the poller's depth sampler, `npm run dlq` and the benchmarks use it.
 */
export async function dlqUrl(sqs: SQSClient, queueUrl: string, fallbackName: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const arn = Attributes?.RedrivePolicy
    ? (JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn
    : undefined;
  const name = arn?.split(':').pop() || fallbackName;
  return queueUrl.replace(/[^/]+\/?$/, name);
}

/** Readiness: the queue answers. */
export async function checkQueue(sqs: SQSClient, queueUrl: string): Promise<void> {
  await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
}

/** A message on the call-status queue: "refresh this call's status". The call service writes it, the poller reads it. */
export const pollMessageSchema = z.object({
  callId: z.string().uuid(),
  /** 1 for the first poll of a call; grows as the poller re-enqueues a call still not terminal. */
  attempt: z.number().int().min(1),
  /** Why it was enqueued: "placed" (after dialling), "sweep" (stale-call sweep), "retry". */
  reason: z.enum(['placed', 'sweep', 'retry']),
  enqueuedAt: z.string().datetime(),
});

export type PollMessage = z.infer<typeof pollMessageSchema>;
