/**
 * `npm run bench -- start [--runs 2]`: how long `npm start` takes to be ready and how much memory it holds
 * idle, on embedded defaults (DATABASE_URL and REDIS_URL removed, a fresh DATA_DIR, ports picked by the OS).
 * Spawns `npm start` as a user would, times spawn → the "callgate is running" banner, waits 10 s idle, and
 * sums the RSS of every process of its tree (npm, tsx, node, and whatever they started) from /proc.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const root = path.resolve(import.meta.dirname, '..', '..');
const IDLE_MS = 10_000;

/** Every descendant of pid (and pid itself), from /proc/<pid>/stat's parent field. */
function tree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found = [pid];
  for (let i = 0; i < found.length; i++) {
    for (const [child, parent] of parents) if (parent === found[i]) found.push(child);
  }
  return found;
}

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** CPU seconds a process and its reaped children used (utime, stime, cutime, cstime; 1/100 s each). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(0, 4).join(' ');
  } catch {
    return '?';
  }
}

async function once(): Promise<{
  readySeconds: number;
  cpuToReady: number;
  rss: number;
  processes: { command: string; rss: number }[];
}> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-start-'));
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATA_DIR: dataDir,
    CALLGATE_PORTS: 'ephemeral',
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.NODE_OPTIONS;
  const started = performance.now();
  const child = spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  try {
    const readySeconds = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`not ready within 120 s:\n${out}`)), 120_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk;
        if (out.includes('callgate is running')) {
          clearTimeout(timer);
          resolve((performance.now() - started) / 1000);
        }
      });
      child.stderr.on('data', (chunk: Buffer) => {
        out += chunk;
      });
      child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${out}`)));
    });
    // CPU used until ready, by every process of the tree: what a loaded machine distorts least.
    const cpuToReady = tree(child.pid as number).reduce((a, pid) => a + cpuSeconds(pid), 0);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const processes = tree(child.pid as number).map((pid) => ({ command: commandOf(pid), rss: rssMb(pid) }));
    return { readySeconds, cpuToReady, rss: processes.reduce((a, p) => a + p.rss, 0), processes };
  } finally {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      process.kill(-(child.pid as number), 'SIGTERM');
    });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchStart(options: { runs: number }): Promise<void> {
  const rows: string[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const r = await once();
    rows.push(
      `| ${run} | ${r.readySeconds.toFixed(1)} | ${r.cpuToReady.toFixed(1)} | ${r.rss.toFixed(0)} | ${r.processes.map((p) => `${p.command.replace(root, '.')}: ${p.rss.toFixed(0)}`).join('; ')} |`,
    );
  }
  process.stdout.write(
    [
      `\nnpm start on embedded defaults (fresh DATA_DIR, ephemeral ports): spawn → banner, then RSS of its process tree after ${IDLE_MS / 1000} s idle`,
      '| run | ready s | CPU s to ready (tree) | RSS MB (tree) | processes (RSS MB) |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
}
