import type { Clock, Logger } from '@callgate/common';
import type { AgentEnd, AgentSession, CallBrief, HistoryTurn, ProposedOutcome } from '../agent/agent.js';
import { finalizeOutcome } from '../agent/outcome.js';
import type { ConversationSink, EndReason, Outcome, Turn } from '../transcript-store.js';
import type { RelayMetrics } from './metrics.js';
import type { InboundMessage, OutboundMessage } from './protocol.js';

export interface ConversationOptions {
  brief: CallBrief;
  agent: AgentSession;
  /** For logs and metrics. */
  agentName: string;
  sink: ConversationSink;
  /** Sends one message on the relay socket (a closed socket drops it). */
  send: (message: OutboundMessage) => void;
  /** Closes the relay socket once the session has ended. */
  close: () => void;
  /** Time, injected so that tests move it instead of sleeping (latencies are differences of now()). */
  clock: Clock;
  /** The agent speaks at most this many times; then it says goodbye and ends the call. */
  maxTurns: number;
  /** The conversation ends (politely) this long after it started: the call's max duration, less a margin. */
  timeLimitMs: number;
  metrics: RelayMetrics;
  log: Logger;
}

const LIMIT_GOODBYE = "I'm sorry, I have to end the call now. Thank you for your time. Goodbye!";
const ERROR_GOODBYE = "I'm sorry, I'm having technical trouble and have to end the call. Goodbye!";
/** Digits pressed are one answer when ended by # or followed by this long a pause. */
const DTMF_GAP_MS = 2000;
/**
 * Digits one answer holds at most (longer than any account or card number). A person (or a stuck key)
 * pressing on without # or a pause would grow the answer without bound; at the limit it is given as
 * an answer so far, logged and counted, and the next keys start a new one.
 */
export const MAX_DTMF_DIGITS = 32;

interface Reply {
  controller: AbortController;
  text: string;
  startedAt: Date;
  /** The agent asked to end after this reply. */
  end: AgentEnd | undefined;
}

/**
 * One ConversationRelay session: the person's speech and keys in, the agent's streamed words out, every
 * turn written to the transcript in order. An agent turn is written once it is known how it was heard:
 * when the person next speaks (heard whole) or interrupts (heard until the interruption). At the end —
 * the agent's goodbye, the person hanging up, or the turn or time limit — the outcome is extracted,
 * validated and stored before Twilio is told to end, so a finished call always has its outcome.
 */
export class Conversation {
  readonly #o: ConversationOptions;
  readonly #history: HistoryTurn[] = [];
  /** The agent's last words, spoken or being spoken, not yet written (greeting first). */
  #unheard: { text: string; startedAt: Date } | undefined;
  #reply: Reply | undefined;
  #agentTurns = 0;
  #writes: Promise<void> = Promise.resolve();
  #digits = '';
  #digitsAt: Date | undefined;
  #cancelDigits: (() => void) | undefined;
  #cancelTimeLimit: (() => void) | undefined;
  #ending: Promise<void> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #speaking: Promise<void> = Promise.resolve();

  constructor(options: ConversationOptions) {
    this.#o = options;
  }

  /** Called once the setup message arrived: the welcome greeting is being spoken. */
  start(): void {
    const { clock, timeLimitMs } = this.#o;
    this.#unheard = { text: this.#o.brief.firstMessage, startedAt: clock.date() };
    this.#cancelTimeLimit = clock.after(timeLimitMs, () => void this.endForLimit('time-limit'));
  }

  /** The session has ended (or is ending): resolves once the outcome is stored. */
  get ended(): Promise<void> | undefined {
    return this.#ending;
  }

  /** Resolves once the reply being streamed (if any) has been sent or stopped. */
  async idle(): Promise<void> {
    await this.#queue;
    await this.#speaking;
  }

