import { randomBytes } from 'node:crypto';
import type { Logger } from '@callgate/common';
import twilio from 'twilio';
import WebSocket from 'ws';
import type { CallRecord, Progress } from './lifecycle.js';
import { type Persona, type PersonaAction, persona } from './personas.js';
import { API_VERSION } from './resource.js';
import { readRelayTwiml } from './twiml-reader.js';

export interface PersonaRelayOptions {
  /** Signs the TwiML request and the WebSocket handshake, as the account's auth token does on Twilio. */
  authToken: string;
  log: Logger;
  /** Ends the call (the person hung up, or the relay session ended and no TwiML follows). */
  hangUp: (sid: string) => void;
  /** How long fetching the TwiML may take; Twilio gives up after 15 s. */
  timeoutMs?: number;
}

/**
 * Plays Twilio's side of ConversationRelay for calls to persona numbers. When such a call is answered
 * it fetches the call's TwiML from its Url (a signed POST, as Twilio's voice webhook), opens the
 * <ConversationRelay> url with a signed handshake (X-Twilio-Signature over the wss URL exactly as the
 * TwiML gives it, query included, no form parameters), sends `setup` with the <Parameter>s as customParameters, and lets the persona speak:
 * final `prompt`s, `dtmf` keys, `interrupt`s. The agent's `text` tokens are "spoken" at once. An `end`
 * from the agent, or the persona hanging up, ends the call (and so its status callbacks).
 */
export class PersonaRelay {
  readonly #sockets = new Map<string, WebSocket>();
  #stopped = false;

  constructor(private readonly options: PersonaRelayOptions) {}

