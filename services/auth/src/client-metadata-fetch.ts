import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { ConfigError } from '@callgate/common';
import type { Configuration } from 'oidc-provider';

type Fetch = NonNullable<Configuration['fetch']>;

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A loopback host: 127.0.0.0/8, ::1 or localhost (what a developer's own machine serves on). */
export function isLoopbackHost(hostname: string): boolean {
  if (LOOPBACK_NAMES.has(hostname)) return true;
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}

/**
 * How the authorization server fetches Client ID Metadata Documents. Outside local mode: undefined,
 * so oidc-provider's own fetch runs with its SSRF guard (a dispatcher that drops connections to
 * private, loopback and other special-use addresses), its 2.5 s timeout and 5 KiB body limit.
 *
 * In local mode (AUTH_LOCAL_MODE, a developer's machine or a test) a document on a loopback https
 * URL is fetched too, so a client running beside `npm start` can name itself by URL; its
 * certificate is checked against the public roots plus the CA in AUTH_CIMD_EXTRA_CA_FILE (a
 * self-signed local CA). Every other URL still goes through oidc-provider's guarded dispatcher, so
 * private addresses (10/8, 169.254/16, …) stay refused in local mode as well. The body limit and
 * timeout are oidc-provider's, applied to whatever this returns.
 */
export function clientMetadataFetch(config: {
  AUTH_LOCAL_MODE: boolean;
  AUTH_CIMD_EXTRA_CA_FILE?: string | undefined;
}): Fetch | undefined {
  if (config.AUTH_CIMD_EXTRA_CA_FILE && !config.AUTH_LOCAL_MODE) {
    throw new ConfigError('auth', [
      { variable: 'AUTH_CIMD_EXTRA_CA_FILE', message: 'is honoured only with AUTH_LOCAL_MODE=true; unset it' },
    ]);
  }
  if (!config.AUTH_LOCAL_MODE) return undefined;
  let ca = [...rootCertificates];
  if (config.AUTH_CIMD_EXTRA_CA_FILE) {
    try {
      ca = [...ca, readFileSync(config.AUTH_CIMD_EXTRA_CA_FILE, 'utf8')];
    } catch (error) {
      throw new ConfigError('auth', [
        { variable: 'AUTH_CIMD_EXTRA_CA_FILE', message: `cannot be read: ${(error as Error).message}` },
      ]);
    }
  }
  return async (url, options) => {
    const target = new URL(url instanceof Request ? url.url : url);
    if (target.protocol !== 'https:' || !isLoopbackHost(target.hostname)) return globalThis.fetch(url, options);
    return loopbackGet(target, options ?? {}, ca);
  };
}

/** A GET over node:https with the given CAs; redirects are not followed (oidc-provider asks for manual). */
function loopbackGet(target: URL, options: RequestInit, ca: string[]): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    new Headers(options.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const req = request(target, { method: 'GET', headers, ca, signal: options.signal ?? undefined }, (res) => {
      const responseHeaders = new Headers();
      for (const [key, value] of Object.entries(res.headers)) {
        if (value !== undefined) responseHeaders.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const status = res.statusCode ?? 502;
      // A Response may not carry a body with these statuses.
      const body = [101, 204, 205, 304].includes(status) ? null : (Readable.toWeb(res) as ReadableStream);
      if (!body) res.resume();
      resolve(new Response(body, { status, headers: responseHeaders }));
    });
    req.on('error', reject);
    req.end();
  });
}
