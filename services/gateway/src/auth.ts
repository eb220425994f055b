import { createSecretKey, KeyObject } from 'node:crypto';
import { ConfigError, type PersonalTokenShape } from '@callgate/common';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { createRemoteJWKSet } from 'jose';
import jwt from 'jsonwebtoken';
import type { GatewayConfig } from './config.js';

/** Finds the key that verifies a token with this header; throws KeyRejected or AuthUnavailableError. */
export type KeyResolver = (header: jwt.JwtHeader) => Promise<KeyObject>;

export interface TokenSettings {
  /** The signature algorithms accepted: the token's `alg` must be one of them (never `none`). */
  algorithms: jwt.Algorithm[];
  /**
   * The HS key (as a KeyObject: given a string, jsonwebtoken first tries to parse it as a public key
   * and fails, on every request; that exception path was 12% of the gateway's CPU under load), or
   * the issuer's public key for the token's `kid`, from its JWKS.
   */
  keyFor: KeyResolver;
  issuer: string;
  /** The required `aud`; a function when it is the gateway's own URL, known once it listens. */
  audience: string | (() => string);
  clockToleranceSeconds: number;
  /**
   * Asked once the signature and claims hold: a reason to refuse the token, or undefined. The
   * authorization server's tokens ask it whether their grant and account still stand.
   */
  stillValid?: (claims: jwt.JwtPayload) => Promise<string | undefined>;
  /** Other issuers trusted as well, each with its own keys and audience; a token is checked by its `iss`. */
  alsoTrusted?: TokenSettings[];
  /** Opaque personal access tokens (by prefix), verified by the service that issued them. */
  personalTokens?: PersonalTokenVerifier;
}

/** Verifies opaque personal access tokens; throws AuthError-free: resolves undefined when the token is not live. */
export interface PersonalTokenVerifier {
  prefix: string;
  /** Told locally by the keyed checksum: only a 'valid' token is worth asking the issuer about. */
  shape(token: string): PersonalTokenShape;
  verify(token: string): Promise<{ userId: string; scopes: string[]; expiresAt: number } | undefined>;
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
 * The token could not be checked because the issuer's keys could not be fetched (JWKS endpoint down,
 * slow, or answering nonsense): not the client's fault, so 503 and a retry rather than 401.
 */
export class AuthUnavailableError extends Error {
  override readonly name = 'AuthUnavailableError';
  constructor(options: { cause: unknown }, message = 'the token signing keys cannot be fetched') {
    super(message, options);
  }
}

/** The token names a key that cannot verify it; the message is a fixed phrase safe to send back. */
class KeyRejected extends Error {
  override readonly name = 'KeyRejected';
}

/** Symmetric algorithms are only for a shared secret; asymmetric ones only for a JWKS (no HS/RS confusion). */
const HMAC = /^HS(256|384|512)$/;

/**
 * What a client is told about a rejected token: fixed phrases, never the library's message, which
 * can quote the token itself (header injection) or the expected issuer and audience.
 */
function describeRejection(error: unknown): string {
  if (error instanceof jwt.TokenExpiredError) return 'the token has expired';
  if (error instanceof jwt.NotBeforeError) return 'the token is not valid yet';
  if (error instanceof KeyRejected) return error.message;
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('jwt audience invalid')) return 'the token is for another audience';
  if (message.startsWith('jwt issuer invalid')) return 'the token is from an unknown issuer';
  if (message === 'invalid signature') return 'the token signature is invalid';
  if (message === 'invalid algorithm' || message === 'jwt signature is required')
    return 'the token algorithm is not allowed';
  // jsonwebtoken's own key-type checks (an RSA key for ES256, a public key for HS256).
  if (/^secretOrPublicKey must be an? a?symmetric key|^"alg" parameter|^Invalid key for this operation/.test(message))
    return 'the token algorithm does not match its key';
  return 'the token is malformed';
}

/**
 * Verifies `Authorization: Bearer <jwt>`: the algorithm from the configured allow-list (never
 * `none`, never one the token picks), the signature with the shared secret or the issuer's key for
 * the token's `kid`, issuer, audience, a required exp and nbf with bounded skew, and a subject (the
 * user id). Throws AuthError (401) or AuthUnavailableError (the issuer's keys cannot be fetched).
 */
