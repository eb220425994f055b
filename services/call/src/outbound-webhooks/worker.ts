import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Clock, Logger } from '@callgate/common';
import { type AttemptOptions, attemptDelivery } from './delivery.js';
import type { WebhookMetrics } from './metrics.js';
import type { DeliveryMessage } from './relay.js';
import type { WebhookStore } from './webhook-store.js';

export interface RetrySchedule {
  baseSeconds: number;
  maxSeconds: number;
  /** After this long since the event, a failed delivery is dead-lettered instead of retried. */
  windowSeconds: number;
}

/** Delay after the n-th failed attempt (n ≥ 1): base · 2^(n−1), at most max. */
export const retryDelaySeconds = (schedule: RetrySchedule, failures: number): number =>
  Math.min(schedule.maxSeconds, schedule.baseSeconds * 2 ** Math.min(30, failures - 1));

export interface WorkerOptions {
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  store: WebhookStore;
  attempt: AttemptOptions;
  schedule: RetrySchedule;
  concurrency: number;
  /** Attempts one user's endpoints may have in flight here (capped at concurrency − 1, see fairShare). */
  perUser: number;
  waitSeconds: number;
  clock: Clock;
  log: Logger;
  metrics: WebhookMetrics;
}

/**
 * A user's share of a replica's slots: at most `perUser`, and never every slot, so another user's
 * delivery always finds one (with a single slot there is nothing to share).
 */
export const fairShare = (concurrency: number, perUser: number): number =>
  Math.max(1, Math.min(perUser, concurrency - 1));

/** Messages held for their user's slot, at most this many per slot; beyond it the receive loop waits. */
const HELD_PER_SLOT = 10;

/**
 * Consumes the delivery queue: one attempt per received message. Success deletes the message. A failure
 * leaves it on the queue, hidden for the backoff delay (ChangeMessageVisibility: the retry IS the
 * message's next receive, so a crash of this replica loses nothing); once the retry window is spent the
 * message goes to the dead-letter queue and the delivery log says "dead-lettered". Deliveries run on their
 * own connections (the guarded dispatcher) with their own concurrency, off the call path.
 */
export class DeliveryWorker {
  private readonly receiving = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  /**
   * Per user: attempts in flight and the deliveries waiting for one of them. One user's hanging endpoints
   * then hold at most their share of the slots, and the receive loop goes on taking other users' messages
   * (a waiting message is not a busy slot). Waiting is in memory with the message kept hidden
   * (ChangeMessageVisibility does not count as a receive): deferring it on the queue instead would count
   * toward maxReceiveCount and dead-letter it behind the delivery log's back.
   */
  private readonly users = new Map<string, { active: number; waiting: (() => void)[] }>();
  private held = 0;
  private slotFreed: () => void = () => {};

  constructor(private readonly options: WorkerOptions) {}

  start(): void {
    this.loop = this.receiveLoop();
  }

