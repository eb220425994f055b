import type { PersonaName } from './outcomes.js';

/**
 * The scripted people who answer the sandbox's persona numbers. A persona hears each of the agent's
 * turns (the words Twilio would speak) and answers as a person would over ConversationRelay: with
 * speech (a final `prompt`), with keys (`dtmf`), by talking over the agent (`interrupt`, then speech),
 * or by hanging up. Answers follow keywords of the agent's question, so any task whose fields read
 * like "party size", "time", "date" or "name" gets a sensible answer; anything else gets "not sure".
 */
export type PersonaAction =
  | { type: 'say'; text: string }
  | { type: 'press'; digits: string }
  /** Talk over the agent after it has spoken `afterWords` words of its current turn. */
  | { type: 'interrupt'; afterWords: number; text: string }
  | { type: 'hang-up' };

export interface Persona {
  /** What the person says after the welcome greeting. */
  greeted(greeting: string): PersonaAction[];
  /**
   * What the person does on hearing the first words of an agent turn (only `interrupt` is used here),
   * and what they answer to a whole turn (`heard`).
   */
  speaking?(turn: number): PersonaAction | undefined;
  heard(text: string, turn: number): PersonaAction[];
}

/** Canned answers by what the agent asked. */
export function answerTo(question: string): string | undefined {
  const q = question.toLowerCase();
  if (/to confirm|is that right|is that correct/.test(q)) return "Yes, that's right.";
  if (/goodbye|\bbye\b/.test(q)) return undefined;
  if (/party size|how many|number of (people|guests)|guests/.test(q)) return '4 people, please.';
  if (/\btime\b|what time|when/.test(q)) return '7:30 PM.';
  if (/\bdate\b|which day|what day/.test(q)) return 'Friday the 12th.';
  if (/\bname\b/.test(q)) return 'Alex Morgan.';
  if (/help me with that|could you help/.test(q)) return 'Sure, that works for us.';
  if (q.includes('?')) return "I'm not sure about that.";
  return undefined;
}

const say = (text: string | undefined): PersonaAction[] => (text ? [{ type: 'say', text }] : []);

const cooperative = (): Persona => ({
  greeted: () => say('Hi, yes, how can I help you?'),
  heard: (text) => say(answerTo(text)),
});

/** Asks who is calling before answering the first question. */
const asksBack = (): Persona => {
  let asked = false;
  return {
    greeted: () => say('Hello?'),
    heard(text) {
      if (!asked && text.includes('?')) {
        asked = true;
        return say('Sorry, who is calling, and what is this about?');
      }
      return say(answerTo(text));
    },
  };
};

/** Talks over the agent's first turn, then cooperates. */
const interrupts = (): Persona => ({
  greeted: () => say('Yes?'),
  speaking: (turn) =>
    turn === 1 ? { type: 'interrupt', afterWords: 4, text: 'Sorry, can you say who you are first?' } : undefined,
  heard: (text) => say(answerTo(text)),
});

/** Answers "how many" questions on the keypad (digits, then #). */
const pressesKeys = (): Persona => ({
  greeted: () => say('Hello, who is this?'),
  heard(text) {
    const question = text.toLowerCase();
    if (!/to confirm/.test(question) && /party size|how many|number of/.test(question)) {
      return [{ type: 'press', digits: '4#' }];
    }
    return say(answerTo(text));
  },
});

/** Answers the first question, then hangs up in the middle of the call. */
const hangsUpEarly = (): Persona => {
  let answered = 0;
  return {
    greeted: () => say('Hello?'),
    heard(text) {
      const answer = answerTo(text);
      if (!answer) return [];
      answered += 1;
      return answered > 1 ? [{ type: 'hang-up' }] : say(answer);
    },
  };
};

const PERSONAS: Record<PersonaName, () => Persona> = {
  cooperative,
  'asks-back': asksBack,
  interrupts,
  'presses-keys': pressesKeys,
  'hangs-up-early': hangsUpEarly,
};

export function persona(name: PersonaName): Persona {
  return PERSONAS[name]();
}
