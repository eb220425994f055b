/**
 * `npm run conformance [-- --revision 2025-11-25] [-- --scenario tools-list] [-- --verbose]`: the official MCP
 * conformance suite (@modelcontextprotocol/conformance) against the real gateway, for each protocol revision's
 * requirements (default: 2025-11-25 and 2026-07-28), judged against test/conformance/expected-failures.yml.
 *
 * Starts the whole local system on ephemeral ports with the suite's fixtures registered through the gateway's
 * own registry (test/conformance/fixtures.ts, via startGateway's `extend`), and runs the suite under Node 22
 * (it needs 22 or later). The suite connects to servers without credentials (its server mode has no way to
 * send a header), so it talks to a pass-through proxy on 127.0.0.1 that adds `Authorization: Bearer <token>`
 * to requests that carry none and changes nothing else: every request still goes through the gateway's token
 * check, Origin check and transports.
 *
 * The installed suite runs a revision it knows; for one it does not (0.1.x knows nothing after 2025-11-25), a
 * pinned release that does is fetched with npx (CONFORMANCE_FALLBACK_PACKAGE). Exit 0 only when every
 * failure is in the baseline and no baseline entry passes (a stale entry fails too, so the baseline shrinks
 * as the gateway improves). Each revision's run is bounded by CONFORMANCE_TIMEOUT_MS (default 10 minutes), the
 * whole script by twice that plus the probes' bounds. Options: --revision (repeatable), --scenario (repeatable: only
 * these, each in its own run), --verbose (the suite's own output, check details), --output DIR (keep the checks
 * there; default a temporary directory).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mintToken, USER_SCOPES } from '@callgate/gateway';
import { parse as parseYaml } from 'yaml';
import { conformanceFixtures } from '../test/conformance/fixtures.js';
import { startLocalSystem } from './local-system.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BASELINE = path.join(ROOT, 'test/conformance/expected-failures.yml');
const REVISIONS = ['2025-11-25', '2026-07-28'] as const;
const FALLBACK_PACKAGE = process.env.CONFORMANCE_FALLBACK_PACKAGE ?? '@modelcontextprotocol/conformance@0.2.0-alpha.12';
const RUN_TIMEOUT_MS = Number(process.env.CONFORMANCE_TIMEOUT_MS ?? 600_000);
const PROBE_TIMEOUT_MS = 180_000;
/** Everything (probes, system start, every run, stop) ends within this, whatever hangs. */
const TOTAL_TIMEOUT_MS = 2 * RUN_TIMEOUT_MS + 6 * PROBE_TIMEOUT_MS;

interface Check {
  id: string;
  name?: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  errorMessage?: string;
  details?: unknown;
}
interface BaselineEntry {
  scenario: string;
  /** Set when one check is excused rather than the whole scenario. */
  checkId?: string;
  reason: string;
}
interface Runner {
  label: string;
  command: string[];
  /** `--requirements <revision>` (the frozen set) rather than `--spec-version <revision>` (the active suite). */
  requirements: boolean;
}
interface Verdict {
  revision: string;
  runner: string;
  passed: string[];
  expected: { item: string; reason: string }[];
  unexpected: { item: string; why: string }[];
  stale: { item: string; reason: string }[];
  unscored: { scenario: string; ok: boolean }[];
  resultsDir: string;
}

const { values: args } = parseArgs({
  options: {
    revision: { type: 'string', multiple: true },
    scenario: { type: 'string', multiple: true },
    verbose: { type: 'boolean', default: false },
    output: { type: 'string' },
  },
});

/** Failing (or warning: the suite counts warnings as failures in a baseline) checks. */
const bad = (check: Check) => check.status === 'FAILURE' || check.status === 'WARNING';
const out = (line = '') => process.stdout.write(`${line}\n`);

