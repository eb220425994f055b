import { createSecretKey, type KeyObject } from 'node:crypto';
import type { AuthInfo } from '@modelcontextprotocol/server';
import jwt from 'jsonwebtoken';

export interface TokenSettings {
  /**
   * The HS256 key as a KeyObject: given a string, jsonwebtoken first tries to parse it as a public key
   * and fails, on every request (that exception path was 12% of the gateway's CPU under load).
   */
  key: KeyObject;
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
}

/** Why a request was not authenticated, with the WWW-Authenticate challenge to send back. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    message: string,
    readonly challenge: string,
  ) {
    super(message);
  }
}

/**
 * What a client is told about a rejected token: fixed phrases, never the library's message, which
 * can quote the token itself (header injection) or the expected issuer and audience.
 */
function describeRejection(error: unknown): string {
  if (error instanceof jwt.TokenExpiredError) return 'the token has expired';
  if (error instanceof jwt.NotBeforeError) return 'the token is not valid yet';
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('jwt audience invalid')) return 'the token is for another audience';
  if (message.startsWith('jwt issuer invalid')) return 'the token is from an unknown issuer';
  if (message === 'invalid signature') return 'the token signature is invalid';
  if (message === 'invalid algorithm' || message === 'jwt signature is required')
    return 'the token algorithm is not allowed';
  return 'the token is malformed';
}

/**
 * Verifies `Authorization: Bearer <jwt>`: HS256 only (never `none`, never an algorithm the token
 * picks), issuer, audience, a required exp and nbf with bounded skew, and a subject (the user id).
 */
export function authenticate(
  header: string | undefined,
  settings: TokenSettings,
  resourceMetadataUrl: string,
): AuthInfo {
  const challenge = (error?: string, description?: string) =>
    [
      `Bearer resource_metadata="${resourceMetadataUrl}"`,
      ...(error ? [`error="${error}"`, `error_description="${description}"`] : []),
    ].join(', ');
  const reject = (description: string) => new AuthError(description, challenge('invalid_token', description));
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) throw new AuthError('missing bearer token', challenge());
  const token = match[1];
  let claims: jwt.JwtPayload;
  try {
    claims = jwt.verify(token, settings.key, {
      algorithms: ['HS256'],
      issuer: settings.issuer,
      audience: settings.audience,
      clockTolerance: settings.clockToleranceSeconds,
      complete: false,
    }) as jwt.JwtPayload;
  } catch (error) {
    throw reject(describeRejection(error));
  }
  // jsonwebtoken checks exp only when present; a token that never expires is refused.
  if (typeof claims.exp !== 'number') throw reject('the token has no expiry (exp)');
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 128) {
    throw reject('the token has no subject (sub)');
  }
  return {
    token,
    clientId: typeof claims.azp === 'string' ? claims.azp : claims.sub,
    scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [],
    expiresAt: claims.exp,
    resourceMetadataUrl,
    extra: { userId: claims.sub, email: claims.email, name: claims.name },
  };
}

/** The user id of an authenticated request. */
export function userIdOf(auth: AuthInfo | undefined): string {
  const userId = auth?.extra?.userId;
  if (typeof userId !== 'string') throw new Error('request reached a tool without authentication');
  return userId;
}

export function hmacKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/** Signs a token for local use (scripts/mint-token, tests). */
export function mintToken(
  settings: { secret: string; issuer: string; audience: string },
  claims: { sub: string; scope?: string; email?: string; name?: string },
  expiresInSeconds = 3600,
): string {
  return jwt.sign(claims, settings.secret, {
    algorithm: 'HS256',
    issuer: settings.issuer,
    audience: settings.audience,
    expiresIn: expiresInSeconds,
  });
}
