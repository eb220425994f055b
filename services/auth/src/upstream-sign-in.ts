import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock, Database, Logger } from '@callgate/common';
import * as oidc from 'openid-client';
import type { UpstreamProvider } from './upstream-config.js';
import type { UpstreamClaims } from './upstream-identities.js';

/** How long a person may take at the provider (sign in, maybe create an account there, consent). */
const REQUEST_TTL_SECONDS = 600;
/** Each request to a provider (discovery, token, JWKS, userinfo) gives up after this long. */
const PROVIDER_TIMEOUT_SECONDS = 10;

const hashOf = (state: string) => createHash('sha256').update(state).digest('base64url');

export type UpstreamStart = { url: URL; state: string } | { problem: 'unknown-provider' | 'unavailable' };

export type UpstreamFinish =
  | { interaction: string; claims: UpstreamClaims }
  | {
      problem: 'unknown-provider' | 'state' | 'denied' | 'upstream-error' | 'bad-answer' | 'unavailable';
      /** The sign-in it belonged to, when known (the page links back to it). */
      interaction?: string;
      detail?: string;
    };

/**
 * Sign-in at an upstream OpenID Connect provider (Google, …) as a relying party, on openid-client: the
 * certified relying-party library by the author of oidc-provider (our authorization server), which does
 * discovery, the authorization code flow with PKCE (S256), state and nonce, the token exchange with the
 * client secret, and ID token validation (issuer, audience, expiry, nonce, signature against the provider's
 * JWKS: enableNonRepudiationChecks, so a token is checked even where TLS alone would be trusted). Nothing of
 * that is hand-written here.
 *
 * Each request is stored (auth.upstream_requests, keyed by the hash of its state) with the sign-in it belongs
 * to and the provider it went to, and consumed by its answer: a replayed or forged answer finds nothing. The
 * state also sits in a cookie of the browser that started it (upstream-pages.ts), so an answer arriving in
 * another browser (login CSRF: an attacker's code planted in a victim's browser) is refused.
 */
export class UpstreamSignIn {
  private readonly configurations = new Map<string, Promise<oidc.Configuration>>();
  private readonly byId: Map<string, UpstreamProvider>;

  constructor(
    private readonly options: {
      providers: UpstreamProvider[];
      db: Database;
      clock: Clock;
      /** The authorization server's public URL: the redirect URIs hang off it. */
      issuer: () => string;
      /** Plain http issuers are allowed (AUTH_LOCAL_MODE; upstream-config.ts refuses them otherwise). */
      localMode: boolean;
      log: Logger;
    },
  ) {
    this.byId = new Map(options.providers.map((p) => [p.id, p]));
  }

  /** The configured providers, in configuration order: the buttons on the sign-in page. */
  get providers(): readonly UpstreamProvider[] {
    return this.options.providers;
  }

  /** Cookies of the flow carry Secure except on plain http in local mode. */
  get secureCookies(): boolean {
    return !this.options.localMode;
  }

  provider(id: string): UpstreamProvider | undefined {
    return this.byId.get(id);
  }

  /** The redirect URI to register at the provider. */
  redirectUri(providerId: string): string {
    return `${this.options.issuer()}/interaction/callback/${providerId}`;
  }

