/**
 * Dev tool (not a benchmark): counts the SQL statements, by text, that N PlaceCalls to the sandbox's busy
 * number cause until every call has ended, settled and been mirrored. One process, DATABASE_URL required.
 * `tsx --conditions=callgate-source scripts/bench/count-queries.ts [calls]`
 */
import { randomUUID } from 'node:crypto';
import { ACTIVE_STATUSES, connectService, type PromiseClient, toProtoStatus } from '@callgate/common';
import type { callV1, creditV1 } from '@callgate/protos';
import { SANDBOX_NUMBERS } from '@callgate/sandbox';
import pg from 'pg';
import { startLocalSystem } from '../local-system.js';
import { fundedUsers } from './shared.js';

const ACTIVE = ACTIVE_STATUSES.map(toProtoStatus);
const counts = new Map<string, number>();
let counting = false;
const original = pg.Client.prototype.query;
// biome-ignore lint/suspicious/noExplicitAny: a counting wrapper around every overload
(pg.Client.prototype as any).query = function (this: pg.Client, ...args: any[]) {
  if (counting) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0]?.text ?? '?');
    const key = String(text).replace(/\s+/g, ' ').trim().slice(0, 110);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // biome-ignore lint/suspicious/noExplicitAny: forwarded as called
  return (original as any).apply(this, args);
};

const n = Number(process.argv[2] ?? 20);
const system = await startLocalSystem({
  ports: 'ephemeral',
  env: {
    ...process.env,
    LOG_LEVEL: 'silent',
    SANDBOX_CALL_STEP_MS: '20',
    SANDBOX_TALK_MS: '100',
    DEFAULT_MAX_CONCURRENT_CALLS: '100',
  },
});
const call: PromiseClient<callV1.CallServiceDefinition> = connectService('call', system.grpc.call as string, {
  defaultDeadlineMs: 120_000,
});
const credit: PromiseClient<creditV1.CreditServiceDefinition> = connectService(
  'credit',
  system.grpc['user-credit'] as string,
  { defaultDeadlineMs: 120_000 },
);
const [user] = await fundedUsers(credit, 1, `count-${randomUUID().slice(0, 8)}`);
await new Promise((r) => setTimeout(r, 1000));
counting = true;
const run = randomUUID().slice(0, 8);
// Five at a time: concurrent enough to be realistic, few enough that no deadline passes on a loaded machine.
for (let i = 0; i < n; i += 5) {
  await Promise.all(
    Array.from({ length: Math.min(5, n - i) }, (_, j) =>
      call.placeCall({
        userId: user as string,
        to: SANDBOX_NUMBERS.busy,
        task: 'count',
        maxDurationSeconds: 30,
        idempotencyKey: `${run}-${i + j}`,
      }),
    ),
  );
}
// Until every call has ended and been settled (its settlement event recorded).
for (let i = 0; i < 600; i++) {
  // (its own SELECT shows in the counts: ignore the list query)
  const { calls } = await call.listCalls({ userId: user as string, pageSize: 100, statuses: ACTIVE });
  if (calls.length === 0) break;
  await new Promise((r) => setTimeout(r, 200));
}
await new Promise((r) => setTimeout(r, 1000));
counting = false;
const total = [...counts.values()].reduce((a, b) => a + b, 0);
process.stdout.write(`${total} statements for ${n} calls (${(total / n).toFixed(1)} per call)\n`);
for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1])) process.stdout.write(`${(v / n).toFixed(2)}  ${k}\n`);
call.close();
credit.close();
await system.stop();
