import type { Server } from 'node:http';
import { type Catalog, type Clock, closeHttp, listenHttp, type ServiceBase } from '@callgate/common';
import { builtinAgent } from './agent/builtin-agent.js';
import { openAiAgent } from './agent/openai-agent.js';
import type { CallStore } from './call-store.js';
import { type CallConfig, modelMap } from './config.js';
import type { CallLifecycle } from './lifecycle.js';
import type { ActiveConversations } from './relay/active-conversations.js';
import { relayMetrics } from './relay/metrics.js';
import { attachRelay } from './relay/relay-server.js';
import { TwilioUrls } from './relay/signature.js';
import { voiceTwiml } from './relay/voice-webhook.js';
import type { TranscriptStore } from './transcript-store.js';
import { createWebhookServer } from './webhooks.js';

export interface CarrierFrontOptions {
  config: CallConfig;
  base: ServiceBase;
  store: CallStore;
  lifecycle: CallLifecycle;
  transcripts: TranscriptStore;
  conversations: ActiveConversations;
  catalog: Catalog;
  clock: Clock;
  /** Ends a carrier call whose record is already over. */
  endOrphan: (carrierCallId: string) => Promise<void>;
  /** Asks the poller for a prompt status poll (a callback lost to a database outage). */
  pollSoon: (callId: string) => Promise<void>;
  /** A recording status callback (POST /twilio/recording), signature checked. */
  recording?: (callId: string, params: Record<string, string>) => Promise<{ status: number; text: string }>;
}

/** The HTTP server the carrier talks to: status callbacks, the voice URL's TwiML, the ConversationRelay socket. */
export interface CarrierFront {
  server: Server;
  /** The URL the carrier is given (PUBLIC_BASE_URL, else the address bound). */
  publicBaseUrl(): string;
  close(timeoutMs: number): Promise<void>;
}

/**
 * Binds the carrier-facing server first: the public URL the carrier calls back is derived from its port
 * when PUBLIC_BASE_URL is unset. Status callbacks and the relay's answer are reported to the lifecycle.
 */
export async function startCarrierFront(options: CarrierFrontOptions): Promise<CarrierFront> {
  const { config, base, store, lifecycle, conversations, catalog, clock } = options;
  let port = config.WEBHOOK_PORT;
  const publicBaseUrl = () => config.PUBLIC_BASE_URL?.replace(/\/$/, '') ?? `http://${config.BIND_HOST}:${port}`;
  const urls = new TwilioUrls(publicBaseUrl, config.TWILIO_AUTH_TOKEN);
  const server = createWebhookServer({
    store,
    lifecycle,
    authToken: config.TWILIO_AUTH_TOKEN,
    get publicBaseUrl() {
      return publicBaseUrl();
    },
    log: base.log,
    registry: base.metrics.registry,
    clock,
    endOrphan: options.endOrphan,
    voice: (callId, params) =>
      voiceTwiml(
        { store, catalog, urls, transcriptionProvider: config.RELAY_TRANSCRIPTION_PROVIDER, log: base.log, clock },
        callId,
        params,
      ),
    // After a callback lost to a database outage: the poller asks the carrier once the outage is over
    // (its refresh retries with backoff until the database answers).
    pollSoon: options.pollSoon,
    ...(options.recording && { recording: options.recording }),
  });
  const agent = voiceAgent(config, base);
  const relay = attachRelay(server, {
    store,
    reportAnswered: (callId, callSid) =>
      lifecycle.report(callId, {
        status: 'in-progress',
        occurredAt: clock.date(),
        source: 'relay',
        carrierCallId: callSid,
        detail: 'the ConversationRelay connected: the call was answered',
      }),
    sink: options.transcripts,
    agentFor: () => agent,
    urls,
    active: conversations,
    clock,
    metrics: relayMetrics(base.metrics.registry),
    log: base.log,
    maxTurns: config.RELAY_MAX_TURNS,
    endMarginMs: config.RELAY_END_MARGIN_MS,
  });
  try {
    port = await listenHttp(server, config.BIND_HOST, config.WEBHOOK_PORT);
  } catch (error) {
    await relay.close().catch(() => undefined);
    throw error;
  }
  return {
    server,
    publicBaseUrl,
    close: async (timeoutMs) => {
      await relay.close();
      await closeHttp(server, timeoutMs);
    },
  };
}

/** With LLM_BASE_URL the LLM talks; without it the built-in deterministic agent (no credentials needed). */
function voiceAgent(config: CallConfig, base: ServiceBase) {
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
  return llm ?? builtinAgent;
}
