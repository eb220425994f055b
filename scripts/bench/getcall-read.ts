/**
 * GetCall's database read alone, in-process against DATABASE_URL (issue 19 goal 1): the four statements it
 * used to make (call row, then events, turns and outcome in parallel) against the one of call-details.ts,
 * 10 reads in flight, reads/s and this process's CPU per read (PostgreSQL's own CPU is not counted).
 * `DATABASE_URL=… node --conditions=callgate-source --import tsx scripts/bench/getcall-read.ts 3000`
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createLogger, migrate, PostgresDatabase, readMigrations, systemClock } from '@callgate/common';
import { readCallDetails } from '../../services/call/src/call-details.js';
import { CallStore } from '../../services/call/src/call-store.js';
import { newCallFixture } from '../../services/call/src/new-call.fixture.js';
import { TranscriptStore } from '../../services/call/src/transcript-store.js';

const log = createLogger('m', 'silent');
const db = new PostgresDatabase({ url: process.env.DATABASE_URL as string, log });
await migrate(
  db,
  'calls',
  readMigrations(fileURLToPath(new URL('../../services/call/migrations/', import.meta.url))),
  log,
);
const store = new CallStore(db, systemClock);
const tr = new TranscriptStore(db, systemClock);
const user = `micro-${randomUUID()}`;
const id = randomUUID();
await store.insertIntent(
  newCallFixture(user, { call_id: id, idempotency_key: id, task: 't', first_message: 'h' }),
  100,
);
for (const s of ['ringing', 'in-progress', 'completed'] as const)
  await store.apply(id, { status: s, occurredAt: new Date(), source: 'callback' });
for (let i = 0; i < 6; i++)
  await tr.appendTurn(id, {
    speaker: i % 2 ? 'callee' : 'agent',
    text: `turn ${i} words words words`,
    startedAt: new Date(),
    interrupted: false,
  });
await tr.saveOutcome(id, {
  fields: { a: 1 },
  missingFields: [],
  summary: 's',
  objectiveReached: true,
  endReason: 'objective',
});
const old = async () => {
  const c = await store.forUser(user, id);
  await Promise.all([store.events(id), tr.turns(id), tr.outcome(id)]);
  return c;
};
const neu = () => readCallDetails(db, user, id);
const N = Number(process.argv[2] ?? 2000),
  C = 10;
async function run(name: string, f: () => Promise<unknown>) {
  for (let i = 0; i < 200; i++) await f();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let left = N;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (left-- > 0) await f();
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  process.stdout.write(
    `${name}: ${((N / ms) * 1000).toFixed(0)} reads/s, client CPU ${((cpu.user + cpu.system) / N).toFixed(0)} µs/read\n`,
  );
}
for (let r = 0; r < 2; r++) {
  await run('four statements', old);
  await run('one statement  ', neu);
}
for (const t of ['call_events', 'transcript_turns', 'call_outcomes'])
  await db.query(`DELETE FROM calls.${t} WHERE call_id = $1`, [id]);
await db.query('DELETE FROM calls.calls WHERE call_id = $1', [id]);
await db.close();
