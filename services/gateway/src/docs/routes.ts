/**
 * GET /docs, GET /openapi.json and the Swagger UI viewer under /docs/api: public (no token), cached
 * once built, nothing loaded from elsewhere.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@callgate/common';
import type { Catalog } from './catalog.js';
import { renderDocsPage } from './page.js';
import { createSwaggerUi } from './swagger-ui.js';

export const DOCS_PATHS = ['/docs', '/openapi.json'] as const;

export interface DocsOptions {
  /** Reads the live catalogue; called once, again only after a failure. */
  catalog: () => Promise<Catalog>;
  /** The OpenAPI document; built per request, since the base URL may be known only after listen. */
  openapi: () => Record<string, unknown>;
  log: Logger;
}

/** No script, no external fetch, no framing: the page only shows text. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

export function createDocsHandler(options: DocsOptions) {
  let catalog: Promise<Catalog> | undefined;
  const readCatalog = () => {
    catalog ??= options.catalog().catch((error: unknown) => {
      catalog = undefined;
      throw error;
    });
    return catalog;
  };

  const swaggerUi = createSwaggerUi();

  /** Answers a docs path; false for any other path (the caller's 404), including unlisted files under /docs/api. */
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    const viewer = swaggerUi.serves(path);
    if (!viewer && !(DOCS_PATHS as readonly string[]).includes(path)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' }).end('{"error":"GET only"}');
      return true;
    }
    const body = (text: string) => (req.method === 'HEAD' ? undefined : text);
    if (path === '/openapi.json') {
      res
        .writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
        .end(body(JSON.stringify(options.openapi())));
      return true;
    }
    try {
      if (viewer) {
        const info = options.openapi().info as { title?: string } | undefined;
        await swaggerUi.handle(req, res, path, info?.title ?? 'API');
        return true;
      }
      const page = renderDocsPage(await readCatalog(), options.openapi());
      res.writeHead(200, PAGE_HEADERS).end(body(page));
    } catch (error) {
      options.log.error({ err: error }, 'the documentation could not be built');
      res
        .writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' })
        .end('The documentation could not be built; see the gateway log.');
    }
    return true;
  };
}
