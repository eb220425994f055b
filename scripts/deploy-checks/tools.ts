/** The Debian Prometheus tools the checks run (`.ci/run` installs them): found on PATH, or undefined. */
import { spawnSync } from 'node:child_process';

export function findTool(name: 'promtool' | 'amtool' | 'prometheus'): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** Runs a tool; problems are its output when it exits non-zero (promtool and amtool explain what is wrong). */
export function runTool(tool: string, args: string[], cwd?: string): string[] {
  const result = spawnSync(tool, args, { encoding: 'utf8', cwd, timeout: 60_000 });
  if (result.status === 0) return [];
  return [`${tool} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`];
}
