import {
  checkRedis,
  closeRedis,
  connectRedis,
  createServiceBase,
  FallbackTokenBucket,
  MemoryTokenBucket,
  RedisTokenBucket,
  replicaShare,
  type ServiceDeps,
  type ServiceHandle,
  startGrpcService,
  systemClock,
  type TokenBucket,
} from '@callgate/common';
import type { SheetsSyncConfig } from './config.js';
import { createSyncMetrics } from './metrics.js';
import { RowStore } from './row-store.js';
import { migrateSheetsSchema } from './schema.js';
import { sheetssyncGrpcService } from './server.js';
import { googleSheetsApi, type SheetsApi } from './sheets-api.js';
import { SheetsSync } from './sync.js';
import { SheetsWriter } from './writer.js';

export { type SheetsSyncConfig, sheetsSyncConfigShape } from './config.js';

/** Google's documented write quota per project (the per-user one is 60; one service account is one user). */
const GOOGLE_WRITE_QUOTA_PER_MINUTE = 300;

export interface SheetsSyncDeps extends ServiceDeps {
  /** Replaces the googleapis client (tests). */
  api?: SheetsApi;
  /** The service's schema; tests give each run its own. Default `sheets`. */
  schema?: string;
  /** Prefix of the buckets' Redis keys; every replica of one deployment must use the same. Default `callgate:sheets`. */
  redisKeyPrefix?: string;
}

/** Starts the sheets-sync service. `db` is shared in local mode; the service closes it only if it owns it. */
export async function startSheetsSyncService(config: SheetsSyncConfig, deps: SheetsSyncDeps): Promise<ServiceHandle> {
  const base = createServiceBase('sheets-sync', config.LOG_LEVEL);
  const clock = deps.clock ?? systemClock;
  const schema = deps.schema ?? 'sheets';
  await migrateSheetsSchema(deps.db, schema, base.log);
  base.readiness.add('database', async () => void (await deps.db.query('SELECT 1')));
  const store = new RowStore(deps.db, schema);
  const redis = config.REDIS_URL
    ? connectRedis(config.REDIS_URL, base.log, {
        connectionName: 'callgate-sheets-sync',
        meanwhile: 'each replica takes from its own share of the Sheets quota',
      })
    : undefined;
  const prefix = deps.redisKeyPrefix ?? 'callgate:sheets';
  // One budget per spreadsheet project: every replica takes from the same Redis buckets. Without Redis
  // each process has its own, which is right only for a single replica.
  // While Redis is down each replica falls back to its own share (never to no limit, nor to a stop).
  const bucket = (name: string, capacity: number, perMinute: number): TokenBucket =>
    redis
      ? new FallbackTokenBucket({
          shared: new RedisTokenBucket(redis, `${prefix}:bucket:${name}`, { capacity, perMinute }),
          local: new MemoryTokenBucket(replicaShare({ capacity, perMinute }, config.SHEETS_MAX_REPLICAS), clock),
          sharedReady: () => redis.status === 'ready',
          log: base.log,
          name,
          budget: 'Sheets budget',
        })
      : new MemoryTokenBucket({ capacity, perMinute }, clock);
  const writeBucket = bucket('write', config.SHEETS_WRITE_BURST, config.SHEETS_WRITES_PER_MINUTE);
  const readBucket = bucket('read', config.SHEETS_READ_BURST, config.SHEETS_READS_PER_MINUTE);
  // In any minute the bucket lets through its capacity plus one minute of refill: above Google's 300, a
  // burst after a quiet spell can meet 429s (harmless, but the bucket exists to avoid them).
  if (config.SHEETS_WRITE_BURST + config.SHEETS_WRITES_PER_MINUTE > GOOGLE_WRITE_QUOTA_PER_MINUTE) {
    base.log.warn(
      { burst: config.SHEETS_WRITE_BURST, perMinute: config.SHEETS_WRITES_PER_MINUTE },
      `SHEETS_WRITE_BURST + SHEETS_WRITES_PER_MINUTE exceed the Sheets API's ${GOOGLE_WRITE_QUOTA_PER_MINUTE} writes a minute`,
    );
  }
  if (redis) base.readiness.add('redis', () => checkRedis(redis), { critical: false });

  let sync: SheetsSync | undefined;
  const metrics = createSyncMetrics(base.metrics.registry, () => (sync as SheetsSync).snapshot());
  const api =
    deps.api ??
    (config.GOOGLE_SHEETS_ID
      ? googleSheetsApi({
          spreadsheetId: config.GOOGLE_SHEETS_ID,
          rootUrl: config.GOOGLE_SHEETS_API_URL,
          serviceAccountJson: config.GOOGLE_SERVICE_ACCOUNT_JSON,
          timeoutMs: config.SHEETS_REQUEST_TIMEOUT_MS,
        })
      : undefined);
  if (!api) base.log.warn('GOOGLE_SHEETS_ID is not set: rows are accepted and kept, but not written to a sheet');
  const writer = api
    ? new SheetsWriter({
        store,
        api,
        writeBucket,
        readBucket,
        tab: config.GOOGLE_SHEETS_TAB,
        columns: config.GOOGLE_SHEETS_COLUMNS,
        maxRows: config.SHEETS_BATCH_MAX_ROWS,
        maxBytes: config.SHEETS_BATCH_MAX_BYTES,
        flushAgeMs: config.SHEETS_FLUSH_AGE_MS,
        breakerFailures: config.SHEETS_BREAKER_FAILURES,
        halfOpenAfterMs: config.SHEETS_BREAKER_HALF_OPEN_MS,
        backoffMaxMs: config.SHEETS_BACKOFF_MAX_MS,
        clock,
        log: base.log.child({ component: 'writer' }),
        events: {
          request: metrics.events.request,
          rowsWritten: (rows) => {
            metrics.events.rowsWritten(rows);
            if (sync) sync.rowsWritten += rows;
          },
        },
      })
    : undefined;
  sync = new SheetsSync({
    store,
    writer,
    writeBucket,
    readBucket,
    clock,
    onCoalesced: () => metrics.coalesced.inc(),
  });

  const handle = await startGrpcService({
    base,
    host: config.BIND_HOST,
    grpcPort: config.GRPC_PORT,
    opsPort: config.METRICS_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    services: [sheetssyncGrpcService(sync)],
    onStop: async () => {
      // Whatever is unwritten stays in sheets.rows; the next start (or another replica) writes it.
      await writer?.stop();
      if (redis) await closeRedis(redis);
      if (deps.ownsDb) await deps.db.close();
    },
  });
  // After migrations: rows left by a previous run (the outbox) are written from the first cycle.
  writer?.start();
  return handle;
}
