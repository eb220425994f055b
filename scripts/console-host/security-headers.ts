/**
 * The console's security headers, one definition for `npm start` (host.ts) and the shape CloudFront's
 * response headers policy repeats in production (terraform/modules/console/main.tf; a test compares the two).
 * The SPA loads only its own bundled files, talks only to the gateway and the authorization server, is
 * never framed, and posts forms only to the authorization server (sign-in) or itself. Audio (call
 * recordings) plays from the recordings store's pre-signed URLs, so media-src names that origin too.
 */

export interface ConsoleOrigins {
  /** Origin of the gateway's MCP endpoint, e.g. http://127.0.0.1:8080. */
  gateway: string;
  /** Origin of the authorization server (its issuer), e.g. http://127.0.0.1:8082. */
  auth: string;
  /**
   * Origins call recordings play from (getCallDetails' pre-signed URLs): the S3 emulator locally, the
   * bucket's regional endpoint in production. None: recordings do not play.
   */
  media?: string[];
}

/** Sources in order, each once ('self' may stand for an origin while the system starts). */
const sources = (values: string[]) => [...new Set(values)].join(' ');

export function consoleCsp(origins: ConsoleOrigins): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src ${sources(["'self'", origins.gateway, origins.auth])}`,
    `media-src ${sources(["'self'", ...(origins.media ?? [])])}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    `form-action ${sources([origins.auth, "'self'"])}`,
  ].join('; ');
}

/**
 * Every header a console response carries (files, the fallback, the runtime config and errors alike).
 * No Strict-Transport-Security: locally the console is plain http, where HSTS is ignored at best and
 * pins 127.0.0.1 to https at worst; CloudFront adds it in production.
 */
export function securityHeaders(origins: ConsoleOrigins): Record<string, string> {
  return {
    'Content-Security-Policy': consoleCsp(origins),
    'X-Content-Type-Options': 'nosniff',
    // The OAuth callback URL carries the authorization code: it never leaves in a Referer.
    'Referrer-Policy': 'no-referrer',
    // Older browsers without frame-ancestors.
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}

/** An origin (scheme://host[:port]) of a URL, for the CSP. */
export const originOf = (url: string): string => new URL(url).origin;
