/**
 * The docs routes on their own: a catalogue that cannot be read is a 503 and is tried again, never
 * cached or a crash; under /docs/api only the Swagger UI files on the allow-list are served.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@callgate/common';
import type { Catalog } from './catalog.js';
import { createDocsHandler } from './routes.js';

const catalog: Catalog = {
  server: { name: 'callgate', version: '0' },
  protocolVersion: '2025-11-25',
  tools: [
    {
      name: 'say<Hello>',
      description: '<script>alert(1)</script>',
      inputSchema: { type: 'object' },
      scopes: [],
      example: { method: 'tools/call', params: { name: 'say<Hello>', arguments: {} } },
    },
  ],
  resources: [],
  resourceTemplates: [],
};

describe('docs routes', () => {
  let server: Server;
  let base: string;
  let reads = 0;
  let failNext = true;
  before(async () => {
    const docs = createDocsHandler({
      catalog: async () => {
        reads++;
        if (failNext) {
          failNext = false;
          throw new Error('backend gone');
        }
        return catalog;
      },
      openapi: () => ({ openapi: '3.1.0', info: { title: 'callgate gateway' }, paths: {} }),
      log: createLogger('test', 'silent'),
    });
    server = createServer((req, res) => {
      docs(req, res, (req.url ?? '/').split('?')[0] ?? '/').then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers 503 while the catalogue cannot be read, then serves it and reads it once more only', async () => {
    const first = await fetch(`${base}/docs`);
    assert.equal(first.status, 503);
    assert.equal(first.headers.get('retry-after'), '5');
    await first.text();
    for (let i = 0; i < 3; i++) {
      const ok = await fetch(`${base}/docs`);
      assert.equal(ok.status, 200);
      await ok.text();
    }
    assert.equal(reads, 2, 'a failure is not cached; a success is');
  });

  it('escapes what the registry says, so a description cannot inject markup', async () => {
    const html = await (await fetch(`${base}/docs`)).text();
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('data-tool="say&lt;Hello&gt;"'));
  });

  it('HEAD has headers and no body; other methods are 405; other paths are not its business', async () => {
    const head = await fetch(`${base}/openapi.json`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const post = await fetch(`${base}/openapi.json`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    await post.text();
    const other = await fetch(`${base}/docs/../secrets`);
    assert.equal(other.status, 404);
    await other.text();
  });

  it('under /docs/api answers the viewer and its listed files only, and honours gzip;q=0', async () => {
    const viewer = await fetch(`${base}/docs/api`);
    assert.equal(viewer.status, 200);
    assert.match(await viewer.text(), /<title>callgate gateway: HTTP API<\/title>/);
    const css = await fetch(`${base}/docs/api/swagger-ui.css`, { headers: { 'accept-encoding': 'gzip;q=0, br' } });
    assert.equal(css.status, 200);
    assert.equal(css.headers.get('content-encoding'), null, 'gzip refused with q=0');
    assert.equal(css.headers.get('vary'), 'accept-encoding');
    await css.arrayBuffer();
    for (const name of ['index.html', 'swagger-ui.js', 'LICENSE', 'hasOwnProperty']) {
      const res = await fetch(`${base}/docs/api/${name}`);
      assert.equal(res.status, 404, `${name} is not the docs' business`);
      await res.text();
    }
  });
});
