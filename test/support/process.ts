/** Runs a TypeScript entry point as its own Node process, the way production runs a service. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { settles } from './eventually.js';

const root = path.resolve(import.meta.dirname, '..', '..');

export interface RunningProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first JSON log line for which match returns true (no deadline: see eventually.ts). */
  waitForLog: (
    match: (line: Record<string, unknown>) => boolean,
    reportAfterMs?: number,
  ) => Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** With compiled, the entry is plain JavaScript run by node alone, resolving packages to their dist. */
export function runEntry(
  entry: string,
  env: Record<string, string | undefined>,
  options: { compiled?: boolean } = {},
): RunningProcess {
  const loader = options.compiled ? [] : ['--conditions=callgate-source', '--import', 'tsx'];
  const child = spawn(process.execPath, [...loader, path.join(root, entry)], {
    cwd: root,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: {
    match: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }[] = [];
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const text of lines) {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLog: (match, reportAfterMs = 30_000) =>
      settles(
        new Promise((resolve, reject) => {
          waiters.push({ match, resolve });
          void exited.then(() => reject(new Error(`process exited before the log line:\n${out}\n${err}`)));
        }),
        `a matching log line from ${entry}`,
        reportAfterMs,
      ),
  };
}

/** The environment of this test process without variables that would leak into a child's config. */
export function cleanEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const { GRPC_PORT, METRICS_PORT, HTTP_PORT, JWT_SECRET, ...rest } = process.env;
  return { ...rest, LOG_LEVEL: 'info', ...extra };
}
