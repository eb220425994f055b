/**
 * Signing in: authorization code + PKCE as the pre-registered public client, driven by the official
 * SDK's OAuth client. Everything it keeps (tokens, verifier, discovery) lives in sessionStorage: it
 * ends with the tab, and no other tab or origin reads it.
 */
import type { OAuthClientProvider, OAuthDiscoveryState, OAuthTokens } from '@modelcontextprotocol/client';
import type { ConsoleConfig } from './config';

/** What the console asks for (the contract of issue 21); the consent page lists them. */
export const CONSOLE_SCOPES =
  'openid offline_access calls:read calls:write profile:read profile:write credits:read apps:manage';

const PREFIX = 'callgate.console.';
const KEYS = { tokens: 'tokens', verifier: 'verifier', discovery: 'discovery', returnTo: 'returnTo' } as const;

function load<T>(key: string): T | undefined {
  const raw = sessionStorage.getItem(PREFIX + key);
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}
const store = (key: string, value: unknown) => sessionStorage.setItem(PREFIX + key, JSON.stringify(value));
const drop = (key: string) => sessionStorage.removeItem(PREFIX + key);

/** Only same-origin paths come back from storage, so a planted value cannot send anyone elsewhere. */
export function takeReturnPath(): string {
  const path = load<string>(KEYS.returnTo);
  drop(KEYS.returnTo);
  return typeof path === 'string' && path.startsWith('/') && !path.startsWith('//') ? path : '/';
}

export class ConsoleAuth implements OAuthClientProvider {
  constructor(private readonly config: ConsoleConfig) {}

  get redirectUrl(): string {
    return `${window.location.origin}/callback`;
  }
  get clientMetadata() {
    return {
      client_name: 'callgate console',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: CONSOLE_SCOPES,
    };
  }
  /** Pre-registered: never Dynamic Client Registration. */
  clientInformation() {
    return { client_id: this.config.clientId };
  }
  tokens() {
    return load<OAuthTokens>(KEYS.tokens);
  }
  saveTokens(tokens: OAuthTokens) {
    store(KEYS.tokens, tokens);
  }
  /** Remembers the page to come back to, asks for the console's scopes, and leaves for the sign-in page. */
  redirectToAuthorization(url: URL) {
    const here = window.location.pathname + window.location.search;
    if (here !== '/callback' && !here.startsWith('/signed-out')) store(KEYS.returnTo, here);
    url.searchParams.set('scope', CONSOLE_SCOPES);
    window.location.assign(url.href);
  }
  saveCodeVerifier(verifier: string) {
    store(KEYS.verifier, verifier);
  }
  codeVerifier() {
    const verifier = load<string>(KEYS.verifier);
    if (!verifier) throw new Error('The sign-in was started in another tab or has expired: sign in again.');
    return verifier;
  }
  saveDiscoveryState(state: OAuthDiscoveryState) {
    store(KEYS.discovery, state);
  }
  discoveryState() {
    return load<OAuthDiscoveryState>(KEYS.discovery);
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'tokens') drop(KEYS.tokens);
    if (scope === 'all' || scope === 'verifier') drop(KEYS.verifier);
    if (scope === 'all' || scope === 'discovery') drop(KEYS.discovery);
  }

  get signedIn(): boolean {
    return Boolean(this.tokens()?.access_token);
  }

  /**
   * Signing out: the refresh token is revoked at the authorization server (RFC 7009), which ends the
   * grant and its access tokens, then everything kept here is dropped. A failed revocation still
   * clears the tab, and says so.
   */
  async signOut(): Promise<{ revoked: boolean }> {
    const tokens = this.tokens();
    let revoked = false;
    try {
      const endpoint = await this.revocationEndpoint();
      const token = tokens?.refresh_token ?? tokens?.access_token;
      if (endpoint && token) {
        const response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            token,
            token_type_hint: tokens?.refresh_token ? 'refresh_token' : 'access_token',
            client_id: this.config.clientId,
          }),
        });
        revoked = response.ok;
      }
    } catch {
      revoked = false;
    }
    for (const key of Object.values(KEYS)) drop(key);
    return { revoked };
  }

  private async revocationEndpoint(): Promise<string | undefined> {
    const metadata = this.discoveryState()?.authorizationServerMetadata as { revocation_endpoint?: string } | undefined;
    const known = metadata?.revocation_endpoint;
    if (known) return known;
    const issuer = this.config.issuer.replace(/\/$/, '');
    const response = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
    if (!response.ok) return undefined;
    return ((await response.json()) as { revocation_endpoint?: string }).revocation_endpoint;
  }
}
