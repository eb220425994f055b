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
  const child = spawn(process.execPath, ['--conditions=callgate-source', '--import', 'tsx', path.join(root, entry)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat (Linux). CPU per request
 * moves far less with the machine's load than requests per second, so it compares runs on a busy machine.
 */
export async function cpuMs(pid: number | undefined): Promise<number> {
  if (!pid) return Number.NaN;
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15 (clock ticks).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ: 100 on every Linux ABI Node runs on (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU ms used by all of these processes together. */
export async function totalCpuMs(processes: ServerProcess[]): Promise<number> {
  const each = await Promise.all(processes.map((p) => cpuMs(p.child.pid)));
  return each.reduce((a, b) => a + b, 0);
}
