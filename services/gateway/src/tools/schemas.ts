import { z } from 'zod';

/** E.164: a plus, a country code, up to 15 digits in all. */
export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 phone number such as +14155550001');
export const callId = z.string().min(1).max(64).describe('The id returned by makePhoneCall.');
export const language = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'a BCP 47 tag such as en-US')
  .describe('BCP 47 language tag, e.g. "en-US".');
