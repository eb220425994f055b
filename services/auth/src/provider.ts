import type { Clock, Database, Logger } from '@callgate/common';
import Provider, { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Accounts } from './accounts.js';
import { postgresAdapter } from './adapter.js';
import { authorizationRequests } from './authorization-requests.js';
import { PAGE_HEADERS } from './forms.js';
import { html, page } from './html.js';
import type { AuthKeys } from './keys.js';
import { MANAGE_SCOPES, RESOURCE_SCOPES, USER_SCOPES } from './scopes.js';

export interface ProviderOptions {
  issuer: string;
  /** The gateway's MCP URL: the only resource tokens are issued for, their `aud`. Read per request. */
  resource: () => string;
  keys: AuthKeys;
  db: Database;
  accounts: Accounts;
  clock: Clock;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** A dynamically registered client nobody granted anything is deleted after this long. */
  unusedClientSeconds?: number;
  /** Loopback redirect URIs and client metadata documents on loopback addresses (local runs only). */
  localMode: boolean;
  /** The pre-registered public client (the console). */
  consoleClient: { clientId: string; redirectUris: string[] };
  /** Every outbound fetch for a client (metadata document, jwks_uri): resolves and checks the address before connecting. */
  fetch: NonNullable<Configuration['fetch']>;
  trustProxy: boolean;
  log: Logger;
}

const SIGN_IN_SCOPES = ['openid', 'offline_access'];
/** The console's name, on the consent screen and in the list of connected apps. */
export const CONSOLE_CLIENT_NAME = 'callgate console';
/** A client name as a person reads it: look-alike forms folded (NFKC), case, spaces and punctuation ignored. */
const nameKey = (name: string) =>
  name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/;

/**
 * The OAuth 2.1 authorization server, on oidc-provider (OpenID certified): authorization code with
 * PKCE S256 only, Dynamic Client Registration (RFC 7591), Client ID Metadata Documents (native in
 * oidc-provider 9.13 as an experimental feature, acknowledged below), RFC 8707 resource indicators
 * so every access token is a JWT for the gateway, rotating refresh tokens (a reused one revokes its
 * whole grant), revocation (RFC 7009) and RFC 8414 metadata. Sign-in and consent are our pages
 * (interactions.ts), the storage is PostgreSQL (adapter.ts).
 *
 * On Node 20 oidc-provider prints "Unsupported runtime. Use Node.js v22.x LTS" when it loads: it checks the LTS
 * code name only; nothing it uses is missing on Node 20.18+, and no option silences it (README, "oidc-provider on
 * Node 20"). Harmless.
 */
