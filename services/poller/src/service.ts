import { fileURLToPath } from 'node:url';
import {
  checkQueue,
  createServiceBase,
  createSqsClient,
  type Database,
  resolveQueue,
  type ServiceHandle,
  startGrpcService,
} from '@callgate/common';
import type { PollerConfig } from './config.js';
import { pollerGrpcService } from './server.js';

export { type PollerConfig, pollerConfigShape } from './config.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Starts the poller. `db` is shared in local mode; the service closes it only if it owns it. */
export async function startPollerService(
  config: PollerConfig,
  deps: { db: Database; ownsDb: boolean },
): Promise<ServiceHandle> {
  const base = createServiceBase('poller', config.LOG_LEVEL);
  const sqs = createSqsClient(config);
  const queueUrl = await resolveQueue(sqs, config);
  base.readiness.add('queue', () => checkQueue(sqs, queueUrl));
  base.log.info({ queueUrl }, 'call-status queue ready');
  return startGrpcService({
    base,
    host: config.BIND_HOST,
    grpcPort: config.GRPC_PORT,
    opsPort: config.METRICS_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    services: [pollerGrpcService()],
    database: { db: deps.db, schema: 'poller', migrationsDir: MIGRATIONS, close: deps.ownsDb },
    onStop: async () => sqs.destroy(),
  });
}
