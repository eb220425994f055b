/** The run's figures as Markdown tables, ready for docs/performance.md and docs/resilience.md. */
import { cpus, loadavg, totalmem } from 'node:os';
import { percentile } from '../shared.js';
import type { LoadStats } from './clients.js';
import type { InvariantResult } from './invariants.js';
import type { UsageSummary } from './usage.js';

export interface RunFigures {
  mode: string;
  command: string;
  seconds: number;
  clients: number;
  stats: LoadStats;
  usage: Record<string, UsageSummary>;
  sheets: {
    writeRequests: number;
    readRequests: number;
    maxWritesPerMinute: number;
    quota429: number;
    quotaPerMinute: number;
    byResult: Record<string, number>;
  };
  poller: { lagMaxSeconds: number; lagMedianSeconds: number; processed: number; latencyP95Seconds: number };
  loadAverage: { before: number[]; after: number[] };
  invariants: InvariantResult[];
  quietAfter: string;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB RAM, Node ${process.version}, ${process.platform}`;
}

export function renderReport(f: RunFigures): string {
  const lines: string[] = [];
  const total = Object.values(f.stats.latencies).reduce((s, l) => s + l.length, 0);
  const errors = Object.values(f.stats.errors).reduce((s, n) => s + n, 0);
  lines.push(`### ${f.mode}`, '');
  lines.push(`- command: \`${f.command}\``);
  lines.push(
    `- machine: ${machine()}; load average before ${f.loadAverage.before.map((n) => fmt(n, 2)).join(' ')}, after ${f.loadAverage.after.map((n) => fmt(n, 2)).join(' ')}`,
  );
  lines.push(
    `- ${f.clients} MCP clients (${Math.ceil(f.clients / 2)} Streamable HTTP, ${Math.floor(f.clients / 2)} WebSocket), one user each, for ${f.seconds} s: ` +
      `${total} answered requests (${fmt(total / f.seconds, 1)}/s), ${errors} failed; ` +
      `${f.stats.placed.size} calls placed, ${f.stats.completed} watched to the end (${fmt((f.stats.completed * 60) / f.seconds, 0)} calls/min)`,
  );
  lines.push(
    '',
    '| tool | requests | req/s | p50 ms | p95 ms | p99 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const [tool, values] of Object.entries(f.stats.latencies).sort()) {
    const sorted = [...values].sort((a, b) => a - b);
    lines.push(
      `| ${tool} | ${sorted.length} | ${fmt(sorted.length / f.seconds, 1)} | ${fmt(percentile(sorted, 50))} | ${fmt(percentile(sorted, 95))} | ${fmt(percentile(sorted, 99))} |`,
    );
  }
  lines.push('', '| error kind | count |', '| --- | ---: |');
  const kinds = Object.entries(f.stats.errors).sort((a, b) => b[1] - a[1]);
  if (kinds.length === 0) lines.push('| (none) | 0 |');
  for (const [kind, n] of kinds) lines.push(`| ${kind} | ${n} |`);
  const unexpected = Object.entries(f.stats.unexpectedOutcomes);
  if (unexpected.length)
    lines.push(
      '',
      `Final status other than the number's outcome: ${unexpected.map(([k, n]) => `${k} ×${n}`).join(', ')}.`,
    );
  if (f.stats.unfinishedWatches)
    lines.push('', `Calls a client stopped watching before they ended: ${f.stats.unfinishedWatches}.`);
  lines.push(
    '',
    '| process | CPU s | CPU % of one core | RSS at end MB | RSS peak MB |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const [name, u] of Object.entries(f.usage)) {
    lines.push(
      `| ${name} | ${fmt(u.cpuSeconds, 1)} | ${fmt(u.cpuPercent)} | ${fmt(u.rssMbLast)} | ${fmt(u.rssMbPeak)} |`,
    );
  }
  const s = f.sheets;
  lines.push(
    '',
    `Sheets API (sandbox): ${s.writeRequests} write and ${s.readRequests} read requests; busiest minute ${s.maxWritesPerMinute} writes against a quota of ${s.quotaPerMinute}/min; ${s.quota429} refused for quota. ` +
      `sheets-sync requests by result: ${
        Object.entries(s.byResult)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || 'none'
      }.`,
  );
  lines.push(
    '',
    `Poller: ${f.poller.processed} messages processed; queue lag (oldest message of a receive) median ${fmt(f.poller.lagMedianSeconds, 1)} s, max ${fmt(f.poller.lagMaxSeconds, 1)} s; processing latency p95 ≤ ${fmt(f.poller.latencyP95Seconds, 2)} s.`,
  );
  lines.push('', '| invariant | result | detail |', '| --- | --- | --- |');
  if (f.quietAfter) lines.push(`| system settled after the load | FAIL | ${f.quietAfter} |`);
  for (const r of f.invariants) {
    lines.push(`| ${r.name} | ${r.violations.length ? `FAIL (${r.violations.length})` : 'holds'} | ${r.detail} |`);
  }
  const violations = f.invariants.flatMap((r) => r.violations.map((v) => `${r.name}: ${v}`));
  if (violations.length) lines.push('', 'Violations (first 20):', ...violations.slice(0, 20).map((v) => `- ${v}`));
  if (f.stats.nonRetryable.length) {
    lines.push('', `Failures that did not say they were retryable (first 10 of ${f.stats.nonRetryable.length}):`);
    lines.push(...f.stats.nonRetryable.slice(0, 10).map((v) => `- ${v.slice(0, 300)}`));
  }
  return `${lines.join('\n')}\n`;
}

export const loadAverage = () => loadavg();
