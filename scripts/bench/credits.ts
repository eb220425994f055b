/**
 * `npm run bench -- credits [--seconds 10] [--connections 50] [--runs 2]`: the user-credit service in its
 * own process on PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test), driven over
 * gRPC by N concurrent workers, each repeating a Reserve (10 credits) then a Settle (7 credits) with fresh
 * idempotency keys. Two loads: every worker its own user (rows of different users do not contend), and
 * every worker the same user (the account row lock serializes them). Prints pairs/s and the latency of a
 * whole pair; afterwards checks the ledger of every user it touched.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connectService, createLogger, PostgresDatabase, type PromiseClient } from '@callgate/common';
import type { creditV1 } from '@callgate/protos';
import { checkLedger } from '@callgate/user-credit';
import { rssMb, startService } from './processes.js';
import { fundedUsers, percentile } from './shared.js';

type Client = PromiseClient<creditV1.CreditServiceDefinition>;

const WARM_UP_SECONDS = 2;
const HOLD = 10;
const COST = 7;

interface Result {
  name: string;
  users: number;
  pairs: number;
  pairsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  errors: number;
  rssMb: number;
}

/** Workers repeat reserve+settle until the clock passes `seconds`; returns each pair's latency in ms. */
async function drive(
  client: Client,
  userOf: (worker: number) => string,
  workers: number,
  seconds: number,
): Promise<{ latencies: number[]; errors: number; elapsedMs: number; firstError?: string }> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const run = randomUUID().slice(0, 8);
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      const userId = userOf(worker);
      for (let n = 0; performance.now() < end; n++) {
        const t0 = performance.now();
        try {
          const held = await client.reserve({
            userId,
            amount: HOLD,
            idempotencyKey: `${run}-${worker}-${n}-r`,
            callId: `bench-${n}`,
          });
          await client.settle({
            reservationId: held.reservation?.reservationId ?? '',
            actualAmount: COST,
            idempotencyKey: `${run}-${worker}-${n}-s`,
          });
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

async function measure(
  name: string,
  client: Client,
  users: string[],
  options: { seconds: number; connections: number },
  pid: number | undefined,
): Promise<Result> {
  const userOf = (worker: number) => users[worker % users.length] ?? '';
  await drive(client, userOf, options.connections, WARM_UP_SECONDS);
  const { latencies, errors, elapsedMs, firstError } = await drive(
    client,
    userOf,
    options.connections,
    options.seconds,
  );
  if (firstError) process.stderr.write(`${name}: ${errors} failed pairs, first: ${firstError}\n`);
  const sorted = latencies.sort((a, b) => a - b);
  return {
    name,
    users: users.length,
    pairs: sorted.length,
    pairsPerSecond: sorted.length / (elapsedMs / 1000),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    errors,
    rssMb: await rssMb(pid),
  };
}

export async function benchCredits(options: { seconds: number; connections: number; runs: number }): Promise<void> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const service = await startService('user-credit', {
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    DATABASE_URL: url,
    SIGNUP_CREDITS: '0',
  });
  const client = connectService('credit', `127.0.0.1:${service.started.grpcPort}`, { defaultDeadlineMs: 30_000 });
  const db = new PostgresDatabase({ url, log: createLogger('bench', 'silent'), applicationName: 'callgate-bench' });
  const touched: string[] = [];
  try {
    for (let run = 1; run <= options.runs; run++) {
      const prefix = `bench-${randomUUID().slice(0, 8)}`;
      const many = await fundedUsers(client, options.connections, `${prefix}-user`);
      const hot = await fundedUsers(client, 1, `${prefix}-hot`);
      touched.push(...many, ...hot);
      const results = [
        await measure(
          `${options.connections} users, one worker each`,
          client,
          many,
          options,
          service.process.child.pid,
        ),
        await measure('one hot user, all workers', client, hot, options, service.process.child.pid),
      ];
      const fmt = (ms: number) => ms.toFixed(1);
      process.stdout.write(
        [
          `\nrun ${run}/${options.runs}: Reserve ${HOLD} + Settle ${COST} per pair over gRPC, ${options.connections} concurrent workers, ` +
            `${options.seconds} s after ${WARM_UP_SECONDS} s warm-up; user-credit in its own process on ${new URL(url).host} ` +
            '(pool of 10 connections)',
          '| load | users | pairs | pairs/s | p50 ms | p95 ms | p99 ms | max ms | errors | RSS MB (user-credit) |',
          '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
          ...results.map(
            (r) =>
              `| ${r.name} | ${r.users} | ${r.pairs} | ${Math.round(r.pairsPerSecond)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${r.errors} | ${r.rssMb.toFixed(0)} |`,
          ),
          '',
        ].join('\n'),
      );
    }
    const problems = (await Promise.all(touched.map((userId) => checkLedger(db, userId)))).flat();
    process.stdout.write(
      problems.length === 0
        ? `ledger check: the balances of all ${touched.length} users agree with their entries\n`
        : `ledger check FAILED: ${JSON.stringify(problems.slice(0, 5))}\n`,
    );
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    client.close();
    await db.close();
    await service.process.stop();
  }
}
