import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '@callgate/common';
import { type Outcome, outcomeFor, type PersonaName, personaFor } from './outcomes.js';
import type { RecordingRequest } from './recordings.js';

/** The statuses a Twilio Call resource reports (Twilio's REST API has no `initiated` status). */
export type CallStatus =
  | 'queued'
  | 'ringing'
  | 'in-progress'
  | 'completed'
  | 'busy'
  | 'failed'
  | 'no-answer'
  | 'canceled';
export type FinalStatus = 'completed' | 'busy' | 'failed' | 'no-answer' | 'canceled';
/** StatusCallbackEvent values. */
export type CallEvent = 'initiated' | 'ringing' | 'answered' | 'completed';
export type MachineDetection = 'Enable' | 'DetectMessageEnd';
export type AnsweredBy = 'human' | 'machine_start';

export interface StatusCallback {
  url: string;
  method: 'GET' | 'POST';
  /** Requested events; `completed` is sent whether requested or not, as Twilio does. */
  events: ReadonlySet<CallEvent>;
}

/** A validated create request (POST …/Calls.json). */
export interface CallRequest {
  accountSid: string;
  to: string;
  from: string;
  statusCallback?: StatusCallback;
  machineDetection?: MachineDetection;
  /** Twilio's Timeout: seconds of ringing before no-answer. */
  timeoutSeconds: number;
  /** Twilio's TimeLimit: longest the call may last once answered, in seconds. */
  timeLimitSeconds: number;
  /** Twilio's Url: where the call's TwiML is fetched once answered (Method, default POST). */
  voiceUrl?: string;
  voiceMethod?: 'GET' | 'POST';
  /** Record=true: the call is recorded (recordings.ts). */
  recording?: RecordingRequest;
}

export interface CallRecord extends Readonly<CallRequest> {
  readonly sid: string;
  readonly outcome: Outcome;
  /** The scripted person who talks with the call's ConversationRelay, for persona numbers given a Url. */
  readonly persona?: PersonaName;
  status: CallStatus;
  dateCreated: number;
  dateUpdated: number;
  /** When dialing began (the initiated event): Twilio's start_time. */
  startTime?: number;
  answerTime?: number;
  /** Set only when an answered call ends; Twilio leaves end_time empty for calls that never connected. */
  endTime?: number;
  durationSeconds?: number;
  price?: string;
  answeredBy?: AnsweredBy;
}

/** One step of a call as a status callback reports it. */
export interface Progress {
  event: CallEvent;
  /** `initiated` for the initiated event, `in-progress` for answered, the final status for completed. */
  callStatus: 'initiated' | CallStatus;
  at: number;
}

export interface LifecycleOptions {
  /** Time between stages: queued → initiated → ringing → answered or a final status. */
  stepMs: number;
  /** How long an answered call talks before the far end hangs up (TimeLimit may cut it shorter). */
  talkMs: number;
  clock?: Clock;
  onProgress?: (call: Readonly<CallRecord>, progress: Progress) => void;
}

/** USD per started minute, in units of 0.00001 (Twilio prices calls to five decimals). */
const PRICE_PER_MINUTE = 1300;

/**
 * Plays each call the way a carrier would: one timer per call moves it to its next stage, and
 * every stage is reported to onProgress. State lives in memory; the sandbox is not durable.
 */
export class CallLifecycle {
  readonly #calls = new Map<string, CallRecord>();
  readonly #timers = new Map<string, () => void>();
  readonly #clock: Clock;
  #stopped = false;

  constructor(private readonly options: LifecycleOptions) {
    this.#clock = options.clock ?? systemClock;
  }

