/**
 * poller_dlq_depth against fauxqs (the real SQS protocol): the DLQ is found through the main queue's
 * redrive policy without GetQueueUrl, the gauge follows the DLQ's message count, and a failed sample is
 * counted while the gauge keeps its last value.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GetQueueUrlCommand, PurgeQueueCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createLogger, createSqsClient, dlqUrl, loadConfig, resolveQueue, sqsConfigShape } from '@callgate/common';
import { Registry } from 'prom-client';
import { type LocalSqs, startLocalSqs } from '../../../scripts/local-sqs.js';
import { startDlqDepthSampler } from './dlq-depth.js';

const log = createLogger('test', 'silent');
const NEVER_MS = 2_147_483_647;
let fauxqs: LocalSqs;
let sqs: SQSClient;

before(async () => {
  fauxqs = await startLocalSqs();
});
after(async () => {
  sqs?.destroy();
  await fauxqs.stop();
});

async function queues() {
  const name = `depth-${randomUUID().slice(0, 8)}`;
  const config = loadConfig('test', sqsConfigShape, {
    SQS_ENDPOINT: fauxqs.address,
    SQS_QUEUE_NAME: name,
    SQS_DLQ_NAME: `${name}-dead`,
  });
  sqs ??= createSqsClient(config);
  const queueUrl = await resolveQueue(sqs, config);
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: config.SQS_DLQ_NAME }));
  return { queueUrl, dlq: QueueUrl ?? '', fallbackName: config.SQS_DLQ_NAME };
}

const value = async (registry: Registry, name: string) =>
  (await registry.getSingleMetric(name)?.get())?.values[0]?.value;

describe('poller_dlq_depth', () => {
  it('finds the DLQ from the redrive policy, as GetQueueUrl does', async () => {
    const { queueUrl, dlq } = await queues();
    assert.equal(await dlqUrl(sqs, queueUrl, 'not-this-name'), dlq);
  });

  it('follows the number of messages in the DLQ', async () => {
    const { queueUrl, dlq, fallbackName } = await queues();
    const registry = new Registry();
    const sampler = startDlqDepthSampler({ sqs, queueUrl, fallbackName, intervalMs: NEVER_MS, log, registry });
    try {
      await sampler.sample();
      assert.equal(await value(registry, 'poller_dlq_depth'), 0);
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: dlq,
          Entries: ['a', 'b', 'c'].map((body, i) => ({ Id: String(i), MessageBody: body })),
        }),
      );
      await sampler.sample();
      assert.equal(await value(registry, 'poller_dlq_depth'), 3);
      await sqs.send(new PurgeQueueCommand({ QueueUrl: dlq }));
      await sampler.sample();
      assert.equal(await value(registry, 'poller_dlq_depth'), 0);
      assert.equal(await value(registry, 'poller_dlq_depth_sample_failures_total'), 0);
    } finally {
      await sampler.stop();
    }
  });

  it('counts a failed sample and keeps the last depth', async () => {
    const { queueUrl, dlq, fallbackName } = await queues();
    const registry = new Registry();
    const sampler = startDlqDepthSampler({ sqs, queueUrl, fallbackName, intervalMs: NEVER_MS, log, registry });
    try {
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: dlq, Entries: [{ Id: '0', MessageBody: 'x' }] }));
      await sampler.sample();
      assert.equal(await value(registry, 'poller_dlq_depth'), 1);
      await fauxqs.stop(); // SQS unreachable
      await sampler.sample();
      assert.equal(await value(registry, 'poller_dlq_depth_sample_failures_total'), 1);
      assert.equal(await value(registry, 'poller_dlq_depth'), 1, 'a failure does not claim an empty queue');
    } finally {
      await sampler.stop();
    }
  });
});
