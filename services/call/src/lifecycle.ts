import { isTerminal, type Logger } from '@callgate/common';
import type { AppliedReport, CallRow, CallStore, StatusReport } from './call-store.js';
import type { Settlement } from './credits.js';
import type { ActiveConversations } from './relay/active-conversations.js';
import type { SheetsMirror } from './sheets-mirror.js';

export interface CallLifecycleOptions {
  store: CallStore;
  settlement: Settlement;
  mirror: SheetsMirror;
  /** Conversations held by this replica: one whose call ends is finished (outcome stored) first. */
  conversations?: ActiveConversations;
  log: Logger;
}

/** Which calls a report may move, checked under the call's row lock (CallStore.applyIf). */
export type ReportGuard =
  /** Only a call nobody has started dialling (a cancel, an expired intent): then it is never dialled. */
  | 'undialed'
  /** Only a dial the carrier never confirmed (a refusal, a lost answer): then it is never dialled again. */
  | 'unconfirmed';

export interface ReportOptions {
  /**
   * Wait for the settlement of a call this report ended (default true). A status callback answers the
   * carrier first and lets the settlement follow.
   */
  awaitSettlement?: boolean;
}

/**
 * The one door through which a status report (the carrier's answer at dial, a signed status callback,
 * a poll, the relay's connection, the recovery pass, a cancel) changes a call. It turns the report into
 *  1. a transition through the state machine (CallStore.apply, under the row lock, with its event and
 *     NOTIFY for WatchCall and the gateway's subscriptions),
 *  2. the call's sheet row, on every transition, handed to sheets-sync (whose write queue coalesces
 *     repeated updates of one row, so the operations sheet shows ringing and in-progress calls without
 *     one write each),
 *  3. and, when it ended the call, the settlement of its credits (Settlement: its own event, with its own
 *     sequence number), after which the row with its final cost goes to sheets-sync again.
 * Nothing else calls the state machine or Settlement.
 */
export class CallLifecycle {
  /** Sheet rows and settlements under way, so that stop() waits for them. */
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly options: CallLifecycleOptions) {}

  /** Applies a report. A duplicate or late one changes nothing (and is not mirrored again). */
  async report(callId: string, report: StatusReport, options: ReportOptions = {}): Promise<AppliedReport> {
    await this.beforeEnd(callId, report);
    return this.follow(await this.options.store.apply(callId, report), options);
  }

  /** Applies a report only if the guard holds under the call's row lock; undefined when it did not. */
  async reportIf(
    callId: string,
    report: StatusReport,
    guard: ReportGuard,
    options: ReportOptions = {},
  ): Promise<AppliedReport | undefined> {
    await this.beforeEnd(callId, report);
    const { store } = this.options;
    const applied =
      guard === 'undialed' ? await store.cancelUndialed(callId, report) : await store.failDial(callId, report);
    return applied && this.follow(applied, options);
  }

  /** A new intent (queued): its row goes to the sheet at once. */
  recorded(call: CallRow): void {
    this.mirror(call);
  }

  /**
   * Settles an ended call's credits (a no-op unless its settlement is pending: recovery and refresh
   * retry here after user-credit was down), then hands the row with its cost to the sheet.
   */
  settle(call: CallRow): Promise<void> {
    return this.track(
      (async () => {
        // The settled row (with its cost) comes back from the settlement's own update: no second read.
        const settled = await this.options.settlement.settle(call);
        if (settled) await this.options.mirror.push(settled);
      })(),
    );
  }

  /**
   * Hands again every row sheets-sync has not acknowledged (the recovery pass), oldest first; stops at
   * the first refusal rather than knock on a closed door once per call.
   */
  async resyncSheets(): Promise<void> {
    for (const call of await this.options.store.behindSheets()) {
      if (!(await this.options.mirror.push(call))) return;
    }
  }

  /** Waits for the sheet rows and settlements under way (shutdown). */
  async stop(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** The conversation ends first, so the ended call is never seen without its transcript and outcome. */
  private async beforeEnd(callId: string, report: StatusReport): Promise<void> {
    if (isTerminal(report.status)) await this.options.conversations?.callEnded(callId);
  }

  private async follow(applied: AppliedReport, options: ReportOptions): Promise<AppliedReport> {
    if (!applied.changed) return applied;
    this.mirror(applied.call);
    if (applied.ended) {
      const settled = this.settle(applied.call);
      if (options.awaitSettlement ?? true) await settled;
    }
    return applied;
  }

  /** Not waited for: a row not acknowledged stays behind (sheets_version) and the recovery pass resends it. */
  private mirror(call: CallRow): void {
    void this.track(this.options.mirror.push(call));
  }

  /** Never rejects: what failed is left for the recovery pass (settlement 'pending', sheets_version behind). */
  private track(work: Promise<unknown>): Promise<void> {
    const guarded = work.then(
      () => undefined,
      (error: unknown) => {
        this.options.log.warn({ err: error }, 'call lifecycle follow-up failed; the recovery pass retries it');
      },
    );
    this.pending.add(guarded);
    void guarded.finally(() => this.pending.delete(guarded));
    return guarded;
  }
}
