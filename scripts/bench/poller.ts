/**
 * `npm run bench -- poller [--connections 50] [--runs 1]`: the poller draining a backlog of 10,000 status
 * polls (BENCH_POLLER_MESSAGES to change it) against the sandbox carrier. The local system (call service,
 * user-credit, sheets-sync, sandbox, fauxqs; PostgreSQL when DATABASE_URL is set, else PGlite) runs in its
 * own process with status callbacks lost (PUBLIC_BASE_URL points nowhere), so only the poller can end the
 * calls. This process places one call per message to the sandbox's busy number (the carrier ends each
 * within a second), waits until the carrier has ended them, puts one poll per call on a queue of its own,
 * and only then starts the poller (its own process, POLL_MAX_CONCURRENCY = --connections), so the whole
 * backlog waits for it. Each refresh is real work: a carrier fetch, the transition to busy, the hold released
 * at user-credit and the row mirrored. Prints refreshes per second and the end-to-end lag (message sent to
 * refresh done), then checks that every call ended.
 *
 * The same file is the system's entry point when CALLGATE_BENCH_POLLER_SYSTEM=1.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  ACTIVE_STATUSES,
  connectService,
  createSqsClient,
  loadConfig,
  type PromiseClient,
  resolveQueue,
  sqsConfigShape,
  toProtoStatus,
} from '@callgate/common';
import type { callV1, creditV1, pollerV1 } from '@callgate/protos';
import { SANDBOX_NUMBERS } from '@callgate/sandbox';
import { sendPolls } from '../../services/poller/src/refresh.js';
import { startLocalSystem } from '../local-system.js';
import { rssMb, startProcess, startService } from './processes.js';

const SYSTEM_FLAG = 'CALLGATE_BENCH_POLLER_SYSTEM';
const CALLS_PER_USER = 100;

async function runSystem(): Promise<void> {
  const system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: 'silent',
      SANDBOX_CALL_STEP_MS: '20',
      PUBLIC_BASE_URL: 'http://127.0.0.1:9',
      POLL_FIRST_DELAY_SECONDS: '900',
      SWEEP_ENABLED: 'false',
      DEFAULT_MAX_CONCURRENT_CALLS: String(CALLS_PER_USER),
    },
  });
  process.stdout.write(
    `READY ${JSON.stringify({ call: system.grpc.call, credit: system.grpc['user-credit'], sqs: system.sqsEndpoint })}\n`,
  );
  process.once('SIGTERM', () => {
    void system.stop().finally(() => process.exit(0));
  });
}

if (process.env[SYSTEM_FLAG] === '1' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runSystem();
}

const client = <N extends 'call' | 'credit' | 'poller'>(domain: N, address: string) =>
  connectService(domain, address, { defaultDeadlineMs: 60_000 });

/** Places `count` calls to the busy number, CALLS_PER_USER per user; returns their ids and users. */
async function placeCalls(
  call: PromiseClient<callV1.CallServiceDefinition>,
  credit: PromiseClient<creditV1.CreditServiceDefinition>,
  count: number,
): Promise<{ userId: string; callId: string }[]> {
  const prefix = `bench-poller-${randomUUID().slice(0, 8)}`;
  const users = Array.from({ length: Math.ceil(count / CALLS_PER_USER) }, (_, i) => `${prefix}-${i}`);
  for (const userId of users) {
    await credit.getUser({ userId, createIfMissing: true, displayName: 'bench', email: '' });
    await credit.grant({
      userId,
      amount: 1_000_000_000,
      idempotencyKey: 'bench-funds',
      reason: 'bench',
      actor: 'bench',
    });
  }
  const placed: { userId: string; callId: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      for (let i = next++; i < count; i = next++) {
        const userId = users[Math.floor(i / CALLS_PER_USER)] as string;
        const { call: c } = await call.placeCall({
          userId,
          to: SANDBOX_NUMBERS.busy,
          task: 'bench',
          maxDurationSeconds: 30,
          idempotencyKey: `${prefix}-${i}`,
        });
        if (!c?.callId) throw new Error('PlaceCall returned no call');
        placed.push({ userId, callId: c.callId });
      }
    }),
  );
  return placed;
}

