import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readCookie } from './csrf.js';

const COOKIE = 'cg_device';
const MAX_AGE_SECONDS = 365 * 86400;

/**
 * Browsers that have signed in to an account before: on a successful sign-in the browser gets a
 * cookie holding a random device id and an HMAC binding it to the account's email. Presenting it
 * proves nothing about the password (that is still checked); it only lets the owner's own browser
 * past the account-wide throttle that many guessing addresses together can trip (accounts.ts).
 * Stateless, keyed by the cookie key, so a stolen cookie is worth one browser, for one account.
 */
export class KnownDevices {
  constructor(
    private readonly key: string,
    private readonly secure: boolean,
  ) {}

  /** True when the browser signed in to `email` before. */
  recognizes(req: IncomingMessage, email: string): boolean {
    const [device, mac] = (readCookie(req, COOKIE) ?? '').split('.');
    if (!device || !mac) return false;
    const expected = Buffer.from(this.sign(device, email));
    const given = Buffer.from(mac);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** Marks the browser as one that signed in to `email` (the newest account wins the cookie). */
  remember(res: ServerResponse, email: string): void {
    const device = randomBytes(16).toString('base64url');
    res.appendHeader(
      'set-cookie',
      `${COOKIE}=${device}.${this.sign(device, email)}; Path=/; Max-Age=${MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax${this.secure ? '; Secure' : ''}`,
    );
  }

  private sign(device: string, email: string): string {
    return createHmac('sha256', this.key)
      .update(`known-device\0${email.trim().toLowerCase()}\0${device}`)
      .digest('base64url');
  }
}
