/**
 * GET /docs/api: Swagger UI over /openapi.json, from the swagger-ui-dist package on disk. Nothing comes
 * from a CDN: the page must work with no network, and a strict CSP ('self' only) keeps it that way.
 *
 * Only the files of ASSETS are ever served: a request path is looked up in that list, never joined
 * onto a directory, so no spelling of "..", "%2e" or "/" can reach another file.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

export const VIEWER_PATH = '/docs/api';

/**
 * The initializer: our own file, not the package's swagger-initializer.js (which loads the petstore
 * from the internet). A file rather than an inline script, so script-src stays 'self'.
 * BaseLayout: no top bar with a URL box. validatorUrl null: the online validator (an image from
 * validator.swagger.io) stays off even if a layout that shows its badge is chosen later.
 */
const INIT_JS = `// callgate: Swagger UI over this gateway's own OpenAPI document.
window.ui = SwaggerUIBundle({
  url: new URL('../openapi.json', document.baseURI).href,
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

const CSS = 'text/css; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
/** URL name → where its bytes come from (a file of swagger-ui-dist, or the text above). */
const ASSETS: Record<string, { type: string; file?: string; text?: string }> = {
  'swagger-ui.css': { type: CSS, file: 'swagger-ui.css' },
  'swagger-ui-bundle.js': { type: JS, file: 'swagger-ui-bundle.js' },
  'init.js': { type: JS, text: INIT_JS },
};

/**
 * Swagger UI sets styles through the DOM (element.style), which CSP allows; its stylesheet has data:
 * images. connect-src 'self' lets it fetch /openapi.json and run "Try it out" against this server.
 */
const VIEWER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset {
  type: string;
  body: Buffer;
  gzipped: Buffer;
  /** Short content hash: the ETag, and the ?v= of the page's links, so a new version is a new URL. */
  hash: string;
}

async function loadAssets(): Promise<Map<string, Asset>> {
  // Resolved on first use, not at import: a gateway without the package still serves /docs.
  const dir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const compress = promisify(gzip);
  const entries = await Promise.all(
    Object.entries(ASSETS).map(async ([name, spec]) => {
      const body = spec.file ? await readFile(path.join(dir, spec.file)) : Buffer.from(spec.text ?? '');
      const hash = createHash('sha256').update(body).digest('base64url').slice(0, 16);
      // Compressed once, in the thread pool: the bundle is 1.7 MB, about a third of that gzipped.
      return [name, { type: spec.type, body, gzipped: await compress(body), hash }] as const;
    }),
  );
  return new Map(entries);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** Links are relative (api/…, ../docs), as on /docs, so the page works behind a path prefix too. */
function viewerPage(title: string, assets: Map<string, Asset>): string {
  const v = (name: string) => `api/${name}?v=${assets.get(name)?.hash ?? ''}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}: HTTP API</title><link rel="stylesheet" href="${v('swagger-ui.css')}"></head>
<body><p class="back"><a href="../docs">← Tools and resources</a></p>
<div id="swagger-ui"></div>
<script src="${v('swagger-ui-bundle.js')}"></script><script src="${v('init.js')}"></script>
</body></html>`;
}

/** True when gzip is acceptable (listed, and not with q=0). */
function acceptsGzip(req: IncomingMessage): boolean {
  const header = String(req.headers['accept-encoding'] ?? '');
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    return coding?.trim() === 'gzip' && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
  });
}

export function createSwaggerUi() {
  let assets: Promise<Map<string, Asset>> | undefined;
  const read = () => {
    assets ??= loadAssets().catch((error: unknown) => {
      assets = undefined;
      throw error;
    });
    return assets;
  };
  const assetName = (urlPath: string) => {
    const name = urlPath.startsWith(`${VIEWER_PATH}/`) ? urlPath.slice(VIEWER_PATH.length + 1) : undefined;
    return name !== undefined && Object.hasOwn(ASSETS, name) ? name : undefined;
  };

  return {
    /** The viewer, its trailing-slash spelling, and the allow-listed files; nothing else. */
    serves: (urlPath: string) =>
      urlPath === VIEWER_PATH || urlPath === `${VIEWER_PATH}/` || assetName(urlPath) !== undefined,

    /** Answers a path serves() accepted, for GET or HEAD. Throws when the package cannot be read. */
    async handle(req: IncomingMessage, res: ServerResponse, urlPath: string, title: string): Promise<void> {
      const head = req.method === 'HEAD';
      if (urlPath === `${VIEWER_PATH}/`) {
        res.writeHead(301, { location: '../api' }).end();
        return;
      }
      const loaded = await read();
      const name = assetName(urlPath);
      const asset = name === undefined ? undefined : loaded.get(name);
      if (!asset) {
        const page = viewerPage(title, loaded);
        res
          .writeHead(200, {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': VIEWER_CSP,
            'x-content-type-options': 'nosniff',
            'cache-control': 'no-cache',
          })
          .end(head ? undefined : page);
        return;
      }
      const gz = acceptsGzip(req);
      const etag = `"${asset.hash}${gz ? '-gz' : ''}"`;
      const headers: Record<string, string> = {
        'content-type': asset.type,
        'x-content-type-options': 'nosniff',
        // The page links each file with ?v=<hash>: a URL's content never changes, so it may be kept.
        'cache-control': 'public, max-age=31536000, immutable',
        etag,
        vary: 'accept-encoding',
      };
      const match = String(req.headers['if-none-match'] ?? '')
        .split(',')
        .some((tag) => tag.trim() === etag);
      if (match) {
        res.writeHead(304, headers).end();
        return;
      }
      const body = gz ? asset.gzipped : asset.body;
      if (gz) headers['content-encoding'] = 'gzip';
      headers['content-length'] = String(body.length);
      res.writeHead(200, headers).end(head ? undefined : body);
    },
  };
}