  /** An authorization request to the provider for this sign-in (interaction), stored for its answer. */
  async start(providerId: string, interaction: string): Promise<UpstreamStart> {
    const provider = this.byId.get(providerId);
    if (!provider) return { problem: 'unknown-provider' };
    const config = await this.configuration(provider).catch(() => undefined);
    if (!config) return { problem: 'unavailable' };
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const now = this.options.clock.date();
    await this.options.db.query(
      `INSERT INTO auth.upstream_requests (state_hash, provider, interaction, nonce, code_verifier, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [hashOf(state), provider.id, interaction, nonce, verifier, new Date(now.getTime() + REQUEST_TTL_SECONDS * 1000)],
    );
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri(provider.id),
      scope: provider.scopes.join(' '),
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url, state };
  }

  /**
   * The provider's answer at the callback: `query` is the callback's query string, `browserState` the state
   * the browser's cookie holds. Consumes the stored request whatever happens next (one answer per request).
   */
  async finish(providerId: string, query: URLSearchParams, browserState: string | undefined): Promise<UpstreamFinish> {
    const provider = this.byId.get(providerId);
    if (!provider) return { problem: 'unknown-provider' };
    const state = query.get('state') ?? '';
    if (!state || !browserState || !sameText(state, browserState)) {
      return { problem: 'state', detail: 'the answer does not belong to a sign-in started in this browser' };
    }
    const { rows } = await this.options.db.query<{
      provider: string;
      interaction: string;
      nonce: string;
      code_verifier: string;
      expires_at: Date;
    }>('DELETE FROM auth.upstream_requests WHERE state_hash = $1 RETURNING *', [hashOf(state)]);
    const request = rows[0];
    if (!request || request.expires_at <= this.options.clock.date()) {
      return { problem: 'state', detail: 'the sign-in at the provider was already used or has expired' };
    }
    // Mix-up defence: the answer comes back at the callback of the provider the request went to, or not at all.
    if (request.provider !== provider.id) {
      return {
        problem: 'state',
        interaction: request.interaction,
        detail: 'the answer came back from another provider',
      };
    }
    const interaction = request.interaction;
    const config = await this.configuration(provider).catch(() => undefined);
    if (!config) return { problem: 'unavailable', interaction };
    const current = new URL(this.redirectUri(provider.id));
    current.search = query.toString();
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: request.code_verifier,
        expectedState: state,
        expectedNonce: request.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims();
      if (!idToken) return { problem: 'bad-answer', interaction, detail: 'no ID token' };
      let claims: UpstreamClaims = { sub: idToken.sub, email: idToken.email, email_verified: idToken.email_verified };
      // Some providers put the address only in userinfo; openid-client checks its `sub` is the ID token's.
      if (claims.email === undefined && config.serverMetadata().userinfo_endpoint) {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub);
        claims = { sub: idToken.sub, email: info.email, email_verified: info.email_verified };
      }
      return { interaction, claims };
    } catch (error) {
      if (error instanceof oidc.AuthorizationResponseError) {
        // error=access_denied and the like: the person said no at the provider, or the provider refused.
        return {
          problem: error.error === 'access_denied' ? 'denied' : 'upstream-error',
          interaction,
          detail: error.error,
        };
      }
      const detail = error instanceof oidc.ResponseBodyError ? error.error : (error as Error).message;
      this.options.log.warn(
        { provider: provider.id, code: (error as { code?: string }).code, detail },
        'upstream sign-in answer refused',
      );
      return {
        problem: error instanceof oidc.ResponseBodyError ? 'upstream-error' : 'bad-answer',
        interaction,
        detail,
      };
    }
  }

  /** Forgets requests nobody answered. */
  async sweep(): Promise<void> {
    await this.options.db.query('DELETE FROM auth.upstream_requests WHERE expires_at < $1', [
      this.options.clock.date(),
    ]);
  }

  /**
   * The provider's configuration, discovered on first use (not at start: a provider that is down must not
   * keep the authorization server from starting) and kept; a failed discovery is tried again next time.
   */
  private configuration(provider: UpstreamProvider): Promise<oidc.Configuration> {
    let found = this.configurations.get(provider.id);
    if (!found) {
      const insecure = this.options.localMode && provider.issuer.protocol === 'http:';
      found = oidc.discovery(provider.issuer, provider.clientId, provider.clientSecret, undefined, {
        timeout: PROVIDER_TIMEOUT_SECONDS,
        execute: [oidc.enableNonRepudiationChecks, ...(insecure ? [oidc.allowInsecureRequests] : [])],
      });
      this.configurations.set(provider.id, found);
      found.catch((error: unknown) => {
        this.configurations.delete(provider.id);
        this.options.log.warn(
          { provider: provider.id, issuer: provider.issuer.href, err: error },
          'upstream provider discovery failed',
        );
      });
    }
    return found;
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
