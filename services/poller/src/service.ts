import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  checkQueue,
  checkServing,
  connectService,
  createServiceBase,
  createSqsClient,
  type Logger,
  type Periodic,
  periodic,
  resolveQueue,
  type ServiceBase,
  type ServiceClient,
  type ServiceDeps,
  type ServiceHandle,
  serviceName,
  startGrpcService,
  systemClock,
} from '@callgate/common';
import type { PollerConfig } from './config.js';
import type { QueueConsumer } from './consumer.js';
import { RefreshDedup } from './dedup.js';
import { startDlqDepthSampler } from './dlq-depth.js';
import type { Lease } from './lease.js';
import { createRefreshConsumer } from './refresh-consumer.js';
import { pollerGrpcService } from './server.js';
import { createStaleSweeper } from './stale-sweeper.js';
import { PollerStats } from './stats.js';
import { pollerStatus } from './status.js';
import { runSweeper, type Sweeper } from './sweep.js';

export { type PollerConfig, pollerConfigShape } from './config.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

/** The clock is that of every time-based decision (dedup, backoff, lease, sweep). */
export type PollerDeps = ServiceDeps;

/** Starts the poller. `db` is shared in local mode; the service closes it only if it owns it. */
export async function startPollerService(config: PollerConfig, deps: PollerDeps): Promise<ServiceHandle> {
  const clock = deps.clock ?? systemClock;
  const base = createServiceBase('poller', config.LOG_LEVEL);
  const { log } = base;
  const { sqs, queueUrl } = await connectQueue(config, base);
  const call = connectCallService(config, base);
  warnOnShortVisibility(config, log);

  const replica = randomUUID();
  const stats = new PollerStats(base.metrics.registry, clock, config.SQS_MAX_RECEIVE_COUNT);
  const dedup = new RefreshDedup(deps.db, {
    holder: replica,
    windowMs: config.DEDUP_WINDOW_MS,
    claimTtlMs: config.POLL_VISIBILITY_TIMEOUT_SECONDS * 1000,
    clock,
  });
  const consumer = createRefreshConsumer({ config, sqs, queueUrl, call, dedup, stats, clock, log });
  const { lease, sweeper } = createStaleSweeper({
    config,
    db: deps.db,
    sqs,
    queueUrl,
    call,
    replica,
    stats,
    clock,
    log,
  });
  let jobs: BackgroundJobs | undefined;
  const drain = drainer(config, base, consumer, () => jobs);
  const status = pollerStatus({ readiness: base.readiness, stats, consumer, sweeper });

  const handle = await startGrpcService({
    base,
    host: config.BIND_HOST,
    grpcPort: config.GRPC_PORT,
    opsPort: config.METRICS_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    services: [pollerGrpcService({ status, drain })],
    database: { db: deps.db, schema: 'poller', migrationsDir: MIGRATIONS, close: deps.ownsDb },
    onStop: async () => {
      await Promise.all([drain(), jobs?.dlqDepth.stop()]);
      call.close();
      sqs.destroy();
    },
  });
  // After the migrations (startGrpcService ran them): the consumer and sweeper use the poller's tables.
  consumer.start();
  jobs = startBackgroundJobs({ config, base, sqs, queueUrl, dedup, sweeper, lease });
  log.info({ replica, sweep: config.SWEEP_ENABLED }, 'poller consuming');
  return handle;
}

/** The call-status queue, checked by readiness. */
async function connectQueue(config: PollerConfig, base: ServiceBase): Promise<{ sqs: SQSClient; queueUrl: string }> {
  const sqs = createSqsClient(config);
  const queueUrl = await resolveQueue(sqs, config);
  base.readiness.add('queue', () => checkQueue(sqs, queueUrl));
  base.log.info({ queueUrl }, 'call-status queue ready');
  return { sqs, queueUrl };
}

/** The call service's client (every refresh has REFRESH_DEADLINE_MS), checked by readiness. */
function connectCallService(config: PollerConfig, base: ServiceBase): ServiceClient<'call'> {
  const call = connectService('call', config.CALL_SERVICE_ADDR, {
    defaultDeadlineMs: config.REFRESH_DEADLINE_MS,
    metrics: base.metrics,
  });
  base.readiness.add('call-service', () => checkServing(call.raw, serviceName('call')));
  return call;
}

function warnOnShortVisibility(config: PollerConfig, log: Logger): void {
  if (config.POLL_VISIBILITY_TIMEOUT_SECONDS * 1000 <= config.REFRESH_DEADLINE_MS) {
    // Still safe (the heartbeat extends visibility every half timeout), but one missed heartbeat redelivers.
    log.warn(
      { visibility: config.POLL_VISIBILITY_TIMEOUT_SECONDS, deadlineMs: config.REFRESH_DEADLINE_MS },
      'POLL_VISIBILITY_TIMEOUT_SECONDS is not longer than REFRESH_DEADLINE_MS',
    );
  }
}

/** What runs beside the consumer once started: the DLQ depth sampler, the sweep, the dedup pruning. */
interface BackgroundJobs {
  dlqDepth: ReturnType<typeof startDlqDepthSampler>;
  sweeping?: ReturnType<typeof runSweeper>;
  pruning: Periodic<number>;
}

function startBackgroundJobs(p: {
  config: PollerConfig;
  base: ServiceBase;
  sqs: SQSClient;
  queueUrl: string;
  dedup: RefreshDedup;
  sweeper: Sweeper;
  lease: Lease;
}): BackgroundJobs {
  const { config, base } = p;
  const { log } = base;
  const dlqDepth = startDlqDepthSampler({
    sqs: p.sqs,
    queueUrl: p.queueUrl,
    fallbackName: config.SQS_DLQ_NAME,
    intervalMs: config.DLQ_DEPTH_INTERVAL_MS,
    log,
    registry: base.metrics.registry,
  });
  void dlqDepth.sample(); // a value from the start, not after the first interval
  const sweeping = config.SWEEP_ENABLED
    ? runSweeper(p.sweeper, {
        tickMs: Math.max(50, Math.min(config.SWEEP_LEASE_MS / 3, config.SWEEP_INTERVAL_MS)),
        log,
        lease: p.lease,
        registry: base.metrics.registry,
      })
    : undefined;
  const pruning = periodic({
    name: 'refresh-record-prune',
    intervalMs: Math.min(config.DEDUP_WINDOW_MS, 60_000),
    log,
    registry: base.metrics.registry,
    run: () => p.dedup.prune(),
  });
  return { dlqDepth, sweeping, pruning };
}

/** Drain (the RPC and shutdown): once, however often asked; the jobs are those started by then. */
function drainer(
  config: PollerConfig,
  base: ServiceBase,
  consumer: QueueConsumer,
  jobs: () => BackgroundJobs | undefined,
): (timeoutMs?: number) => Promise<{ finished: number; released: number }> {
  let draining: Promise<{ finished: number; released: number }> | undefined;
  return (timeoutMs = config.SHUTDOWN_TIMEOUT_MS) => {
    draining ??= (async () => {
      // A drained poller takes no more work: unready, so an orchestrator does not count it as serving.
      base.readiness.startDraining();
      await jobs()?.pruning.stop();
      // Side by side: the sweeper stops after its current batch (whose checkpoint it saves) and gives up its
      // lease, while in-flight messages finish or are released.
      const [result] = await Promise.all([consumer.drain(timeoutMs), jobs()?.sweeping?.stop()]);
      base.log.info(result, 'poller drained: in-flight messages finished or released, checkpoint saved');
      return result;
    })();
    return draining;
  };
}
