import { crc32 } from 'node:zlib';

/**
 * The shape of the auth service's personal access tokens, shared by the service that issues them and
 * the gateway that takes them, so the gateway can refuse junk without asking anyone.
 *
 * `cgp_<id: 16>_<secret: 43>_<checksum: 6>` (base64url): the checksum is the CRC-32 of everything
 * before it, like GitHub's tokens: a typo or a made-up token is told at the gateway, costing no call to
 * the auth service and no database statement. Tokens made before the checksum (`cgp_<id>_<secret>`,
 * 64 characters) keep working; they are told by their length and shape only.
 */
export const PERSONAL_TOKEN_PREFIX = 'cgp_';

const CHECKSUMMED = /^cgp_[A-Za-z0-9_-]{16}_[A-Za-z0-9_-]{43}_[A-Za-z0-9_-]{6}$/;
const LEGACY = /^cgp_[A-Za-z0-9_-]{16}_[A-Za-z0-9_-]{43}$/;

/** The 6-character checksum of a token's body (CRC-32, 4 bytes, base64url). */
export function personalTokenChecksum(body: string): string {
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(body) >>> 0);
  return sum.toString('base64url');
}

/** A new token's text for this id and secret (both base64url). */
export function personalTokenText(id: string, secret: string): string {
  const body = `${PERSONAL_TOKEN_PREFIX}${id}_${secret}`;
  return `${body}_${personalTokenChecksum(body)}`;
}

/**
 * What a string starting with the prefix is: 'checksummed' (a well-formed new token whose checksum
 * holds), 'legacy' (the shape of a token made before checksums), or 'malformed' (anything else: never
 * a token this service issued).
 */
export function personalTokenShape(token: string): 'checksummed' | 'legacy' | 'malformed' {
  if (token.length === 71 && CHECKSUMMED.test(token)) {
    return personalTokenChecksum(token.slice(0, 64)) === token.slice(65) ? 'checksummed' : 'malformed';
  }
  return token.length === 64 && LEGACY.test(token) ? 'legacy' : 'malformed';
}