  place(request: CallRequest): Readonly<CallRecord> {
    if (this.#stopped) throw new Error('the sandbox carrier has stopped');
    const now = this.#clock.now();
    const call: CallRecord = {
      ...request,
      sid: `CA${randomBytes(16).toString('hex')}`,
      outcome: outcomeFor(request.to),
      persona: request.voiceUrl ? personaFor(request.to) : undefined,
      status: 'queued',
      dateCreated: now,
      dateUpdated: now,
    };
    this.#calls.set(call.sid, call);
    this.#after(call, this.options.stepMs, () => this.#initiate(call));
    return call;
  }

  get(sid: string): Readonly<CallRecord> | undefined {
    return this.#calls.get(sid);
  }

  /** Status=canceled: ends a call that has not been answered; an answered call goes on, as on Twilio. */
  cancel(sid: string): Readonly<CallRecord> | undefined {
    const call = this.#calls.get(sid);
    if (call && (call.status === 'queued' || call.status === 'ringing')) {
      this.#clearTimer(call);
      this.#end(call, 'canceled');
    }
    return call;
  }

  /**
   * Status=completed: hangs up an answered call. A call not yet answered ends as canceled, since
   * Twilio's `completed` means a connection was made (and billed).
   */
  hangUp(sid: string): Readonly<CallRecord> | undefined {
    const call = this.#calls.get(sid);
    if (call?.status === 'in-progress') {
      this.#clearTimer(call);
      this.#complete(call);
      return call;
    }
    return this.cancel(sid);
  }

  /**
   * The person called picks up (POST /sandbox/calls/{sid}/answer): only a `held` call, and only while
   * it rings. Returns why not otherwise.
   */
  answerHeld(sid: string): { call: Readonly<CallRecord> } | { refused: string } {
    const call = this.#calls.get(sid);
    if (!call) return { refused: `no call ${sid}` };
    if (call.outcome !== 'held')
      return { refused: `${sid} is not a call to a held number (…0006); its stages are timed` };
    if (call.status !== 'ringing') return { refused: `${sid} is ${call.status}, not ringing` };
    this.#answer(call);
    return { call };
  }

  /**
   * The person called hangs up (POST /sandbox/calls/{sid}/hang-up): a ringing `held` call is declined
   * (busy, as Twilio reports a rejected call), an answered one ends completed.
   */
  hangUpHeld(sid: string): { call: Readonly<CallRecord> } | { refused: string } {
    const call = this.#calls.get(sid);
    if (!call) return { refused: `no call ${sid}` };
    if (call.outcome !== 'held')
      return { refused: `${sid} is not a call to a held number (…0006); its stages are timed` };
    if (call.status === 'ringing') {
      this.#clearTimer(call);
      this.#end(call, 'busy');
    } else if (call.status === 'in-progress') {
      this.#clearTimer(call);
      this.#complete(call);
    } else {
      return { refused: `${sid} is ${call.status}, neither ringing nor in progress` };
    }
    return { call };
  }

  /** The calls to the held number `to` that are still ringing or talking, oldest first. */
  liveHeldCallsTo(to: string): Readonly<CallRecord>[] {
    return [...this.#calls.values()].filter(
      (c) => c.to === to && c.outcome === 'held' && (c.status === 'ringing' || c.status === 'in-progress'),
    );
  }

  /** Clears every timer: no call moves, and so no callback is produced, after this. */
  stop(): void {
    this.#stopped = true;
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
  }

  #initiate(call: CallRecord): void {
    // The resource stays queued: Twilio's Call status has no `initiated`, only the callback does.
    call.startTime = this.#touch(call);
    this.#emit(call, 'initiated', 'initiated');
    if (call.outcome === 'fail') this.#after(call, this.options.stepMs, () => this.#end(call, 'failed'));
    else this.#after(call, this.options.stepMs, () => this.#ring(call));
  }

  #ring(call: CallRecord): void {
    call.status = 'ringing';
    this.#touch(call);
    this.#emit(call, 'ringing', 'ringing');
    const { stepMs } = this.options;
    const timeoutMs = call.timeoutSeconds * 1000;
    if (call.outcome === 'held') {
      // Rings until told (answerHeld, hangUpHeld) or canceled; Timeout does not apply, so no wall-clock
      // window decides what a test sees.
    } else if (call.outcome === 'busy') {
      this.#after(call, stepMs, () => this.#end(call, 'busy'));
    } else if (call.outcome === 'no-answer' || timeoutMs < stepMs) {
      // Nobody picks up after Timeout, so a Timeout shorter than a step turns an answer into no-answer.
      this.#after(call, Math.min(stepMs, timeoutMs), () => this.#end(call, 'no-answer'));
    } else {
      this.#after(call, stepMs, () => this.#answer(call));
    }
  }

  #answer(call: CallRecord): void {
    call.status = 'in-progress';
    call.answerTime = this.#touch(call);
    // AnsweredBy exists only when answering machine detection was asked for.
    if (call.machineDetection) call.answeredBy = call.outcome === 'machine' ? 'machine_start' : 'human';
    this.#emit(call, 'answered', 'in-progress');
    // A persona's conversation decides when it ends (the relay's end, or the persona hanging up via
    // hangUp); only TimeLimit cuts it. Others talk for talkMs.
    const limitMs = call.timeLimitSeconds * 1000;
    // A held call talks until hung up (either end), or TimeLimit.
    const talkMs = call.persona || call.outcome === 'held' ? limitMs : Math.min(this.options.talkMs, limitMs);
    // The planned length, not the timer's late firing, so that a call never outlasts its TimeLimit.
    this.#after(call, talkMs, () => this.#complete(call, talkMs));
  }

  #complete(call: CallRecord, talkedMs?: number): void {
    const now = this.#touch(call);
    const answered = call.answerTime ?? now;
    const talked = talkedMs ?? now - answered;
    call.status = 'completed';
    call.endTime = answered + talked;
    call.durationSeconds = Math.ceil(talked / 1000);
    // A connected call is billed per started minute, at least one.
    const minutes = Math.max(1, Math.ceil(call.durationSeconds / 60));
    call.price = (-(minutes * PRICE_PER_MINUTE) / 100_000).toFixed(5);
    this.#emit(call, 'completed', 'completed');
  }

  /** A call that never connected: no end_time, duration or price, as Twilio reports it. */
  #end(call: CallRecord, status: Exclude<FinalStatus, 'completed'>): void {
    call.status = status;
    this.#touch(call);
    this.#emit(call, 'completed', status);
  }

  #touch(call: CallRecord): number {
    call.dateUpdated = this.#clock.now();
    return call.dateUpdated;
  }

  #emit(call: CallRecord, event: CallEvent, callStatus: Progress['callStatus']): void {
    this.options.onProgress?.(call, { event, callStatus, at: call.dateUpdated });
  }

  #after(call: CallRecord, ms: number, step: () => void): void {
    if (this.#stopped) return;
    const cancel = this.#clock.after(ms, () => {
      this.#timers.delete(call.sid);
      step();
    });
    this.#timers.set(call.sid, cancel);
  }

  #clearTimer(call: CallRecord): void {
    this.#timers.get(call.sid)?.();
    this.#timers.delete(call.sid);
  }
}
