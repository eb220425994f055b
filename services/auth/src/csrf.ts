import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const COOKIE = 'cg_csrf';

/**
 * CSRF protection for the forms (sign-in, consent, sign-up, reset, account): a random value in a
 * SameSite=Strict, HttpOnly cookie, and in each form an HMAC of it bound to the form's purpose (e.g.
 * the interaction id). A post from another site carries neither the cookie nor a token that matches it.
 */
export class Csrf {
  constructor(
    private readonly key: string,
    private readonly secure: boolean,
  ) {}

  /** The token for a form; sets the cookie when the browser has none. */
  token(req: IncomingMessage, res: ServerResponse, purpose: string): string {
    let value = readCookie(req, COOKIE);
    if (!value || !/^[A-Za-z0-9_-]{32}$/.test(value)) {
      value = randomBytes(24).toString('base64url');
      res.appendHeader(
        'set-cookie',
        `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${this.secure ? '; Secure' : ''}`,
      );
    }
    return this.sign(value, purpose);
  }

  /** True when the posted token matches the cookie and the purpose. */
  check(req: IncomingMessage, purpose: string, posted: string | undefined): boolean {
    const value = readCookie(req, COOKIE);
    if (!value || !posted) return false;
    const expected = Buffer.from(this.sign(value, purpose));
    const given = Buffer.from(posted);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private sign(value: string, purpose: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\0${value}`).digest('base64url');
  }
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}
