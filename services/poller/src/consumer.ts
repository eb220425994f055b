import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { inProcessSpan, type Logger, type Periodic, periodic, queueNameOf, TRACE_FIELDS } from '@callgate/common';

/** What became of one message: delete it (done, or a duplicate), leave it for redelivery, or release it now. */
export type Outcome =
  | { kind: 'done' }
  | { kind: 'duplicate' }
  /** A transient failure: the message comes back when its visibility timeout ends. */
  | { kind: 'retry'; reason: string }
  /** Will never succeed: made visible again at once so it reaches maxReceiveCount and the DLQ quickly. */
  | { kind: 'poison'; reason: string };

export interface ReceivedMessage {
  id: string;
  body: string;
  /** ApproximateReceiveCount: 1 on the first delivery. */
  receiveCount: number;
  sentAt: Date | undefined;
}

export type MessageHandler = (message: ReceivedMessage, signal: AbortSignal) => Promise<Outcome>;

export interface ConsumerOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: MessageHandler;
  /** Messages in flight at once (receives ask only for free slots, at most 10 each). */
  concurrency: number;
  waitSeconds: number;
  visibilityTimeoutSeconds: number;
  log: Logger;
  /** Called once per received batch, with the messages' sent times (queue lag). */
  onReceive?: (messages: ReceivedMessage[]) => void;
  onOutcome?: (message: ReceivedMessage, outcome: Outcome) => void;
}

interface InFlight {
  message: ReceivedMessage;
  receiptHandle: string;
  controller: AbortController;
  released: boolean;
  /** The raw message: its attributes carry the sender's trace context. */
  raw: Message;
}

/**
 * The SQS consumer: receive loops (long polling, batches of up to 10, only as many as there are free
 * slots), a handler per message, deletes in batches after success, and a heartbeat that extends the
 * visibility of messages still in flight every half visibility timeout, so slow work is not delivered
 * twice. On drain it stops receiving, waits for in-flight work, and releases what is left (visibility 0)
 * so another consumer takes it at once instead of after the timeout.
 */
