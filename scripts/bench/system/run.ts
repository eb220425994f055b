/**
 * One whole-system run: start every service as its own process, plant a poison message, let MCP
 * clients load the system for a bounded time (while `during` injects faults, in the chaos runs), wait
 * for it to settle, measure, stop it, and check the invariants. Used by `npm run bench -- system` and
 * `npm run chaos`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { connectService, createSqsClient, loadConfig, sqsConfigShape } from '@callgate/common';
import { fundedUsers } from '../shared.js';
import { emptyStats, type LoadStats, runClient } from './clients.js';
import { Cluster, type ClusterOptions } from './cluster.js';
import { databaseChecks, liveChecks, POISON_MARKER, waitForQuiet } from './invariants.js';
import { byLabel, histogramQuantile, scrape, sum } from './prom.js';
import { loadAverage, type RunFigures } from './report.js';
import { UsageSampler } from './usage.js';

export interface SystemRunOptions {
  seconds: number;
  clients: number;
  command: string;
  /** Pause between a client's cycles. Default 1500 ms: keeps each user under its default rate limits. */
  thinkMs?: number;
  /** Runs alongside the load (fault injection); gets the cluster, the load's end and the clients' tally. */
  during?: (cluster: Cluster, loadEnds: AbortSignal, stats: LoadStats) => Promise<void>;
  /** Extra cluster options (a delaying webhook proxy). */
  cluster?: Partial<ClusterOptions>;
  /** How long the system may take to settle after the load. Default 120 s. */
  settleMs?: number;
}

/** The sandbox runs calls quickly (a call to 0001 ends about 2.5 s after it is placed), so many finish inside a run. */
const SANDBOX_TIMING = { SANDBOX_CALL_STEP_MS: '250', SANDBOX_TALK_MS: '1500' };

export async function runSystem(options: SystemRunOptions): Promise<RunFigures> {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const redisUrl = process.env.REDIS_URL || undefined;
  const mode =
    `${databaseUrl ? 'PostgreSQL' : 'embedded PGlite (one per service)'}, ` +
    `${redisUrl ? 'Redis' : 'in-process buckets (no Redis)'}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'callgate-system-'));
  const cluster = await Cluster.create({
    dataDir,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(redisUrl ? { redisUrl } : {}),
    ...options.cluster,
    env: {
      sandbox: SANDBOX_TIMING,
      // A first status poll soon after each call, so the poller has work during a short run; a poison
      // message reaches the DLQ after two receives.
      call: { POLL_FIRST_DELAY_SECONDS: '3', SQS_MAX_RECEIVE_COUNT: '2' },
      poller: { SQS_MAX_RECEIVE_COUNT: '2' },
      ...options.cluster?.env,
    },
  });
  const before = loadAverage();
  try {
    process.stderr.write(`system: starting six processes (${mode}) under ${dataDir}\n`);
    await cluster.start();
    await plantPoison(cluster);

    const credit = connectService('credit', cluster.grpcAddress('user-credit'), { defaultDeadlineMs: 30_000 });
    const users = await fundedUsers(credit, options.clients, `sys-${Date.now().toString(36)}`);
    credit.close();

    const stats = emptyStats(users);
    const sampler = new UsageSampler(() => cluster.pids());
    const lags: number[] = [];
    const lagTimer = setInterval(async () => {
      const lag = sum(await scrape(cluster.opsUrl('poller')), 'poller_queue_lag_seconds');
      if (Number.isFinite(lag)) lags.push(lag);
    }, 2000);
    const loadEnds = new AbortController();
    process.stderr.write(`system: ${options.clients} clients for ${options.seconds} s\n`);
    await sampler.start();
    const clients = users.map((userId, i) =>
      runClient(
        {
          mcpUrl: cluster.mcpUrl,
          jwt: cluster.jwt,
          transport: i % 2 === 0 ? 'http' : 'ws',
          userId,
          stats,
          stop: loadEnds.signal,
          thinkMs: options.thinkMs ?? 1500,
        },
        i,
      ),
    );
    const loadStarted = performance.now();
    // The load lasts its time, or as long as the faults take (a fault run's schedule sets its length).
    const faults = options.during?.(cluster, loadEnds.signal, stats);
    await Promise.all([new Promise((resolve) => setTimeout(resolve, options.seconds * 1000)), faults]);
    loadEnds.abort();
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    // A client ends its current request (each is bounded by its own timeout) and stops.
    await Promise.allSettled(clients);
    await sampler.stop();
    clearInterval(lagTimer);

    process.stderr.write('system: load over; waiting for every call to end and settle\n');
    const quiet = await waitForQuiet(cluster, users, options.settleMs ?? 120_000);
    const [sheetsMetrics, pollerMetrics, sandboxStats] = await Promise.all([
      scrape(cluster.opsUrl('sheets-sync')),
      scrape(cluster.opsUrl('poller')),
      fetch(`${cluster.sandboxUrl}/sandbox/sheets/stats`).then((r) => r.json() as Promise<Record<string, number>>),
    ]);
    const callIds = new Set([...stats.placed, ...quiet.callIds]);
    const live = await liveChecks(cluster, callIds);
    await cluster.stop();
    const stored = await databaseChecks({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) }, users, stats.placed);
    const sortedLags = [...lags].sort((a, b) => a - b);
    return {
      mode,
      command: options.command,
      seconds: Math.round(loadSeconds),
      clients: options.clients,
      stats,
      usage: sampler.summary(),
      sheets: {
        writeRequests: sandboxStats.writeRequests ?? 0,
        readRequests: sandboxStats.readRequests ?? 0,
        maxWritesPerMinute: sandboxStats.maxWritesPerMinute ?? 0,
        quota429: sandboxStats.quota429 ?? 0,
        quotaPerMinute: sandboxStats.quotaPerMinute ?? 0,
        byResult: byLabel(sheetsMetrics, 'sheets_sync_requests_total', 'result'),
      },
      poller: {
        lagMaxSeconds: sortedLags.at(-1) ?? Number.NaN,
        lagMedianSeconds: sortedLags[Math.floor(sortedLags.length / 2)] ?? Number.NaN,
        processed: sum(pollerMetrics, 'poller_messages_processed_total'),
        latencyP95Seconds: histogramQuantile(pollerMetrics, 'poller_processing_latency_seconds', 0.95),
      },
      loadAverage: { before, after: loadAverage() },
      invariants: [...live, ...stored],
      quietAfter: quiet.open,
    };
  } finally {
    await cluster.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A message the poller cannot parse: it must end in the DLQ and nothing else may. */
async function plantPoison(cluster: Cluster): Promise<void> {
  const config = loadConfig('bench', sqsConfigShape, { SQS_ENDPOINT: cluster.sqsEndpoint });
  const sqs = createSqsClient(config);
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: cluster.queueName }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `{"poison":"${POISON_MARKER}"` }));
  } finally {
    sqs.destroy();
  }
}

/** Every invariant held and the system settled. */
export function passed(figures: RunFigures): boolean {
  return (
    !figures.quietAfter &&
    figures.invariants.every((r) => r.violations.length === 0) &&
    !figures.stats.errors['wrong-data']
  );
}
