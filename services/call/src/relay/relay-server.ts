import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Clock, isTerminal, type Logger } from '@callgate/common';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Agent } from '../agent/agent.js';
import { OutcomeSchemaError, parseOutcomeSchema } from '../agent/outcome.js';
import type { CallStore } from '../call-store.js';
import type { ConversationSink } from '../transcript-store.js';
import type { ActiveConversations } from './active-conversations.js';
import { Conversation } from './conversation.js';
import { type RelayBinding, readRelayQuery, setupMismatch } from './handshake.js';
import type { RelayMetrics } from './metrics.js';
import { type OutboundMessage, parseInbound, type SetupMessage } from './protocol.js';
import type { TwilioUrls } from './signature.js';

export interface RelayServerOptions {
  store: CallStore;
  /**
   * Told that the call was answered (its relay connected), so the call moves to in-progress even when
   * the carrier's own report of the answer is late or lost (reported to the CallLifecycle).
   */
  reportAnswered: (callId: string, callSid: string) => Promise<unknown>;
  sink: ConversationSink;
  /** The agent for a call (by its model): the LLM when configured, else the built-in one. */
  agentFor: (model: string) => Agent;
  urls: TwilioUrls;
  active: ActiveConversations;
  clock: Clock;
  metrics: RelayMetrics;
  log: Logger;
  /** Most agent replies per call (RELAY_MAX_TURNS). */
  maxTurns: number;
  /** The conversation ends this long before the call's max duration, so its goodbye is heard (RELAY_END_MARGIN_MS). */
  endMarginMs: number;
  /** How long a new socket may take to send `setup`. Default 10 s. */
  setupTimeoutMs?: number;
}

const MAX_FRAME_BYTES = 64 * 1024;

/**
 * The ConversationRelay WebSocket (GET /twilio/relay?call=…&exp=…, upgraded) on the webhook server.
 * The handshake must carry Twilio's X-Twilio-Signature for the exact public wss:// URL requested, else
 * 403 before any upgrade; that URL must bind a call (else 403) and not have expired (else 401). The
 * first message must be `setup` for the call the URL binds, naming in its customParameters a call in
 * progress whose carrier call sid matches and that has no socket yet on this replica; then the socket
 * belongs to that call's Conversation.
 */
