/**
 * `npm run bench -- calls [--seconds 10] [--connections 50] [--runs 2]`: PlaceCall throughput. The local
 * system (every service, the sandbox carrier and the SQS emulator; PostgreSQL when DATABASE_URL is set,
 * else embedded PGlite) runs in its own process; this one creates a user per worker and has the workers
 * place calls over gRPC back to back for the duration, each with a fresh idempotency key. The calls go to
 * the sandbox's busy number, so each ends after three 20 ms stages with its callbacks applied and its
 * hold released: the load is PlaceCall plus the callbacks and settlements it causes. Prints calls placed
 * per second and PlaceCall latency; afterwards waits for every call to end and checks that nothing is
 * left held (and, on PostgreSQL, every touched ledger).
 *
 * The same file is the system's entry point when CALLGATE_BENCH_CALLS_SYSTEM=1 (it prints READY and the
 * gRPC addresses, and stops on SIGTERM).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  ACTIVE_STATUSES,
  connectService,
  createLogger,
  PostgresDatabase,
  type PromiseClient,
  toProtoStatus,
} from '@callgate/common';
import type { callV1, creditV1 } from '@callgate/protos';
import { SANDBOX_NUMBERS } from '@callgate/sandbox';
import { checkLedger } from '@callgate/user-credit';
import { startLocalSystem } from '../local-system.js';
import { cpuSeconds, postgresCpuBetween, postgresCpuSeconds, rssMb, startProcess } from './processes.js';
import { fundedUsers, percentile } from './shared.js';

type CallClient = PromiseClient<callV1.CallServiceDefinition>;
type CreditClient = PromiseClient<creditV1.CreditServiceDefinition>;

const SYSTEM_FLAG = 'CALLGATE_BENCH_CALLS_SYSTEM';
const WARM_UP_SECONDS = 2;
const STEP_MS = '20';
/** 30 s calls on the standard model hold 10 credits each. */
const MAX_DURATION_SECONDS = 30;
const ACTIVE = ACTIVE_STATUSES.map(toProtoStatus);

async function runSystem(): Promise<void> {
  const system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: 'silent',
      SANDBOX_CALL_STEP_MS: STEP_MS,
      SANDBOX_TALK_MS: '100',
      // Back-to-back calls of one user overlap while they ring: the highest limit, so none is refused for it.
      DEFAULT_MAX_CONCURRENT_CALLS: '100',
    },
  });
  process.stdout.write(`READY ${JSON.stringify({ call: system.grpc.call, credit: system.grpc['user-credit'] })}\n`);
  process.once('SIGTERM', () => {
    void system.stop().finally(() => process.exit(0));
  });
}

if (process.env[SYSTEM_FLAG] === '1' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runSystem();
}

