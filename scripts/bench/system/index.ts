/**
 * `npm run bench -- system [--seconds 60] [--connections 20] [--runs 1]`: the whole system under MCP
 * load (see run.ts). Prints Markdown tables; exits non-zero when an invariant fails. Runs with
 * DATABASE_URL and REDIS_URL when they are set, with the embedded defaults when not.
 */

import { renderReport } from './report.js';
import { passed, runSystem } from './run.js';

/** bench.ts's defaults (10 s, 50 connections, 2 runs) suit micro-benchmarks; a system run has its own. */
const SYSTEM_DEFAULTS = { seconds: 60, connections: 20, runs: 1 };
const given = (flag: string) => process.argv.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));

export async function benchSystem(flags: { seconds: number; connections: number; runs: number }): Promise<void> {
  const o = {
    seconds: given('seconds') ? flags.seconds : SYSTEM_DEFAULTS.seconds,
    connections: given('connections') ? flags.connections : SYSTEM_DEFAULTS.connections,
    runs: given('runs') ? flags.runs : SYSTEM_DEFAULTS.runs,
  };
  const command = `npm run bench -- system --seconds ${o.seconds} --connections ${o.connections} --runs ${o.runs}`;
  // A hung run must still end: the load's time, start-up, settling, and a margin.
  const watchdog = setTimeout(
    () => {
      process.stderr.write('system: the run did not end within its bound\n');
      process.exit(3);
    },
    (o.seconds * o.runs + 300 * o.runs) * 1000,
  );
  watchdog.unref();
  let ok = true;
  for (let run = 1; run <= o.runs; run++) {
    const figures = await runSystem({ seconds: o.seconds, clients: o.connections, command });
    process.stdout.write(`\n<!-- run ${run} of ${o.runs} -->\n${renderReport(figures)}`);
    ok &&= passed(figures);
  }
  clearTimeout(watchdog);
  if (!ok) {
    process.stderr.write('system: an invariant failed (see the tables above)\n');
    process.exitCode = 1;
  }
}
