/**
 * The SQS consumer against fauxqs: deletes what succeeded, keeps what failed, and on drain releases
 * in-flight messages (visibility 0) so another consumer gets them at once, not after the timeout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createLogger, createSqsClient, loadConfig, ManualClock, sqsConfigShape } from '@callgate/common';
import { Registry } from 'prom-client';
import { type LocalSqs, startLocalSqs } from '../../../scripts/local-sqs.js';
import { type Outcome, QueueConsumer } from './consumer.js';
import { PollerStats } from './stats.js';

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
    // The last outcome is reported before the batch's delete: drain waits for it rather than releasing.
    assert.deepEqual(await consumer.drain(5000), { finished: 3, released: 0 });
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

/** An SQS stand-in: the first receive answers `messages`, later ones nothing; the first delete is reported. */
function fakeSqs(messages: Message[]): { sqs: SQSClient; deleted: Promise<string[]> } {
  let delivered = false;
  let onDelete: (handles: string[]) => void = () => undefined;
  const deleted = new Promise<string[]>((resolve) => {
    onDelete = resolve;
  });
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = command.constructor.name;
    if (name === 'ReceiveMessageCommand') {
      if (delivered) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { Messages: [] };
      }
      delivered = true;
      return { Messages: messages };
    }
    if (name === 'DeleteMessageBatchCommand') {
      onDelete((command.input.Entries as { ReceiptHandle: string }[]).map((e) => e.ReceiptHandle));
    }
    return {};
  };
  return { sqs: { send } as unknown as SQSClient, deleted };
}

describe('QueueConsumer hooks', () => {
  it('a message whose outcome hook throws is still deleted and frees its slot (attack finding 2)', async () => {
    // PollerStats observed NaN seconds of latency for a SentTimestamp that is not a number, and prom-client's
    // histogram throws on NaN: the message kept its slot forever and its run rejected unhandled.
    const { sqs: fake, deleted } = fakeSqs([
      { MessageId: 'm1', ReceiptHandle: 'r1', Body: '{}', Attributes: { SentTimestamp: 'not-a-number' } },
    ]);
    const consumer = new QueueConsumer({
      sqs: fake,
      queueUrl: 'http://127.0.0.1:1/000000000000/poll',
      handler: async () => ({ kind: 'done' }),
      concurrency: 1,
      waitSeconds: 0,
      visibilityTimeoutSeconds: 30,
      log,
      onReceive: () => {
        throw new Error('a receive hook that throws');
      },
      onOutcome: () => {
        throw new Error('an outcome hook that throws');
      },
    });
    // Whichever comes first: the delete (the slot is freed with it), or the run rejecting unhandled.
    let onRejection: (reason: unknown) => void = () => undefined;
    const rejected = new Promise<{ rejected: unknown }>((resolve) => {
      onRejection = (reason) => resolve({ rejected: reason });
    });
    process.on('unhandledRejection', onRejection);
    try {
      consumer.start();
      assert.deepEqual(await Promise.race([deleted.then((handles) => ({ handles })), rejected]), { handles: ['r1'] });
    } finally {
      await consumer.drain(1000);
      process.off('unhandledRejection', onRejection);
    }
    assert.equal(consumer.inFlightCount, 0, 'the slot was given back');
  });

  it('PollerStats takes a message whose SentTimestamp is not a number without throwing, and keeps the lag a number', () => {
    const stats = new PollerStats(new Registry(), new ManualClock(1_000_000), 5);
    const message = { id: 'm1', body: '{}', receiveCount: 1, sentAt: new Date(Number('not-a-number')) };
    stats.onReceive([message, { ...message, sentAt: new Date(990_000) }]);
    assert.equal(stats.queueLagSeconds, 10);
    stats.onOutcome(message, { kind: 'done' });
    assert.equal(stats.processed, 1);
  });
});