  /**
   * Handles messages one at a time, in arrival order. A reply streams in the background, so an
   * interrupt that arrives meanwhile is handled at once (and stops it); a prompt waits for it.
   */
  handle(message: InboundMessage): Promise<void> {
    // An interrupt acts at once, even while a prompt waits for the reply it cuts short.
    if (message.type === 'interrupt') {
      if (!this.#ending) this.#onInterrupt(message.utteranceUntilInterrupt);
      return this.#queue;
    }
    this.#queue = this.#queue
      .then(() => this.#handle(message))
      .catch((error: unknown) => {
        this.#o.log.error({ err: error, callId: this.#o.brief.callId }, 'relay message handling failed');
      });
    return this.#queue;
  }

  async #handle(message: InboundMessage): Promise<void> {
    if (this.#ending) return;
    switch (message.type) {
      case 'prompt':
        if (!message.last || !message.voicePrompt.trim()) return;
        await this.#onCallee(message.voicePrompt.trim(), this.#o.clock.date(), this.#o.clock.now());
        return;
      case 'interrupt':
        return;
      case 'dtmf':
        await this.#onDigit(message.digit);
        return;
      case 'error':
        // Twilio reports a message of ours it refused (error 64107) or a session problem; the call goes on.
        this.#o.log.warn(
          { callId: this.#o.brief.callId, description: message.description },
          'ConversationRelay reported an error',
        );
        return;
      case 'setup':
        this.#o.log.warn({ callId: this.#o.brief.callId }, 'second setup message ignored');
        return;
    }
  }

  /** The person hung up (the socket closed, or the carrier reported the call ended). */
  hangUp(): Promise<void> {
    return this.#end('callee-hung-up', undefined);
  }

  /** The turn or time limit: stop the agent mid-sentence if need be, say goodbye, end. */
  endForLimit(reason: 'turn-limit' | 'time-limit'): Promise<void> {
    if (this.#ending) return this.#ending;
    this.#o.log.info({ callId: this.#o.brief.callId, reason }, 'conversation limit reached; ending the call');
    return this.#end(reason, LIMIT_GOODBYE);
  }

  #onInterrupt(spoken: string): void {
    const reply = this.#reply;
    if (reply) {
      // Still streaming: stop the agent; what was spoken is what Twilio says was, not what was generated.
      reply.controller.abort();
      this.#reply = undefined;
      this.#writeAgent(spoken, reply.startedAt, true);
      return;
    }
    if (this.#unheard) {
      const { startedAt } = this.#unheard;
      this.#unheard = undefined;
      this.#writeAgent(spoken, startedAt, true);
    }
  }

  async #onDigit(digit: string): Promise<void> {
    this.#cancelDigits?.();
    this.#digitsAt ??= this.#o.clock.date();
    if (digit !== '#') this.#digits += digit;
    if (digit === '#') return this.#flushDigits();
    if (this.#digits.length >= MAX_DTMF_DIGITS) {
      this.#o.log.warn(
        { callId: this.#o.brief.callId, digits: this.#digits.length },
        'keys pressed without # or a pause reached the limit; passed on as one answer',
      );
      this.#o.metrics.dtmfOverflow.inc({ agent: this.#o.agentName });
      return this.#flushDigits();
    }
    this.#cancelDigits = this.#o.clock.after(DTMF_GAP_MS, () => void this.#digitsPause());
  }

  /** The pause after the last key: what was pressed is the person's answer. */
  #digitsPause(): Promise<void> {
    this.#queue = this.#queue.then(() => this.#flushDigits());
    return this.#queue;
  }

  async #flushDigits(): Promise<void> {
    this.#cancelDigits?.();
    this.#cancelDigits = undefined;
    const digits = this.#digits;
    const at = this.#digitsAt ?? this.#o.clock.date();
    this.#digits = '';
    this.#digitsAt = undefined;
    if (!digits || this.#ending) return;
    await this.#onCallee(`(pressed ${digits.split('').join(' ')}) ${digits}`, at, this.#o.clock.now());
  }