export function attachRelay(server: Server, options: RelayServerOptions): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const { log, metrics, urls } = options;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node removes the socket's error listener when it hands it to 'upgrade'; without one, a client
    // resetting the connection (before or after a refusal) would crash the process.
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://relay');
    const path = urls.localPath(url.pathname);
    if (path !== '/twilio/relay') return refuse(socket, 404, 'Not Found');
    if (!urls.verify(req.headers['x-twilio-signature'], 'ws', `${path}${url.search}`, {})) {
      metrics.frames.inc({ result: 'rejected' });
      log.warn({ path }, 'ConversationRelay handshake with a missing or bad X-Twilio-Signature refused');
      return refuse(socket, 403, 'Forbidden');
    }
    const bound = readRelayQuery(url.searchParams, options.clock.date());
    if (!bound.ok) {
      metrics.frames.inc({ result: 'rejected' });
      log.warn({ path, reason: bound.reason }, 'ConversationRelay handshake refused');
      return refuse(socket, bound.status, bound.status === 401 ? 'Unauthorized' : 'Forbidden', bound.reason);
    }
    const binding: RelayBinding = { callId: bound.callId, ...(bound.callSid && { callSid: bound.callSid }) };
    wss.handleUpgrade(req, socket, head, (ws) => {
      serve(ws, binding, options).catch((error: unknown) => {
        log.error({ err: error }, 'relay connection failed');
        ws.close(1011, 'internal error');
      });
    });
  });

  return {
    close: async () => {
      await options.active.endAll();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** An HTTP answer instead of the upgrade; `reason` (plain ASCII of ours) is its body. */
function refuse(socket: Duplex, status: number, text: string, reason = ''): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
}

/** One relay socket, its URL signed for `binding`: wait for setup, then hand every frame to the call's conversation. */
async function serve(ws: WebSocket, binding: RelayBinding, options: RelayServerOptions): Promise<void> {
  const { log, metrics, clock } = options;
  // Frames are taken from the first moment, so none is lost while the call is being looked up.
  const frames = new FrameQueue();
  ws.on('message', (data, isBinary) => frames.push(isBinary ? undefined : data.toString()));
  ws.on('close', () => frames.close());
  const setup = await firstSetup(ws, frames, options);
  if (!setup) return;
  const callId = setup.customParameters.callId ?? '';
  const mismatch = setupMismatch(binding, { callId, callSid: setup.callSid });
  if (mismatch) {
    log.warn({ callId, callSid: setup.callSid, signedFor: binding }, `${mismatch}; closing`);
    ws.close(1008, 'setup does not match the signed relay URL');
    return;
  }
  const call = /^[0-9a-f-]{36}$/i.test(callId) ? await options.store.byId(callId) : undefined;
  if (!call || (call.carrier_call_id && call.carrier_call_id !== setup.callSid) || isTerminal(call.status)) {
    log.warn({ callId, callSid: setup.callSid }, 'relay setup for no call in progress; closing');
    ws.close(1008, 'unknown call');
    return;
  }
  // Twilio opens one socket per call; a second one is a handshake replayed while the URL is still valid.
  // From here to active.add nothing awaits, so two sockets cannot both pass.
  if (options.active.has(callId)) {
    log.warn({ callId, callSid: setup.callSid }, 'relay setup for a call already connected; closing');
    ws.close(1008, 'call already connected');
    return;
  }
  let schema: ReturnType<typeof parseOutcomeSchema>;
  try {
    schema = parseOutcomeSchema(call.outcome_schema_json);
  } catch (error) {
    // PlaceCall checks the schema; one stored before that check is used without fields.
    log.warn({ callId, err: error instanceof OutcomeSchemaError ? error.message : error }, 'outcome schema unusable');
    schema = undefined;
  }
  const agent = options.agentFor(call.model);
  const send = (message: OutboundMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const brief = {
    callId,
    task: call.task,
    firstMessage: call.first_message,
    language: call.language,
    model: call.model,
    schema,
  };
  const conversation = new Conversation({
    brief,
    agent: agent.start(brief),
    agentName: agent.name,
    sink: options.sink,
    send,
    close: () => ws.close(1000, 'conversation ended'),
    clock,
    maxTurns: options.maxTurns,
    timeLimitMs: Math.max(1000, call.max_duration_seconds * 1000 - options.endMarginMs),
    metrics,
    log,
  });
  options.active.add(callId, conversation);
  try {
    await options.reportAnswered(callId, setup.callSid);
  } catch (error) {
    // The carrier's callbacks and polls still report the answer; the conversation goes on.
    log.warn({ err: error, callId }, 'could not report the answer the relay saw');
  }
  log.info({ callId, agent: agent.name, callSid: setup.callSid }, `conversation started with the ${agent.name} agent`);
  conversation.start();
  for (;;) {
    const frame = await frames.next();
    if (frame === null) break;
    if (frame === undefined) {
      metrics.frames.inc({ result: 'unreadable' });
      continue;
    }
    const parsed = parseInbound(frame);
    if (!parsed.ok) {
      metrics.frames.inc({ result: 'unreadable' });
      log.warn({ callId, error: parsed.error }, 'unreadable ConversationRelay message ignored');
      continue;
    }
    metrics.frames.inc({ result: 'handled' });
    void conversation.handle(parsed.message);
  }
  // The socket closed: the person hung up, or we ended the session (then this changes nothing).
  await conversation.hangUp();
  options.active.remove(callId, conversation);
}

/** Frames in arrival order: a string, undefined for a binary frame, null once the socket closed. */
class FrameQueue {
  readonly #frames: (string | undefined)[] = [];
  #closed = false;
  #wake: (() => void) | undefined;

  push(frame: string | undefined): void {
    this.#frames.push(frame);
    this.#wake?.();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  async next(): Promise<string | undefined | null> {
    while (this.#frames.length === 0) {
      if (this.#closed) return null;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
    return this.#frames.shift();
  }
}

/** The setup message, or undefined (socket closed) when the first frame is not one or none comes in time. */
async function firstSetup(
  ws: WebSocket,
  frames: FrameQueue,
  options: RelayServerOptions,
): Promise<SetupMessage | undefined> {
  let timedOut = false;
  const cancel = options.clock.after(options.setupTimeoutMs ?? 10_000, () => {
    timedOut = true;
    frames.close();
  });
  const frame = await frames.next();
  cancel();
  if (timedOut || frame === null) {
    ws.close(1008, 'no setup message');
    return undefined;
  }
  const parsed = frame === undefined ? undefined : parseInbound(frame);
  if (parsed?.ok && parsed.message.type === 'setup') return parsed.message;
  options.log.warn(
    { error: parsed && !parsed.ok ? parsed.error : 'not setup' },
    'relay socket did not start with setup',
  );
  ws.close(1008, 'setup expected first');
  return undefined;
}
