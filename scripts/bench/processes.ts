/** Servers under measurement run in their own processes, never in the load generator's. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');

export interface ServerProcess {
  child: ChildProcess;
  /** Lines printed on stdout so far. */
  output: string[];
  stop(): Promise<void>;
}

/** A service's own entry point (production layout), resolved with its "started" log line. */
export async function startService(
  name: string,
  env: Record<string, string>,
): Promise<{
  process: ServerProcess;
  started: { grpcPort: number; opsPort: number; endpoints: Record<string, string> };
}> {
  // The "started" line is logged at info; services log nothing per request at info.
  const p = await startProcess(`services/${name}/src/main.ts`, new RegExp(`"msg":"${name} started"`), {
    ...env,
    LOG_LEVEL: 'info',
  });
  const line = p.output.find((l) => l.includes(`"msg":"${name} started"`)) ?? '{}';
  return { process: p, started: JSON.parse(line) };
}

/** Starts a TypeScript entry point and resolves once a stdout line matches ready. */
export function startProcess(
  entry: string,
  ready: RegExp,
  env: Record<string, string | undefined> = {},
  timeoutMs = 60_000,
): Promise<ServerProcess> {
  // BENCH_CPU_PROF_DIR=dir writes a V8 CPU profile of each server process there when it exits
  // (--cpu-prof is refused in NODE_OPTIONS, so it is passed here); see docs/performance.md "Profiles".
  const profile = process.env.BENCH_CPU_PROF_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
    : [];
  const child = spawn(
    process.execPath,
    [...profile, '--conditions=callgate-source', '--import', 'tsx', path.join(root, entry)],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const output: string[] = [];
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      output.push(...lines);
      if (lines.some((l) => ready.test(l))) {
        clearTimeout(timer);
        resolve({ child, output, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code} before it was ready`));
    });
    timer.unref();
  });
}

/** Resident set size of a process in MB, from /proc (Linux). */
export async function rssMb(pid: number | undefined): Promise<number> {
  if (!pid) return Number.NaN;
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** CPU time (user + system, every thread) a process has used so far, in seconds, from /proc (Linux). */
export async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (!pid) return Number.NaN;
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** USER_HZ: Linux reports /proc CPU times in 1/100 s on every common platform. */
const CLOCK_TICKS = 100;

/**
 * CPU seconds used so far by the PostgreSQL backends serving `database` (by pid from pg_stat_activity, so
 * only backends alive at both readings count: the pools keep theirs while a run is busy). NaN when the
 * server is not on this machine.
 */
export async function postgresCpuSeconds(
  query: (sql: string, params: unknown[]) => Promise<{ rows: { pid: number }[] }>,
  database: string,
): Promise<Map<number, number>> {
  const { rows } = await query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
  const times = new Map<number, number>();
  for (const { pid } of rows) times.set(pid, await cpuSeconds(pid));
  return times;
}

/** CPU seconds between two readings of postgresCpuSeconds, over the backends present in both. */
export function postgresCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, t] of after) {
    const t0 = before.get(pid);
    if (t0 !== undefined && Number.isFinite(t) && Number.isFinite(t0)) sum += t - t0;
  }
  return sum;
}

/** CPU ms used by all of these processes together (CPU per request moves far less with load than req/s). */
export async function totalCpuMs(processes: ServerProcess[]): Promise<number> {
  const each = await Promise.all(processes.map((p) => cpuSeconds(p.child.pid)));
  return each.reduce((a, b) => a + b, 0) * 1000;
}