export async function benchPoller(options: { seconds: number; connections: number; runs: number }): Promise<void> {
  const messages = Number(process.env.BENCH_POLLER_MESSAGES ?? 10_000);
  const system = await startProcess('scripts/bench/poller.ts', /^READY /, { [SYSTEM_FLAG]: '1' }, 120_000);
  const addresses = JSON.parse(
    (system.output.find((l) => l.startsWith('READY ')) ?? 'READY {}').slice('READY '.length),
  ) as { call: string; credit: string; sqs: string };
  const call = client('call', addresses.call);
  const credit = client('credit', addresses.credit);
  try {
    for (let run = 1; run <= options.runs; run++) {
      const queue = `bench-poller-${randomUUID().slice(0, 8)}`;
      const queueEnv = { SQS_ENDPOINT: addresses.sqs, SQS_QUEUE_NAME: queue, SQS_DLQ_NAME: `${queue}-dlq` };
      const config = loadConfig('bench', sqsConfigShape, queueEnv);
      const sqs = createSqsClient(config);
      const url = await resolveQueue(sqs, config);

      let t = performance.now();
      const calls = await placeCalls(call, credit, messages);
      const placeSeconds = (performance.now() - t) / 1000;
      // The carrier ends a busy call after three 20 ms stages; wait a little past that for the last ones.
      await new Promise((r) => setTimeout(r, 1000));
      t = performance.now();
      await sendPolls(
        sqs,
        url,
        calls.map((c) => ({
          message: { callId: c.callId, attempt: 1, reason: 'placed' as const, enqueuedAt: new Date().toISOString() },
          delaySeconds: 0,
        })),
      );
      const enqueueSeconds = (performance.now() - t) / 1000;

      const poller = await startService('poller', {
        ...queueEnv,
        GRPC_PORT: '0',
        METRICS_PORT: '0',
        CALL_SERVICE_ADDR: addresses.call,
        SWEEP_ENABLED: 'false',
        POLL_MAX_CONCURRENCY: String(options.connections),
        DATA_DIR: mkdtempSync(path.join(tmpdir(), 'bench-poller-')),
      });
      const status = client('poller', `127.0.0.1:${poller.started.grpcPort}`);
      const started = performance.now();
      let last: pollerV1.GetStatusResponse__Output | undefined;
      const deadline = started + 600_000;
      while (performance.now() < deadline) {
        last = await status.getStatus({});
        if (Number(last.messagesProcessed) + Number(last.messagesFailed) >= messages) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const drainSeconds = (performance.now() - started) / 1000;
      const rss = await rssMb(poller.process.child.pid);
      status.close();
      await poller.process.stop();
      sqs.destroy();

      let active = 0;
      const users = [...new Set(calls.map((c) => c.userId))];
      for (const userId of users) {
        const { calls: open } = await call.listCalls({
          userId,
          pageSize: 100,
          statuses: ACTIVE_STATUSES.map(toProtoStatus),
        });
        active += open.length;
      }
      process.stdout.write(
        [
          `\nrun ${run}/${options.runs}: backlog of ${messages} polls (one per call, callbacks lost), poller in its own process ` +
            `with POLL_MAX_CONCURRENCY=${options.connections}; the system in another on ` +
            `${process.env.DATABASE_URL ? `PostgreSQL at ${new URL(process.env.DATABASE_URL).host}` : 'embedded PGlite'}; ` +
            `calls placed in ${placeSeconds.toFixed(1)} s, backlog enqueued in ${enqueueSeconds.toFixed(1)} s`,
          '| processed | failed | duplicates | drain s | refreshes/s | mean lag s (sent → done) | max lag s (bound) | still active after | RSS MB (poller) |',
          '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
          `| ${last?.messagesProcessed} | ${last?.messagesFailed} | ${last?.duplicatesSkipped} | ${drainSeconds.toFixed(1)} | ` +
            `${Math.round(Number(last?.messagesProcessed ?? 0) / drainSeconds)} | ` +
            `${(last?.processingLatencySeconds ?? Number.NaN).toFixed(1)} | ${(enqueueSeconds + drainSeconds).toFixed(1)} | ` +
            `${active} | ${rss.toFixed(0)} |`,
          '',
        ].join('\n'),
      );
      if (active > 0 || Number(last?.messagesProcessed) < messages) process.exitCode = 1;
    }
  } finally {
    call.close();
    credit.close();
    await system.stop();
  }
}
