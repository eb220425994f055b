import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { PollerConfig } from './config.js';

export function createSqsClient(config: PollerConfig): SQSClient {
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
export async function resolveQueue(sqs: SQSClient, config: PollerConfig): Promise<string> {
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

/** Readiness: the queue answers. */
export async function checkQueue(sqs: SQSClient, queueUrl: string): Promise<void> {
  await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
}
