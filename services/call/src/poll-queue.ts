import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { inSendSpan, type Logger, type PollMessage, queueNameOf, withTraceAttributes } from '@callgate/common';
import { Counter, type Registry } from 'prom-client';

/**
 * Enqueues the safety-net status poll of a placed call. A failure here is logged and counted, never
 * fatal: callbacks normally carry the call to its end, and the poller's stale-call sweep finds calls
 * whose poll was never enqueued.
 */
export class PollQueue {
  private readonly failures: Counter;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.failures = new Counter({
      name: 'call_poll_enqueue_failures_total',
      help: 'Status polls that could not be enqueued on SQS.',
      registers: [registry],
    });
  }

  async enqueue(
    callId: string,
    delaySeconds: number,
    now: Date,
    reason: PollMessage['reason'] = 'placed',
  ): Promise<void> {
    const message: PollMessage = { callId, attempt: 1, reason, enqueuedAt: now.toISOString() };
    try {
      // The trace context travels in message attributes, so the poller's work continues this trace.
      await inSendSpan(queueNameOf(this.queueUrl), () =>
        this.sqs.send(
          new SendMessageCommand({
            QueueUrl: this.queueUrl,
            MessageBody: JSON.stringify(message),
            MessageAttributes: withTraceAttributes(),
            DelaySeconds: Math.min(900, Math.max(0, delaySeconds)),
          }),
        ),
      );
    } catch (error) {
      this.failures.inc();
      this.log.warn({ err: error, callId }, 'could not enqueue the status poll; the stale-call sweep covers it');
    }
  }
}
