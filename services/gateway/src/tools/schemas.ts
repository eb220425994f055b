import { z } from 'zod';

/** E.164: a plus, a country code, up to 15 digits in all. */
export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 phone number such as +14155550001');
/** Call ids are UUIDs (the call service's); the example is one, so the /docs example is refused only as "not found". */
export const callId = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a call id (a UUID) from makePhoneCall')
  .describe('The id returned by makePhoneCall.')
  .meta({ examples: ['0b7e6a52-3f0c-4c1e-9a55-2f1d4c8e9b10'] });
export const language = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'a BCP 47 tag such as en-US')
  .describe('BCP 47 language tag, e.g. "en-US".');

/**
 * Whether a string is well-formed UTF-16 (no unpaired surrogate). String.prototype.isWellFormed is in
 * Node 20; TypeScript declares it only from lib ES2024.
 */
const isWellFormed = (value: string) => (value as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * Why a stored string is refused, or undefined when it can be kept exactly. PostgreSQL text cannot hold
 * NUL; a lone surrogate (JSON allows "\ud800") has no UTF-8 form, so gRPC and the database would turn it
 * into U+FFFD silently, and two idempotency keys differing only there would become the same key.
 */
export function unstorable(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain NUL characters (\\u0000)';
  if (!isWellFormed(value)) return 'must not contain a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff)';
  return undefined;
}

/** Free text that is stored: what cannot be stored exactly is refused here with the field's name. */
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .check((ctx) => {
      const problem = unstorable(ctx.value);
      if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
    });
