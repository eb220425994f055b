import { fileURLToPath } from 'node:url';
import { createServiceBase, type Database, loadCatalog, type ServiceHandle, startGrpcService } from '@callgate/common';
import type { CallConfig } from './config.js';
import { callGrpcService } from './server.js';

export { type CallConfig, callConfigShape } from './config.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Starts the call service. `db` is shared in local mode; the service closes it only if it owns it. */
export async function startCallService(
  config: CallConfig,
  deps: { db: Database; ownsDb: boolean },
): Promise<ServiceHandle> {
  const base = createServiceBase('call', config.LOG_LEVEL);
  const catalog = loadCatalog(config.CALL_OPTIONS_FILE);
  return startGrpcService({
    base,
    host: config.BIND_HOST,
    grpcPort: config.GRPC_PORT,
    opsPort: config.METRICS_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    services: [callGrpcService({ catalog })],
    database: { db: deps.db, schema: 'calls', migrationsDir: MIGRATIONS, close: deps.ownsDb },
  });
}
