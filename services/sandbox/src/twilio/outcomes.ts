/**
 * What the sandbox carrier does with a call, chosen by the last four digits of the number called, so
 * that tests and people can ask for a busy line or an answering machine without a real phone.
 */
export type Outcome = 'answer' | 'busy' | 'no-answer' | 'fail' | 'machine';

export const OUTCOME_BY_LAST_FOUR: Readonly<Record<string, Outcome>> = {
  '0001': 'answer',
  '0002': 'busy',
  '0003': 'no-answer',
  '0004': 'fail',
  '0005': 'machine',
};

/** Any other number answers, so that a made-up number behaves like a person picking up. */
export const outcomeFor = (to: string): Outcome => OUTCOME_BY_LAST_FOUR[to.slice(-4)] ?? 'answer';

/** One number per outcome (415-555-000x), for tests and examples. */
export const SANDBOX_NUMBERS = {
  answers: '+14155550001',
  busy: '+14155550002',
  noAnswer: '+14155550003',
  fails: '+14155550004',
  machine: '+14155550005',
} as const;
