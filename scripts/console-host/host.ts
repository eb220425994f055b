/**
 * The console's static host for local runs (`npm start`, end-to-end tests): serves a built SPA folder
 * (console/dist) on 127.0.0.1 with the production security headers, falls back to index.html for the
 * SPA's own routes (history API), and answers /console-config.json from the running system. Only GET
 * and HEAD; a path that could leave the folder (dot segments, encoded or not, NUL bytes, backslashes,
 * symlinks out of the folder) is refused, never resolved.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { closeHttp, listenHttp } from '@callgate/common';
import { type ConsoleOrigins, originOf, securityHeaders } from './security-headers.js';

/** What the SPA reads at start (docs: the console contract). */
export interface ConsoleConfig {
  mcpUrl: string;
  issuer: string;
  clientId: string;
  /** The sandbox's persona numbers; null when calls go to a real carrier (or in production). */
  sandboxPersonas: { number: string; name: string; description: string }[] | null;
  /** Origins of the recordings' pre-signed URLs, allowed as media-src (the SPA plays them in <audio>). */
  mediaOrigins: string[];
}

export interface ConsoleHostOptions {
  /** The built SPA: index.html and assets/. */
  root: string;
  /** 0: the OS picks. */
  port: number;
  /**
   * Read per request: the gateway's URL is known only after the host listens (auth needs the host's
   * first). Undefined while the system is still starting (requests get 503).
   */
  config: () => ConsoleConfig | undefined;
}

export interface ConsoleHost {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** The redirect URI the console client uses: <origin>/callback. */
  redirectUri: string;
  stop(): Promise<void>;
}

export const CONFIG_PATH = '/console-config.json';
/** Vite's content-hashed output: a file there never changes under its name. */
const IMMUTABLE_PREFIX = '/assets/';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};
export const contentTypeOf = (file: string) =>
  CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

/** Why a request path is refused, or its decoded segments. */
export function requestPath(rawUrl: string | undefined): { segments: string[] } | { refused: string } {
  // Only origin-form targets ("/..."): absolute-form ("http://host/x") and "*" are not for a file server.
  if (!rawUrl?.startsWith('/') || rawUrl.startsWith('//')) return { refused: 'the request target must be a path' };
  const raw = rawUrl.split('?', 1)[0] as string;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return { refused: 'malformed percent-encoding' };
  }
  if (decoded.includes('\0')) return { refused: 'NUL byte in the path' };
  if (decoded.includes('\\')) return { refused: 'backslash in the path' };
  const segments = decoded.split('/').slice(1);
  // Refused rather than normalized: no legitimate console URL has them, and %2e%2e must never mean "up".
  if (segments.some((s) => s === '..' || s === '.')) return { refused: 'dot segment in the path' };
  return { segments: segments.filter(Boolean) };
}

/** A path that names a file (its last segment has an extension) gets 404 when missing, never the SPA. */
const looksLikeFile = (segments: string[]) => /\.[A-Za-z0-9]+$/.test(segments.at(-1) ?? '');

export async function startConsoleHost(options: ConsoleHostOptions): Promise<ConsoleHost> {
  const root = await realpath(options.root);
  // While the system starts there are no API origins yet: the strictest policy ('self' only) meanwhile.
  const headersNow = () => {
    const config = options.config();
    const origins: ConsoleOrigins = config
      ? { gateway: originOf(config.mcpUrl), auth: originOf(config.issuer), media: config.mediaOrigins.map(originOf) }
      : { gateway: "'self'", auth: "'self'" };
    return securityHeaders(origins);
  };

  const answer = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      ...headersNow(),
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Length': String(Buffer.byteLength(body)),
      ...headers,
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };

  /** The file under root a request names, or undefined (missing, a folder, or a symlink out of root). */
  const fileUnderRoot = async (segments: string[]): Promise<{ file: string; size: number } | undefined> => {
    const candidate = path.join(root, ...segments);
    try {
      const real = await realpath(candidate);
      if (real !== root && !real.startsWith(`${root}${path.sep}`)) return undefined;
      const info = await stat(real);
      return info.isFile() ? { file: real, size: info.size } : undefined;
    } catch {
      return undefined;
    }
  };

  const sendFile = (
    req: IncomingMessage,
    res: ServerResponse,
    found: { file: string; size: number },
    cache: string,
  ) => {
    res.writeHead(200, {
      ...headersNow(),
      'Content-Type': contentTypeOf(found.file),
      'Content-Length': String(found.size),
      'Cache-Control': cache,
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(found.file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      answer(res, 405, 'Only GET and HEAD.\n', { Allow: 'GET, HEAD' });
      return;
    }
    const parsed = requestPath(req.url);
    if ('refused' in parsed) {
      answer(res, 400, `Bad path: ${parsed.refused}.\n`);
      return;
    }
    const { segments } = parsed;
    if (!options.config()) {
      answer(res, 503, 'The system is still starting; try again in a moment.\n', { 'Retry-After': '1' });
      return;
    }
    if (`/${segments.join('/')}` === CONFIG_PATH) {
      const body = JSON.stringify(options.config());
      answer(res, 200, body, { 'Content-Type': 'application/json; charset=utf-8' });
      return;
    }
    const found = segments.length ? await fileUnderRoot(segments) : undefined;
    if (found) {
      const immutable = `/${segments.join('/')}`.startsWith(IMMUTABLE_PREFIX);
      sendFile(req, res, found, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      return;
    }
    if (segments.length && (looksLikeFile(segments) || segments[0] === IMMUTABLE_PREFIX.slice(1, -1))) {
      answer(res, 404, 'Not found.\n');
      return;
    }
    // "/", "/calls/CA123", "/settings": the SPA's own routes.
    const index = await fileUnderRoot(['index.html']);
    if (!index) {
      answer(res, 503, 'The console is not built: run `npm run build -w console`.\n');
      return;
    }
    sendFile(req, res, index, 'no-cache');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // Without answer(): whatever failed may fail again there. Plain 500, the strictest headers.
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(500, { ...securityHeaders({ gateway: "'self'", auth: "'self'" }), 'Cache-Control': 'no-store' });
        res.end();
      }
    });
  });
  const port = await listenHttp(server, '127.0.0.1', options.port);
  const origin = `http://127.0.0.1:${port}`;
  return { origin, redirectUri: `${origin}/callback`, stop: () => closeHttp(server, 1000) };
}
