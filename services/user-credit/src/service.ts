import { fileURLToPath } from 'node:url';
import {
  createServiceBase,
  loadCatalog,
  type ServiceDeps,
  type ServiceHandle,
  startGrpcService,
  systemClock,
} from '@callgate/common';
import type { UserCreditConfig } from './config.js';
import { Ledger } from './ledger.js';
import { type LedgerMonitor, startLedgerMonitor } from './ledger-monitor.js';
import { PreferencesStore } from './preferences.js';
import { usercreditGrpcService } from './server.js';
import { startExpirySweeper } from './sweeper.js';
import { Users } from './users.js';

export { type UserCreditConfig, userCreditConfigShape } from './config.js';
export { checkLedger, type LedgerDiscrepancy, rebuildBalances } from './ledger-check.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Starts the user-credit service. `db` is shared in local mode; the service closes it only if it owns it. */
export async function startUserCreditService(config: UserCreditConfig, deps: ServiceDeps): Promise<ServiceHandle> {
  const base = createServiceBase('user-credit', config.LOG_LEVEL);
  const clock = deps.clock ?? systemClock;
  const catalog = loadCatalog(config.CALL_OPTIONS_FILE);
  const ledger = new Ledger({
    db: deps.db,
    clock,
    lowBalanceCredits: config.LOW_BALANCE_CREDITS,
    reservationTtlSeconds: config.RESERVATION_TTL_SECONDS,
  });
  const users = new Users({
    db: deps.db,
    ledger,
    clock,
    signupCredits: config.SIGNUP_CREDITS,
    planDailyMinutes: config.PLAN_DAILY_MINUTES,
  });
  const preferences = new PreferencesStore(
    deps.db,
    catalog,
    {
      language: config.DEFAULT_LANGUAGE,
      timezone: config.DEFAULT_TIMEZONE,
      maxCallDurationSeconds: config.DEFAULT_MAX_CALL_DURATION_SECONDS,
      maxConcurrentCalls: config.DEFAULT_MAX_CONCURRENT_CALLS,
      accountCallerIds: config.CALLER_IDS,
    },
    clock,
  );
  let sweeper: ReturnType<typeof startExpirySweeper> | undefined;
  let monitor: LedgerMonitor | undefined;
  const handle = await startGrpcService({
    base,
    host: config.BIND_HOST,
    grpcPort: config.GRPC_PORT,
    opsPort: config.METRICS_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    services: [usercreditGrpcService({ db: deps.db, users, preferences, ledger })],
    database: { db: deps.db, schema: 'credits', migrationsDir: MIGRATIONS, close: deps.ownsDb },
    onStop: async () => {
      await Promise.all([sweeper?.stop(), monitor?.stop()]);
    },
  });
  // After migrations (startGrpcService ran them) and before anyone waits an interval: holds left by a crash go now.
  sweeper = startExpirySweeper({
    ledger,
    intervalMs: config.EXPIRY_SWEEP_INTERVAL_MS,
    log: base.log,
    registry: base.metrics.registry,
  });
  void sweeper.runOnce();
  // Not at once: start-up (and the sweeper's first pass) goes first; soon enough that a deploy shows the figure.
  monitor = startLedgerMonitor({
    db: deps.db,
    intervalMs: config.LEDGER_CHECK_INTERVAL_MS,
    firstDelayMs: Math.min(30_000, config.LEDGER_CHECK_INTERVAL_MS),
    log: base.log,
    registry: base.metrics.registry,
  });
  return handle;
}
