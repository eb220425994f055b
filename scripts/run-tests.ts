/**
 * `npm test`: every *.test.ts beside the code (services/<name>/src) and under test/, with node's
 * built-in test runner through tsx, loading workspace packages from source.
 * Extra arguments are file filters: `npm test -- migrate` runs files whose path contains "migrate".
 * `--runtime-sensitive` runs only the files listed in test/runtime-sensitive.txt (what differs between
 * Node versions; .ci/run runs those on Node 22 and 24 after the whole suite on Node 20).
 *
 * TEST_JOBS (default 2) test files run at once, each file in a `node --test` process of its own. Each
 * job is isolated from the others, from earlier runs and from concurrent runs: with DATABASE_URL, a job's
 * files get a PostgreSQL database of the job's own (created here, dropped when the run ends, also on
 * Ctrl-C; a killed run's are dropped by a later run); with REDIS_URL, a Redis logical database of its
 * own (scripts/test-run/). Node's own --test-concurrency would run files at once against one database.
 * A file's output is printed in one piece when it ends, so jobs never interleave lines.
 * Tests wait for what they need without short deadlines; TEST_TIMEOUT_MS (default 10 minutes per test)
 * is the one bound, so a test that truly hangs fails with its name instead of stalling CI.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { createRunDatabase, dropStaleTestDatabases, type RunDatabase } from './test-run/database.js';
import { claimRunRedis, type RunRedis } from './test-run/redis.js';
import { RUNTIME_SENSITIVE_LIST, readRuntimeSensitive } from './test-run/runtime-sensitive.js';

const root = path.resolve(import.meta.dirname, '..');
const say = (line: string) => process.stderr.write(`run-tests: ${line}\n`);
const args = process.argv.slice(2);
const runtimeSensitive = args.includes('--runtime-sensitive');
const filters = args.filter((a) => a !== '--runtime-sensitive');

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    say(`${name} must be a whole number of at least 1, not "${raw}"`);
    process.exit(2);
  }
  return Number(raw);
}
const jobCount = positiveInteger('TEST_JOBS', 2);
const timeoutMs = positiveInteger('TEST_TIMEOUT_MS', 600_000);

let files = ['services', 'test']
  .flatMap((dir) =>
    readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)),
  )
  .filter((f) => f.endsWith('.test.ts') && !f.includes('node_modules') && !f.includes(`${path.sep}dist${path.sep}`))
  .filter((f) => filters.length === 0 || filters.some((filter) => f.includes(filter)));
if (runtimeSensitive) {
  let listed: string[];
  try {
    listed = readRuntimeSensitive(root).map((e) => e.file);
  } catch (error) {
    say(String(error instanceof Error ? error.message : error));
    process.exit(2);
  }
  const missing = listed.filter((f) => !files.includes(f) && filters.length === 0);
  if (missing.length) {
    say(`${RUNTIME_SENSITIVE_LIST} lists files that are not test files: ${missing.join(', ')}`);
    process.exit(2);
  }
  files = files.filter((f) => listed.includes(f));
}

if (files.length === 0) {
  process.stderr.write(`no test files match ${args.join(' ')}\n`);
  process.exit(1);
}

// Longest first, so that a long file does not start last while the other jobs sit idle. Durations come
// from earlier runs on this machine (node_modules/.cache), else from the ones committed beside this
// script (test-run/durations.json, from a TEST_JOBS=2 run at load ~14: only their order matters), else
// a guess from the file's size.
const cacheFile = path.join(root, 'node_modules', '.cache', 'callgate', 'test-durations.json');
const readDurations = (file: string): Record<string, number> => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
};
const known = {
  ...readDurations(path.join(import.meta.dirname, 'test-run', 'durations.json')),
  ...readDurations(cacheFile),
};
const estimate = (f: string) => known[f] ?? statSync(path.join(root, f)).size / 2;
const queue = [...files].sort((a, b) => estimate(b) - estimate(a) || a.localeCompare(b));
const jobs = Math.min(jobCount, files.length);

const runId = randomUUID();
interface Job {
  index: number;
  env: Record<string, string | undefined>;
  database?: RunDatabase;
  redis?: RunRedis;
}
const prepared: Job[] = [];
let cleaning: Promise<void> | undefined;
const cleanUp = () => {
  cleaning ??= Promise.all(
    prepared.map(async ({ database: db, redis: r }) => {
      await Promise.all([
        db?.drop().catch((error: unknown) => say(`could not drop ${db.name} (a later run will): ${String(error)}`)),
        r
          ?.release()
          .catch((error: unknown) => say(`could not release Redis db ${r.db} (its claim expires): ${String(error)}`)),
      ]);
    }),
  ).then(() => undefined);
  return cleaning;
};

const children = new Set<ChildProcess>();
let stopping: NodeJS.Signals | undefined;
// Ctrl-C reaches the children through the terminal's process group; SIGTERM (CI) is passed on. Either
// way no further file starts, and the run's databases are removed once the children have exited.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    stopping ??= signal;
    for (const child of children) if (child.exitCode === null) child.kill(signal);
    if (prepared.length === 0 || children.size === 0)
      void cleanUp().then(() => process.exit(128 + constants.signals[signal]));
  });
}

try {
  if (process.env.DATABASE_URL) {
    const dropped = await dropStaleTestDatabases(process.env.DATABASE_URL, new Date());
    if (dropped.length) say(`dropped ${dropped.length} database(s) left by killed runs: ${dropped.join(', ')}`);
  }
  for (let index = 1; index <= jobs; index++) {
    const jobRunId = jobs === 1 ? runId : `${runId}:${index}`;
    const job: Job = {
      index,
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', CALLGATE_TEST_RUN_ID: jobRunId },
    };
    prepared.push(job);
    if (process.env.DATABASE_URL) {
      job.database = await createRunDatabase(
        process.env.DATABASE_URL,
        new Date(),
        process.pid,
        jobs === 1 ? undefined : index,
      );
      job.env.DATABASE_URL = job.database.url;
      job.env.CALLGATE_TEST_DATABASE = job.database.name;
    }
    if (process.env.REDIS_URL) {
      job.redis = await claimRunRedis(process.env.REDIS_URL, jobRunId, {
        onWait: () => say('every Redis logical database 1-15 is claimed by another run: waiting for one'),
      });
      job.env.REDIS_URL = job.redis.url;
    }
    const where = [
      job.database && `PostgreSQL database ${job.database.name}`,
      job.redis && `Redis logical database ${job.redis.db}`,
    ].filter(Boolean);
    if (where.length) say(`job ${index}: ${where.join(', ')}`);
  }
} catch (error) {
  say(`could not prepare the run: ${String(error)}`);
  await cleanUp();
  process.exit(1);
}
say(`${files.length} test file(s), ${jobs} at a time${runtimeSensitive ? ` (${RUNTIME_SENSITIVE_LIST})` : ''}`);

interface Result {
  file: string;
  code: number;
  ms: number;
  counts: Record<string, number>;
}
const results: Result[] = [];
const running = new Map<string, number>();
const started = Date.now();

function runFile(job: Job, file: string): Promise<Result> {
  const begun = Date.now();
  const child = spawn(
    process.execPath,
    [
      '--conditions=callgate-source',
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      `--test-timeout=${timeoutMs}`,
      file,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: job.env },
  );
  children.add(child);
  running.set(file, begun);
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  return new Promise<Result>((resolve) => {
    const done = (code: number) => {
      children.delete(child);
      running.delete(file);
      const text = Buffer.concat(output).toString('utf8');
      const counts: Record<string, number> = {};
      for (const [, name, n] of text.matchAll(/^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) {
        counts[name as string] = Number(n);
      }
      const ms = Date.now() - begun;
      process.stdout.write(
        `\n━━ ${file} (${(ms / 1000).toFixed(1)} s, job ${job.index}) ${code === 0 ? 'ok' : `FAILED (exit ${code})`}\n${text}`,
      );
      resolve({ file, code, ms, counts });
    };
    child.on('exit', (status, signal) => done(status ?? 128 + (signal ? constants.signals[signal] : 0)));
    child.on('error', (error) => {
      output.push(Buffer.from(`could not start the test runner: ${String(error)}\n`));
      done(1);
    });
  });
}

// A file's output appears when it ends; say which files have been running for long, so a slow or hung
// file is visible before its timeout.
const LONG_MS = 120_000;
const watcher = setInterval(() => {
  const now = Date.now();
  const long = [...running].filter(([, at]) => now - at > LONG_MS);
  if (long.length)
    say(`still running: ${long.map(([f, at]) => `${f} (${Math.round((now - at) / 1000)} s)`).join(', ')}`);
}, LONG_MS);
watcher.unref();

await Promise.all(
  prepared.map(async (job) => {
    for (let file = queue.shift(); file !== undefined && !stopping; file = queue.shift()) {
      results.push(await runFile(job, file));
    }
  }),
);
clearInterval(watcher);
await cleanUp();

if (!stopping && filters.length === 0) {
  try {
    mkdirSync(path.dirname(cacheFile), { recursive: true });
    const durations = readDurations(cacheFile);
    for (const r of results) durations[r.file] = r.ms;
    writeFileSync(cacheFile, `${JSON.stringify(durations, null, 1)}\n`);
  } catch (error) {
    say(`could not remember the files' durations: ${String(error)}`);
  }
}

const total = (name: string) => results.reduce((sum, r) => sum + (r.counts[name] ?? 0), 0);
const failed = results.filter((r) => r.code !== 0);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(
  `\nrun-tests: ${results.length} file(s) in ${seconds} s with ${jobs} job(s): tests ${total('tests')}, pass ${total('pass')}, fail ${total('fail')}, cancelled ${total('cancelled')}, skipped ${total('skipped')}, todo ${total('todo')}\n`,
);
if (failed.length) process.stdout.write(`run-tests: failed files:\n${failed.map((r) => `  ${r.file}\n`).join('')}`);
if (stopping) process.exit(128 + constants.signals[stopping]);
process.exit(failed.length || results.length < files.length ? 1 : 0);
