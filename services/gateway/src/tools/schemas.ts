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
 * Free text that is stored: PostgreSQL text cannot hold NUL, so one is refused here with the field's
 * name instead of failing deep in the call service.
 */
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters (\\u0000)');
