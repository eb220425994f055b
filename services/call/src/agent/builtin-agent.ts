import type { Agent, AgentChunk, AgentSession, CallBrief, HistoryTurn, ProposedOutcome } from './agent.js';
import { isQuestion, isUnsure, labelOf, readAnswer, saysNo, saysYes, wantsToEnd } from './answers.js';
import type { OutcomeField } from './outcome.js';

/**
 * The built-in agent: a deterministic script, no LLM. It exists so that `npm start` and the tests run
 * a whole conversation without credentials. It states the objective, asks for each outcome field in
 * schema order (once more if the answer is unclear), answers "who is calling?" with the disclosure,
 * confirms what it heard, and says goodbye. The greeting (the disclosure) is ConversationRelay's
 * welcomeGreeting, spoken before the agent's first turn.
 */
export const builtinAgent: Agent = {
  name: 'builtin',
  start: (brief) => new BuiltinSession(brief),
};

type Stage = 'opening' | 'asking' | 'confirming' | 'done';

/** Each field is asked at most this many times; then it is left missing. */
const ASKS_PER_FIELD = 2;

class BuiltinSession implements AgentSession {
  #stage: Stage = 'opening';
  #field = 0;
  #asks = 0;
  #answers = new Map<string, unknown>();
  #confirmations = 0;
  #confirmed = false;
  #ended: 'objective' | 'callee-ended' | undefined;
  readonly #fields: OutcomeField[];

  constructor(private readonly brief: CallBrief) {
    this.#fields = brief.schema?.fields ?? [];
  }

  async *reply(history: readonly HistoryTurn[], signal: AbortSignal): AsyncIterable<AgentChunk> {
    const { text, end } = this.#next(lastCalleeWords(history));
    for (const token of text.match(/\S+\s*/g) ?? []) {
      if (signal.aborted) return;
      yield { type: 'token', text: token };
    }
    if (end) yield { type: 'end', reason: end };
  }

  async outcome(): Promise<ProposedOutcome> {
    const learned = Object.fromEntries(this.#answers);
    const names = Object.keys(learned);
    const missing = this.#fields.filter((f) => !this.#answers.has(f.name)).map((f) => labelOf(f));
    const heard = this.#fields
      .filter((f) => this.#answers.has(f.name))
      .map((f) => `${labelOf(f)}: ${this.#answers.get(f.name)}`);
    const parts = [`Objective: ${this.brief.task}`];
    if (heard.length) parts.push(`Learned ${heard.join('; ')}${this.#confirmed ? ' (confirmed)' : ''}`);
    if (missing.length) parts.push(`Not learned: ${missing.join(', ')}`);
    if (this.#ended === 'callee-ended') parts.push('The person asked to end the call');
    return {
      fields: learned,
      summary: `${parts.join('. ')}.`,
      // With no fields to learn, only a yes to "could you help me with that?" reaches the objective.
      objectiveReached:
        this.#ended === 'objective' &&
        (this.#confirmed || (this.#fields.length > 0 && names.length === this.#fields.length)),
    };
  }

  /** The next line of the script, given what the person just said. */
  #next(said: string): { text: string; end?: 'objective' | 'callee-ended' } {
    if (this.#stage !== 'opening' && this.#stage !== 'done' && wantsToEnd(said) && !this.#answersCurrent(said)) {
      return this.#finish('Understood. Thank you for your time. Goodbye!', 'callee-ended');
    }
    switch (this.#stage) {
      case 'opening': {
        const intro = `I'm calling about the following: ${this.brief.task.replace(/[.\s]+$/, '')}.`;
        if (this.#fields.length === 0) {
          this.#stage = 'confirming';
          return { text: `${intro} Could you help me with that?` };
        }
        this.#stage = 'asking';
        return { text: `${intro} ${this.#question()}` };
      }
      case 'asking':
        return this.#onAnswer(said);
      case 'confirming':
        return this.#onConfirmation(said);
      case 'done':
        return { text: 'Thank you again. Goodbye!', end: this.#ended ?? 'objective' };
    }
  }

  #answersCurrent(said: string): boolean {
    const field = this.#fields[this.#field];
    return (
      this.#stage === 'asking' && field !== undefined && readAnswer(field, said) !== undefined && !/\bbye\b/i.test(said)
    );
  }

  #onAnswer(said: string): { text: string; end?: 'objective' | 'callee-ended' } {
    const field = this.#fields[this.#field] as OutcomeField;
    if (isQuestion(said)) {
      // A question back ("who is this?"): answer with the disclosure, then ask again (not counted).
      return {
        text: `I'm an AI assistant calling on behalf of a callgate user, about: ${this.brief.task.replace(/[.\s]+$/, '')}. ${this.#question()}`,
      };
    }
    const value = readAnswer(field, said);
    if (value !== undefined) {
      this.#answers.set(field.name, value);
      return this.#advance('Thank you.');
    }
    if (!isUnsure(said) && this.#asks < ASKS_PER_FIELD) {
      return { text: `Sorry, I didn't catch that. ${this.#question()}` };
    }
    return this.#advance('No problem.');
  }

  #advance(ack: string): { text: string; end?: 'objective' | 'callee-ended' } {
    this.#field += 1;
    this.#asks = 0;
    if (this.#field < this.#fields.length) return { text: `${ack} ${this.#question()}` };
    if (this.#answers.size === 0) {
      return this.#finish(`${ack} I couldn't get the details I needed, so I'll pass that on. Goodbye!`, 'objective');
    }
    this.#stage = 'confirming';
    const heard = this.#fields
      .filter((f) => this.#answers.has(f.name))
      .map((f) => `${labelOf(f)} ${this.#answers.get(f.name)}`);
    return { text: `${ack} To confirm: ${heard.join(', ')}. Is that right?` };
  }

  #onConfirmation(said: string): { text: string; end?: 'objective' | 'callee-ended' } {
    if (this.#fields.length === 0) {
      this.#confirmed = saysYes(said);
      return this.#finish('Thank you very much for your help. Goodbye!', 'objective');
    }
    if (saysYes(said)) {
      this.#confirmed = true;
      return this.#finish('Perfect, thank you very much. Goodbye!', 'objective');
    }
    this.#confirmations += 1;
    if (saysNo(said) && this.#confirmations < 2) {
      // Start over once: what was heard is not trusted any more.
      this.#answers.clear();
      this.#field = 0;
      this.#asks = 0;
      this.#stage = 'asking';
      return { text: `Sorry about that, let's go over it again. ${this.#question()}` };
    }
    // Denied twice, or no clear yes: nothing heard is reported as learned.
    this.#answers.clear();
    return this.#finish("I'm sorry we couldn't settle it. Thank you for your time. Goodbye!", 'objective');
  }

  #question(): string {
    this.#asks += 1;
    const field = this.#fields[this.#field] as OutcomeField;
    const choices = Array.isArray(field.schema.enum) ? ` (${field.schema.enum.join(', ')})` : '';
    if (field.type === 'boolean') return `Could you tell me: ${labelOf(field)}? Yes or no?`;
    return `Could you tell me the ${labelOf(field)}${choices}?`;
  }

  #finish(text: string, end: 'objective' | 'callee-ended'): { text: string; end: 'objective' | 'callee-ended' } {
    this.#stage = 'done';
    this.#ended = end;
    return { text, end };
  }
}

/** What the person said since the agent last spoke (several callee turns in a row are one answer). */
function lastCalleeWords(history: readonly HistoryTurn[]): string {
  const words: string[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const turn = history[i] as HistoryTurn;
    if (turn.speaker !== 'callee') break;
    words.unshift(turn.text);
  }
  return words.join(' ');
}
