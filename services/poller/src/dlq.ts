import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface DlqMessage {
  id: string;
  body: string;
  receiveCount: number;
  sentAt: string;
}

/**
 * Reads up to `max` messages of a queue without consuming them for long: each is received with a short
 * visibility timeout and left, so it is back for the poller (or the next look) right after.
 */
export async function peek(sqs: SQSClient, url: string, max = 100): Promise<DlqMessage[]> {
  const seen = new Map<string, DlqMessage>();
  for (let round = 0; round < Math.ceil(max / 10) + 1 && seen.size < max; round++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 5,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
    );
    if (Messages.length === 0) break;
    // Visible again at once: looking must not hide the messages from a redrive right after.
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle ?? '',
          VisibilityTimeout: 0,
        })),
      }),
    );
    for (const m of Messages) {
      seen.set(m.MessageId ?? '', {
        id: m.MessageId ?? '',
        body: m.Body ?? '',
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
        sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? 0)).toISOString(),
      });
    }
  }
  return [...seen.values()];
}

/**
 * Moves every message of the DLQ back to the main queue: send first, then delete, so a failure in
 * between duplicates a message (the poller de-duplicates) rather than losing one.
 */
export async function redrive(sqs: SQSClient, from: string, to: string): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: from, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return moved;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: to,
        Entries: Messages.map((m, i) => ({ Id: String(i), MessageBody: m.Body ?? '' })),
      }),
    );
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    const done = Messages.filter((_, i) => ok.has(String(i)));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: from,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
    moved += done.length;
    if (done.length < Messages.length)
      throw new Error(`${Messages.length - done.length} message(s) could not be sent back`);
  }
}

export async function purge(sqs: SQSClient, url: string): Promise<void> {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
}
