import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  type Clock,
  createSqsClient,
  type Database,
  dlqUrl,
  guardedAgent,
  type Logger,
  type Lookup,
  periodic,
  resolveQueue,
  type SqsConfig,
} from '@callgate/common';
import { Gauge, type Registry } from 'prom-client';
import { checkWebhookConfig, type WebhookConfig } from './config.js';
import { webhookHandlers } from './handlers.js';
import { webhookMetrics } from './metrics.js';
import { DeliveryRelay, type ReadCall } from './relay.js';
import { WebhookStore } from './webhook-store.js';
import { DeliveryWorker } from './worker.js';

export { type WebhookConfig, webhookConfigShape } from './config.js';
export { emitWebhookEvent } from './emit.js';

export interface OutboundWebhooksDeps {
  config: WebhookConfig & SqsConfig & { TWILIO_API_BASE_URL?: string | undefined };
  db: Database;
  clock: Clock;
  log: Logger;
  registry: Registry;
  readCall: ReadCall;
  /** DNS for the address guard (tests rebind names); default the system's. */
  lookup?: Lookup;
}

export interface OutboundWebhooks {
  handlers: ReturnType<typeof webhookHandlers>;
  /** Starts the relay and the delivery worker (after the migrations: they read the schema). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The call service's outbound webhooks: endpoints users register (the gRPC handlers), the relay that
 * moves the events the database makes at each call transition onto the SQS delivery queue, and the
 * worker that delivers them (signed, bounded, guarded against internal addresses) with exponential
 * backoff, dead-lettering what the retry window could not deliver.
 *
 * Why here: the call service owns the transitions (events are written in their transaction) and the
 * call as getCallDetails shows it; delivery runs on its own queue, its own SQS client and connections,
 * and its own concurrency (WEBHOOK_DELIVERY_CONCURRENCY, 0 on replicas that should not deliver), so a
 * slow receiver never holds a status callback or a dial.
 */
export async function createOutboundWebhooks(deps: OutboundWebhooksDeps): Promise<OutboundWebhooks> {
  const { config, db, clock, log, registry } = deps;
  checkWebhookConfig(config);
  const store = new WebhookStore(db, clock);
  const policy = { localMode: config.WEBHOOK_LOCAL_MODE, ...(deps.lookup ? { lookup: deps.lookup } : {}) };
  const handlers = webhookHandlers({ store, policy, maxPerUser: config.WEBHOOK_MAX_ENDPOINTS_PER_USER });
  const sqs = createSqsClient(config);
  const queueConfig: SqsConfig = {
    ...config,
    SQS_QUEUE_URL: config.WEBHOOK_QUEUE_URL,
    SQS_QUEUE_NAME: config.WEBHOOK_QUEUE_NAME,
    SQS_DLQ_NAME: config.WEBHOOK_DLQ_NAME,
    SQS_MAX_RECEIVE_COUNT: config.WEBHOOK_MAX_RECEIVE_COUNT,
  };
  const queueUrl = await resolveQueue(sqs, queueConfig);
  const deadLetters = await dlqUrl(sqs, queueUrl, config.WEBHOOK_DLQ_NAME);
  const metrics = webhookMetrics(registry);
  const relay = new DeliveryRelay({ db, sqs, queueUrl, readCall: deps.readCall, clock, log });

  // New deliveries wake the relay at once (NOTIFY on commit); a wake during a drain drains again after it.
  let draining: Promise<void> | undefined;
  let again = false;
  const kick = (): Promise<void> => {
    if (draining) {
      again = true;
      return draining;
    }
    draining = (async () => {
      do {
        again = false;
        await relay.drain();
      } while (again);
    })().finally(() => {
      draining = undefined;
    });
    return draining;
  };
  const depth = new Gauge({
    name: 'webhook_dlq_depth',
    help: 'Webhook deliveries on the dead-letter queue (ApproximateNumberOfMessages) at the last sample.',
    registers: [registry],
  });
  const dispatcher = guardedAgent({
    allowLoopback: config.WEBHOOK_LOCAL_MODE,
    connectTimeoutMs: config.WEBHOOK_TIMEOUT_MS,
    // As many connections per receiver host as the worker makes attempts: with fewer, attempts to one host
    // queue behind each other inside the agent, so one user's hanging endpoints on a host shared with
    // others (or the same test receiver) would hold everyone's deliveries to it. The worker's concurrency
    // and per-user share are the bounds.
    connections: Math.max(1, config.WEBHOOK_DELIVERY_CONCURRENCY),
    ...(deps.lookup ? { lookup: deps.lookup } : {}),
  });
  const worker =
    config.WEBHOOK_DELIVERY_CONCURRENCY > 0
      ? new DeliveryWorker({
          sqs,
          queueUrl,
          dlqUrl: deadLetters,
          store,
          attempt: {
            dispatcher,
            clock,
            timeoutMs: config.WEBHOOK_TIMEOUT_MS,
            maxResponseBytes: config.WEBHOOK_MAX_RESPONSE_BYTES,
            localMode: config.WEBHOOK_LOCAL_MODE,
          },
          perUser: config.WEBHOOK_DELIVERY_PER_USER,
          schedule: {
            baseSeconds: config.WEBHOOK_RETRY_BASE_SECONDS,
            maxSeconds: config.WEBHOOK_RETRY_MAX_SECONDS,
            windowSeconds: config.WEBHOOK_RETRY_WINDOW_SECONDS,
          },
          concurrency: config.WEBHOOK_DELIVERY_CONCURRENCY,
          waitSeconds: config.WEBHOOK_RECEIVE_WAIT_SECONDS,
          clock,
          log,
          metrics,
        })
      : undefined;

  let unlisten: (() => Promise<void>) | undefined;
  let jobs: { stop(): Promise<void> }[] = [];
  return {
    handlers,
    async start() {
      unlisten = await db.listen('webhook_deliveries', () => {
        kick().catch((error: unknown) => log.warn({ err: error }, 'webhook relay failed; the periodic pass retries'));
      });
      // Periodic jobs start here, after the migrations (they read the schema).
      const sweep = periodic({
        name: 'webhook-relay',
        intervalMs: config.WEBHOOK_RELAY_INTERVAL_MS,
        jitter: 0.1,
        log,
        registry,
        clock,
        run: kick,
      });

      const depthSampler = periodic({
        name: 'webhook-dlq-depth',
        intervalMs: config.WEBHOOK_DLQ_DEPTH_INTERVAL_MS,
        jitter: 0.1,
        log,
        registry,
        clock,
        run: async () => {
          const { Attributes } = await sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: deadLetters, AttributeNames: ['ApproximateNumberOfMessages'] }),
          );
          depth.set(Number(Attributes?.ApproximateNumberOfMessages ?? 0));
        },
      });
      jobs = [sweep, depthSampler];
      worker?.start();
      void sweep.runOnce();
      void depthSampler.runOnce();
    },
    async stop() {
      await unlisten?.();
      for (const job of jobs) await job.stop();
      await draining?.catch(() => undefined);
      await worker?.stop();
      await dispatcher.close();
      sqs.destroy();
    },
  };
}
