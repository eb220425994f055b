/**
 * The SQS consumer against fauxqs: deletes what succeeded, keeps what failed, and on drain releases
 * in-flight messages (visibility 0) so another consumer gets them at once, not after the timeout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createLogger, createSqsClient, loadConfig, sqsConfigShape } from '@callgate/common';
import { type LocalSqs, startLocalSqs } from '../../../scripts/local-sqs.js';
import { type Outcome, QueueConsumer } from './consumer.js';

const log = createLogger('test', 'silent');
let fauxqs: LocalSqs;
let sqs: SQSClient;

before(async () => {
  fauxqs = await startLocalSqs();
  sqs = createSqsClient(loadConfig('test', sqsConfigShape, { SQS_ENDPOINT: fauxqs.address }));
});
after(async () => {
  sqs.destroy();
  await fauxqs.stop();
});

async function queue(name: string, bodies: string[]): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl,
      Entries: bodies.map((MessageBody, i) => ({ Id: String(i), MessageBody })),
    }),
  );
  return QueueUrl as string;
}

async function receiveAll(url: string): Promise<string[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  return Messages.map((m) => m.Body ?? '').sort();
}

describe('QueueConsumer', () => {
  it('deletes done and duplicate messages in a batch; a failed one stays (invisible until its timeout)', async () => {
    const url = await queue('consumer-outcomes', ['done', 'duplicate', 'retry']);
    const handled: string[] = [];
    let finish: () => void = () => undefined;
    const all = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const consumer = new QueueConsumer({
      sqs,
      queueUrl: url,
      concurrency: 10,
      waitSeconds: 0,
      visibilityTimeoutSeconds: 1,
      log,
      handler: async (message) => {
        handled.push(message.body);
        return message.body === 'retry' ? { kind: 'retry', reason: 'test' } : ({ kind: message.body } as Outcome);
      },
      onOutcome: () => {
        if (handled.length === 3) finish();
      },
    });
    consumer.start();
    await all;
    // The last outcome is reported before its delete: drain waits for it rather than releasing. (Each message
    // frees its slot when it is done, so some may have left before drain counts what it waits for.)
    const drained = await consumer.drain(5000);
    assert.equal(drained.released, 0);
    assert.ok(drained.finished <= 3);
    assert.deepEqual(handled.sort(), ['done', 'duplicate', 'retry']);
    // After its 1 s visibility timeout only the failed message is back; the others were deleted.
    await new Promise((r) => setTimeout(r, 1100));
    assert.deepEqual(await receiveAll(url), ['retry']);
  });

  it('drain releases in-flight messages at once (visibility 0) and aborts their handlers', async () => {
    const url = await queue('consumer-drain', ['slow-1', 'slow-2']);
    let started = 0;
    let aborted = 0;
    let bothStarted: () => void = () => undefined;
    const running = new Promise<void>((resolve) => {
      bothStarted = resolve;
    });
    const consumer = new QueueConsumer({
      sqs,
      queueUrl: url,
      concurrency: 10,
      waitSeconds: 0,
      visibilityTimeoutSeconds: 300,
      log,
      handler: (_message, signal) =>
        new Promise<Outcome>((resolve) => {
          if (++started === 2) bothStarted();
          signal.addEventListener('abort', () => {
            aborted++;
            resolve({ kind: 'retry', reason: 'aborted' });
          });
        }),
    });
    consumer.start();
    await running;
    assert.deepEqual(await consumer.drain(50), { finished: 0, released: 2 });
    assert.equal(aborted, 2);
    // Visible again now, though their visibility timeout was 300 s.
    assert.deepEqual(await receiveAll(url), ['slow-1', 'slow-2']);
  });
});