export function createProvider(options: ProviderOptions): Provider {
  const resourceScopes = Object.keys(RESOURCE_SCOPES).join(' ');
  // apps:manage lists, revokes and creates the person's tokens: only the console (first party) may hold it.
  // A registered or metadata-document client asking for it is granted the rest: with it, an app could mint
  // itself personal access tokens that outlive the revocation of the app, and revoke every other app.
  const thirdPartyScopes = Object.keys(RESOURCE_SCOPES)
    .filter((scope) => !(MANAGE_SCOPES as readonly string[]).includes(scope))
    .join(' ');
  // Every token is signed with the first key's algorithm (ES256 for generated keys).
  const alg = options.keys.jwks.keys[0]?.alg === 'RS256' ? 'RS256' : 'ES256';
  const configuration: Configuration = {
    adapter: postgresAdapter(options.db, options.clock, options.unusedClientSeconds),
    clients: [
      {
        client_id: options.consoleClient.clientId,
        client_name: CONSOLE_CLIENT_NAME,
        token_endpoint_auth_method: 'none',
        application_type: 'web',
        redirect_uris: options.consoleClient.redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    jwks: options.keys.jwks,
    // OAuth 2.1 §2.3.1: a redirect URI is https, or plain http only on a loopback address (native apps'
    // own schemes pass). oidc-provider alone lets a web client register http on any host, where the
    // code would cross the network in the clear. Applies to registered, metadata-document and static clients.
    extraClientMetadata: {
      properties: ['redirect_uris', 'client_name'],
      validator: (_ctx, key, value, metadata) => {
        // The console's name is the first party's: a registered client named so would pass for the console on
        // the consent page and in the list of connected apps (spaces, case, punctuation and look-alike forms aside).
        if (
          key === 'client_name' &&
          metadata.client_id !== options.consoleClient.clientId &&
          nameKey(String(value ?? '')) === nameKey(CONSOLE_CLIENT_NAME)
        ) {
          throw new errors.InvalidClientMetadata(
            `client_name "${CONSOLE_CLIENT_NAME}" is the callgate console's own; choose your app's name`,
          );
        }
        if (key !== 'redirect_uris' || !Array.isArray(value)) return;
        for (const uri of value) {
          const url = URL.parse(String(uri));
          if (url?.protocol === 'http:' && !LOOPBACK_HOST.test(url.hostname)) {
            throw new errors.InvalidRedirectUri(
              'a plain http redirect URI is allowed only on a loopback address (127.0.0.1, [::1], localhost); use https',
            );
          }
        }
      },
    },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      id_token_signed_response_alg: alg,
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    cookies: {
      keys: options.keys.cookies,
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    findAccount: async (_ctx, sub) => {
      const email = await options.accounts.email(sub);
      if (!email) return undefined;
      return { accountId: sub, claims: async () => ({ sub, email }) };
    },
    claims: { openid: ['sub'] },
    // apps:manage is the gateway's scope only (getResourceServerInfo), never a sign-in scope: as one, it would be
    // granted to any client that asked, whatever the resource server allows that client.
    scopes: [...SIGN_IN_SCOPES, ...USER_SCOPES],
    responseTypes: ['code'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      clientIdMetadataDocument: {
        enabled: true,
        ack: 'draft-02',
        cacheDuration: { min: 300, max: 86400 },
      },
      resourceIndicators: {
        enabled: true,
        // A client that names no resource gets the gateway's: this server issues tokens for nothing else.
        defaultResource: () => options.resource(),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator, client) => {
          if (indicator !== options.resource()) {
            throw new errors.InvalidTarget(`this server issues tokens only for ${options.resource()}`);
          }
          return {
            // Asked at authorization, consent and every refresh: a scope left out here is never granted nor issued.
            scope: client?.clientId === options.consoleClient.clientId ? resourceScopes : thirdPartyScopes,
            audience: options.resource(),
            accessTokenTTL: options.accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg } },
          };
        },
      },
    },
    // The grant id travels in the token, so the gateway can ask whether the grant still stands.
    extraTokenClaims: (_ctx, token) => ('grantId' in token && token.grantId ? { gid: token.grantId } : undefined),
    // MCP clients rarely ask for offline_access; a refresh token is what keeps them signed in.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Every refresh rotates the token; presenting a used one revokes the whole grant (reuse detection).
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: options.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      Interaction: 3600,
      Session: 14 * 86400,
      Grant: options.refreshTokenTtlSeconds,
      RefreshToken: options.refreshTokenTtlSeconds,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // Token and registration endpoints answer browser clients only from their registered redirect origins.
    clientBasedCORS: (_ctx, origin, client) =>
      origin !== 'null' && (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin),
    renderError: async (ctx: KoaContextWithOIDC, out) => {
      // The same headers as our own pages: no framing, nothing loaded from elsewhere.
      ctx.set(PAGE_HEADERS);
      ctx.body = page(
        'Sign-in could not continue',
        html`<p class="error">${out.error_description ?? out.error}</p><p class="note">(${out.error})</p>`,
      );
    },
    fetch: options.fetch,
  };
  const provider = new Provider(options.issuer, configuration);
  // Behind the load balancer the scheme and client address come from X-Forwarded-*; never trusted otherwise.
  provider.proxy = options.trustProxy;
  // No scope asked for: the default scopes (GET /auth and PAR); POST /auth: 405 (authorization-requests.ts says why).
  provider.use(authorizationRequests);
  provider.on('server_error', (_ctx, error) => options.log.error({ err: error }, 'authorization server error'));
  provider.on('grant.revoked', (_ctx, grantId) => options.log.info({ grantId }, 'grant revoked'));
  return provider;
}
