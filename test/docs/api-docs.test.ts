/**
 * /docs and /openapi.json as a client sees them: public, generated from what /mcp really serves
 * (every tool of tools/list, with the same schemas and the scopes the server enforces), and a
 * well-formed OpenAPI 3.1 document; /mcp itself still demands a token. /docs/api (Swagger UI) serves
 * its allow-listed files and nothing else.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '@callgate/gateway';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { LocalSystem } from '../../scripts/local-system.js';
import { httpClient, startTestSystem, tokenFor } from '../support/system.js';

let system: LocalSystem;
let client: Client;
let base: string;
before(async () => {
  system = await startTestSystem();
  base = system.mcpUrl.replace(/\/mcp$/, '');
  client = await httpClient(system, tokenFor(system, 'docs-reader'));
});
after(async () => {
  await client?.close();
  await system?.stop();
});

type Operation = { operationId?: string; responses?: Record<string, unknown>; security?: unknown[] };
type OpenApi = {
  openapi: string;
  info: { title: string; version: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  security: Record<string, unknown>[];
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
};

/** Every "$ref" string anywhere in value. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => (key === '$ref' && typeof v === 'string' ? [v] : refs(v)));
}

const resolve = (doc: unknown, ref: string) =>
  ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], doc);

describe('/openapi.json', () => {
  let doc: OpenApi;
  before(async () => {
    const res = await fetch(`${base}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    doc = (await res.json()) as OpenApi;
  });

  it('is OpenAPI 3.1 with info, this server as its server, and every public path', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.info.title && doc.info.version);
    assert.deepEqual(doc.servers, [{ url: base }]);
    for (const path of [
      '/mcp',
      '/.well-known/oauth-protected-resource',
      '/healthz',
      '/docs',
      '/docs/api',
      '/openapi.json',
    ]) {
      assert.ok(doc.paths[path], `${path} is documented`);
    }
    assert.deepEqual(Object.keys(doc.paths['/mcp'] ?? {}).sort(), ['delete', 'get', 'post']);
  });

  it('is well formed: operations have responses and unique ids, every $ref and security scheme exists', () => {
    const methods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      assert.ok(path.startsWith('/'), path);
      for (const [method, op] of Object.entries(item)) {
        assert.ok(methods.has(method), `${path}: ${method} is an HTTP method`);
        assert.ok(op.operationId && !ids.has(op.operationId), `${method} ${path}: unique operationId`);
        ids.add(op.operationId);
        assert.ok(Object.keys(op.responses ?? {}).length > 0, `${method} ${path} has responses`);
        for (const code of Object.keys(op.responses ?? {})) assert.match(code, /^[1-5]\d\d$/);
        for (const requirement of op.security ?? []) {
          for (const name of Object.keys(requirement as object)) assert.ok(doc.components.securitySchemes[name], name);
        }
      }
    }
    for (const requirement of doc.security) {
      for (const name of Object.keys(requirement)) assert.ok(doc.components.securitySchemes[name], name);
    }
    const all = refs(doc);
    assert.ok(all.length > 0);
    for (const ref of all) assert.ok(resolve(doc, ref) !== undefined, `${ref} resolves`);
  });

  it('its schemas are valid JSON Schema 2020-12 (the dialect of OpenAPI 3.1)', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    // Refs between components are resolved by compiling the components together.
    ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
    for (const name of Object.keys(doc.components.schemas)) {
      assert.doesNotThrow(() => ajv.getSchema(`doc#/components/schemas/${name}`), name);
    }
  });

  it('what it says needs no token really needs none, and /mcp really needs one', async () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      if (item.get?.security?.length === 0) {
        const res = await fetch(`${base}${path}`);
        assert.equal(res.status, 200, `GET ${path} without a token`);
        await res.arrayBuffer();
      }
    }
    assert.notDeepEqual(doc.paths['/mcp']?.post?.security, []);
    const res = await fetch(system.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
  });
});

describe('/docs', () => {
  /** Each tool's example arguments as the page shows them. */
  const examples = new Map<string, unknown>();
  let html: string;
  let headers: Headers;
  before(async () => {
    const res = await fetch(`${base}/docs`);
    assert.equal(res.status, 200, 'served without a token');
    headers = res.headers;
    html = await res.text();
  });

  it('lists every tool and resource the server lists over MCP', async () => {
    const { tools } = await client.listTools();
    assert.ok(tools.length >= 10, `the gateway serves its tools (${tools.length})`);
    const listed = [...html.matchAll(/data-tool="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(listed.sort(), tools.map((t) => t.name).sort());
    const { resources } = await client.listResources();
    const { resourceTemplates } = await client.listResourceTemplates();
    const documented = [...html.matchAll(/data-resource="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(
      documented.sort(),
      [...resources.filter((r) => !r.uri.startsWith('callgate://calls/')), ...resourceTemplates]
        .map((r) => r.name)
        .sort(),
    );
  });

  it('names the scopes the server enforces: a token without them is refused', async () => {
    const section = html.slice(html.indexOf('data-tool="makePhoneCall"'));
    const scopes = [...section.slice(0, section.indexOf('</section>')).matchAll(/class="scope">([^<]+)</g)].map(
      (m) => m[1],
    );
    assert.deepEqual(scopes, ['calls:write']);
    const readOnly = mintToken(system.jwt, { sub: 'docs-reader', scope: 'calls:read' }, 600);
    const res = await fetch(system.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${readOnly}`,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
    });
    await res.text();
    const session = res.headers.get('mcp-session-id') ?? '';
    const call = await fetch(system.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${readOnly}`,
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'makePhoneCall', arguments: { to: '+14155550001', task: 'x' } },
      }),
    });
    await call.text();
    assert.equal(call.status, 403);
    assert.match(call.headers.get('www-authenticate') ?? '', /insufficient_scope.*calls:write/);
  });

  it("shows each tool's schemas as tools/list gives them, and an example that validates", async () => {
    const { tools } = await client.listTools();
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const tool of tools) {
      const section = html.slice(html.indexOf(`data-tool="${tool.name}"`));
      const blocks = [...section.slice(0, section.indexOf('</section>')).matchAll(/<code>([^<]*)<\/code><\/pre>/g)].map(
        (m) =>
          JSON.parse(
            m[1]
              ?.replace(/&quot;/g, '"')
              .replace(/&#39;/g, "'")
              .replace(/&lt;/g, '<')
              .replace(/&gt;/g, '>')
              .replace(/&amp;/g, '&') ?? '',
          ),
      );
      const [example, input, output] = blocks;
      assert.deepEqual(input, tool.inputSchema, `${tool.name} input schema`);
      if (tool.outputSchema) assert.deepEqual(output, tool.outputSchema, `${tool.name} output schema`);
      assert.equal(example.params.name, tool.name);
      const validate = ajv.compile(tool.inputSchema);
      assert.ok(validate(example.params.arguments), `${tool.name} example: ${ajv.errorsText(validate.errors)}`);
      examples.set(tool.name, example.params.arguments);
    }
  });

  it('its examples work when sent: makePhoneCall shows an idempotencyKey, a callId is a call id (only "not found")', async () => {
    const key = (examples.get('makePhoneCall') as { idempotencyKey?: unknown } | undefined)?.idempotencyKey;
    assert.equal(typeof key, 'string', 'the makePhoneCall example shows an idempotencyKey');
    for (const [name, args] of examples) {
      const result = await client.callTool({ name, arguments: args as Record<string, unknown> });
      const text = JSON.stringify(result.content);
      // An example naming a record (a call, a grant, a token) names nobody's; creating a personal access
      // token needs an account of the authorization server, which the minted test user is not.
      const namesRecord = ['callId', 'grantId', 'tokenId', 'webhookId'].some((id) => id in (args as object));
      if (name === 'createWebhook') {
        // The example's host (under example.com) has no address: registering resolves it, and says so.
        assert.equal(result.isError, true, `${name}: the example host does not resolve`);
        assert.match(text, /url: hooks\.example\.com does not resolve/, `${name}: refused only for its example host`);
      } else if (namesRecord || name === 'createPersonalToken') {
        assert.equal(result.isError, true, `${name}: nobody owns the example record`);
        assert.match(text, /not found/, `${name}: refused only because the record is not yours`);
      } else {
        assert.equal(result.isError, undefined, `${name}: ${text}`);
      }
    }
  });

  it('is inert in a browser: no script allowed, nothing fetched from elsewhere', () => {
    assert.match(headers.get('content-type') ?? '', /text\/html/);
    assert.match(headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!json-schema\.org)[^"<\s]*\.(js|css)/);
  });

  it('answers other methods with 405, not an error', async () => {
    const res = await fetch(`${base}/docs`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 405);
    await res.text();
  });
});

