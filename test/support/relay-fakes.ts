/** Test doubles for the relay's tests: a clock moved by hand, a sink in memory, an agent the test paces. */
import { ManualClock as CommonManualClock, createLogger } from '@callgate/common';
import { Registry } from 'prom-client';
import type { AgentChunk, AgentSession, HistoryTurn, ProposedOutcome } from '../../services/call/src/agent/agent.js';
import { type RelayMetrics, relayMetrics } from '../../services/call/src/relay/metrics.js';
import type { ConversationSink, Outcome, Turn } from '../../services/call/src/transcript-store.js';

/** The kit's ManualClock, starting at 2026-01-01T00:00:00Z. */
export class ManualClock extends CommonManualClock {
  constructor() {
    super(Date.UTC(2026, 0, 1));
  }
}

export class MemorySink implements ConversationSink {
  readonly turns: Turn[] = [];
  outcome: Outcome | undefined;
  outcomes = 0;

  async appendTurn(_callId: string, turn: Turn): Promise<number> {
    this.turns.push(turn);
    return this.turns.length;
  }

  async saveOutcome(_callId: string, outcome: Outcome): Promise<void> {
    this.outcomes += 1;
    this.outcome ??= outcome;
  }
}

/**
 * An agent whose replies the test releases: each reply sends its first tokens at once, then waits
 * for `release()` (or an abort) before the rest. Records the history and signal it was given.
 */
export class PacedAgent implements AgentSession {
  readonly calls: { history: HistoryTurn[]; signal: AbortSignal }[] = [];
  #release: (() => void) | undefined;
  proposed: ProposedOutcome = { fields: {}, summary: 'paced', objectiveReached: false };

  constructor(
    private readonly first: string[],
    private readonly rest: string[],
  ) {}

  release(): void {
    this.#release?.();
  }

  async *reply(history: readonly HistoryTurn[], signal: AbortSignal): AsyncIterable<AgentChunk> {
    this.calls.push({ history: [...history], signal });
    for (const text of this.first) yield { type: 'token', text };
    await new Promise<void>((resolve) => {
      this.#release = resolve;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    for (const text of this.rest) {
      if (signal.aborted) return;
      yield { type: 'token', text };
    }
  }

  async outcome(): Promise<ProposedOutcome> {
    return this.proposed;
  }
}

export function testMetrics(): { metrics: RelayMetrics; registry: Registry } {
  const registry = new Registry();
  return { metrics: relayMetrics(registry), registry };
}

export const silentLog = createLogger('test', 'silent');

/** Lets queued promise work run (the sink's writes, the background reply). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
