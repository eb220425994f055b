import { fileURLToPath } from 'node:url';
import {
  asyncClient,
  checkServing,
  closeHttp,
  createClient,
  createServiceBase,
  createSqsClient,
  type Database,
  listenHttp,
  loadCatalog,
  loadProto,
  resolveQueue,
  type ServiceHandle,
  startGrpcService,
} from '@callgate/common';
import { builtinAgent } from './agent/builtin-agent.js';
import { openAiAgent } from './agent/openai-agent.js';
import { billedDurationCapped } from './call-limits.js';
import { CallStore } from './call-store.js';
import { twilioCarrier } from './carrier.js';
import { type CallConfig, modelMap } from './config.js';
import { Settlement } from './credits.js';
import { Dialer } from './dialer.js';
import { PollQueue } from './poll-queue.js';
import { startRecovery } from './recovery.js';
import { ActiveConversations } from './relay/active-conversations.js';
import { realClock } from './relay/conversation.js';
import { relayMetrics } from './relay/metrics.js';
import { attachRelay } from './relay/relay-server.js';
import { TwilioUrls } from './relay/signature.js';
import { voiceTwiml } from './relay/voice-webhook.js';
import { callGrpcService } from './server.js';
import { SheetsMirror } from './sheets-mirror.js';
import { statusTransitions } from './status-metrics.js';
import { TranscriptStore } from './transcript-store.js';
import { CallWatchers } from './watch.js';
import { createWebhookServer } from './webhooks.js';

