import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Clock, Logger, ServiceClient } from '@callgate/common';
import type { PollerConfig } from './config.js';
import { QueueConsumer } from './consumer.js';
import type { RefreshDedup } from './dedup.js';
import { refreshHandler, sendPolls } from './refresh.js';
import type { PollerStats } from './stats.js';

export interface RefreshConsumerParts {
  config: PollerConfig;
  sqs: SQSClient;
  queueUrl: string;
  call: ServiceClient<'call'>;
  dedup: RefreshDedup;
  stats: PollerStats;
  clock: Clock;
  log: Logger;
}

/**
 * The queue consumer: each poll message asks the call service to refresh that call's status, at most one
 * refresh per call at a time (dedup), a failed one requeued with backoff. Not started: the caller starts
 * it once the poller's tables exist.
 */
export function createRefreshConsumer(p: RefreshConsumerParts): QueueConsumer {
  const { config, sqs, queueUrl, call, stats, log } = p;
  return new QueueConsumer({
    sqs,
    queueUrl,
    concurrency: config.POLL_MAX_CONCURRENCY,
    waitSeconds: config.POLL_WAIT_SECONDS,
    visibilityTimeoutSeconds: config.POLL_VISIBILITY_TIMEOUT_SECONDS,
    log,
    onReceive: (messages) => stats.onReceive(messages),
    onOutcome: (message, outcome) => stats.onOutcome(message, outcome),
    handler: refreshHandler({
      dedup: p.dedup,
      clock: p.clock,
      log,
      maxReceiveCount: config.SQS_MAX_RECEIVE_COUNT,
      retry: { minSeconds: config.POLL_RETRY_MIN_SECONDS, maxSeconds: config.POLL_RETRY_MAX_SECONDS },
      refresh: async (request, signal) => {
        const response = await call.refreshStatus(request, { signal });
        return {
          terminal: response.terminal,
          changed: response.changed,
          createdAt: response.call?.createdAt ?? '',
        };
      },
      requeue: (message, delaySeconds) => sendPolls(sqs, queueUrl, [{ message, delaySeconds }]),
      onRefreshed: (changed) => stats.onRefreshed(changed),
    }),
  });
}
