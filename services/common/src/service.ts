import type { z } from 'zod';
import type { Clock } from './clock.js';
import { type BaseConfig, type baseConfigShape, ConfigError, loadConfig } from './config.js';
import type { Database } from './db/database.js';
import { migrate, readMigrations } from './db/migrate.js';
import { GrpcServer, type RegisteredService } from './grpc/server.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type ServiceMetrics } from './metrics.js';
import { closeHttp, createOpsServer, listenHttp } from './ops-server.js';
import { periodic } from './periodic.js';
import { Readiness } from './readiness.js';
import { exitOnSignal } from './shutdown.js';
import { startTracing } from './tracing/otlp.js';
import { shutdownTracing } from './tracing/tracer.js';

/** A running service, as the launcher and tests see it. */
export interface ServiceHandle {
  name: string;
  /** Bound gRPC port (0 if the service has none). */
  grpcPort: number;
  /** Bound port of /metrics, /healthz, /readyz. */
  opsPort: number;
  /** Other public addresses, e.g. the gateway's MCP URL. */
  endpoints: Record<string, string>;
  /** Graceful stop: unready, drain in-flight calls, close resources. Idempotent. */
  stop(): Promise<void>;
}

/**
 * What a service's start function is given: its database, closed on stop only when the service owns it
 * (in local mode services share one), and the clock of its time-based decisions (tests pass their own;
 * default systemClock).
 */
export interface ServiceDeps {
  db: Database;
  ownsDb: boolean;
  clock?: Clock;
}

/** What every service is given: its identity, logging and metrics. */
export interface ServiceBase {
  name: string;
  log: Logger;
  metrics: ServiceMetrics;
  readiness: Readiness;
}

export function createServiceBase(
  name: string,
  logLevel: string,
  options: { defaultMetrics?: boolean } = {},
): ServiceBase {
  return { name, log: createLogger(name, logLevel), metrics: createMetrics(name, options), readiness: new Readiness() };
}

export interface GrpcServiceOptions {
  base: ServiceBase;
  host: string;
  grpcPort: number;
  opsPort: number;
  shutdownTimeoutMs: number;
  services: RegisteredService[];
  /** The service's schema and migrations folder; migrations run before the server listens. */
  database?: { db: Database; schema: string; migrationsDir: string; close: boolean };
  /** Closes what the service opened (clients, pools), after in-flight calls drained. */
  onStop?: () => Promise<void>;
  endpoints?: Record<string, string>;
}

/**
 * The common shape of a gRPC service: migrations, gRPC server with health and reflection,
 * ops HTTP server, readiness that drives gRPC health, and a draining stop.
 */
export async function startGrpcService(options: GrpcServiceOptions): Promise<ServiceHandle> {
  const { base } = options;
  const { db } = options.database ?? {};
  if (options.database && db) {
    await migrate(db, options.database.schema, readMigrations(options.database.migrationsDir), base.log);
    base.readiness.add('database', async () => {
      await db.query('SELECT 1');
    });
  }
  const grpc = new GrpcServer({ name: base.name, log: base.log, metrics: base.metrics });
  for (const service of options.services) grpc.add(service);
  const grpcPort = await grpc.listen(options.host, options.grpcPort);
  const ops = createOpsServer({ registry: base.metrics.registry, readiness: base.readiness, log: base.log });
  const opsPort = await listenHttp(ops, options.host, options.opsPort).catch((error: unknown) => {
    // Do not leave the gRPC port bound when the service cannot start (the launcher keeps its process).
    grpc.server.forceShutdown();
    throw error;
  });

  // gRPC health follows the same checks as /readyz, so a dependency outage shows as NOT_SERVING.
  const refreshHealth = async () => grpc.setServing((await base.readiness.evaluate()).ready);
  await refreshHealth();
  const health = periodic({
    name: 'grpc-health',
    intervalMs: 5000,
    run: refreshHealth,
    log: base.log,
    registry: base.metrics.registry,
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await health.stop();
      base.readiness.startDraining();
      const { drained, forced } = await grpc.shutdown(options.shutdownTimeoutMs);
      base.log.info({ drained, forced }, 'gRPC server stopped');
      await options.onStop?.();
      if (options.database?.close) await options.database.db.close();
      await closeHttp(ops);
    })();
    return stopping;
  };
  base.log.info({ grpcPort, opsPort, endpoints: options.endpoints ?? {} }, `${base.name} started`);
  return { name: base.name, grpcPort, opsPort, endpoints: options.endpoints ?? {}, stop };
}

/**
 * The body of every services/<name>/src/main.ts: read config, start, stop on SIGTERM/SIGINT.
 * A bad configuration prints which variables are wrong and exits 2 without a stack trace.
 */
export async function serviceMain<
  S extends z.ZodRawShape & Pick<typeof baseConfigShape, 'LOG_LEVEL' | 'SHUTDOWN_TIMEOUT_MS'>,
>(
  name: string,
  shape: S,
  start: (config: z.infer<z.ZodObject<S>>, log: Logger) => Promise<ServiceHandle>,
): Promise<void> {
  try {
    const config = loadConfig(name, shape);
    const base = config as unknown as BaseConfig;
    const log = createLogger(name, base.LOG_LEVEL);
    // Before anything starts, so the first requests, queries and messages are traced (when an endpoint is set).
    if (startTracing(base, name))
      log.info({ endpoint: base.OTEL_EXPORTER_OTLP_ENDPOINT }, 'exporting traces over OTLP');
    // Signals are taken from the first moment: a SIGTERM while starting waits for the start, then stops,
    // instead of killing the process half-started (its ports announced, its pools open).
    const starting = start(config, log);
    exitOnSignal(
      async () => {
        await (await starting).stop();
        await shutdownTracing(); // the last spans, flushed
      },
      { log, timeoutMs: base.SHUTDOWN_TIMEOUT_MS + 5000 },
    );
    await starting;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(
      `${name} failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  }
}