export class QueueConsumer {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly receiving = new AbortController();
  private loops: Promise<void>[] = [];
  private heartbeat: Periodic<void> | undefined;
  private slotWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: ConsumerOptions) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  start(): void {
    const loops = Math.max(1, Math.ceil(this.options.concurrency / 10));
    this.loops = Array.from({ length: loops }, () => this.receiveLoop());
    const every = (this.options.visibilityTimeoutSeconds * 1000) / 2;
    this.heartbeat = periodic({
      name: 'visibility-heartbeat',
      intervalMs: every,
      log: this.options.log,
      run: () => this.extendVisibility(),
    });
  }

  private freeSlots(): number {
    return this.options.concurrency - this.inFlight.size;
  }

  private async receiveLoop(): Promise<void> {
    const signal = this.receiving.signal;
    while (!signal.aborted) {
      while (this.freeSlots() <= 0 && !signal.aborted) await new Promise<void>((r) => this.slotWaiters.push(r));
      if (signal.aborted) break;
      let messages: Message[];
      try {
        const response = await this.options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: Math.min(10, this.freeSlots()),
            WaitTimeSeconds: this.options.waitSeconds,
            VisibilityTimeout: this.options.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
            MessageAttributeNames: [...TRACE_FIELDS],
          }),
          { abortSignal: signal },
        );
        messages = response.Messages ?? [];
      } catch (error) {
        if (signal.aborted) break;
        this.options.log.warn({ err: error }, 'receiving from the call-status queue failed; retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (messages.length === 0) continue;
      const batch = messages.map((m) => this.track(m));
      try {
        this.options.onReceive?.(batch.map((b) => b.message));
      } catch (error) {
        // Thrown out of this loop, it would end receiving with the batch tracked and never run.
        this.options.log.warn({ err: error }, 'the receive hook failed');
      }
      // The loop runs the batch to its end, so the batch's successes are deleted in one request.
      await this.runBatch(batch);
    }
  }

  private track(m: Message): InFlight {
    const sent = m.Attributes?.SentTimestamp;
    const entry: InFlight = {
      message: {
        id: m.MessageId ?? '',
        body: m.Body ?? '',
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
        sentAt: sent ? new Date(Number(sent)) : undefined,
      },
      receiptHandle: m.ReceiptHandle ?? '',
      controller: new AbortController(),
      released: false,
      raw: m,
    };
    this.inFlight.set(entry.receiptHandle, entry);
    return entry;
  }

  private async runBatch(batch: InFlight[]): Promise<void> {
    const outcomes = await Promise.all(
      batch.map(async (entry): Promise<Outcome> => {
        try {
          // Each message is handled in its own span, continuing the trace of whoever enqueued it.
          return await inProcessSpan('poller', queueNameOf(this.options.queueUrl), entry.raw, () =>
            this.options.handler(entry.message, entry.controller.signal),
          );
        } catch (error) {
          return { kind: 'retry', reason: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const remove: InFlight[] = [];
    const release: InFlight[] = [];
    batch.forEach((entry, i) => {
      const outcome = outcomes[i] as Outcome;
      try {
        this.options.onOutcome?.(entry.message, outcome);
      } catch (error) {
        // A hook that throws (metrics) must not keep the batch's slots nor reject the loop.
        this.options.log.warn({ err: error, messageId: entry.message.id }, 'the outcome hook failed');
      }
      this.options.log.debug(
        { messageId: entry.message.id, receiveCount: entry.message.receiveCount, outcome: outcome.kind },
        'message handled',
      );
      if (entry.released) return;
      if (outcome.kind === 'done' || outcome.kind === 'duplicate') remove.push(entry);
      else if (outcome.kind === 'poison') release.push(entry);
    });
    try {
      if (remove.length > 0) await this.deleteBatch(remove);
      if (release.length > 0) await this.changeVisibility(release, 0);
    } catch (error) {
      // Not deleted: the messages come back and are skipped as duplicates of the refresh just made.
      this.options.log.warn({ err: error }, 'deleting processed messages failed; they will be redelivered');
    } finally {
      for (const entry of batch) this.inFlight.delete(entry.receiptHandle);
      for (const wake of this.slotWaiters.splice(0)) wake();
      if (this.inFlight.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private async deleteBatch(entries: InFlight[]): Promise<void> {
    const response = await this.options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.options.queueUrl,
        Entries: entries.map((e, i) => ({ Id: String(i), ReceiptHandle: e.receiptHandle })),
      }),
    );
    if (response.Failed?.length) {
      this.options.log.warn({ failed: response.Failed }, 'some deletes failed; those messages will be redelivered');
    }
  }

  private async changeVisibility(entries: InFlight[], seconds: number): Promise<void> {
    for (let i = 0; i < entries.length; i += 10) {
      await this.options.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: entries.slice(i, i + 10).map((e, j) => ({
            Id: String(j),
            ReceiptHandle: e.receiptHandle,
            VisibilityTimeout: seconds,
          })),
        }),
      );
    }
  }

  /** Slow work keeps its messages: each heartbeat resets their visibility timeout. */
  private async extendVisibility(): Promise<void> {
    const entries = [...this.inFlight.values()].filter((e) => !e.released);
    if (entries.length === 0) return;
    await this.changeVisibility(entries, this.options.visibilityTimeoutSeconds).catch((error: unknown) =>
      this.options.log.warn({ err: error }, 'extending the visibility of in-flight messages failed'),
    );
  }

  /**
   * Stops receiving, waits up to timeoutMs for in-flight messages, then releases the rest (visibility 0)
   * and aborts their handlers. Returns how many finished and how many were released.
   */
  async drain(timeoutMs: number): Promise<{ finished: number; released: number }> {
    const before = this.inFlight.size;
    this.receiving.abort();
    for (const wake of this.slotWaiters.splice(0)) wake();
    void this.heartbeat?.stop();
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => this.idleWaiters.push(r)),
        new Promise<void>((r) => {
          timer = setTimeout(r, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    const left = [...this.inFlight.values()].filter((e) => !e.released);
    for (const entry of left) {
      entry.released = true;
      entry.controller.abort(new Error('poller stopping'));
    }
    if (left.length > 0) {
      await this.changeVisibility(left, 0).catch((error: unknown) =>
        this.options.log.warn(
          { err: error },
          'releasing in-flight messages failed; they return after the visibility timeout',
        ),
      );
    }
    // Handlers that ignore the abort (a database query in flight) must not hold shutdown past its bound.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.loops),
      new Promise<void>((r) => {
        bound = setTimeout(r, Math.max(1000, timeoutMs / 2));
      }),
    ]);
    clearTimeout(bound);
    return { finished: before - left.length, released: left.length };
  }
}