function loadBaseline(): Map<string, BaselineEntry[]> {
  const raw: unknown = parseYaml(readFileSync(BASELINE, 'utf8')) ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${BASELINE}: expected revisions as keys`);
  }
  const baseline = new Map<string, BaselineEntry[]>();
  for (const [revision, list] of Object.entries(raw)) {
    if (!REVISIONS.includes(revision as (typeof REVISIONS)[number])) {
      throw new Error(`${BASELINE}: unknown revision ${revision} (known: ${REVISIONS.join(', ')})`);
    }
    const entries = (Array.isArray(list) ? list : []).map((item: unknown, index) => {
      const { scenario, reason } = (item ?? {}) as { scenario?: unknown; reason?: unknown };
      if (typeof scenario !== 'string' || typeof reason !== 'string' || reason.trim().length < 10) {
        throw new Error(`${BASELINE}: ${revision}[${index}] needs a scenario and a reason (why it is not offered)`);
      }
      const [name = '', checkId] = scenario.split(':', 2);
      return { scenario: name, ...(checkId ? { checkId } : {}), reason: reason.trim() };
    });
    baseline.set(revision, entries);
  }
  return baseline;
}

/** Process groups of the suite runs in progress, ended if this script is interrupted or runs out of time. */
const running = new Set<number>();
const endChildren = () => {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
};

/** Runs a command to completion (bounded); its exit code and output. */
function run(
  command: string[],
  options: { timeoutMs: number; logFile?: string; echo?: boolean },
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const [file = '', ...rest] = command;
    // Its own process group, so a timeout ends npx and the node it started together.
    const child: ChildProcess = spawn(file, rest, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid) running.add(pid);
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (options.echo) process.stdout.write(chunk);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid) process.kill(-pid, 'SIGKILL');
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      if (pid) running.delete(pid);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (pid) running.delete(pid);
      if (options.logFile) writeFileSync(options.logFile, output);
      resolve({ code, output, timedOut });
    });
  });
}

/** A published release, fetched by npx and run under Node 22 (`-p node@22` puts Node 22 first on its PATH). */
const npxRunner = (pkg: string, why: string): Runner => ({
  label: `${pkg} (npx: ${why})`,
  command: ['npx', '-y', '-p', 'node@22', '-p', pkg, '--', 'conformance'],
  requirements: true,
});

/**
 * CONFORMANCE_PACKAGE if set (e.g. to try a newer release); else the installed suite if it knows the revision;
 * else the pinned fallback release.
 */
async function runnerFor(revision: string): Promise<Runner> {
  if (process.env.CONFORMANCE_PACKAGE) return npxRunner(process.env.CONFORMANCE_PACKAGE, 'CONFORMANCE_PACKAGE');
  const manifest = path.join(ROOT, 'node_modules/@modelcontextprotocol/conformance/package.json');
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  const installed = ['npx', '-y', 'node@22', path.join(path.dirname(manifest), 'dist/index.js')];
  const probe = (extra: string[]) => run([...installed, 'list', ...extra], { timeoutMs: PROBE_TIMEOUT_MS });
  if ((await probe(['--requirements', revision])).code === 0) {
    return {
      label: `@modelcontextprotocol/conformance@${version} (installed)`,
      command: installed,
      requirements: true,
    };
  }
  if ((await probe(['--server', '--spec-version', revision])).code === 0) {
    return {
      label: `@modelcontextprotocol/conformance@${version} (installed)`,
      command: installed,
      requirements: false,
    };
  }
  return npxRunner(FALLBACK_PACKAGE, `the installed ${version} does not know ${revision}`);
}

/** The server scenarios a revision requires (the suite's frozen list), or undefined: everything that runs. */
async function scoredScenarios(runner: Runner, revision: string): Promise<Set<string> | undefined> {
  if (!runner.requirements) return undefined;
  const listed = await run([...runner.command, 'list', '--requirements', revision], { timeoutMs: PROBE_TIMEOUT_MS });
  const lines = listed.output.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Server scenarios'));
  const names = new Set<string>();
  for (const line of lines.slice(start + 1)) {
    const match = /^\s+- (\S+)$/.exec(line);
    if (match?.[1]) names.add(match[1]);
    else if (line.trim() !== '') break;
  }
  if (start < 0 || names.size === 0) throw new Error(`could not read the ${revision} requirements:\n${listed.output}`);
  return names;
}

/** checks.json of each scenario the suite ran, by scenario (directories are `server-<scenario>-<timestamp>`). */
function readResults(dir: string): Map<string, Check[]> {
  const results = new Map<string, Check[]>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const match = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry.name);
    if (!entry.isDirectory() || !match?.[1]) continue;
    try {
      results.set(match[1], JSON.parse(readFileSync(path.join(dir, entry.name, 'checks.json'), 'utf8')) as Check[]);
    } catch {
      results.set(match[1], [{ id: 'checks-json', status: 'FAILURE', errorMessage: 'no readable checks.json' }]);
    }
  }
  return results;
}

function describe(check: Check, verbose: boolean): string {
  const detail = verbose && check.details ? ` ${JSON.stringify(check.details).slice(0, 1500)}` : '';
  return `${check.id} [${check.status}]: ${check.errorMessage ?? check.name ?? ''}${detail}`;
}

/** Judges one revision's results against its baseline the way the suite does (whole scenarios or single checks). */
function judge(
  results: Map<string, Check[]>,
  scored: Set<string> | undefined,
  entries: BaselineEntry[],
  filter: string[] | undefined,
  verbose: boolean,
): Omit<Verdict, 'revision' | 'runner' | 'resultsDir'> {
  const verdict: Omit<Verdict, 'revision' | 'runner' | 'resultsDir'> = {
    passed: [],
    expected: [],
    unexpected: [],
    stale: [],
    unscored: [],
  };
  const required = [...(scored ?? results.keys())].filter((s) => !filter || filter.includes(s)).sort();
  for (const entry of entries) {
    const known = scored ? scored.has(entry.scenario) : filter !== undefined || results.has(entry.scenario);
    if (!known) {
      verdict.unexpected.push({
        item: entry.scenario,
        why: `baseline entry names a scenario the ${scored ? 'revision does not require' : 'suite did not run'}`,
      });
    }
  }
  for (const scenario of required) {
    const checks = results.get(scenario);
    const whole = entries.find((e) => e.scenario === scenario && !e.checkId);
    const single = entries.filter((e) => e.scenario === scenario && e.checkId);
    if (!checks) {
      if (!whole) verdict.unexpected.push({ item: scenario, why: 'did not run (no results)' });
      continue;
    }
    const failing = checks.filter(bad);
    if (whole) {
      if (failing.length > 0) verdict.expected.push({ item: scenario, reason: whole.reason });
      else verdict.stale.push({ item: scenario, reason: whole.reason });
      continue;
    }
    for (const check of failing) {
      const excused = single.find((e) => e.checkId === check.id);
      if (excused) verdict.expected.push({ item: `${scenario}:${check.id}`, reason: excused.reason });
      else verdict.unexpected.push({ item: scenario, why: describe(check, verbose) });
    }
    for (const entry of single) {
      const seen = checks.filter((c) => c.id === entry.checkId && c.status !== 'INFO');
      if (seen.length > 0 && seen.every((c) => c.status === 'SUCCESS')) {
        verdict.stale.push({ item: `${scenario}:${entry.checkId}`, reason: entry.reason });
      }
    }
    if (failing.every((check) => single.some((e) => e.checkId === check.id))) verdict.passed.push(scenario);
  }
  for (const [scenario, checks] of results) {
    if (!required.includes(scenario)) verdict.unscored.push({ scenario, ok: !checks.some(bad) });
  }
  return verdict;
}

/** Forwards everything to the gateway, adding the bearer token to requests that carry no Authorization. */
function authProxy(target: URL, token: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const headers = { ...req.headers };
    headers.authorization ??= `Bearer ${token}`;
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.once('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    res.once('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}${target.pathname}` });
    });
  });
}