  /** Given to the lifecycle beside the status callbacks: starts on answer, closes the socket on the end. */
  readonly onProgress = (call: Readonly<CallRecord>, progress: Progress): void => {
    if (!call.persona || !call.voiceUrl || this.#stopped) return;
    if (progress.event === 'answered') {
      void this.#run(call).catch((error: unknown) => {
        this.options.log.warn({ err: error, callSid: call.sid }, 'persona could not join the relay; hanging up');
        this.options.hangUp(call.sid);
      });
    } else if (progress.event === 'completed') {
      // The call ended (TimeLimit, a hang-up through the API): Twilio closes the relay socket.
      this.#sockets.get(call.sid)?.close(1000, 'call ended');
      this.#sockets.delete(call.sid);
    }
  };

  stop(): void {
    this.#stopped = true;
    for (const ws of this.#sockets.values()) ws.terminate();
    this.#sockets.clear();
  }

  async #run(call: Readonly<CallRecord>): Promise<void> {
    const { authToken, log } = this.options;
    const voiceUrl = call.voiceUrl as string;
    if (!isLoopback(voiceUrl)) throw new Error('this sandbox only fetches TwiML from loopback URLs');
    const params: Record<string, string> = {
      AccountSid: call.accountSid,
      ApiVersion: API_VERSION,
      CallSid: call.sid,
      CallStatus: 'in-progress',
      Called: call.to,
      Caller: call.from,
      Direction: 'outbound-api',
      From: call.from,
      To: call.to,
      ...(call.answeredBy && { AnsweredBy: call.answeredBy }),
    };
    const get = call.voiceMethod === 'GET';
    const url = get ? `${voiceUrl}${voiceUrl.includes('?') ? '&' : '?'}${new URLSearchParams(params)}` : voiceUrl;
    const response = await fetch(url, {
      method: get ? 'GET' : 'POST',
      headers: {
        'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, get ? {} : params),
        ...(!get && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body: get ? undefined : new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
    });
    const xml = await response.text();
    if (!response.ok) throw new Error(`the voice URL answered HTTP ${response.status}`);
    const relay = readRelayTwiml(xml);
    if (!relay) {
      // <Hangup/> or anything without a relay: the call ends, as Twilio ends it after the last verb.
      log.info({ callSid: call.sid }, 'TwiML has no ConversationRelay; hanging up');
      this.options.hangUp(call.sid);
      return;
    }
    const wsUrl = relay.attributes.url as string;
    if (!isLoopback(wsUrl)) throw new Error('this sandbox only connects to loopback relay URLs');
    const ws = new WebSocket(wsUrl, {
      headers: { 'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, wsUrl, {}) },
    });
    this.#sockets.set(call.sid, ws);
    const talk = new PersonaTalk(
      ws,
      persona(call.persona as NonNullable<CallRecord['persona']>),
      relay.attributes.language ?? 'en-US',
    );
    ws.on('open', () => {
      ws.send(
        JSON.stringify({
          type: 'setup',
          sessionId: `VX${randomBytes(16).toString('hex')}`,
          accountSid: call.accountSid,
          parentCallSid: '',
          callSid: call.sid,
          from: call.from,
          to: call.to,
          forwardedFrom: '',
          callType: 'PSTN',
          callerName: '',
          direction: 'outbound-api',
          callStatus: 'IN-PROGRESS',
          customParameters: relay.parameters,
        }),
      );
      talk.greeted(relay.attributes.welcomeGreeting ?? '');
    });
    ws.on('message', (data) => talk.received(data.toString()));
    ws.on('error', (error) => log.warn({ err: error, callSid: call.sid }, 'relay socket error'));
    ws.on('unexpected-response', (_req, res) => {
      log.warn({ callSid: call.sid, status: res.statusCode }, 'relay handshake refused');
    });
    ws.on('close', () => {
      // The agent ended the session, the persona hung up, or the server went away: the call is over.
      if (this.#sockets.get(call.sid) === ws) this.#sockets.delete(call.sid);
      this.options.hangUp(call.sid);
    });
  }
}

/** One person on one relay socket: hears the agent's tokens, acts on whole turns. */
class PersonaTalk {
  #turn = 0;
  #words: string[] = [];
  #interrupted = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly persona: Persona,
    private readonly lang: string,
  ) {}

  greeted(greeting: string): void {
    this.#act(this.persona.greeted(greeting));
  }

  received(frame: string): void {
    let message: { type?: string; token?: string; last?: boolean };
    try {
      message = JSON.parse(frame) as typeof message;
    } catch {
      return;
    }
    if (message.type === 'end') {
      this.ws.close(1000, 'session ended');
      return;
    }
    if (message.type !== 'text') return;
    if (this.#words.length === 0 && !this.#interrupted) this.#turn += 1;
    if (!this.#interrupted) this.#words.push(message.token ?? '');
    const plan = this.#interrupted ? undefined : this.persona.speaking?.(this.#turn);
    if (plan?.type === 'interrupt' && this.#words.join('').trim().split(/\s+/).length >= plan.afterWords) {
      this.#interrupted = true;
      const spoken = this.#words.join('').trim();
      this.#send({
        type: 'interrupt',
        utteranceUntilInterrupt: spoken,
        durationUntilInterruptMs: spoken.split(/\s+/).length * 350,
      });
      this.#send({ type: 'prompt', voicePrompt: plan.text, lang: this.lang, last: true });
    }
    if (!message.last) return;
    const text = this.#words.join('');
    const interrupted = this.#interrupted;
    this.#words = [];
    this.#interrupted = false;
    // A turn the person talked over is not answered: they already said their piece.
    if (!interrupted) this.#act(this.persona.heard(text, this.#turn));
  }

  #act(actions: PersonaAction[]): void {
    for (const action of actions) {
      if (action.type === 'say') this.#send({ type: 'prompt', voicePrompt: action.text, lang: this.lang, last: true });
      else if (action.type === 'press') for (const digit of action.digits) this.#send({ type: 'dtmf', digit });
      else if (action.type === 'hang-up') this.ws.close(1000, 'caller hung up');
    }
  }

  #send(message: Record<string, unknown>): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }
}

function isLoopback(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { hostname } = new URL(value);
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
