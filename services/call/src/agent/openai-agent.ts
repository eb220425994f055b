import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { Agent, AgentChunk, AgentEnd, AgentSession, CallBrief, HistoryTurn, ProposedOutcome } from './agent.js';
import { outcomePrompt, systemPrompt } from './prompt.js';

export interface OpenAiAgentOptions {
  /** An OpenAI-compatible API root, e.g. https://api.openai.com/v1 or a local gateway (LLM_BASE_URL). */
  baseURL: string;
  /** Bearer key (LLM_API_KEY); some local servers need none. */
  apiKey: string;
  /** Catalogue model id → the name the server knows (LLM_MODEL_MAP). Unmapped ids are sent as they are. */
  models?: Readonly<Record<string, string>>;
  /** Per request; a reply that takes longer is cut and the call ends politely. Default 20 s. */
  timeoutMs?: number;
}

/** The one function the model may call: it ends the call after its current reply. */
const END_CALL: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'end_call',
    description:
      'End the phone call after your current reply (objective reached or cannot be, or the person wants to end).',
    parameters: {
      type: 'object',
      properties: {
        reason: {
          type: 'string',
          enum: ['objective', 'callee-ended'],
          description: 'objective: done or impossible; callee-ended: the person asked to end.',
        },
      },
      required: ['reason'],
    },
  },
};

/** Thrown for a reply the server could not give; the relay ends the call politely on it. */
export class AgentProviderError extends Error {
  override readonly name = 'AgentProviderError';
}

/**
 * The LLM agent over any OpenAI-compatible chat-completions API, with streaming: tokens are passed on
 * as they arrive so the first words are spoken before the reply is complete. Never retried inside a
 * turn (maxRetries 0): a late answer is worse on a phone than an apology.
 */
export function openAiAgent(options: OpenAiAgentOptions): Agent {
  const client = new OpenAI({
    baseURL: options.baseURL,
    apiKey: options.apiKey || 'none',
    maxRetries: 0,
    timeout: options.timeoutMs ?? 20_000,
  });
  const modelOf = (id: string) => options.models?.[id] ?? id;
  return {
    name: 'openai-compatible',
    start: (brief) => new OpenAiSession(client, brief, modelOf(brief.model)),
  };
}

class OpenAiSession implements AgentSession {
  constructor(
    private readonly client: OpenAI,
    private readonly brief: CallBrief,
    private readonly model: string,
  ) {}

  async *reply(history: readonly HistoryTurn[], signal: AbortSignal): AsyncIterable<AgentChunk> {
    let stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>;
    try {
      stream = await this.client.chat.completions.create(
        {
          model: this.model,
          messages: [{ role: 'system', content: systemPrompt(this.brief) }, ...toMessages(history)],
          stream: true,
          tools: [END_CALL],
          temperature: 0.3,
        },
        { signal },
      );
    } catch (error) {
      throw providerError(error);
    }
    // Tool-call arguments arrive in fragments, by index; only end_call is known.
    const calls = new Map<number, { name: string; args: string }>();
    try {
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta;
        if (delta?.content) yield { type: 'token', text: delta.content };
        for (const call of delta?.tool_calls ?? []) {
          const seen = calls.get(call.index) ?? { name: '', args: '' };
          seen.name += call.function?.name ?? '';
          seen.args += call.function?.arguments ?? '';
          calls.set(call.index, seen);
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      throw providerError(error);
    }
    const end = [...calls.values()].find((c) => c.name === 'end_call');
    if (end) yield { type: 'end', reason: endReason(end.args) };
  }

  async outcome(history: readonly HistoryTurn[], signal: AbortSignal): Promise<ProposedOutcome> {
    const properties = Object.fromEntries((this.brief.schema?.fields ?? []).map((f) => [f.name, f.schema]));
    let content: string | null | undefined;
    try {
      const completion = await this.client.chat.completions.create(
        {
          model: this.model,
          messages: [
            { role: 'system', content: outcomePrompt(this.brief) },
            { role: 'user', content: transcriptText(history) },
          ],
          response_format: {
            type: 'json_schema',
            json_schema: {
              name: 'call_outcome',
              // Not strict: strict mode would force every field to be present, i.e. invented.
              strict: false,
              schema: {
                type: 'object',
                properties: {
                  fields: { type: 'object', properties, additionalProperties: false },
                  summary: { type: 'string' },
                  objectiveReached: { type: 'boolean' },
                },
                required: ['fields', 'summary', 'objectiveReached'],
                additionalProperties: false,
              },
            },
          },
          temperature: 0,
        },
        { signal },
      );
      content = completion.choices[0]?.message.content;
    } catch (error) {
      throw providerError(error);
    }
    return readOutcome(content);
  }
}

/** The model's structured answer; anything unreadable learns nothing (every field then reads as missing). */
export function readOutcome(content: string | null | undefined): ProposedOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content ?? '');
  } catch {
    return { fields: {}, summary: 'The outcome could not be read from the model’s answer.', objectiveReached: false };
  }
  const value = (parsed ?? {}) as Record<string, unknown>;
  const fields = value.fields && typeof value.fields === 'object' && !Array.isArray(value.fields) ? value.fields : {};
  return {
    fields: fields as Record<string, unknown>,
    summary: typeof value.summary === 'string' ? value.summary.slice(0, 2000) : '',
    objectiveReached: value.objectiveReached === true,
  };
}

function toMessages(history: readonly HistoryTurn[]): ChatCompletionMessageParam[] {
  return history.map((turn) =>
    turn.speaker === 'agent'
      ? { role: 'assistant', content: turn.interrupted ? `${turn.text} [interrupted by the person]` : turn.text }
      : { role: 'user', content: turn.text },
  );
}

function transcriptText(history: readonly HistoryTurn[]): string {
  return history
    .map((t) => `${t.speaker === 'agent' ? 'Agent' : 'Person'}: ${t.text}${t.interrupted ? ' [interrupted]' : ''}`)
    .join('\n');
}

function endReason(args: string): AgentEnd {
  try {
    return (JSON.parse(args) as { reason?: string }).reason === 'callee-ended' ? 'callee-ended' : 'objective';
  } catch {
    return 'objective';
  }
}

function providerError(error: unknown): AgentProviderError {
  const status = error instanceof OpenAI.APIError && error.status ? ` (HTTP ${error.status})` : '';
  return new AgentProviderError(`the LLM server failed${status}: ${(error as Error).message}`, { cause: error });
}
