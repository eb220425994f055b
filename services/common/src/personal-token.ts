import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * The shape of the auth service's personal access tokens, shared by the service that issues them and
 * the gateway that takes them, so the gateway can refuse a made-up token without asking anyone.
 *
 * `cgp_<id: 16>_<secret: 43>_<checksum: 22>` (base64url, 87 characters): the checksum is an HMAC-SHA256
 * of everything before it, truncated to 128 bits (RFC 2104 §5: at least half the hash), under a key
 * only the auth service and the gateway hold (PERSONAL_TOKEN_CHECKSUM_KEYS). A typo or a forgery is told
 * at the gateway, costing no call to the auth service and no database statement. (The CRC-32 used
 * before was public arithmetic: anyone could compute a token that passed, and each one cost an auth
 * call: attack finding 5.)
 *
 * Tokens of the two earlier shapes (`cgp_<id>_<secret>`, 64 characters, and the CRC-32 one, 71) are
 * refused as outdated, with a message that says to create a new one: callgate is not released yet, and
 * accepting them would need a database lookup for any string of their shape, the amplification this
 * format exists to end.
 */
export const PERSONAL_TOKEN_PREFIX = 'cgp_';

const SHAPE = /^cgp_[A-Za-z0-9_-]{16}_[A-Za-z0-9_-]{43}_[A-Za-z0-9_-]{22}$/;
const BODY_LENGTH = 64;
const TOKEN_LENGTH = 87;
const CHECKSUM_BYTES = 16;
/** Before keyed checksums: no checksum (64 characters) or a CRC-32 (71). */
const OUTDATED = /^cgp_[A-Za-z0-9_-]{16}_[A-Za-z0-9_-]{43}(_[A-Za-z0-9_-]{6})?$/;
/** Separates this use of the key from any other (should the key ever sign something else too). */
const DOMAIN = 'callgate personal access token v1\0';
export const MIN_CHECKSUM_KEY_LENGTH = 32;

/** What a string with the prefix is: a token this service could have issued, one of an old shape, or junk. */
export type PersonalTokenShape = 'valid' | 'outdated' | 'malformed';

/**
 * PERSONAL_TOKEN_CHECKSUM_KEYS as both services parse it: comma-separated keys, each at least 32
 * characters; the first signs new tokens, every one verifies (rotation without downtime: add the new key
 * second, deploy both services, move it first, deploy, and drop the old one once no token made under it is
 * wanted; a token made under a dropped key is refused as malformed).
 */
export const personalTokenChecksumKeys = z.string().transform((value, ctx) => {
  const keys = value
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  if (keys.length === 0 || keys.some((key) => key.length < MIN_CHECKSUM_KEY_LENGTH)) {
    ctx.addIssue({
      code: 'custom',
      message: `comma-separated keys of at least ${MIN_CHECKSUM_KEY_LENGTH} characters each (e.g. openssl rand -hex 32); the first signs, all verify`,
    });
    return z.NEVER;
  }
  return keys;
});

/** Issues and checks personal access tokens' keyed checksums. */
export class PersonalTokenFormat {
  private readonly keys: readonly string[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('PersonalTokenFormat needs at least one key');
    this.keys = keys;
  }

  /** A new token's text for this id (16 base64url characters) and secret (43). */
  text(id: string, secret: string): string {
    const body = `${PERSONAL_TOKEN_PREFIX}${id}_${secret}`;
    if (body.length !== BODY_LENGTH)
      throw new Error('a personal token id is 16 and its secret 43 base64url characters');
    return `${body}_${checksum(this.keys[0] as string, body).toString()}`;
  }

  /** Whether the token could be one this service issued under one of its keys; costs one HMAC per key. */
  shape(token: string): PersonalTokenShape {
    if (token.length === TOKEN_LENGTH && SHAPE.test(token)) {
      // Compared as text: decoding would accept the non-canonical spellings of the last character.
      const given = Buffer.from(token.slice(BODY_LENGTH + 1));
      const body = token.slice(0, BODY_LENGTH);
      // Every key is tried (no early exit), so the time says nothing about which key, if any, matched.
      let matched = false;
      for (const key of this.keys) matched = timingSafeEqual(checksum(key, body), given) || matched;
      return matched ? 'valid' : 'malformed';
    }
    return token.length <= 71 && OUTDATED.test(token) ? 'outdated' : 'malformed';
  }
}

/** The checksum's text (22 base64url characters), as bytes for a constant-time comparison. */
function checksum(key: string, body: string): Buffer {
  const mac = createHmac('sha256', key).update(DOMAIN).update(body).digest().subarray(0, CHECKSUM_BYTES);
  return Buffer.from(mac.toString('base64url'));
}