export { type CallConfig, callConfigShape } from './config.js';
export { callIdFor } from './place-call.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Starts the call service. `db` is shared in local mode; the service closes it only if it owns it. */
export async function startCallService(
  config: CallConfig,
  deps: { db: Database; ownsDb: boolean; now?: () => Date },
): Promise<ServiceHandle> {
  const base = createServiceBase('call', config.LOG_LEVEL);
  const now = deps.now ?? (() => new Date());
  const catalog = loadCatalog(config.CALL_OPTIONS_FILE);
  const store = new CallStore(deps.db, now, statusTransitions(base.metrics.registry));
  const creditService = loadProto('credit').callgate.credit.v1.CreditService;
  const credit = asyncClient(
    createClient(creditService, config.CREDIT_SERVICE_ADDR, {
      fullName: 'callgate.credit.v1.CreditService',
      defaultDeadlineMs: config.GRPC_DEADLINE_MS,
      metrics: base.metrics,
    }),
    creditService.service,
  );
  const carrier = twilioCarrier({
    accountSid: config.TWILIO_ACCOUNT_SID,
    authToken: config.TWILIO_AUTH_TOKEN,
    apiBaseUrl: config.TWILIO_API_BASE_URL,
    timeoutMs: config.CARRIER_TIMEOUT_MS,
  });
  const sqs = createSqsClient(config);
  const queueUrl = await resolveQueue(sqs, config);
  const polls = new PollQueue(sqs, queueUrl, base.log, base.metrics.registry);
  const sheetsService = loadProto('sheets').callgate.sheets.v1.SheetsSyncService;
  const sheets = asyncClient(
    createClient(sheetsService, config.SHEETS_SERVICE_ADDR, {
      fullName: 'callgate.sheets.v1.SheetsSyncService',
      defaultDeadlineMs: config.GRPC_DEADLINE_MS,
      metrics: base.metrics,
    }),
    sheetsService.service,
  );
  const mirror = new SheetsMirror(sheets, store, base.log);
  const settlement = new Settlement(
    store,
    credit,
    catalog.pricing,
    base.log,
    carrier,
    async (callId) => {
      const call = await store.byId(callId);
      if (call) await mirror.push(call);
    },
    billedDurationCapped(base.metrics.registry),
  );

  // The webhook port is bound first: the public URL Twilio calls back is derived from it when unset.
  let webhookPort = config.WEBHOOK_PORT;
  const publicBaseUrl = () => config.PUBLIC_BASE_URL?.replace(/\/$/, '') ?? `http://${config.BIND_HOST}:${webhookPort}`;
  const transcripts = new TranscriptStore(deps.db, now);
  const urls = new TwilioUrls(publicBaseUrl, config.TWILIO_AUTH_TOKEN);
  const conversations = new ActiveConversations();
  // With LLM_BASE_URL the LLM talks; without it the built-in deterministic agent (no credentials needed).
  const llm = config.LLM_BASE_URL
    ? openAiAgent({
        baseURL: config.LLM_BASE_URL,
        apiKey: config.LLM_API_KEY ?? '',
        models: modelMap(config.LLM_MODEL_MAP),
        timeoutMs: config.LLM_TIMEOUT_MS,
      })
    : undefined;
  base.log.info(
    { agent: llm ? 'openai-compatible' : 'builtin' },
    llm ? 'voice agent: OpenAI-compatible LLM' : 'voice agent: built-in deterministic agent (LLM_BASE_URL unset)',
  );
  const webhooks = createWebhookServer({
    store,
    settlement,
    authToken: config.TWILIO_AUTH_TOKEN,
    get publicBaseUrl() {
      return publicBaseUrl();
    },
    log: base.log,
    registry: base.metrics.registry,
    now,
    endOrphan: (sid) => dialer.endOrphan(sid),
    voice: (callId, params) =>
      voiceTwiml(
        { store, catalog, urls, transcriptionProvider: config.RELAY_TRANSCRIPTION_PROVIDER, log: base.log, now },
        callId,
        params,
      ),
    conversations,
    // After a callback lost to a database outage: the poller asks the carrier once the outage is over
    // (its refresh retries with backoff until the database answers).
    pollSoon: (callId) => polls.enqueue(callId, 5, now(), 'retry'),
  });
  const relay = attachRelay(webhooks, {
    store,
    sink: transcripts,
    agentFor: () => llm ?? builtinAgent,
    urls,
    active: conversations,
    clock: realClock,
    metrics: relayMetrics(base.metrics.registry),
    log: base.log,
    maxTurns: config.RELAY_MAX_TURNS,
    endMarginMs: config.RELAY_END_MARGIN_MS,
  });
  webhookPort = await listenHttp(webhooks, config.BIND_HOST, config.WEBHOOK_PORT);

  const dialer = new Dialer({
    store,
    carrier,
    settlement,
    polls,
    catalog,
    log: base.log,
    now,
    get publicBaseUrl() {
      return publicBaseUrl();
    },
    pollFirstDelaySeconds: config.POLL_FIRST_DELAY_SECONDS,
  });
  const watchers = new CallWatchers(deps.db, store, transcripts, base.log, now);
  let recovery: ReturnType<typeof startRecovery> | undefined;
  base.readiness.add('credit-service', () => checkServing(credit.raw), { critical: false });

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
          now,
          watchers,
          place: {
            store,
            credit,
            dialer,
            catalog,
            accountCallerIds: config.CALLER_IDS,
            deniedDestinations: config.DENIED_DESTINATION_COUNTRIES,
            allowedDestinationCountries: config.ALLOWED_DESTINATION_COUNTRIES,
            log: base.log,
            now,
          },
          actions: { store, carrier, settlement, log: base.log, now },
        }),
      ],
      database: { db: deps.db, schema: 'calls', migrationsDir: MIGRATIONS, close: deps.ownsDb },
      endpoints: { webhooks: publicBaseUrl() },
      onStop: async () => {
        await recovery?.stop();
        await relay.close();
        await closeHttp(webhooks, config.SHUTDOWN_TIMEOUT_MS);
        await watchers.stop();
        credit.close();
        sheets.close();
        sqs.destroy();
      },
    });
  } catch (error) {
    await watchers.stop().catch(() => undefined);
    await relay.close().catch(() => undefined);
    await closeHttp(webhooks, 0).catch(() => undefined);
    throw error;
  }
  recovery = startRecovery({
    store,
    dialer,
    settlement,
    mirror,
    log: base.log,
    now,
    intervalMs: config.RECOVERY_INTERVAL_MS,
    dialGraceMs: config.DIAL_GRACE_MS,
    dialUnknownTimeoutMs: config.DIAL_UNKNOWN_TIMEOUT_MS,
    dialMaxAgeMs: config.DIAL_MAX_AGE_MS,
  });
  void recovery.runOnce();
  return handle;
}
