import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { dlqUrl, type Logger, periodic } from '@callgate/common';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface DlqDepthOptions {
  sqs: SQSClient;
  /** The call-status queue; its redrive policy names the DLQ. */
  queueUrl: string;
  /** DLQ name when the queue has no redrive policy (SQS_DLQ_NAME). */
  fallbackName: string;
  /** Pause between samples (DLQ_DEPTH_INTERVAL_MS). */
  intervalMs: number;
  log: Logger;
  registry: Registry;
}

/**
 * poller_dlq_depth: ApproximateNumberOfMessages of the DLQ, sampled every interval, so the DLQNotEmpty
 * alert also sees messages no poller dead-lettered in its lifetime (counters reset on restart; the queue
 * does not). One GetQueueAttributes per replica per interval: negligible cost. A failed sample is counted
 * and logged; the gauge keeps its last value rather than claiming an empty queue.
 */
export function startDlqDepthSampler(options: DlqDepthOptions): { sample(): Promise<void>; stop(): Promise<void> } {
  const depth = new Gauge({
    name: 'poller_dlq_depth',
    help: 'Messages in the dead-letter queue (ApproximateNumberOfMessages) at the last sample.',
    registers: [options.registry],
  });
  const failures = new Counter({
    name: 'poller_dlq_depth_sample_failures_total',
    help: 'DLQ depth samples that failed (the gauge then keeps its previous value).',
    registers: [options.registry],
  });
  let url: string | undefined;
  const job = periodic({
    name: 'dlq-depth-sample',
    intervalMs: options.intervalMs,
    jitter: 0.1,
    log: options.log,
    run: async () => {
      try {
        url ??= await dlqUrl(options.sqs, options.queueUrl, options.fallbackName);
        const { Attributes } = await options.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
        );
        depth.set(Number(Attributes?.ApproximateNumberOfMessages ?? 0));
      } catch (error) {
        failures.inc();
        options.log.warn({ err: error, dlq: url }, 'sampling the DLQ depth failed; the next interval retries');
      }
    },
  });
  return { sample: async () => void (await job.runOnce()), stop: job.stop };
}
