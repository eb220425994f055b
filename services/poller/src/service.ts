import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  type Clock,
  checkQueue,
  checkServing,
  connectService,
  createServiceBase,
  createSqsClient,
  type Database,
  type Periodic,
  periodic,
  resolveQueue,
  type ServiceHandle,
  serviceName,
  startGrpcService,
  systemClock,
} from '@callgate/common';
import type { pollerV1 } from '@callgate/protos';
import type { PollerConfig } from './config.js';
import { QueueConsumer } from './consumer.js';
import { RefreshDedup } from './dedup.js';
import { startDlqDepthSampler } from './dlq-depth.js';
import { Lease } from './lease.js';
import { refreshHandler, sendPolls } from './refresh.js';
import { pollerGrpcService } from './server.js';
import { PollerStats } from './stats.js';
import { CheckpointStore, runSweeper, Sweeper } from './sweep.js';

export { type PollerConfig, pollerConfigShape } from './config.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

export interface PollerDeps {
  db: Database;
  ownsDb: boolean;
  /** The clock of every time-based decision (dedup, backoff, lease, sweep); tests pass their own. */
  clock?: Clock;
}

/** Starts the poller. `db` is shared in local mode; the service closes it only if it owns it. */
export async function startPollerService(config: PollerConfig, deps: PollerDeps): Promise<ServiceHandle> {
  const clock = deps.clock ?? systemClock;
  const base = createServiceBase('poller', config.LOG_LEVEL);
  const { log } = base;
  const sqs = createSqsClient(config);
  const queueUrl = await resolveQueue(sqs, config);
  base.readiness.add('queue', () => checkQueue(sqs, queueUrl));
  log.info({ queueUrl }, 'call-status queue ready');

  const call = connectService('call', config.CALL_SERVICE_ADDR, {
    defaultDeadlineMs: config.REFRESH_DEADLINE_MS,
    metrics: base.metrics,
  });
  base.readiness.add('call-service', () => checkServing(call.raw, serviceName('call')));

  if (config.POLL_VISIBILITY_TIMEOUT_SECONDS * 1000 <= config.REFRESH_DEADLINE_MS) {
    // Still safe (the heartbeat extends visibility every half timeout), but one missed heartbeat redelivers.
    log.warn(
      { visibility: config.POLL_VISIBILITY_TIMEOUT_SECONDS, deadlineMs: config.REFRESH_DEADLINE_MS },
      'POLL_VISIBILITY_TIMEOUT_SECONDS is not longer than REFRESH_DEADLINE_MS',
    );
  }
  const replica = randomUUID();
  const stats = new PollerStats(base.metrics.registry, clock, config.SQS_MAX_RECEIVE_COUNT);
  let dlqDepth: ReturnType<typeof startDlqDepthSampler> | undefined;
  const dedup = new RefreshDedup(deps.db, {
    holder: replica,
    windowMs: config.DEDUP_WINDOW_MS,
    claimTtlMs: config.POLL_VISIBILITY_TIMEOUT_SECONDS * 1000,
    clock,
  });
  const consumer = new QueueConsumer({
    sqs,
    queueUrl,
    concurrency: config.POLL_MAX_CONCURRENCY,
    waitSeconds: config.POLL_WAIT_SECONDS,
    visibilityTimeoutSeconds: config.POLL_VISIBILITY_TIMEOUT_SECONDS,
    log,
    onReceive: (messages) => stats.onReceive(messages),
    onOutcome: (message, outcome) => stats.onOutcome(message, outcome),
    handler: refreshHandler({
      dedup,
      clock,
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

  const lease = new Lease(deps.db, config.SWEEP_NAME, replica, { ttlMs: config.SWEEP_LEASE_MS, clock });
  const sweeper = new Sweeper({
    lease,
    checkpoints: new CheckpointStore(deps.db, config.SWEEP_NAME),
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
    clock,
    intervalMs: config.SWEEP_INTERVAL_MS,
    staleAfterMs: config.SWEEP_STALE_AFTER_MS,
    batchSize: config.SWEEP_BATCH_SIZE,
    log,
    onComplete: (durationMs) => stats.onSweepComplete(durationMs),
  });

  stats.sweep = () => ({ leader: sweeper.leader, checkpoint: sweeper.checkpoint });
  let sweeping: ReturnType<typeof runSweeper> | undefined;
  let pruning: Periodic<number> | undefined;
  let draining: Promise<{ finished: number; released: number }> | undefined;
  const drain = (timeoutMs = config.SHUTDOWN_TIMEOUT_MS) => {
    draining ??= (async () => {
      // A drained poller takes no more work: unready, so an orchestrator does not count it as serving.
      base.readiness.startDraining();
      await pruning?.stop();
      // Side by side: the sweeper stops after its current batch (whose checkpoint it saves) and gives up its
      // lease, while in-flight messages finish or are released.
      const [result] = await Promise.all([consumer.drain(timeoutMs), sweeping?.stop()]);
      log.info(result, 'poller drained: in-flight messages finished or released, checkpoint saved');
      return result;
    })();
    return draining;
  };

  const status = async (): Promise<pollerV1.GetStatusResponse> => {
    const report = await base.readiness.evaluate();
    const cp = sweeper.checkpoint;
    return {
      messagesReceived: stats.received,
      messagesProcessed: stats.processed,
      messagesFailed: stats.failed,
      messagesDeadLettered: stats.deadLettered,
      duplicatesSkipped: stats.duplicates,
      inFlight: consumer.inFlightCount,
      queueLagSeconds: stats.queueLagSeconds,
      processingLatencySeconds: stats.meanLatencySeconds(),
      checkpointAgeSeconds: stats.checkpointAgeSeconds(),
      ready: report.ready,
      checks: report.checks,
      sweep: {
        leader: sweeper.leader,
        lastSweepAt: cp.lastCompletedAt?.toISOString() ?? '',
        checkpointCursor: cp.cursor,
        checkpointAt: cp.savedAt?.toISOString() ?? '',
        backlog: cp.backlog,
        lastSweepDurationSeconds: (cp.lastDurationMs ?? 0) / 1000,
        enqueued: cp.enqueued,
      },
    };
  };

  const handle = await startGrpcService({
    base,
    host: config.BIND_HOST,
    grpcPort: config.GRPC_PORT,
    opsPort: config.METRICS_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    services: [pollerGrpcService({ status, drain })],
    database: { db: deps.db, schema: 'poller', migrationsDir: MIGRATIONS, close: deps.ownsDb },
    onStop: async () => {
      await Promise.all([drain(), dlqDepth?.stop()]);
      call.close();
      sqs.destroy();
    },
  });
  // After the migrations (startGrpcService ran them): the consumer and sweeper use the poller's tables.
  consumer.start();
  dlqDepth = startDlqDepthSampler({
    sqs,
    queueUrl,
    fallbackName: config.SQS_DLQ_NAME,
    intervalMs: config.DLQ_DEPTH_INTERVAL_MS,
    log,
    registry: base.metrics.registry,
  });
  void dlqDepth.sample(); // a value from the start, not after the first interval
  if (config.SWEEP_ENABLED) {
    sweeping = runSweeper(sweeper, {
      tickMs: Math.max(50, Math.min(config.SWEEP_LEASE_MS / 3, config.SWEEP_INTERVAL_MS)),
      log,
      lease,
      registry: base.metrics.registry,
    });
  }
  pruning = periodic({
    name: 'refresh-record-prune',
    intervalMs: Math.min(config.DEDUP_WINDOW_MS, 60_000),
    log,
    registry: base.metrics.registry,
    run: () => dedup.prune(),
  });
  log.info({ replica, sweep: config.SWEEP_ENABLED }, 'poller consuming');
  return handle;
}
