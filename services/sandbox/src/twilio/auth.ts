import { createHash, timingSafeEqual } from 'node:crypto';

/** The one account the sandbox serves. */
export interface Credentials {
  accountSid: string;
  authToken: string;
}

/**
 * The account an `Authorization: Basic` header authenticates as (username = account SID, password =
 * auth token), or undefined. Both halves are always compared, in constant time, so a response time
 * tells nothing about which half was wrong.
 */
export function authenticatedAccount(header: string | undefined, credentials: Credentials): string | undefined {
  const encoded = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const userMatches = same(decoded.slice(0, colon), credentials.accountSid);
  const passwordMatches = same(decoded.slice(colon + 1), credentials.authToken);
  return userMatches && passwordMatches ? credentials.accountSid : undefined;
}

/** Hashing first gives timingSafeEqual the equal lengths it needs without revealing the real length. */
function same(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
