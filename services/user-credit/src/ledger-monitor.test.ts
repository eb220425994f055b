/**
 * The background ledger check behind the LedgerMismatch alert: credits_ledger_discrepancies follows the
 * ledger (0, then 1 after a planted discrepancy, then 0 once repaired), the service exports it on /metrics,
 * runs never overlap, and the schedule (first run after a delay, then each interval) ends with stop().
 *
 * The database is one of its own (a fresh PostgreSQL database at DATABASE_URL's server, else PGlite): the
 * check counts every account, and other test files plant discrepancies in the shared schema meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { createLogger, type Queryable } from '@callgate/common';
import { Registry } from 'prom-client';
import { type CreditService, startCredit, userWith } from '../../../test/support/credit.js';
import { openIsolatedDatabase } from '../../../test/support/database.js';
import { startLedgerMonitor } from './ledger-monitor.js';

const log = createLogger('test', 'silent');
const NEVER_MS = 2_147_483_647;

async function gaugeValue(registry: Registry, name: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value;
}

let database: Awaited<ReturnType<typeof openIsolatedDatabase>>;
let service: CreditService;

before(async () => {
  database = await openIsolatedDatabase('ledger_monitor');
  service = await startCredit(database.db);
});
after(async () => {
  await service?.stop();
  await database?.close();
});

describe('ledger monitor', () => {
  it('the service exports credits_ledger_discrepancies on /metrics', async () => {
    const body = await (await fetch(`http://127.0.0.1:${service.handle.opsPort}/metrics`)).text();
    assert.match(body, /^credits_ledger_discrepancies\{[^}]*\} 0$/m);
    assert.match(body, /^# TYPE credits_ledger_check_timestamp_seconds gauge$/m);
  });

  it('the gauge goes to 1 on a planted discrepancy and back to 0 once repaired', async () => {
    const registry = new Registry();
    const monitor = startLedgerMonitor({
      db: database.db,
      intervalMs: NEVER_MS,
      firstDelayMs: NEVER_MS,
      log,
      registry,
    });
    try {
      const userId = await userWith(service.client, 100);
      assert.equal(await monitor.runOnce(), 0);
      assert.equal(await gaugeValue(registry, 'credits_ledger_discrepancies'), 0);
      assert.ok(((await gaugeValue(registry, 'credits_ledger_check_timestamp_seconds')) ?? 0) > 0);

      await database.db.query('UPDATE credits.accounts SET available = available + 5 WHERE user_id = $1', [userId]);
      assert.equal(await monitor.runOnce(), 1);
      assert.equal(await gaugeValue(registry, 'credits_ledger_discrepancies'), 1);

      await database.db.query('UPDATE credits.accounts SET available = available - 5 WHERE user_id = $1', [userId]);
      assert.equal(await monitor.runOnce(), 0);
      assert.equal(await gaugeValue(registry, 'credits_ledger_discrepancies'), 0);
    } finally {
      await monitor.stop();
    }
  });

  it('a second request while a check runs joins it instead of starting another', async () => {
    const monitor = startLedgerMonitor({
      db: database.db,
      intervalMs: NEVER_MS,
      firstDelayMs: NEVER_MS,
      log,
      registry: new Registry(),
    });
    try {
      const first = monitor.runOnce();
      assert.equal(monitor.runOnce(), first);
      await first;
      assert.notEqual(monitor.runOnce(), first, 'a finished check does not block the next one');
    } finally {
      await monitor.stop();
    }
  });

  it('runs first after firstDelayMs, then every intervalMs, and not after stop', async () => {
    let queries = 0;
    const counting: Queryable = {
      query: (sql, params) => {
        queries++;
        return database.db.query(sql, params);
      },
      exec: (sql) => database.db.exec(sql),
    };
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const monitor = startLedgerMonitor({
        db: counting,
        intervalMs: 60_000,
        firstDelayMs: 1000,
        log,
        registry: new Registry(),
      });
      mock.timers.tick(999);
      assert.equal(queries, 0, 'nothing runs before the first delay');
      mock.timers.tick(1);
      await monitor.runOnce(); // joins the run the timer started
      assert.equal(queries, 1);
      await new Promise<void>((resolve) => setImmediate(resolve)); // the next run is scheduled after this one
      mock.timers.tick(60_000);
      await monitor.runOnce();
      assert.equal(queries, 2);
      await new Promise<void>((resolve) => setImmediate(resolve));
      await monitor.stop();
      mock.timers.tick(600_000);
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(queries, 2, 'no run after stop');
    } finally {
      mock.timers.reset();
    }
  });
});
