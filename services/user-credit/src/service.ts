import { fileURLToPath } from 'node:url';
import { createServiceBase, type Database, type ServiceHandle, startGrpcService } from '@callgate/common';
import type { UserCreditConfig } from './config.js';
import { usercreditGrpcService } from './server.js';

export { type UserCreditConfig, userCreditConfigShape } from './config.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Starts the user-credit service. `db` is shared in local mode; the service closes it only if it owns it. */
export async function startUserCreditService(
  config: UserCreditConfig,
  deps: { db: Database; ownsDb: boolean },
): Promise<ServiceHandle> {
  return startGrpcService({
    base: createServiceBase('user-credit', config.LOG_LEVEL),
    host: config.BIND_HOST,
    grpcPort: config.GRPC_PORT,
    opsPort: config.METRICS_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    services: [usercreditGrpcService()],
    database: { db: deps.db, schema: 'credits', migrationsDir: MIGRATIONS, close: deps.ownsDb },
  });
}
