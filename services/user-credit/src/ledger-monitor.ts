import { type Logger, periodic, type Queryable } from '@callgate/common';
import { Gauge, type Registry } from 'prom-client';
import { checkLedger } from './ledger-check.js';

export interface LedgerMonitorOptions {
  db: Queryable;
  /** Pause between the end of one check and the start of the next (LEDGER_CHECK_INTERVAL_MS). */
  intervalMs: number;
  /** Pause before the first check: soon, but after start-up work (migrations, the sweeper's first pass). */
  firstDelayMs: number;
  log: Logger;
  registry: Registry;
}

export interface LedgerMonitor {
  /** One check now; joins the running one instead of starting a second. Resolves to the count found (undefined: it failed, logged). */
  runOnce(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/**
 * Runs checkLedger over every account in the background and exports how many discrepancies it found, so
 * a broken ledger invariant alerts (LedgerMismatch) instead of waiting for someone to run
 * `npm run credits -- check`. The query scans the whole ledger, so runs never overlap however slow the
 * database (periodic()); every replica checks, which is harmless since the gauge is read with max().
 */
export function startLedgerMonitor(options: LedgerMonitorOptions): LedgerMonitor {
  const discrepancies = new Gauge({
    name: 'credits_ledger_discrepancies',
    help: 'Discrepancies between cached balances, ledger entries and open holds at the last background check.',
    registers: [options.registry],
  });
  const lastRun = new Gauge({
    name: 'credits_ledger_check_timestamp_seconds',
    help: 'When the background ledger check last completed (a stale value means the check is failing).',
    registers: [options.registry],
  });
  const job = periodic({
    name: 'ledger-check',
    intervalMs: options.intervalMs,
    firstDelayMs: options.firstDelayMs,
    jitter: 0.1,
    log: options.log,
    registry: options.registry,
    failureLevel: 'error',
    // On failure the gauge keeps its last value; the timestamp going stale is what shows it.
    run: async () => {
      const problems = await checkLedger(options.db);
      discrepancies.set(problems.length);
      lastRun.set(Date.now() / 1000);
      if (problems.length > 0) {
        // Users and figures, so the on-call can start from the log line; the runbook has the rest.
        options.log.error({ discrepancies: problems.slice(0, 20), count: problems.length }, 'credit ledger mismatch');
      }
      return problems.length;
    },
  });
  return { runOnce: job.runOnce, stop: job.stop };
}
