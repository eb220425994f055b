/**
 * `npm run chaos [-- --clients 10 --hold 4 --gap 8]`: the whole system under MCP load while faults are
 * injected one after another (see scripts/chaos/faults.ts), loopback only and bounded (a few minutes).
 * Uses DATABASE_URL and REDIS_URL when set (PostgreSQL is restarted and Redis stopped, then both
 * restored); without them the embedded defaults, and those two faults are skipped. Prints Markdown for
 * docs/resilience.md; exits non-zero when an invariant fails, a fault left calls unfinished, or a
 * client saw a non-retryable error or wrong data.
 */
import { parseArgs } from 'node:util';
import { renderReport } from './bench/system/report.js';
import { passed, runSystem } from './bench/system/run.js';
import { startDelayProxy } from './chaos/delay-proxy.js';
import { type FaultRecord, runFaults } from './chaos/faults.js';
import { ensureInfraUp } from './chaos/infra.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '10' },
    hold: { type: 'string', default: '4' },
    gap: { type: 'string', default: '8' },
  },
});
const clients = Number(values.clients);
const holdMs = Number(values.hold) * 1000;
const gapMs = Number(values.gap) * 1000;
const databaseUrl = process.env.DATABASE_URL || undefined;
const redisUrl = process.env.REDIS_URL || undefined;
const command = `npm run chaos -- --clients ${clients} --hold ${values.hold} --gap ${values.gap}`;

// Bounded whatever happens: the schedule is about 12 holds and 10 gaps, plus start-up and settling.
const watchdog = setTimeout(
  () => {
    process.stderr.write('chaos: the run did not end within its bound\n');
    void ensureInfraUp().finally(() => process.exit(3));
  },
  12 * holdMs + 10 * (gapMs + 90_000) + 400_000,
);
watchdog.unref();

const proxy = await startDelayProxy();
const records: FaultRecord[] = [];
let ok = false;
try {
  const figures = await runSystem({
    seconds: 0,
    clients,
    command,
    cluster: { publicWebhookUrl: proxy.url },
    during: async (cluster, _ends, stats) => {
      proxy.setTarget(cluster.ports.webhook);
      await runFaults(
        { cluster, proxy, holdMs, ...(databaseUrl ? { databaseUrl } : {}), ...(redisUrl ? { redisUrl } : {}) },
        stats,
        records,
        gapMs,
      );
    },
  });
  const lines = [
    '',
    '| fault | held s | canary failures | recovered after s | client errors by kind | non-retryable | crashed | calls before it settled after |',
    '| --- | ---: | ---: | ---: | --- | ---: | --- | --- |',
  ];
  for (const r of records) {
    if (r.skipped) {
      lines.push(`| ${r.name} | – | – | – | skipped: ${r.skipped} | – | – | – |`);
      continue;
    }
    const errors =
      Object.entries(r.errors)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none';
    lines.push(
      `| ${r.name} | ${r.heldSeconds.toFixed(1)} | ${r.canaryFailures} | ${r.recoverySeconds.toFixed(1)} | ${errors} | ${r.nonRetryable.length} | ${r.crashed.join(', ') || 'none'} | ${r.afterCheck ? `NO: ${r.afterCheck}` : 'yes'} |`,
    );
  }
  const nonRetryable = records.flatMap((r) => r.nonRetryable.map((v) => `${r.name}: ${v}`));
  if (nonRetryable.length)
    lines.push(
      '',
      'Non-retryable failures seen by clients (first 15):',
      ...nonRetryable.slice(0, 15).map((v) => `- ${v.slice(0, 300)}`),
    );
  lines.push('', `Carrier callbacks through the delaying proxy: ${JSON.stringify(proxy.counts())}.`);
  process.stdout.write(`${renderReport(figures)}${lines.join('\n')}\n`);
  ok = passed(figures) && records.every((r) => !r.afterCheck && r.nonRetryable.length === 0 && r.crashed.length === 0);
} finally {
  await proxy.close();
  // The shared PostgreSQL and Redis are back up, whatever happened above.
  if (databaseUrl || redisUrl) await ensureInfraUp();
  clearTimeout(watchdog);
}
if (!ok) {
  process.stderr.write('chaos: an invariant failed or a client saw a non-retryable failure (see above)\n');
  process.exitCode = 1;
}
