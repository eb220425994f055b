/**
 * What the sandbox carrier does with a call, chosen by the last four digits of the number called, so
 * that tests and people can ask for a busy line or an answering machine without a real phone.
 */
/**
 * `held`: rings until told (POST /sandbox/calls/{sid}/answer or /hang-up) or canceled, and once answered
 * talks until hung up, so a test acts in a stage by waiting for it, never within a stage's time window.
 */
export type Outcome = 'answer' | 'busy' | 'no-answer' | 'fail' | 'machine' | 'held';

export const OUTCOME_BY_LAST_FOUR: Readonly<Record<string, Outcome>> = {
  '0001': 'answer',
  '0002': 'busy',
  '0003': 'no-answer',
  '0004': 'fail',
  '0005': 'machine',
  '0006': 'held',
};

/** Any other number answers, so that a made-up number behaves like a person picking up. */
export const outcomeFor = (to: string): Outcome => OUTCOME_BY_LAST_FOUR[to.slice(-4)] ?? 'answer';

/**
 * Numbers answered by a scripted person who talks with the voice agent (personas.ts): the sandbox
 * fetches the call's TwiML and joins its ConversationRelay. Other answered numbers stay silent and
 * hang up after SANDBOX_TALK_MS, as before.
 */
export type PersonaName = 'cooperative' | 'asks-back' | 'interrupts' | 'presses-keys' | 'hangs-up-early';

export const PERSONA_BY_LAST_FOUR: Readonly<Record<string, PersonaName>> = {
  '0010': 'cooperative',
  '0011': 'asks-back',
  '0012': 'interrupts',
  '0013': 'presses-keys',
  '0014': 'hangs-up-early',
};

export const personaFor = (to: string): PersonaName | undefined => PERSONA_BY_LAST_FOUR[to.slice(-4)];

/** What each persona does, in words for people (the console's hint beside the number field). */
export const PERSONA_DESCRIPTIONS: Readonly<Record<PersonaName, string>> = {
  cooperative: 'Answers every question the agent asks (party size, time, date, name).',
  'asks-back': 'Asks who is calling before answering the first question, then cooperates.',
  interrupts: "Talks over the agent's first turn, then cooperates.",
  'presses-keys': 'Answers "how many" questions on the keypad (digits, then #).',
  'hangs-up-early': 'Answers the first question, then hangs up in the middle of the call.',
};

/** One number per outcome (415-555-000x) and per persona (415-555-001x), for tests and examples. */
export const SANDBOX_NUMBERS = {
  answers: '+14155550001',
  busy: '+14155550002',
  noAnswer: '+14155550003',
  fails: '+14155550004',
  machine: '+14155550005',
  held: '+14155550006',
  cooperative: '+14155550010',
  asksBack: '+14155550011',
  interrupts: '+14155550012',
  pressesKeys: '+14155550013',
  hangsUpEarly: '+14155550014',
} as const;

/** The persona numbers with their names and descriptions, in number order (415-555-0010 and on). */
export const SANDBOX_PERSONAS: readonly { number: string; name: PersonaName; description: string }[] = Object.entries(
  PERSONA_BY_LAST_FOUR,
)
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([lastFour, name]) => ({ number: `+1415555${lastFour}`, name, description: PERSONA_DESCRIPTIONS[name] }));