/** A GET with the path sent exactly as written (fetch would resolve "..", and so test nothing). */
function rawGet(path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/docs/api (Swagger UI)', () => {
  let html: string;
  let headers: Headers;
  before(async () => {
    const res = await fetch(`${base}/docs/api`);
    assert.equal(res.status, 200, 'served without a token');
    headers = res.headers;
    html = await res.text();
  });

  it("is a page whose CSP allows only this server's scripts and styles, and no inline script", () => {
    assert.match(headers.get('content-type') ?? '', /text\/html/);
    const csp = headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /style-src 'self';/);
    assert.doesNotMatch(csp, /unsafe-|https?:|\*/);
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)/, 'every script is a file');
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'every link is to this server');
  });

  it('serves the files the page links, typed, compressible and cacheable by their versioned URL', async () => {
    const links = [...html.matchAll(/(?:src|href)="(api\/[^"]+)"/g)].map((m) => m[1] ?? '');
    assert.deepEqual(links.map((l) => l.split('?')[0]).sort(), [
      'api/init.js',
      'api/swagger-ui-bundle.js',
      'api/swagger-ui.css',
    ]);
    for (const link of links) {
      const url = new URL(link, `${base}/docs/api`);
      assert.match(url.search, /^\?v=[\w-]{16}$/, `${link} carries its content hash`);
      const plain = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
      assert.equal(plain.status, 200, link);
      assert.match(plain.headers.get('content-type') ?? '', link.includes('.css') ? /^text\/css/ : /^text\/javascript/);
      assert.equal(plain.headers.get('x-content-type-options'), 'nosniff');
      assert.match(plain.headers.get('cache-control') ?? '', /immutable/);
      assert.equal(plain.headers.get('content-encoding'), null);
      const bytes = Buffer.from(await plain.arrayBuffer());
      assert.equal(plain.headers.get('etag'), `"${url.searchParams.get('v')}"`, 'the ETag is the hash in the URL');
      assert.equal(String(bytes.length), plain.headers.get('content-length'));
      // fetch asks for gzip and decodes it: same bytes, fewer on the wire.
      const zipped = await fetch(url);
      assert.equal(zipped.headers.get('content-encoding'), 'gzip');
      assert.ok(Buffer.from(await zipped.arrayBuffer()).equals(bytes), `${link}: gzip decodes to the same bytes`);
      const again = await fetch(url, {
        headers: { 'accept-encoding': 'identity', 'if-none-match': plain.headers.get('etag') ?? '' },
      });
      assert.equal(again.status, 304, `${link}: revalidates without a body`);
      await again.arrayBuffer();
    }
    const bundle = await (await fetch(`${base}/docs/api/swagger-ui-bundle.js`)).text();
    assert.ok(bundle.includes('SwaggerUIBundle'), 'the bundle is the package file');
    const init = await (await fetch(`${base}/docs/api/init.js`)).text();
    assert.match(init, /openapi\.json/);
    assert.doesNotMatch(init, /https?:/, 'the initializer points at this server only');
  });

  it('serves no other file: traversal and unlisted names are 404, whatever their spelling', async () => {
    for (const path of [
      '/docs/api/../../package.json',
      '/docs/api/..%2f..%2fpackage.json',
      '/docs/api/%2e%2e/%2e%2e/package.json',
      '/docs/api/../routes.ts',
      '/docs/api/package.json',
      '/docs/api/index.html',
      '/docs/api/swagger-initializer.js',
      '/docs/api/swagger-ui-bundle.js.map',
      '/docs/api/swagger-ui.css/',
      '/docs/api//swagger-ui.css',
      '/docs/api/./swagger-ui.css',
      '/docs/api/SWAGGER-UI.CSS',
      '/docs/apiswagger-ui.css',
      '/docs/api/__proto__',
      '/docs/api/constructor',
    ]) {
      const res = await rawGet(path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body, /"name"|swagger/i, `${path} leaks nothing`);
    }
  });

  it('answers other methods with 405, sends /docs/api/ to /docs/api, and /docs links to it', async () => {
    assert.equal((await rawGet('/docs/api/swagger-ui.css', 'POST')).status, 405);
    assert.equal((await rawGet('/docs/api/anything-else', 'POST')).status, 404);
    const head = await fetch(`${base}/docs/api/swagger-ui-bundle.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const slash = await fetch(`${base}/docs/api/`, { redirect: 'manual' });
    assert.equal(slash.status, 301);
    assert.equal(new URL(slash.headers.get('location') ?? '', `${base}/docs/api/`).href, `${base}/docs/api`);
    const docs = await (await fetch(`${base}/docs`)).text();
    assert.match(docs, /<a href="docs\/api">Swagger UI<\/a>/);
  });
});

describe('request id on /mcp', () => {
  it('returns a fresh id, or the caller’s own when it is plain', async () => {
    const ask = (headers: Record<string, string>) =>
      fetch(system.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
    const fresh = await ask({});
    await fresh.text();
    assert.match(fresh.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const own = await ask({ 'x-request-id': 'client-chosen-1' });
    await own.text();
    assert.equal(own.headers.get('x-request-id'), 'client-chosen-1');
    const hostile = await ask({ 'x-request-id': 'a'.repeat(500) });
    await hostile.text();
    assert.match(hostile.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});
