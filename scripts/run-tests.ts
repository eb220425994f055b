/**
 * `npm test`: every *.test.ts beside the code (services/<name>/src) and under test/, with node's
 * built-in test runner through tsx, loading workspace packages from source.
 * Extra arguments are file filters: `npm test -- migrate` runs files whose path contains "migrate".
 *
 * Each run is isolated from earlier and concurrent ones: with DATABASE_URL, the tests get a database of
 * their own on that server (created here, dropped when the run ends, also on Ctrl-C; a killed run's is
 * dropped by a later run); with REDIS_URL, a Redis logical database of their own (scripts/test-run/).
 * Tests wait for what they need without short deadlines; TEST_TIMEOUT_MS (default 10 minutes per test)
 * is the one bound, so a test that truly hangs fails with its name instead of stalling CI.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { createRunDatabase, dropStaleTestDatabases, type RunDatabase } from './test-run/database.js';
import { claimRunRedis, type RunRedis } from './test-run/redis.js';

const root = path.resolve(import.meta.dirname, '..');
const filters = process.argv.slice(2);
const files = ['services', 'test']
  .flatMap((dir) =>
    readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)),
  )
  .filter((f) => f.endsWith('.test.ts') && !f.includes('node_modules') && !f.includes(`${path.sep}dist${path.sep}`))
  .filter((f) => filters.length === 0 || filters.some((filter) => f.includes(filter)))
  .sort();

if (files.length === 0) {
  process.stderr.write(`no test files match ${filters.join(' ')}\n`);
  process.exit(1);
}

const runId = randomUUID();
const say = (line: string) => process.stderr.write(`run-tests: ${line}\n`);
let database: RunDatabase | undefined;
let redis: RunRedis | undefined;
const cleanUp = async () => {
  const [db, r] = [database, redis];
  database = undefined;
  redis = undefined;
  await Promise.all([
    db?.drop().catch((error: unknown) => say(`could not drop ${db.name} (a later run will): ${String(error)}`)),
    r
      ?.release()
      .catch((error: unknown) => say(`could not release Redis db ${r.db} (its claim expires): ${String(error)}`)),
  ]);
};

const env: Record<string, string | undefined> = {
  ...process.env,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
  CALLGATE_TEST_RUN_ID: runId,
};
try {
  if (process.env.DATABASE_URL) {
    const dropped = await dropStaleTestDatabases(process.env.DATABASE_URL, new Date());
    if (dropped.length) say(`dropped ${dropped.length} database(s) left by killed runs: ${dropped.join(', ')}`);
    database = await createRunDatabase(process.env.DATABASE_URL);
    env.DATABASE_URL = database.url;
    env.CALLGATE_TEST_DATABASE = database.name;
    say(`PostgreSQL database ${database.name} for this run`);
  }
  if (process.env.REDIS_URL) {
    redis = await claimRunRedis(process.env.REDIS_URL, runId, {
      onWait: () => say('every Redis logical database 1-15 is claimed by another run: waiting for one'),
    });
    env.REDIS_URL = redis.url;
    say(`Redis logical database ${redis.db} for this run`);
  }
} catch (error) {
  say(`could not prepare the run: ${String(error)}`);
  await cleanUp();
  process.exit(1);
}

const timeoutMs = Number(process.env.TEST_TIMEOUT_MS ?? 600_000);
const child = spawn(
  process.execPath,
  [
    '--conditions=callgate-source',
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-timeout=${timeoutMs}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env },
);
// Ctrl-C reaches the child through the terminal's process group; SIGTERM (CI) is passed on. Either way
// the run's databases are removed once the child has exited.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
const code = await new Promise<number>((resolve) => {
  child.on('exit', (status, signal) => resolve(status ?? 128 + (signal ? constants.signals[signal] : 0)));
  child.on('error', (error) => {
    say(`could not start the test runner: ${String(error)}`);
    resolve(1);
  });
});
await cleanUp();
process.exit(code);
