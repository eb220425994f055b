import type { Speaker } from '../transcript-store.js';
import type { OutcomeSchema } from './outcome.js';

/** What the agent knows about the call it is on. */
export interface CallBrief {
  callId: string;
  /** The user's objective, in their words. */
  task: string;
  /** The welcome greeting ConversationRelay already spoke (it discloses the AI agent). */
  firstMessage: string;
  /** BCP 47, e.g. en-US. */
  language: string;
  /** Catalogue model id (callgate-standard, …). */
  model: string;
  /** The fields to learn; undefined when the caller asked for none. */
  schema: OutcomeSchema | undefined;
}

export interface HistoryTurn {
  speaker: Speaker;
  text: string;
  interrupted: boolean;
}

/** Why an agent asks to end: it reached the objective, or the person asked to end the call. */
export type AgentEnd = 'objective' | 'callee-ended';

export type AgentChunk = { type: 'token'; text: string } | { type: 'end'; reason: AgentEnd };

/** What the agent proposes was learned; validated against the schema before it is stored. */
export interface ProposedOutcome {
  fields: Record<string, unknown>;
  summary: string;
  objectiveReached: boolean;
}

/** One conversation with one person. */
export interface AgentSession {
  /**
   * Streams the agent's next reply to the conversation so far, token by token. A final `end` chunk asks
   * the relay to end the call after this reply. Aborting the signal (an interruption) stops the stream.
   */
  reply(history: readonly HistoryTurn[], signal: AbortSignal): AsyncIterable<AgentChunk>;
  /** What was learned, from the whole conversation; a field not stated by the person is left out. */
  outcome(history: readonly HistoryTurn[], signal: AbortSignal): Promise<ProposedOutcome>;
}

/** A provider of conversations: the built-in deterministic agent, or an LLM. */
export interface Agent {
  /** For logs and metrics: `builtin` or `openai-compatible`. */
  readonly name: string;
  start(brief: CallBrief): AgentSession;
}
