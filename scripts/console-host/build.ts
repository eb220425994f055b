/**
 * `npm start` serves the console's build (console/dist). When the workspace package is there and its
 * build is missing or older than its sources, this builds it first (`npm run build -w console`), so that
 * `npm ci && npm start` just works; a checkout without the package, or a failed build, leaves the rest
 * of the system running without a console, with a message saying why.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export type ConsoleBuild =
  | { state: 'ready'; dist: string; built: boolean }
  | { state: 'absent'; reason: string }
  | { state: 'failed'; reason: string };

/** Inputs of the build: everything in the package but its output and its dependencies. */
const SKIPPED = new Set(['dist', 'node_modules', 'test-results', 'playwright-report', '.vite']);

/** Newest modification time (ms) of the package's source files. */
export function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED.has(entry.name) || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Whether dist/index.html exists and is at least as new as every source file. */
export function isBuildCurrent(packageDir: string): boolean {
  const index = path.join(packageDir, 'dist', 'index.html');
  return existsSync(index) && statSync(index).mtimeMs >= newestSource(packageDir);
}

/** npm run build -w console, its output to stderr (the banner stays on stdout); resolves to the exit code. */
function runBuild(repoRoot: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', 'build', '-w', 'console'], {
      cwd: repoRoot,
      stdio: ['ignore', process.stderr, process.stderr],
    });
    child.once('error', () => resolve(-1));
    child.once('exit', (code) => resolve(code ?? -1));
  });
}

export async function ensureConsoleBuilt(repoRoot: string): Promise<ConsoleBuild> {
  const packageDir = path.join(repoRoot, 'console');
  const dist = path.join(packageDir, 'dist');
  if (!existsSync(path.join(packageDir, 'package.json')))
    return { state: 'absent', reason: 'this checkout has no console/ package' };
  if (isBuildCurrent(packageDir)) return { state: 'ready', dist, built: false };
  process.stderr.write('console: building (npm run build -w console)…\n');
  const code = await runBuild(repoRoot);
  if (code === 0 && existsSync(path.join(dist, 'index.html'))) return { state: 'ready', dist, built: true };
  return {
    state: 'failed',
    reason: `npm run build -w console failed (exit ${code}); fix it and restart, or run it yourself to see why`,
  };
}
