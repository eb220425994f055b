import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Clock, Database, Logger, ServiceClient } from '@callgate/common';
import type { PollerConfig } from './config.js';
import { Lease } from './lease.js';
import { sendPolls } from './refresh.js';
import type { PollerStats } from './stats.js';
import { CheckpointStore, Sweeper } from './sweep.js';

export interface StaleSweeperParts {
  config: PollerConfig;
  db: Database;
  sqs: SQSClient;
  queueUrl: string;
  call: ServiceClient<'call'>;
  /** This replica's id: the lease's holder. */
  replica: string;
  stats: PollerStats;
  clock: Clock;
  log: Logger;
}

/**
 * The sweep of stale calls: the replica holding the lease pages through the call service's stale calls
 * and enqueues a poll for each, saving a checkpoint after each batch. Not run: runSweeper runs it.
 */
export function createStaleSweeper(p: StaleSweeperParts): { lease: Lease; sweeper: Sweeper } {
  const { config, call, sqs, queueUrl, stats } = p;
  const lease = new Lease(p.db, config.SWEEP_NAME, p.replica, { ttlMs: config.SWEEP_LEASE_MS, clock: p.clock });
  const sweeper = new Sweeper({
    lease,
    checkpoints: new CheckpointStore(p.db, config.SWEEP_NAME),
    source: {
      list: async (request) => {
        const page = await call.listStaleCalls({
          updatedBefore: request.updatedBefore.toISOString(),
          limit: request.limit,
          after: request.after,
        });
        return {
          callIds: page.calls.map((c) => c.callId),
          nextCursor: page.nextCursor,
          remaining: Number(page.remaining),
        };
      },
    },
    enqueue: (messages) =>
      sendPolls(
        sqs,
        queueUrl,
        messages.map((message) => ({ message, delaySeconds: 0 })),
      ),
    clock: p.clock,
    intervalMs: config.SWEEP_INTERVAL_MS,
    staleAfterMs: config.SWEEP_STALE_AFTER_MS,
    batchSize: config.SWEEP_BATCH_SIZE,
    log: p.log,
    onComplete: (durationMs) => stats.onSweepComplete(durationMs),
  });
  stats.sweep = () => ({ leader: sweeper.leader, checkpoint: sweeper.checkpoint });
  return { lease, sweeper };
}
