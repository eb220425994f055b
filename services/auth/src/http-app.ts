import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Logger } from '@callgate/common';
import ipaddr from 'ipaddr.js';
import type Provider from 'oidc-provider';
import { Counter, type Registry } from 'prom-client';
import { type AccountDeletionPageDeps, serveAccountDeletionPage } from './account-deletion-page.js';
import { type AccountPagesDeps, serveAccountPage } from './account-pages.js';
import { FormError, sendPage } from './forms.js';
import { html, page } from './html.js';
import { type InteractionDeps, serveInteraction } from './interactions.js';
import { type PersonalTokenPagesDeps, servePersonalTokenPage } from './personal-token-pages.js';
import { serveUpstreamCallback, UPSTREAM_CALLBACK } from './upstream-pages.js';

const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]{1,100})(?:\/(login|consent|upstream))?$/;
/** The longest request line + query oidc-provider is handed (authorization requests carry a few parameters). */
const MAX_URL_LENGTH = 8192;

/**
 * The client's address, for per-address limits: the socket's, or the load balancer's last X-Forwarded-For
 * hop, as the key a client cannot vary at will. An IPv6 client counts by its /64 (one host or one site is
 * given a whole /64: keyed by the full address, it had 2^64 fresh budgets for registrations, sign-ins and
 * lockouts), and an IPv4 client seen as IPv4-mapped IPv6 (::ffff:a.b.c.d, a dual-stack listener) as its
 * IPv4 address. Anything not an address is kept as it is (cut to 64 characters).
 */
export function clientAddressOf(trustProxy: boolean): (req: IncomingMessage) => string {
  return (req) => {
    const forwarded = trustProxy
      ? String(req.headers['x-forwarded-for'] ?? '')
          .split(',')
          .pop()
          ?.trim()
      : undefined;
    return addressKey(forwarded || req.socket.remoteAddress || 'unknown');
  };
}

/** What a per-address limit counts by: an IPv4 address, an IPv6 /64 (`2001:db8:1:2::/64`), or the text as given. */
export function addressKey(address: string): string {
  if (!ipaddr.isValid(address)) return address.slice(0, 64);
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const prefix = (parsed as ipaddr.IPv6).toByteArray().slice(0, 8);
  return `${ipaddr.fromByteArray([...prefix, 0, 0, 0, 0, 0, 0, 0, 0]).toString()}/64`;
}

/**
 * The authorization server's public HTTP server: our sign-in, consent and account pages, and
 * everything else (metadata, /auth, /token, /reg, /token/revocation, /jwks) to oidc-provider.
 * The provider is set once the server listens (its issuer may name the port the OS picked).
 */
export function createAuthHttpServer(options: {
  pages: Omit<InteractionDeps, 'provider'> & AccountPagesDeps & PersonalTokenPagesDeps & AccountDeletionPageDeps;
  /** Counts one Dynamic Client Registration from the address; false when over the hourly limit. */
  mayRegister: (address: string) => Promise<boolean>;
  registry: Registry;
  log: Logger;
}): { server: Server; setProvider: (provider: Provider) => void } {
  let provider: Provider | undefined;
  let callback: ReturnType<Provider['callback']> | undefined;
  const requests = new Counter({
    name: 'auth_http_requests_total',
    help: 'Requests to the authorization server, by route and status.',
    labelNames: ['route', 'status'],
    registers: [options.registry],
  });
  const server = createServer((req, res) => {
    const url = URL.parse(req.url ?? '/', 'http://auth.invalid');
    const path = url?.pathname ?? '/';
    const interaction = INTERACTION.exec(path);
    const route = interaction
      ? 'interaction'
      : path.startsWith('/.well-known/')
        ? 'metadata'
        : path.split('/')[1] || 'root';
    res.once('finish', () => requests.inc({ route: route.slice(0, 32), status: String(res.statusCode) }));
    const fail = (error: unknown) => {
      if (error instanceof FormError)
        return sendPage(res, error.status, page('Request refused', html`<p class="error">${error.message}</p>`));
      options.log.error({ err: error, path }, 'auth request failed');
      if (!res.headersSent) sendPage(res, 500, page('Something went wrong', html`<p>Try again in a moment.</p>`));
      else res.destroy();
    };
    if (!url || (req.url ?? '').length > MAX_URL_LENGTH) {
      return sendPage(res, 414, page('Request refused', html`<p class="error">The address is too long.</p>`));
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (!provider || !callback) {
      res.writeHead(503, { 'retry-after': '1' }).end();
      return;
    }
    const upstreamCallback = UPSTREAM_CALLBACK.exec(path);
    if (upstreamCallback?.[1]) {
      serveUpstreamCallback({ ...options.pages, provider }, req, res, upstreamCallback[1]).catch(fail);
      return;
    }
    if (interaction?.[1]) {
      serveInteraction({ ...options.pages, provider }, req, res, interaction[1], interaction[2]).catch(
        (error: unknown) => {
          // An unknown or expired interaction (no cookie, a stale uid) is the person's situation, not a fault.
          if ((error as { name?: string }).name === 'SessionNotFound') {
            return sendPage(
              res,
              400,
              page(
                'Sign-in expired',
                html`<p>This sign-in is no longer open. Go back to your app and start again.</p>`,
              ),
            );
          }
          fail(error);
        },
      );
      return;
    }
    if (path === '/personal-tokens') {
      servePersonalTokenPage(options.pages, req, res).catch(fail);
      return;
    }
    if (path === '/delete-account') {
      serveAccountDeletionPage(options.pages, req, res).catch(fail);
      return;
    }
    if (path === '/reg' && req.method === 'POST') {
      // Each registration is a stored client (up to tens of KB): one address may make only a few an hour.
      options
        .mayRegister(options.pages.clientAddress(req))
        .then((allowed) => {
          if (allowed) return (callback as NonNullable<typeof callback>)(req, res);
          req.resume();
          res
            .writeHead(429, { 'content-type': 'application/json', 'retry-after': '3600', 'cache-control': 'no-store' })
            .end(
              JSON.stringify({
                error: 'too_many_requests',
                error_description: 'too many client registrations from this address; try again in an hour',
              }),
            );
        })
        .catch(fail);
      return;
    }
    serveAccountPage(options.pages, req, res, url)
      .then((served) => {
        if (!served) (callback as NonNullable<typeof callback>)(req, res);
      })
      .catch(fail);
  });
  return {
    server,
    setProvider: (value) => {
      provider = value;
      callback = value.callback();
    },
  };
}
