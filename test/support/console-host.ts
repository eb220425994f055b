/**
 * Tests only: serves console/dist as the production host will (cinfra's host in scripts/local-system.ts
 * replaces this at merge): the built files, index.html for any other path (the SPA's routes), and
 * /console-config.json; every answer under a strict CSP (no inline script or style), so a build that
 * needs either fails the browser tests with a CSP error in the console.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export const CONSOLE_DIST = path.resolve(import.meta.dirname, '..', '..', 'console', 'dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
};

export interface ConsoleRuntimeConfig {
  mcpUrl: string;
  issuer: string;
  clientId: string;
  sandboxPersonas: { number: string; name: string; description: string }[] | null;
}

export interface ConsoleHost {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** Sets what /console-config.json answers (the system starts after the host: auth needs its origin first). */
  configure(config: ConsoleRuntimeConfig): void;
  close(): Promise<void>;
}

function csp(config: ConsoleRuntimeConfig | undefined): string {
  const apis = config ? [new URL(config.mcpUrl).origin, new URL(config.issuer).origin] : [];
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self' ${apis.join(' ')}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}

export async function startConsoleHost(dist = CONSOLE_DIST): Promise<ConsoleHost> {
  if (!existsSync(path.join(dist, 'index.html'))) {
    throw new Error(`no console build at ${dist}: run npm run build -w console`);
  }
  let config: ConsoleRuntimeConfig | undefined;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host');
    const headers = {
      'content-security-policy': csp(config),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (url.pathname === '/console-config.json') {
      if (!config) return void res.writeHead(503, headers).end();
      res.writeHead(200, { ...headers, 'content-type': TYPES['.json'], 'cache-control': 'no-store' });
      return void res.end(JSON.stringify(config));
    }
    const file = path.join(dist, path.normalize(url.pathname).replace(/^(\.\.[/\\])+/, ''));
    const inside = file.startsWith(dist + path.sep) && existsSync(file) && statSync(file).isFile();
    const served = inside ? file : path.join(dist, 'index.html');
    res.writeHead(200, { ...headers, 'content-type': TYPES[path.extname(served)] ?? 'application/octet-stream' });
    res.end(readFileSync(served));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    configure: (next) => {
      config = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
