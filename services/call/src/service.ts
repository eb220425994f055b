import { fileURLToPath } from 'node:url';
import {
  checkServing,
  createServiceBase,
  loadCatalog,
  type ServiceDeps,
  type ServiceHandle,
  startGrpcService,
  systemClock,
} from '@callgate/common';
import { connectBackends } from './call-backends.js';
import { readCallDetails } from './call-details.js';
import { billedDurationCapped } from './call-limits.js';
import { CallStore } from './call-store.js';
import { toCall } from './call-view.js';
import { startCarrierFront } from './carrier-front.js';
import type { CallConfig } from './config.js';
import { Settlement } from './credits.js';
import { Dialer } from './dialer.js';
import { CallLifecycle } from './lifecycle.js';
import { createOutboundWebhooks } from './outbound-webhooks/index.js';
import { Recordings } from './recordings/recordings.js';
import { startRecovery } from './recovery.js';
import { ActiveConversations } from './relay/active-conversations.js';
import { callGrpcService } from './server.js';
import { SheetsMirror } from './sheets-mirror.js';
import { statusTransitions } from './status-metrics.js';
import { TranscriptStore } from './transcript-store.js';
import { CallWatchers } from './watch.js';

export { type CallConfig, callConfigShape } from './config.js';
export { emitWebhookEvent } from './outbound-webhooks/index.js';
export { callIdFor } from './place-call.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

/**
 * Starts the call service: its stores, its backends, the CallLifecycle every status report goes
 * through, the carrier-facing server, the dialer, the gRPC service and the recovery pass. `db` is shared
 * in local mode; the service closes it only if it owns it.
 */
export async function startCallService(config: CallConfig, deps: ServiceDeps): Promise<ServiceHandle> {
  const base = createServiceBase('call', config.LOG_LEVEL);
  const { log } = base;
  const clock = deps.clock ?? systemClock;
  const catalog = loadCatalog(config.CALL_OPTIONS_FILE);
  const store = new CallStore(deps.db, clock, statusTransitions(base.metrics.registry));
  const transcripts = new TranscriptStore(deps.db, clock);
  const backends = await connectBackends(config, base);
  const { credit, carrier, polls } = backends;
  const conversations = new ActiveConversations();
  const mirror = new SheetsMirror(backends.sheets, store, log);
  const lifecycle = new CallLifecycle({
    store,
    settlement: new Settlement(
      store,
      credit,
      catalog.pricing,
      log,
      carrier,
      billedDurationCapped(base.metrics.registry),
    ),
    mirror,
    conversations,
    log,
  });
  const recordings = new Recordings({
    config,
    store,
    mirror: (call) => void mirror.push(call),
    registry: base.metrics.registry,
    clock,
    log,
  });
  const front = await startCarrierFront({
    config,
    base,
    store,
    lifecycle,
    transcripts,
    conversations,
    catalog,
    clock,
    endOrphan: (sid) => dialer.endOrphan(sid),
    pollSoon: (callId) => polls.enqueue(callId, 5, clock.date(), 'retry'),
    recording: (callId, params) => recordings.callback(callId, params),
  });
  const dialer = new Dialer({
    store,
    carrier,
    lifecycle,
    polls,
    catalog,
    log,
    clock,
    get publicBaseUrl() {
      return front.publicBaseUrl();
    },
    pollFirstDelaySeconds: config.POLL_FIRST_DELAY_SECONDS,
  });
  const watchers = new CallWatchers(deps.db, store, transcripts, log, clock);
  // Deliveries carry the call as GetCall shows it (the same read and the same message).
  const webhooks = await createOutboundWebhooks({
    config,
    db: deps.db,
    clock,
    log,
    registry: base.metrics.registry,
    readCall: async (userId, callId) => {
      const details = await readCallDetails(deps.db, userId, callId);
      return toCall(details.call, details.events, details.conversation, await recordings.view(details.call));
    },
  });
  base.readiness.add('credit-service', () => checkServing(credit.raw), { critical: false });
  let recovery: ReturnType<typeof startRecovery> | undefined;

  let handle: ServiceHandle;
  try {
    await watchers.start();
    handle = await startGrpcService({
      base,
      host: config.BIND_HOST,
      grpcPort: config.GRPC_PORT,
      opsPort: config.METRICS_PORT,
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      services: [
        callGrpcService({
          catalog,
          store,
          transcripts,
          clock,
          watchers,
          recordings,
          place: {
            store,
            credit,
            dialer,
            lifecycle,
            catalog,
            accountCallerIds: config.CALLER_IDS,
            deniedDestinations: config.DENIED_DESTINATION_COUNTRIES,
            allowedDestinationCountries: config.ALLOWED_DESTINATION_COUNTRIES,
            log,
            clock,
          },
          actions: { store, carrier, lifecycle, log, clock },
          webhooks: webhooks.handlers,
        }),
      ],
      database: { db: deps.db, schema: 'calls', migrationsDir: MIGRATIONS, close: deps.ownsDb },
      endpoints: { webhooks: front.publicBaseUrl() },
      onStop: async () => {
        await recovery?.stop();
        await recordings.stop();
        await webhooks.stop();
        await front.close(config.SHUTDOWN_TIMEOUT_MS);
        await watchers.stop();
        await lifecycle.stop();
        backends.close();
      },
    });
  } catch (error) {
    await webhooks.stop().catch(() => undefined);
    await watchers.stop().catch(() => undefined);
    await front.close(0).catch(() => undefined);
    await recordings.stop().catch(() => undefined);
    backends.close();
    throw error;
  }
  // After the migrations (calls.recordings); the bucket exists before the first recording is reported.
  try {
    await recordings.start();
  } catch (error) {
    await handle.stop().catch(() => undefined);
    throw error;
  }
  // Started after the migrations (it reads the schema); its first pass finishes what a crash left.
  recovery = startRecovery({
    store,
    dialer,
    lifecycle,
    log,
    registry: base.metrics.registry,
    clock,
    intervalMs: config.RECOVERY_INTERVAL_MS,
    dialGraceMs: config.DIAL_GRACE_MS,
    dialUnknownTimeoutMs: config.DIAL_UNKNOWN_TIMEOUT_MS,
    dialMaxAgeMs: config.DIAL_MAX_AGE_MS,
  });
  void recovery.runOnce();
  await webhooks.start();
  return handle;
}
