import type { OutcomeField } from './outcome.js';

/**
 * Reading a person's answer to one question, for the built-in agent. Deliberately literal: a value is
 * taken only when the words state it; anything unclear is `undefined` (asked again, then missing).
 */

const NUMBER_WORDS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
};

const UNSURE = /\b(not sure|don'?t know|no idea|can'?t say|rather not|prefer not)\b/i;
const YES = /^\s*(yes|yeah|yep|correct|right|that'?s right|sure|exactly|affirmative)\b/i;
const NO = /^\s*(no|nope|not quite|wrong|incorrect|that'?s wrong)\b/i;
const WANTS_TO_END = /\b(good ?bye|bye|hang up|not interested|stop calling|end (the|this) call)\b/i;

export const isUnsure = (text: string) => UNSURE.test(text);
export const isQuestion = (text: string) => text.trim().endsWith('?');
export const wantsToEnd = (text: string) => WANTS_TO_END.test(text);
export const saysYes = (text: string) => YES.test(text);
export const saysNo = (text: string) => NO.test(text);

/** The first whole number stated, in digits or in words ("four", "twenty two"). */
export function parseInteger(text: string): number | undefined {
  const digits = /-?\d+/.exec(text.replace(/(\d),(\d{3})/g, '$1$2'));
  if (digits) return Number(digits[0]);
  const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
  for (let i = 0; i < words.length; i++) {
    const first = NUMBER_WORDS[words[i] ?? ''];
    if (first === undefined) continue;
    const second = NUMBER_WORDS[words[i + 1] ?? ''];
    return first >= 20 && second !== undefined && second < 10 ? first + second : first;
  }
  return undefined;
}

function parseNumber(text: string): number | undefined {
  const match = /-?\d+(\.\d+)?/.exec(text.replace(/(\d),(\d{3})/g, '$1$2'));
  return match ? Number(match[0]) : parseInteger(text);
}

/** The value of `field` the answer states, or undefined when it states none. */
export function readAnswer(field: OutcomeField, text: string): unknown {
  const answer = text.trim();
  if (!answer || isUnsure(answer) || isQuestion(answer)) return undefined;
  const options = field.schema.enum;
  if (Array.isArray(options)) {
    return options.find((option) => new RegExp(`\\b${escapeRegExp(String(option))}\\b`, 'i').test(answer));
  }
  switch (field.type) {
    case 'integer':
      return parseInteger(answer);
    case 'number':
      return parseNumber(answer);
    case 'boolean':
      return saysYes(answer) ? true : saysNo(answer) ? false : undefined;
    case 'string':
    case undefined:
      // The words as said, without the full stop a transcription adds.
      return answer.replace(/[.!]+$/, '');
    default:
      return undefined;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** "partySize" → "party size", "arrival_time" → "arrival time". */
export function labelOf(field: OutcomeField): string {
  if (field.description)
    return field.description.replace(/[.?!]+$/, '').replace(/^[A-Z](?![A-Z])/, (c) => c.toLowerCase());
  return field.name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
}
