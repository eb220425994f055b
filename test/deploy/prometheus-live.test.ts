/**
 * Prometheus for real: Debian's prometheus scrapes the locally running services (the same in-process system
 * as `npm start`, on ephemeral ports), every target must come up, and one metric of each service must be
 * queryable through the HTTP API. Skipped only when the prometheus binary is absent (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type RunningPrometheus, scrapeConfig, startPrometheus } from '../../scripts/deploy-checks/prometheus-live.js';
import { findTool } from '../../scripts/deploy-checks/tools.js';
import type { LocalSystem } from '../../scripts/local-system.js';
import { startTestSystem } from '../support/system.js';

const prometheusBinary = findTool('prometheus');
const skip = prometheusBinary ? false : 'prometheus not installed (apt-get install prometheus)';

/** One metric per service that exists without traffic, labelled by the service's own registry. */
const METRIC_BY_SERVICE: Record<string, string> = {
  gateway: 'gateway_http_requests_total{route="health"}',
  call: 'call_poll_enqueue_failures_total',
  'user-credit': 'credits_reservations_expired_total',
  'sheets-sync': 'sheets_sync_breaker_state',
  poller: 'poller_messages_received_total',
  // No auth counter has a series before its first request or mail: the default process metrics do.
  auth: 'process_start_time_seconds',
};

let system: LocalSystem | undefined;
let prometheus: RunningPrometheus | undefined;

before(async () => {
  if (skip) return;
  system = await startTestSystem();
  // The sandbox is a stand-in with no /metrics; the six services are scraped on their ops ports.
  const targets = Object.fromEntries(
    system.services.filter((s) => s.name in METRIC_BY_SERVICE).map((s) => [s.name, `127.0.0.1:${s.opsPort}`]),
  );
  assert.deepEqual(Object.keys(targets).sort(), Object.keys(METRIC_BY_SERVICE).sort());
  // One public request, so the gateway's request counter has a series.
  await fetch(system.mcpUrl.replace(/\/mcp$/, '/healthz'));
  prometheus = await startPrometheus(prometheusBinary as string, scrapeConfig(targets));
});

after(async () => {
  await prometheus?.stop();
  await system?.stop();
});

test('every service is scraped and up, and one metric of each is queryable', { skip, timeout: 120_000 }, async () => {
  const p = prometheus as RunningPrometheus;
  // Monotonic clock for the bounded waits: this suite must not depend on the wall clock's pace.
  const deadline = performance.now() + 45_000;
  let targets = await p.targets();
  while (
    !(targets.length === Object.keys(METRIC_BY_SERVICE).length && targets.every((t) => t.health === 'up')) &&
    performance.now() < deadline
  ) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    targets = await p.targets();
  }
  assert.deepEqual(
    targets.map((t) => `${t.labels.job}: ${t.health} ${t.lastError}`.trim()).sort(),
    Object.keys(METRIC_BY_SERVICE)
      .map((job) => `${job}: up`)
      .sort(),
  );
  // A target reports up when its scrape ends, a moment before the samples are queryable: poll, bounded.
  for (const [job, metric] of Object.entries(METRIC_BY_SERVICE)) {
    const selector = metric.includes('{') ? metric.replace('{', `{job="${job}",`) : `${metric}{job="${job}"}`;
    let result = await p.query(selector);
    while (result.length === 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      result = await p.query(selector);
    }
    assert.ok(result.length > 0, `${selector}: no series`);
    assert.equal(result[0]?.metric.component, job, `${selector} comes from the ${job} registry`);
  }
});

test('a target that serves no metrics is reported down, so the wait above can fail', {
  skip,
  timeout: 60_000,
}, async () => {
  // The planted mistake: the gateway's public port instead of its ops port (/metrics answers 404 there).
  const publicPort = new URL((system as LocalSystem).mcpUrl).port;
  const broken = await startPrometheus(
    prometheusBinary as string,
    scrapeConfig({ gateway: `127.0.0.1:${publicPort}` }),
  );
  try {
    const deadline = performance.now() + 30_000;
    let targets = await broken.targets();
    while (!targets.some((t) => t.health === 'down') && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      targets = await broken.targets();
    }
    assert.equal(targets[0]?.health, 'down');
    assert.match(targets[0]?.lastError ?? '', /404/);
  } finally {
    await broken.stop();
  }
});
