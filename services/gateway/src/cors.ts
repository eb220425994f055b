import type { IncomingMessage, ServerResponse } from 'node:http';
import { validateOriginHeader } from '@modelcontextprotocol/server';

/** What a browser client of /mcp sends (the SDK's Streamable HTTP client) and must be able to read back. */
export const CORS_ALLOW_METHODS = 'GET, POST, DELETE';
export const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID';
export const CORS_EXPOSE_HEADERS = 'Mcp-Session-Id, WWW-Authenticate, Mcp-Protocol-Version';
/** Browsers cache a preflight this long (seconds); Chromium caps it at 7200. */
const PREFLIGHT_MAX_AGE = '600';

/**
 * CORS for the browser clients of the public port (the console): a page whose Origin's host is on
 * MCP_ALLOWED_ORIGIN_HOSTS (the same check /mcp admits browsers by, caller-admission.ts) may call /mcp
 * and read the protected resource metadata from script. Any other Origin gets no CORS header at all,
 * so the browser withholds the answer; /mcp refuses it with 403 besides. Credentials are a bearer token
 * in a header, never a cookie, so Access-Control-Allow-Credentials is not sent.
 */
export function publicCors(allowedOriginHosts: string[]) {
  const allowedOrigin = (req: IncomingMessage): string | undefined => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || origin === '' || origin === 'null') return undefined;
    return validateOriginHeader(origin, allowedOriginHosts).ok ? origin : undefined;
  };
  return {
    /**
     * Answers a preflight (OPTIONS with Access-Control-Request-Method) and returns true; else adds the
     * response headers for an allowed Origin and returns false, the request to be served as usual.
     */
    handle(req: IncomingMessage, res: ServerResponse): boolean {
      // Whatever the Origin, the answer depends on it: caches must not give one origin's answer to another.
      res.setHeader('vary', 'Origin');
      const origin = allowedOrigin(req);
      const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
      if (preflight) {
        if (!origin) {
          res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"origin not allowed"}');
          return true;
        }
        res
          .writeHead(204, {
            'access-control-allow-origin': origin,
            'access-control-allow-methods': CORS_ALLOW_METHODS,
            'access-control-allow-headers': CORS_ALLOW_HEADERS,
            'access-control-max-age': PREFLIGHT_MAX_AGE,
          })
          .end();
        return true;
      }
      if (origin) {
        res.setHeader('access-control-allow-origin', origin);
        res.setHeader('access-control-expose-headers', CORS_EXPOSE_HEADERS);
      }
      return false;
    },
  };
}