  /** The person said something (or pressed keys): write the turns, then let the agent answer. */
  async #onCallee(text: string, at: Date, receivedAt: number): Promise<void> {
    // The person spoke without interrupting (Twilio sends interrupt first when they do): the reply
    // being generated is spoken whole, so it is finished first and the answer follows it.
    await this.#speaking;
    if (this.#ending) return;
    this.#flushUnheard();
    this.#write({ speaker: 'callee', text, startedAt: at, interrupted: false });
    if (this.#agentTurns >= this.#o.maxTurns) {
      await this.endForLimit('turn-limit');
      return;
    }
    this.#speaking = this.#speak(receivedAt).catch((error: unknown) => {
      this.#o.log.error({ err: error, callId: this.#o.brief.callId }, 'agent reply failed');
    });
  }

  /** Streams one agent reply: tokens go out as they come; the last one carries last: true. */
  async #speak(receivedAt: number): Promise<void> {
    const { clock, metrics, agentName, send } = this.#o;
    const reply: Reply = { controller: new AbortController(), text: '', startedAt: clock.date(), end: undefined };
    this.#reply = reply;
    this.#agentTurns += 1;
    const askedAt = clock.now();
    let held: string | undefined;
    try {
      for await (const chunk of this.#o.agent.reply(this.#history, reply.controller.signal)) {
        if (reply.controller.signal.aborted) break;
        if (chunk.type === 'end') {
          reply.end = chunk.reason;
          continue;
        }
        if (held === undefined && reply.text === '') {
          // Our overhead is everything between the prompt and this send except the agent's own wait.
          const gotAt = clock.now();
          send({ type: 'text', token: chunk.text, last: false });
          const sentAt = clock.now();
          metrics.agentFirstToken.observe({ agent: agentName }, (gotAt - askedAt) / 1000);
          metrics.overhead.observe({ agent: agentName }, (askedAt - receivedAt + (sentAt - gotAt)) / 1000);
          reply.text = chunk.text;
          continue;
        }
        // One token is held back so that the last one can be sent with last: true. reply.text is what was sent.
        if (held !== undefined) {
          send({ type: 'text', token: held, last: false });
          reply.text += held;
        }
        held = chunk.text;
      }
    } catch (error) {
      if (reply.controller.signal.aborted) return;
      this.#o.log.error({ err: error, callId: this.#o.brief.callId, agent: agentName }, 'the agent failed to reply');
      if (held !== undefined) {
        send({ type: 'text', token: held, last: true });
        reply.text += held;
      }
      this.#reply = undefined;
      this.#unheard = reply.text ? { text: reply.text, startedAt: reply.startedAt } : undefined;
      await this.#end('error', ERROR_GOODBYE);
      return;
    }
    if (reply.controller.signal.aborted) return;
    send({ type: 'text', token: held ?? '', last: true });
    reply.text += held ?? '';
    this.#reply = undefined;
    this.#unheard = reply.text ? { text: reply.text.trim(), startedAt: reply.startedAt } : undefined;
    if (reply.end)
      await this.#end(reply.end === 'callee-ended' ? 'callee-ended' : 'objective', reply.text ? undefined : 'Goodbye!');
  }

  /**
   * Ends the session once: optional last words, the transcript flushed, the outcome extracted and
   * stored, then `end` to Twilio (unless the person already hung up) and the socket closed.
   */
  #end(reason: EndReason, lastWords: string | undefined): Promise<void> {
    this.#ending ??= (async () => {
      const { clock, send, log, brief } = this.#o;
      this.#cancelTimeLimit?.();
      this.#cancelDigits?.();
      const reply = this.#reply;
      if (reply) {
        reply.controller.abort();
        this.#reply = undefined;
        this.#writeAgent(reply.text, reply.startedAt, true);
      }
      this.#flushUnheard();
      const hungUp = reason === 'callee-hung-up';
      if (lastWords && !hungUp) {
        send({ type: 'text', token: lastWords, last: true });
        this.#writeAgent(lastWords, clock.date(), false);
      }
      await this.#writes;
      const outcome = await this.#outcome(reason);
      try {
        await this.#o.sink.saveOutcome(brief.callId, outcome);
      } catch (error) {
        log.error({ err: error, callId: brief.callId }, 'could not store the call outcome');
      }
      this.#o.metrics.conversations.inc({ agent: this.#o.agentName, end_reason: reason });
      log.info(
        {
          callId: brief.callId,
          agent: this.#o.agentName,
          reason,
          missing: outcome.missingFields,
          turns: this.#history.length,
        },
        'conversation ended',
      );
      if (!hungUp) send({ type: 'end', handoffData: JSON.stringify({ reason, callId: brief.callId }) });
      this.#o.close();
    })();
    return this.#ending;
  }

  async #outcome(reason: EndReason): Promise<Outcome> {
    const { brief, log } = this.#o;
    let proposed: ProposedOutcome;
    try {
      // Bounded: a hung LLM must not keep the call's end (and its status) waiting.
      const controller = new AbortController();
      const cancel = this.#o.clock.after(15_000, () => controller.abort());
      try {
        proposed = await this.#o.agent.outcome(this.#history, controller.signal);
      } finally {
        cancel();
      }
    } catch (error) {
      log.error({ err: error, callId: brief.callId }, 'could not extract the outcome; every field is reported missing');
      proposed = {
        fields: {},
        summary: 'The outcome could not be extracted from the conversation.',
        objectiveReached: false,
      };
    }
    return finalizeOutcome(brief.schema, proposed, reason);
  }

  #flushUnheard(): void {
    const unheard = this.#unheard;
    this.#unheard = undefined;
    if (unheard?.text) this.#writeAgent(unheard.text, unheard.startedAt, false);
  }

  #writeAgent(text: string, startedAt: Date, interrupted: boolean): void {
    this.#write({ speaker: 'agent', text: text.trim(), startedAt, interrupted });
  }

  /** Turns go to the history at once and to the store in order, off the reply's critical path. */
  #write(turn: Turn): void {
    this.#history.push({ speaker: turn.speaker, text: turn.text, interrupted: turn.interrupted });
    const { sink, brief, log } = this.#o;
    this.#writes = this.#writes.then(async () => {
      try {
        await sink.appendTurn(brief.callId, turn);
      } catch (error) {
        log.error({ err: error, callId: brief.callId }, 'could not store a transcript turn');
      }
    });
  }
}