export async function authenticate(
  header: string | undefined,
  settings: TokenSettings,
  resourceMetadataUrl: string,
): Promise<AuthInfo> {
  const challenge = (error?: string, description?: string) =>
    [
      `Bearer resource_metadata="${resourceMetadataUrl}"`,
      ...(error ? [`error="${error}"`, `error_description="${description}"`] : []),
    ].join(', ');
  const reject = (description: string) => new AuthError(description, challenge('invalid_token', description));
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) throw new AuthError('missing bearer token', challenge());
  const token = match[1];
  const personal = settings.personalTokens;
  if (personal && token.startsWith(personal.prefix)) {
    // Junk, typos and forgeries are told here by shape and keyed checksum: a made-up token costs no call
    // to the auth service (each call is a hash and a database statement there: amplification otherwise).
    const shape = personal.shape(token);
    if (shape === 'outdated') {
      throw reject(
        'the personal access token is of an old format no longer accepted; create a new one on the personal-tokens page',
      );
    }
    if (shape !== 'valid') throw reject('the personal access token is malformed');
    let found: Awaited<ReturnType<PersonalTokenVerifier['verify']>>;
    try {
      found = await personal.verify(token);
    } catch (error) {
      throw new AuthUnavailableError({ cause: error }, 'the auth service cannot be reached');
    }
    if (!found) throw reject('the personal access token is unknown, expired or revoked');
    return {
      token,
      clientId: `personal-token:${found.userId}`,
      scopes: found.scopes,
      expiresAt: found.expiresAt,
      resourceMetadataUrl,
      extra: { userId: found.userId },
    };
  }
  // The header is read before any key is looked up, so that `none`, a disallowed algorithm or a
  // malformed token never costs a JWKS fetch.
  let decoded: jwt.Jwt | null;
  try {
    decoded = jwt.decode(token, { complete: true });
  } catch {
    decoded = null;
  }
  if (!decoded || typeof decoded.header !== 'object' || decoded.header === null) throw reject('the token is malformed');
  // The issuer the token names picks its keys and audience (unverified until the signature holds).
  const named = typeof decoded.payload === 'object' ? decoded.payload.iss : undefined;
  const trusted = [settings, ...(settings.alsoTrusted ?? [])].find((s) => s.issuer === named) ?? settings;
  if (!trusted.algorithms.includes(decoded.header.alg as jwt.Algorithm)) {
    throw reject('the token algorithm is not allowed');
  }
  let claims: jwt.JwtPayload;
  try {
    const key = await trusted.keyFor(decoded.header);
    claims = jwt.verify(token, key, {
      algorithms: trusted.algorithms,
      issuer: trusted.issuer,
      audience: typeof trusted.audience === 'function' ? trusted.audience() : trusted.audience,
      clockTolerance: trusted.clockToleranceSeconds,
      complete: false,
    }) as jwt.JwtPayload;
  } catch (error) {
    if (error instanceof AuthUnavailableError) throw error;
    throw reject(describeRejection(error));
  }
  // jsonwebtoken checks exp only when present; a token that never expires is refused.
  if (typeof claims.exp !== 'number') throw reject('the token has no expiry (exp)');
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 128) {
    throw reject('the token has no subject (sub)');
  }
  if (trusted.stillValid) {
    let refused: string | undefined;
    try {
      refused = await trusted.stillValid(claims);
    } catch (error) {
      throw new AuthUnavailableError({ cause: error }, 'the auth service cannot be reached');
    }
    if (refused) throw reject(refused);
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

/** One shared secret for every token (HS256 and friends; local use). */
export function secretKeys(secret: string): KeyResolver {
  const key = hmacKey(secret);
  return async () => key;
}

export interface JwksOptions {
  /** How long a fetched key set is trusted before it is fetched again. Default 10 minutes. */
  cacheMaxAgeMs?: number;
  /**
   * After a fetch, how long a token naming a kid not in the set is refused without fetching again.
   * Default 30 s. A rotated key is published before it signs (see the README), so a genuine kid is
   * already in the set; junk kids can cost at most one fetch per cooldown and never take a known key away.
   */
  cooldownMs?: number;
  /** Timeout of one JWKS fetch. Default 5 s. */
  timeoutMs?: number;
}

/** jose's codes for a token whose header names no usable key in the set: the token's fault (401). */
const KEY_NOT_IN_SET = new Set([
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JOSE_NOT_SUPPORTED',
]);

/**
 * The issuer's public keys from its JWKS, by the token's `kid` and `alg`, through jose's remote key set:
 * the whole set is fetched and cached, one fetch at a time, and a kid not in it triggers a refetch only
 * once the cooldown has passed. (jwks-rsa, used before, rate-limited refetches per unknown kid with a
 * budget that known keys needed too, so a stranger sending junk kids locked every user out: attack finding.)
 * A key that declares its own `alg` only verifies tokens of that algorithm.
 */
export function jwksKeys(url: string, options: JwksOptions = {}): KeyResolver {
  const keySet = createRemoteJWKSet(new URL(url), {
    cacheMaxAge: options.cacheMaxAgeMs ?? 10 * 60_000,
    cooldownDuration: options.cooldownMs ?? 30_000,
    timeoutDuration: options.timeoutMs ?? 5000,
  });
  // jose hands back the same imported key for a JWK and alg, so each is converted once.
  const converted = new WeakMap<object, KeyObject>();
  return async (header) => {
    const kid = header.kid;
    if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > 256)) {
      throw new KeyRejected('the token is malformed');
    }
    if (typeof header.alg !== 'string') throw new KeyRejected('the token is malformed');
    let imported: Parameters<typeof KeyObject.from>[0] | Uint8Array;
    try {
      imported = await keySet({ alg: header.alg, ...(kid === undefined ? {} : { kid }) });
    } catch (error) {
      if (KEY_NOT_IN_SET.has((error as { code?: string }).code ?? '')) {
        // The kid is in the set but its key is for another algorithm (a key that declares its alg).
        const known = kid !== undefined && keySet.jwks()?.keys.some((k) => k.kid === kid);
        throw new KeyRejected(
          known ? 'the token algorithm does not match its key' : 'the token signing key is unknown',
        );
      }
      throw new AuthUnavailableError({ cause: error });
    }
    if (imported instanceof Uint8Array) throw new KeyRejected('the token signing key is unknown');
    let key = converted.get(imported);
    if (!key) {
      key = KeyObject.from(imported);
      converted.set(imported, key);
    }
    return key;
  };
}