/** Each worker places calls for its own user until the clock passes `seconds`; PlaceCall latencies in ms. */
async function drive(
  call: CallClient,
  users: string[],
  seconds: number,
): Promise<{ latencies: number[]; errors: number; elapsedMs: number; firstError?: string }> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const run = randomUUID().slice(0, 8);
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    users.map(async (userId, worker) => {
      for (let n = 0; performance.now() < end; n++) {
        const t0 = performance.now();
        try {
          const { call: placed } = await call.placeCall({
            userId,
            to: SANDBOX_NUMBERS.busy,
            task: 'bench',
            maxDurationSeconds: MAX_DURATION_SECONDS,
            idempotencyKey: `${run}-${worker}-${n}`,
          });
          if (!placed?.callId) throw new Error('PlaceCall returned no call');
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  return { latencies, errors, elapsedMs: performance.now() - started, firstError };
}

/** Waits (bounded) until none of the users has a call that has not ended; returns how many are left. */
async function drain(call: CallClient, users: string[], timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await Promise.all(
      users.map(async (userId) => (await call.listCalls({ userId, pageSize: 100, statuses: ACTIVE })).calls.length),
    );
    const active = counts.reduce((a, b) => a + b, 0);
    if (active === 0 || Date.now() >= deadline) return active;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function clients(addresses: { call: string; credit: string }): { call: CallClient; credit: CreditClient } {
  const options = { defaultDeadlineMs: 30_000 };
  return {
    call: connectService('call', addresses.call, options),
    credit: connectService('credit', addresses.credit, options),
  };
}

export async function benchCalls(options: { seconds: number; connections: number; runs: number }): Promise<void> {
  const system = await startProcess('scripts/bench/calls.ts', /^READY /, { [SYSTEM_FLAG]: '1' });
  const addresses = JSON.parse(
    (system.output.find((l) => l.startsWith('READY ')) ?? 'READY {}').slice('READY '.length),
  ) as { call: string; credit: string };
  const { call, credit } = clients(addresses);
  const url = process.env.DATABASE_URL;
  const db = url
    ? new PostgresDatabase({ url, log: createLogger('bench', 'silent'), applicationName: 'bench' })
    : undefined;
  const touched: string[] = [];
  try {
    for (let run = 1; run <= options.runs; run++) {
      const users = await fundedUsers(credit, options.connections, `bench-calls-${randomUUID().slice(0, 8)}`);
      touched.push(...users);
      await drive(call, users, WARM_UP_SECONDS);
      // CPU time is what a loaded machine does not distort much: the system process's, and PostgreSQL's.
      const pgBackends = () =>
        db
          ? postgresCpuSeconds((sql, params) => db.query(sql, params), new URL(url as string).pathname.slice(1))
          : undefined;
      const cpu0 = await cpuSeconds(system.child.pid);
      const pg0 = await pgBackends();
      const { latencies, errors, elapsedMs, firstError } = await drive(call, users, options.seconds);
      const cpu = (await cpuSeconds(system.child.pid)) - cpu0;
      const pgCpu = pg0 ? postgresCpuBetween(pg0, (await pgBackends()) ?? new Map()) : Number.NaN;
      if (firstError) process.stderr.write(`${errors} PlaceCall(s) failed, first: ${firstError}\n`);
      const left = await drain(call, users);
      const held = (await Promise.all(users.map(async (userId) => (await credit.getBalance({ userId })).balance?.held)))
        .map(Number)
        .reduce((a, b) => a + b, 0);
      const sorted = latencies.sort((a, b) => a - b);
      const fmt = (ms: number) => ms.toFixed(1);
      process.stdout.write(
        [
          `\nrun ${run}/${options.runs}: PlaceCall over gRPC to the sandbox's busy number, ${options.connections} workers (one user each), ` +
            `${options.seconds} s after ${WARM_UP_SECONDS} s warm-up; the local system in its own process on ` +
            `${url ? `PostgreSQL at ${new URL(url).host}` : 'embedded PGlite'}, sandbox stage ${STEP_MS} ms`,
          '| calls placed | calls/s | p50 ms | p95 ms | p99 ms | max ms | errors | still active after | held after | RSS MB (system) | CPU ms/call: system · PostgreSQL |',
          '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
          `| ${sorted.length} | ${Math.round(sorted.length / (elapsedMs / 1000))} | ${fmt(percentile(sorted, 50))} | ` +
            `${fmt(percentile(sorted, 95))} | ${fmt(percentile(sorted, 99))} | ${fmt(sorted.at(-1) ?? Number.NaN)} | ` +
            `${errors} | ${left} | ${held} | ${(await rssMb(system.child.pid)).toFixed(0)} | ` +
            `${fmt((cpu * 1000) / sorted.length)} · ${fmt((pgCpu * 1000) / sorted.length)} |`,
          '',
        ].join('\n'),
      );
      if (left > 0 || held > 0) process.exitCode = 1;
    }
    if (db) {
      const problems = (await Promise.all(touched.map((userId) => checkLedger(db, userId)))).flat();
      process.stdout.write(
        problems.length === 0
          ? `ledger check: the balances of all ${touched.length} users agree with their entries\n`
          : `ledger check FAILED: ${JSON.stringify(problems.slice(0, 5))}\n`,
      );
      if (problems.length > 0) process.exitCode = 1;
    }
  } finally {
    call.close();
    credit.close();
    await db?.close();
    await system.stop();
  }
}