  async stop(): Promise<void> {
    this.receiving.abort();
    await this.loop;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async receiveLoop(): Promise<void> {
    const { sqs, queueUrl, log } = this.options;
    const signal = this.receiving.signal;
    // Long enough for an attempt to end before the message shows again to another replica.
    const visibility = Math.ceil(this.options.attempt.timeoutMs / 1000) + 30;
    while (!signal.aborted) {
      const busy = () =>
        this.inFlight.size - this.held >= this.options.concurrency ||
        this.held >= this.options.concurrency * HELD_PER_SLOT;
      // Wakes when a delivery ends or starts waiting for its user's slot (a waiting one frees its slot).
      while (busy() && !signal.aborted) {
        await new Promise<void>((resolve) => {
          this.slotFreed = resolve;
          void Promise.race(this.inFlight).then(resolve);
        });
      }
      if (signal.aborted) break;
      let messages: Message[];
      try {
        const response = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.max(1, Math.min(10, this.options.concurrency - (this.inFlight.size - this.held))),
            WaitTimeSeconds: this.options.waitSeconds,
            VisibilityTimeout: visibility,
          }),
          { abortSignal: signal },
        );
        messages = response.Messages ?? [];
      } catch (error) {
        if (signal.aborted) break;
        log.warn({ err: error }, 'receiving from the webhook delivery queue failed; retrying in 1 s');
        await new Promise<void>((resolve) => this.options.clock.after(1000, resolve));
        continue;
      }
      for (const message of messages) {
        const work = this.handle(message).catch((error: unknown) => {
          // Left on the queue: it shows again after its visibility timeout and is retried then.
          log.warn({ err: error }, 'a webhook delivery failed unexpectedly; the queue retries it');
        });
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
      }
    }
  }

  private async handle(message: Message): Promise<void> {
    const { store, metrics, clock } = this.options;
    const receipt = message.ReceiptHandle ?? '';
    let deliveryId = '';
    try {
      deliveryId = String((JSON.parse(message.Body ?? '') as DeliveryMessage).deliveryId ?? '');
    } catch {
      // Not a message of ours: dropped below as unknown.
    }
    const work = await store.work(deliveryId);
    if (!work || work.state === 'delivered' || work.state === 'dead-lettered' || work.state === 'canceled') {
      // Unknown, or a duplicate of a delivery already final (at-least-once queues deliver twice).
      return this.remove(receipt);
    }
    if (work.endpoint_deleted) {
      await store.recordAttempt(work.delivery_id, {
        state: 'canceled',
        statusCode: 0,
        error: 'endpoint deleted',
        nextAttemptAt: null,
        attempted: false,
      });
      metrics.outcome('canceled');
      return this.remove(receipt);
    }
    if (work.body === null) return this.hide(receipt, 5); // the relay renders it first; seen again shortly
    const body = work.body;
    const result = await this.asUser(work.user_id, receipt, async () => {
      // The attempt alone: a wait for the user's slot is not the receiver's time.
      const started = clock.now();
      try {
        return await attemptDelivery(
          { url: work.url, secret: work.secret, eventId: work.event_id, eventType: work.type, body },
          this.options.attempt,
        );
      } finally {
        metrics.duration((clock.now() - started) / 1000);
      }
    });
    if (result.ok) {
      await store.recordAttempt(work.delivery_id, {
        state: 'delivered',
        statusCode: result.statusCode,
        error: '',
        nextAttemptAt: null,
        attempted: true,
      });
      metrics.outcome('delivered');
      return this.remove(receipt);
    }
    const failures = work.attempts + 1;
    const delay = retryDelaySeconds(this.options.schedule, failures);
    const age = (clock.now() - work.created_at.getTime()) / 1000;
    if (age + delay > this.options.schedule.windowSeconds) {
      await this.options.sqs.send(new SendMessageCommand({ QueueUrl: this.options.dlqUrl, MessageBody: message.Body }));
      await store.recordAttempt(work.delivery_id, {
        state: 'dead-lettered',
        statusCode: result.statusCode,
        error: `${result.error} (gave up after ${failures} attempts; on the dead-letter queue)`,
        nextAttemptAt: null,
        attempted: true,
      });
      metrics.outcome('dead_lettered');
      this.options.log.warn(
        { deliveryId: work.delivery_id, eventId: work.event_id, attempts: failures, error: result.error },
        'webhook delivery dead-lettered after its retry window',
      );
      return this.remove(receipt);
    }
    await store.recordAttempt(work.delivery_id, {
      state: 'retrying',
      statusCode: result.statusCode,
      error: result.error,
      nextAttemptAt: new Date(clock.now() + delay * 1000),
      attempted: true,
    });
    metrics.outcome('failed');
    await this.hide(receipt, delay);
  }

  /**
   * Runs one attempt within the user's share of the slots; over it, the delivery waits here for one of
   * the user's attempts to end, its message hidden meanwhile for as long as the wait can last.
   */
  private async asUser<T>(userId: string, receipt: string, attempt: () => Promise<T>): Promise<T> {
    const share = fairShare(this.options.concurrency, this.options.perUser);
    let user = this.users.get(userId);
    if (!user) {
      user = { active: 0, waiting: [] };
      this.users.set(userId, user);
    }
    if (user.active >= share) {
      const ahead = user.waiting.length + 1;
      const attemptSeconds = Math.ceil(this.options.attempt.timeoutMs / 1000);
      // Each attempt ahead of it takes at most the attempt bound; SQS allows at most 12 h.
      await this.hide(receipt, Math.min(43_200, Math.ceil(ahead / share) * attemptSeconds + 2 * attemptSeconds + 30));
      this.held++;
      this.slotFreed();
      try {
        await new Promise<void>((resolve) => user?.waiting.push(resolve));
      } finally {
        this.held--;
      }
    } else {
      user.active++;
    }
    try {
      return await attempt();
    } finally {
      const next = user.waiting.shift();
      // The slot passes straight to the next waiting delivery of the same user (active stays as it is).
      if (next) next();
      else if (--user.active === 0) this.users.delete(userId);
    }
  }

  private async remove(receipt: string): Promise<void> {
    await this.options.sqs.send(new DeleteMessageCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: receipt }));
  }

  /** The retry: the same message, received again after `seconds`. */
  private async hide(receipt: string, seconds: number): Promise<void> {
    await this.options.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.options.queueUrl,
        ReceiptHandle: receipt,
        VisibilityTimeout: seconds,
      }),
    );
  }
}
