import { fileURLToPath } from 'node:url';
import { createServiceBase, type Database, type ServiceHandle, startGrpcService } from '@callgate/common';
import type { SheetsSyncConfig } from './config.js';
import { sheetssyncGrpcService } from './server.js';

export { type SheetsSyncConfig, sheetsSyncConfigShape } from './config.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Starts the sheets-sync service. `db` is shared in local mode; the service closes it only if it owns it. */
export async function startSheetsSyncService(
  config: SheetsSyncConfig,
  deps: { db: Database; ownsDb: boolean },
): Promise<ServiceHandle> {
  return startGrpcService({
    base: createServiceBase('sheets-sync', config.LOG_LEVEL),
    host: config.BIND_HOST,
    grpcPort: config.GRPC_PORT,
    opsPort: config.METRICS_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    services: [sheetssyncGrpcService()],
    database: { db: deps.db, schema: 'sheets', migrationsDir: MIGRATIONS, close: deps.ownsDb },
  });
}
