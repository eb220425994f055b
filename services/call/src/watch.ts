import { type Clock, type Database, isTerminal, type Logger } from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import { type CallChangeNotice, type CallStore, EVENTS_CHANNEL } from './call-store.js';
import { isSettlementEvent, toEvent, toProgress, toTurn } from './call-view.js';
import { type TranscriptStore, TURNS_CHANNEL, type TurnNotice } from './transcript-store.js';

/** How often a watcher re-reads its call even without a notification. */
const RECHECK_MS = 10_000;

/**
 * One LISTEN per replica on the call-events channel, fanned out to the WatchCall streams of this
 * replica. NOTIFY carries only (call id, sequence); a watcher reads the events from the table, so
 * whichever replica recorded a change, every watcher sees the same ordered timeline.
 */
export class CallWatchers {
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly firehose = new Set<(change: CallChangeNotice) => void>();
  private unlisten: (() => Promise<void>) | undefined;
  private unlistenTurns: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    private readonly store: CallStore,
    private readonly transcripts: TranscriptStore,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  async start(): Promise<void> {
    this.unlisten = await this.db.listen(EVENTS_CHANNEL, (payload) => {
      try {
        const change = JSON.parse(payload) as CallChangeNotice;
        for (const wake of this.watchers.get(change.callId) ?? []) wake();
        for (const deliver of this.firehose) deliver(change);
      } catch (error) {
        this.log.warn({ err: error, payload }, 'unreadable call event notification');
      }
    });
    // Turns wake only the watchers of their call; the gateway's change firehose is about statuses.
    this.unlistenTurns = await this.db.listen(TURNS_CHANNEL, (payload) => {
      try {
        const notice = JSON.parse(payload) as TurnNotice;
        for (const wake of this.watchers.get(notice.callId) ?? []) wake();
      } catch (error) {
        this.log.warn({ err: error, payload }, 'unreadable transcript turn notification');
      }
    });
  }

  async stop(): Promise<void> {
    await this.unlisten?.();
    await this.unlistenTurns?.();
  }

  /**
   * Every change of every call until the client goes away (the gateway's subscriptions). Changes are
   * queued per stream and sent in order; a client too slow to keep 10,000 queued is cut off (it reconnects).
   */
  async watchAll(signal: AbortSignal, send: (change: CallChangeNotice) => Promise<void>): Promise<void> {
    const queue: CallChangeNotice[] = [];
    let wake: (() => void) | undefined;
    const deliver = (change: CallChangeNotice) => {
      queue.push(change);
      wake?.();
    };
    this.firehose.add(deliver);
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    try {
      while (!signal.aborted) {
        if (queue.length > 10_000) throw new Error('change stream consumer too slow; reconnect');
        const next = queue.shift();
        if (next) {
          await send(next);
          continue;
        }
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
        wake = undefined;
      }
    } finally {
      this.firehose.delete(deliver);
    }
  }

  /**
   * Streams a call's events after `afterSequence`, and its transcript turns as they are spoken, until
   * it ends or the client goes away. Events and turns go out in time order; the terminal event last.
   * With `untilSettled` the stream goes on past the terminal status to the settlement event, and ends
   * with it; without, settlement events are not sent.
   */
  async watch(
    userId: string,
    callId: string,
    from: { afterSequence: number; untilSettled: boolean },
    signal: AbortSignal,
    send: (event: callV1.WatchCallEvent__Output) => Promise<void>,
  ): Promise<void> {
    await this.store.forUser(userId, callId);
    let wake: () => void = () => undefined;
    let woken = true;
    const listener = () => {
      woken = true;
      wake();
    };
    let set = this.watchers.get(callId);
    if (!set) {
      set = new Set();
      this.watchers.set(callId, set);
    }
    set.add(listener);
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    const { untilSettled } = from;
    let last = from.afterSequence;
    let lastTurn = 0;
    try {
      while (!signal.aborted) {
        // Subscribed before reading, so a change between the read and the wait is never missed.
        woken = false;
        // The row first: a terminal row's final event (and a settled row's settlement) is committed
        // with it, so the events read next include it. (Events first could miss an end that happens
        // between the two reads.)
        const call = await this.store.byId(callId);
        if (!call) return;
        // Turns are held back until the answer is on the timeline: a fast conversation can be stored
        // before the carrier's answered callback, and a turn must never read as said before the answer.
        const answered = call.status === 'in-progress' || isTerminal(call.status);
        const [read, turns] = await Promise.all([
          this.store.events(callId, last),
          answered ? this.transcripts.turns(callId, lastTurn) : [],
        ]);
        const events = untilSettled ? read : read.filter((e) => !isSettlementEvent(e));
        // Status events in sequence order, then the turns (spoken while the call is in progress), and a
        // terminal event last, then the settlement. (Carrier timestamps are coarser than ours, so times
        // cannot order events.)
        const ending = events.filter((e) => isTerminal(e.status));
        const items = [
          ...events.filter((e) => !isTerminal(e.status)).map((event) => ({ event, turn: undefined })),
          ...turns.map((turn) => ({ event: undefined, turn })),
          ...ending.map((event) => ({ event, turn: undefined })),
        ];
        for (const item of items) {
          if (item.turn) {
            lastTurn = Math.max(lastTurn, item.turn.turn_seq);
            await send({ callId, event: null, progress: null, turn: toTurn(item.turn), terminal: false });
            continue;
          }
          const event = item.event as NonNullable<typeof item.event>;
          last = Number(event.sequence);
          const ended = untilSettled ? isSettlementEvent(event) : isTerminal(event.status);
          await send({
            callId,
            event: toEvent(event),
            progress: toProgress(call, event, this.clock.date()),
            turn: null,
            terminal: ended,
          });
          if (ended) return;
        }
        // Settled before settlement events existed (or asked from past its last event): the end is said
        // without one. A settlement still to come is waited for.
        const over = isTerminal(call.status) && (!untilSettled || call.settlement !== 'pending');
        if (over) {
          // Asked from past its last event: still say that the call has ended.
          await send({
            callId,
            event: null,
            progress: toProgress(call, undefined, this.clock.date()),
            turn: null,
            terminal: true,
          });
          return;
        }
        if (!woken) {
          // NOTIFY wakes the watcher; the timer covers notifications lost while LISTEN reconnected.
          let cancelTimer: (() => void) | undefined;
          await Promise.race([
            new Promise<void>((resolve) => {
              wake = resolve;
              cancelTimer = this.clock.after(RECHECK_MS, resolve);
            }),
            aborted,
          ]);
          cancelTimer?.();
        }
      }
    } finally {
      set.delete(listener);
      if (set.size === 0) this.watchers.delete(callId);
    }
  }
}