function print(verdict: Verdict): void {
  const { passed, expected, unexpected, stale, unscored } = verdict;
  out(`\n== ${verdict.revision} — ${verdict.runner}`);
  out(
    `   ${passed.length} passed, ${expected.length} expected failure(s), ${unexpected.length} unexpected, ` +
      `${stale.length} stale baseline entr${stale.length === 1 ? 'y' : 'ies'}`,
  );
  for (const scenario of passed) out(`   ✓ ${scenario}`);
  for (const { item, reason } of expected) out(`   ~ ${item} (baseline: ${reason.split(/(?<=\.) /)[0]})`);
  for (const { item, why } of unexpected) out(`   ✗ ${item}: ${why}`);
  for (const { item } of stale) out(`   ! ${item} passes now: remove it from ${path.relative(ROOT, BASELINE)}`);
  if (unscored.length > 0) {
    out(`   not required for ${verdict.revision} (reported, not scored):`);
    for (const { scenario, ok } of unscored) out(`     ${ok ? '✓' : '·'} ${scenario}`);
  }
  out(`   checks: ${verdict.resultsDir}`);
}

async function main(): Promise<number> {
  const revisions = args.revision ?? [...REVISIONS];
  for (const revision of revisions) {
    if (!REVISIONS.includes(revision as (typeof REVISIONS)[number])) throw new Error(`unknown revision ${revision}`);
  }
  const baseline = loadBaseline();
  const outputRoot = args.output
    ? path.resolve(args.output)
    : mkdtempSync(path.join(tmpdir(), 'callgate-conformance-'));
  const runners = new Map<string, Runner>();
  for (const revision of revisions) runners.set(revision, await runnerFor(revision));

  const system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      // The suite sends a few hundred requests a minute as one user, far above a person's pace: a roomier
      // per-user rate limit for this run (the limiter itself still runs; tests cover its limits).
      RATE_LIMIT_BURST: '1000',
      RATE_LIMIT_PER_MINUTE: '60000',
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? (args.verbose ? 'warn' : 'silent'),
    },
    gateway: { extend: conformanceFixtures() },
  });
  const token = mintToken(system.jwt, { sub: 'conformance-suite', scope: USER_SCOPES }, 3 * 3600);
  const proxy = await authProxy(new URL(system.mcpUrl), token);
  const verdicts: Verdict[] = [];
  try {
    for (const revision of revisions) {
      const runner = runners.get(revision) as Runner;
      const resultsDir = path.join(outputRoot, revision);
      rmSync(resultsDir, { recursive: true, force: true });
      mkdirSync(resultsDir, { recursive: true });
      const scored = await scoredScenarios(runner, revision);
      const filter = args.scenario;
      // One run for the revision's set; with --scenario, one run per named scenario (at this revision's wire).
      const selections = filter
        ? filter.map((s) => ['--scenario', s, ...(runner.requirements ? ['--spec-version', revision] : [])])
        : [runner.requirements ? ['--requirements', revision] : ['--spec-version', revision]];
      out(`${revision}: running ${runner.label} against ${system.mcpUrl} …`);
      const started = Date.now();
      const outcomes = [];
      for (const selection of selections) {
        outcomes.push(
          await run([...runner.command, 'server', '--url', proxy.url, ...selection, '-o', resultsDir], {
            timeoutMs: RUN_TIMEOUT_MS,
            logFile: path.join(resultsDir, `suite-${outcomes.length}.log`),
            echo: Boolean(args.verbose),
          }),
        );
      }
      const timedOut = outcomes.some((o) => o.timedOut);
      const verdict: Verdict = {
        revision,
        runner: `${runner.label}, ${((Date.now() - started) / 1000).toFixed(0)} s`,
        resultsDir,
        ...judge(readResults(resultsDir), scored, baseline.get(revision) ?? [], filter, Boolean(args.verbose)),
      };
      if (timedOut) verdict.unexpected.push({ item: 'suite', why: `did not finish within ${RUN_TIMEOUT_MS} ms` });
      print(verdict);
      verdicts.push(verdict);
    }
  } finally {
    proxy.server.closeAllConnections();
    proxy.server.close();
    await system.stop();
  }
  const failed = verdicts.filter((v) => v.unexpected.length > 0 || v.stale.length > 0);
  out(
    failed.length === 0
      ? `\nconformance: PASS (${verdicts.map((v) => v.revision).join(', ')}; every failure is a baselined feature the gateway does not offer)`
      : `\nconformance: FAIL (${failed.map((v) => v.revision).join(', ')}): see ✗ and ! above`,
  );
  // Checks of a passing run in a temporary directory are of no further use.
  if (failed.length === 0 && !args.output) rmSync(outputRoot, { recursive: true, force: true });
  return failed.length === 0 ? 0 : 1;
}

const watchdog = setTimeout(() => {
  process.stderr.write(`conformance: gave up after ${TOTAL_TIMEOUT_MS} ms\n`);
  endChildren();
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    endChildren();
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`conformance: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
