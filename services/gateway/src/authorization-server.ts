import { createHash } from 'node:crypto';
import {
  type Clock,
  ConfigError,
  connectService,
  isGrpcError,
  PERSONAL_TOKEN_PREFIX,
  PersonalTokenFormat,
  type ServiceMetrics,
  systemClock,
} from '@callgate/common';
import { status } from '@grpc/grpc-js';
import type jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { jwksKeys, type PersonalTokenVerifier, type TokenSettings } from './auth.js';
import type { GatewayConfig } from './config.js';

type Verdict = string | undefined;

/**
 * Trust in the callgate authorization server (the auth service, AUTH_ISSUER): its JWT access tokens
 * are verified like any issuer's (its JWKS, `iss`, `aud` = this gateway's MCP URL, exp), and then
 * the auth service is asked (gRPC CheckAccess) whether the token's grant and account still stand.
 * Answers are cached per token for AUTH_CHECK_CACHE_MS, so a revoked grant, a sign-out everywhere or a
 * deleted account is refused within that bound on every replica (default 15 s), where waiting for
 * the token to expire would take its whole lifetime (10 min). Personal access tokens (cgp_…) are
 * opaque and verified there too, under the same cache, once their keyed checksum holds here.
 */
export function authorizationServerTrust(
  config: Pick<
    GatewayConfig,
    | 'AUTH_ISSUER'
    | 'AUTH_JWKS_URL'
    | 'AUTH_SERVICE_ADDR'
    | 'AUTH_CHECK_CACHE_MS'
    | 'PERSONAL_TOKEN_CHECKSUM_KEYS'
    | 'JWT_CLOCK_TOLERANCE_SECONDS'
    | 'JWT_JWKS_COOLDOWN_MS'
    | 'GRPC_DEADLINE_MS'
  >,
  mcpUrl: () => string,
  metrics: ServiceMetrics,
  /** Answers are reused while younger than AUTH_CHECK_CACHE_MS by this clock (tests move it). */
  clock: Clock = systemClock,
  /** Answers kept per kind (live, refused); tests make it small to show a flood of refusals evicts no live one. */
  personalAnswers = 50_000,
): { settings: TokenSettings; issuer: string } | undefined {
  if (!config.AUTH_ISSUER) return undefined;
  const problems: { variable: string; message: string }[] = [];
  if (!config.AUTH_SERVICE_ADDR) {
    problems.push({
      variable: 'AUTH_SERVICE_ADDR',
      message: 'is required with AUTH_ISSUER (the auth service answers whether tokens still stand)',
    });
  }
  if (!config.PERSONAL_TOKEN_CHECKSUM_KEYS) {
    problems.push({
      variable: 'PERSONAL_TOKEN_CHECKSUM_KEYS',
      message:
        "is required with AUTH_ISSUER: the auth service's value, so forged personal access tokens are refused here without asking it",
    });
  }
  if (!config.AUTH_SERVICE_ADDR || !config.PERSONAL_TOKEN_CHECKSUM_KEYS) throw new ConfigError('gateway', problems);
  const format = new PersonalTokenFormat(config.PERSONAL_TOKEN_CHECKSUM_KEYS);
  const issuer = config.AUTH_ISSUER.replace(/\/$/, '');
  const client = connectService('auth', config.AUTH_SERVICE_ADDR, {
    defaultDeadlineMs: config.GRPC_DEADLINE_MS,
    metrics,
  });
  // Ages are checked against the clock rather than lru-cache's ttl, whose 0 means "forever" (AUTH_CHECK_CACHE_MS=0
  // must mean "ask every time") and whose clock a test cannot move.
  const fresh = <T extends { at: number }>(entry: T | undefined) =>
    entry && clock.now() - entry.at < config.AUTH_CHECK_CACHE_MS ? entry : undefined;
  const verdicts = new LRUCache<string, { refused: Verdict; at: number }>({ max: 50_000 });
  const stillValid = async (claims: jwt.JwtPayload): Promise<Verdict> => {
    const key = `${claims.jti ?? ''}:${claims.sub}:${claims.gid ?? ''}:${claims.iat ?? ''}`;
    const cached = fresh(verdicts.get(key));
    if (cached) return cached.refused;
    const answer = await client.checkAccess({
      userId: String(claims.sub),
      grantId: typeof claims.gid === 'string' ? claims.gid : '',
      issuedAt: new Date((claims.iat ?? 0) * 1000).toISOString(),
    });
    const refused = answer.active ? undefined : answer.reason || 'access was revoked';
    verdicts.set(key, { refused, at: clock.now() });
    return refused;
  };
  type PersonalAnswer = { found: Awaited<ReturnType<PersonalTokenVerifier['verify']>>; at: number };
  // Live and refused answers are kept apart: only tokens with a valid keyed checksum get here (real ones,
  // revoked or expired ones, or ones made under a key still listed), and however many of those a client
  // sends they push out only other refusals, never a real token's answer.
  const live = new LRUCache<string, PersonalAnswer>({ max: personalAnswers });
  const refused = new LRUCache<string, PersonalAnswer>({ max: personalAnswers });
  const personalTokens: PersonalTokenVerifier = {
    prefix: PERSONAL_TOKEN_PREFIX,
    shape: (token) => format.shape(token),
    verify: async (token) => {
      // Only a hash of the token is kept in memory.
      const key = createHash('sha256').update(token).digest('base64url');
      const cached = fresh(live.get(key)) ?? fresh(refused.get(key));
      // A cached "live" stops at the token's own expiry: it is not let in for the rest of the cache time.
      if (cached) return cached.found && cached.found.expiresAt * 1000 <= clock.now() ? undefined : cached.found;
      let found: Awaited<ReturnType<PersonalTokenVerifier['verify']>>;
      try {
        const answer = await client.verifyPersonalToken({ token });
        found = {
          userId: answer.userId,
          scopes: answer.scopes,
          expiresAt: Math.floor(Date.parse(answer.expiresAt) / 1000),
        };
      } catch (error) {
        if (!(isGrpcError(error) && error.code === status.UNAUTHENTICATED)) throw error;
        found = undefined;
      }
      if (found) {
        live.set(key, { found, at: clock.now() });
        refused.delete(key);
      } else {
        refused.set(key, { found, at: clock.now() });
        live.delete(key);
      }
      return found;
    },
  };
  return {
    issuer,
    settings: {
      algorithms: ['ES256', 'RS256'],
      keyFor: jwksKeys(config.AUTH_JWKS_URL ?? `${issuer}/jwks`, { cooldownMs: config.JWT_JWKS_COOLDOWN_MS }),
      issuer,
      audience: mcpUrl,
      clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
      stillValid,
      personalTokens,
    },
  };
}

/** The gateway's own token settings with the authorization server's trusted beside them (or alone). */
export function withAuthorizationServer(
  own: TokenSettings | undefined,
  authServer: ReturnType<typeof authorizationServerTrust>,
): TokenSettings {
  if (!authServer) return own as TokenSettings;
  if (!own) return authServer.settings;
  return { ...own, alsoTrusted: [authServer.settings], personalTokens: authServer.settings.personalTokens };
}
