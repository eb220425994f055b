import type { Database, Logger } from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import { type CallStore, EVENTS_CHANNEL } from './call-store.js';
import { toEvent, toProgress } from './call-view.js';
import { isTerminal } from './state-machine.js';

/**
 * One LISTEN per replica on the call-events channel, fanned out to the WatchCall streams of this
 * replica. NOTIFY carries only (call id, sequence); a watcher reads the events from the table, so
 * whichever replica recorded a change, every watcher sees the same ordered timeline.
 */
export class CallWatchers {
  private readonly watchers = new Map<string, Set<() => void>>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    private readonly store: CallStore,
    private readonly log: Logger,
    private readonly now: () => Date,
  ) {}

  async start(): Promise<void> {
    this.unlisten = await this.db.listen(EVENTS_CHANNEL, (payload) => {
      try {
        const { callId } = JSON.parse(payload) as { callId: string };
        for (const wake of this.watchers.get(callId) ?? []) wake();
      } catch (error) {
        this.log.warn({ err: error, payload }, 'unreadable call event notification');
      }
    });
  }

  async stop(): Promise<void> {
    await this.unlisten?.();
  }

  /** Streams a call's events after `afterSequence` until it ends or the client goes away. */
  async watch(
    userId: string,
    callId: string,
    afterSequence: number,
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
    let last = afterSequence;
    try {
      while (!signal.aborted) {
        // Subscribed before reading, so a change between the read and the wait is never missed.
        woken = false;
        const events = await this.store.events(callId, last);
        const call = await this.store.byId(callId);
        if (!call) return;
        for (const event of events) {
          last = Number(event.sequence);
          const ended = isTerminal(event.status);
          await send({
            callId,
            event: toEvent(event),
            progress: toProgress(call, event, this.now()),
            turn: null,
            terminal: ended,
          });
          if (ended) return;
        }
        if (isTerminal(call.status)) return;
        if (!woken) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
      }
    } finally {
      set.delete(listener);
      if (set.size === 0) this.watchers.delete(callId);
    }
  }
}