const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/**
 * Token settings from the configuration: exactly one of JWT_SECRET (HMAC, local use) and
 * JWT_JWKS_URL (the issuer's public keys), and an algorithm allow-list that fits it. Throws
 * ConfigError naming the variables.
 */
type TokenConfig = Pick<
  GatewayConfig,
  | 'JWT_SECRET'
  | 'JWT_JWKS_URL'
  | 'JWT_JWKS_COOLDOWN_MS'
  | 'JWT_ALGORITHMS'
  | 'JWT_ISSUER'
  | 'JWT_AUDIENCE'
  | 'JWT_CLOCK_TOLERANCE_SECONDS'
>;
export function tokenSettingsFrom(config: TokenConfig): TokenSettings;
export function tokenSettingsFrom(config: TokenConfig, options: { authServer?: boolean }): TokenSettings | undefined;
export function tokenSettingsFrom(
  config: TokenConfig,
  /** The callgate authorization server is trusted (AUTH_ISSUER): then neither variable is needed. */
  options: { authServer?: boolean } = {},
): TokenSettings | undefined {
  const problems: { variable: string; message: string }[] = [];
  const { JWT_SECRET: secret, JWT_JWKS_URL: jwksUrl } = config;
  if (!secret && !jwksUrl && options.authServer) return undefined;
  if (!secret && !jwksUrl) {
    problems.push({
      variable: 'JWT_SECRET',
      message:
        'is required but not set: set exactly one of JWT_SECRET (HS256, local use) and JWT_JWKS_URL (RS256/ES256 keys of your identity provider), or AUTH_ISSUER (the callgate auth service)',
    });
  }
  if (secret && jwksUrl) {
    problems.push({
      variable: 'JWT_JWKS_URL',
      message: 'cannot be set together with JWT_SECRET: set exactly one of JWT_SECRET and JWT_JWKS_URL',
    });
  }
  if (jwksUrl) {
    const parsed = new URL(jwksUrl);
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && LOOPBACK_HOST.test(parsed.hostname))) {
      problems.push({
        variable: 'JWT_JWKS_URL',
        message: 'must be an https URL (plain http only for a loopback host)',
      });
    }
  }
  const algorithms: jwt.Algorithm[] = config.JWT_ALGORITHMS ?? (jwksUrl ? ['RS256', 'ES256'] : ['HS256']);
  if (secret && !jwksUrl) {
    const wrong = algorithms.filter((a) => !HMAC.test(a));
    if (wrong.length) {
      problems.push({
        variable: 'JWT_ALGORITHMS',
        message: `with JWT_SECRET only HS256, HS384 and HS512 apply, not ${wrong.join(', ')}`,
      });
    }
  }
  if (jwksUrl && !secret) {
    const wrong = algorithms.filter((a) => HMAC.test(a));
    if (wrong.length) {
      problems.push({
        variable: 'JWT_ALGORITHMS',
        message: `with JWT_JWKS_URL only RS*, PS* and ES* apply, not ${wrong.join(', ')} (anyone holding the public key could sign)`,
      });
    }
  }
  if (problems.length) throw new ConfigError('gateway', problems);
  return {
    algorithms,
    keyFor: jwksUrl ? jwksKeys(jwksUrl, { cooldownMs: config.JWT_JWKS_COOLDOWN_MS }) : secretKeys(secret as string),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
  };
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
