/**
 * The last line of defence for logs: masks phone numbers and bearer tokens in each serialized log line,
 * wherever they appear (a message string, an error's text, a nested field, a URL-encoded form body).
 * Field redaction by path (logger.ts) catches known secret fields; this catches what paths cannot know.
 */

/** E.164 (+ and 7–15 digits), also URL-encoded (%2B) as in Twilio's form bodies. */
const E164 = /(\+|%2B)([1-9]\d{2,10})(\d{4})(?!\d)/gi;

/** A JWT: three base64url segments, the first two JSON objects ("eyJ"). */
const JWT = /eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]+/g;

/** "Bearer <credential>" in any case, as in an echoed Authorization header. */
const BEARER = /(bearer\s+)[\w~+/.-]{8,}=*/gi;

/** "+15551234567" → "+*******4567": the last four digits stay, so support can still match a call. */
export function maskPhoneNumbers(text: string): string {
  return text.replace(
    E164,
    (_match, plus: string, hidden: string, last: string) => `${plus}${'*'.repeat(hidden.length)}${last}`,
  );
}

export function maskTokens(text: string): string {
  return text.replace(JWT, '[redacted-jwt]').replace(BEARER, '$1[redacted]');
}

/** Applied to every serialized log line; the result is still one valid JSON line (only digits and token characters change). */
export function maskLogLine(line: string): string {
  return maskTokens(maskPhoneNumbers(line));
}
