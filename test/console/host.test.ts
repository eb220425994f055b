/**
 * The console's local static host (scripts/console-host) against a fixture build in a temporary folder:
 * security headers on every answer, content types and caching, the SPA fallback (never for a missing
 * file), /console-config.json, only GET and HEAD, and every way out of the folder refused (dot segments
 * plain and encoded, NUL bytes, backslashes, absolute targets, symlinks out).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ConsoleConfig, type ConsoleHost, startConsoleHost } from '../../scripts/console-host/host.js';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' http://127.0.0.1:18080 http://127.0.0.1:18082; media-src 'self' http://127.0.0.1:18090; frame-ancestors 'none'; base-uri 'none'; form-action http://127.0.0.1:18082 'self'";
const SECRET = 'TOP-SECRET-OUTSIDE-THE-BUILD';
const INDEX = '<!doctype html><title>console</title><script type="module" src="/assets/index-3f9a1c.js"></script>';
const CONFIG: ConsoleConfig = {
  mcpUrl: 'http://127.0.0.1:18080/mcp',
  issuer: 'http://127.0.0.1:18082',
  clientId: 'callgate-console',
  sandboxPersonas: [{ number: '+14155550010', name: 'cooperative', description: 'Answers every question.' }],
  mediaOrigins: ['http://127.0.0.1:18090/'],
};

/** One raw HTTP/1.1 request, exactly as written (fetch would normalize the path first). */
function raw(port: number, method: string, target: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body: text.slice(split + 4) });
    });
    socket.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

describe('the console host', () => {
  let dir: string;
  let host: ConsoleHost;
  let ready = true;
  const url = (p: string) => `${host.origin}${p}`;
  const port = () => Number(new URL(host.origin).port);

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'callgate-console-host-'));
    const root = path.join(dir, 'dist');
    mkdirSync(path.join(root, 'assets'), { recursive: true });
    writeFileSync(path.join(root, 'index.html'), INDEX);
    writeFileSync(path.join(root, 'assets', 'index-3f9a1c.js'), 'console.log("app")');
    writeFileSync(path.join(root, 'assets', 'index-77ab01.css'), 'body{margin:0}');
    writeFileSync(path.join(root, 'assets', 'font-1a2b3c.woff2'), Buffer.from([0x77, 0x4f, 0x46, 0x32]));
    writeFileSync(path.join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(path.join(dir, 'secret.txt'), SECRET);
    mkdirSync(path.join(dir, 'private'));
    writeFileSync(path.join(dir, 'private', 'key.txt'), SECRET);
    // Links out of the build (a file and a folder) must not be followed; one inside it may be.
    symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'leak.txt'));
    symlinkSync(path.join(dir, 'private'), path.join(root, 'leakdir'));
    symlinkSync(path.join(root, 'favicon.svg'), path.join(root, 'icon.svg'));
    host = await startConsoleHost({ root, port: 0, config: () => (ready ? CONFIG : undefined) });
  });
  after(async () => {
    await host?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the redirect URI of its own origin', () => {
    assert.match(host.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(host.redirectUri, `${host.origin}/callback`);
  });

  it('sends the security headers on files, the fallback, the config and errors alike, and no HSTS on http', async () => {
    for (const [p, init, status] of [
      ['/', {}, 200],
      ['/assets/index-3f9a1c.js', {}, 200],
      ['/calls/CA123', {}, 200],
      ['/console-config.json', {}, 200],
      ['/assets/missing-000000.js', {}, 404],
      ['/x', { method: 'POST', body: '{}' }, 405],
    ] as const) {
      const response = await fetch(url(p), init);
      await response.arrayBuffer();
      assert.equal(response.status, status, p);
      assert.equal(response.headers.get('content-security-policy'), CSP, p);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', p);
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer', p);
      assert.equal(response.headers.get('x-frame-options'), 'DENY', p);
      assert.equal(response.headers.get('strict-transport-security'), null, p);
    }
  });

  it('serves files with their content type; hashed assets cached for a year, everything else revalidated', async () => {
    for (const [p, type, cache] of [
      ['/', 'text/html; charset=utf-8', 'no-cache'],
      ['/index.html', 'text/html; charset=utf-8', 'no-cache'],
      ['/assets/index-3f9a1c.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
      ['/assets/index-77ab01.css', 'text/css; charset=utf-8', 'public, max-age=31536000, immutable'],
      ['/assets/font-1a2b3c.woff2', 'font/woff2', 'public, max-age=31536000, immutable'],
      ['/favicon.svg', 'image/svg+xml', 'no-cache'],
      ['/icon.svg', 'image/svg+xml', 'no-cache'],
    ] as const) {
      const response = await fetch(url(p));
      await response.arrayBuffer();
      assert.equal(response.status, 200, p);
      assert.equal(response.headers.get('content-type'), type, p);
      assert.equal(response.headers.get('cache-control'), cache, p);
    }
    assert.equal(await (await fetch(url('/assets/index-3f9a1c.js'))).text(), 'console.log("app")');
  });

  it("falls back to index.html for the SPA's routes, never for a missing file", async () => {
    for (const p of ['/calls', '/calls/CA0123456789abcdef', '/callback?code=abc&state=xyz', '/settings/', '/apps']) {
      const response = await fetch(url(p));
      assert.equal(response.status, 200, p);
      assert.equal(await response.text(), INDEX, p);
      assert.equal(response.headers.get('cache-control'), 'no-cache', p);
    }
    for (const p of ['/assets/index-000000.js', '/assets/nothing', '/favicon.ico', '/robots.txt', '/a/b/c.map']) {
      const response = await fetch(url(p));
      assert.equal(response.status, 404, p);
      assert.notEqual(await response.text(), INDEX, p);
    }
  });

  it('answers /console-config.json from the running system, never cached', async () => {
    const response = await fetch(url('/console-config.json'));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await response.json(), CONFIG);
  });

  it('answers 503 while the system is still starting, with the strictest CSP', async () => {
    ready = false;
    try {
      for (const p of ['/', '/console-config.json']) {
        const response = await fetch(url(p));
        assert.equal(response.status, 503, p);
        assert.equal(response.headers.get('retry-after'), '1');
        assert.match(response.headers.get('content-security-policy') ?? '', /connect-src 'self';/);
        assert.match(await response.text(), /still starting/);
      }
    } finally {
      ready = true;
    }
  });

  it('allows only GET and HEAD; HEAD has the headers and no body', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND']) {
      const response = await raw(port(), method, '/index.html');
      assert.equal(response.status, 405, method);
      assert.match(response.head, /\r\nallow: GET, HEAD\r\n/i, method);
      assert.ok(!response.body.includes('<title>console'), method);
    }
    // A proxy tunnel request: Node closes the connection (no 'connect' listener), never opens a tunnel.
    const tunnel = await raw(port(), 'CONNECT', '127.0.0.1:22');
    assert.equal(tunnel.status, 0);
    assert.equal((await fetch(url('/'))).status, 200);
    const head = await raw(port(), 'HEAD', '/assets/index-3f9a1c.js');
    assert.equal(head.status, 200);
    assert.match(head.head, /\r\ncontent-length: 18\r\n/i);
    assert.equal(head.body, '');
  });

  it('refuses every path that could leave the build folder, and never shows what lies outside', async () => {
    const attempts: [string, number[]][] = [
      ['/../secret.txt', [400]],
      ['/assets/../../secret.txt', [400]],
      ['/%2e%2e/secret.txt', [400]],
      ['/%2E%2E/secret.txt', [400]],
      ['/assets/%2e%2e/%2e%2e/secret.txt', [400]],
      ['/..%2fsecret.txt', [400]],
      ['/%2e%2e%2fsecret.txt', [400]],
      ['/.%2e/secret.txt', [400]],
      ['/./index.html', [400]],
      ['/..%5csecret.txt', [400]],
      ['/assets\\..\\..\\secret.txt', [400]],
      ['/index.html%00.js', [400]],
      ['/%00', [400]],
      ['/%', [400]],
      ['/%c0%ae%c0%ae/secret.txt', [400]],
      ['//etc/passwd', [400]],
      ['http://evil.example/secret.txt', [400]],
      ['*', [400]],
      ['/leak.txt', [404]],
      ['/leakdir/key.txt', [404]],
      // An absolute file system path is just a path under the build: not found there, so not served.
      [`/${path.join(os.tmpdir()).replace(/^\//, '')}/secret.txt`, [404]],
      ['/etc/passwd', [200]],
    ];
    for (const [target, statuses] of attempts) {
      const response = await raw(port(), 'GET', target);
      assert.ok(statuses.includes(response.status), `${target}: ${response.status}`);
      assert.ok(!response.body.includes(SECRET), `${target} leaked the file outside the build`);
      assert.ok(!response.body.includes('root:'), `${target} leaked /etc/passwd`);
      if (response.status === 200) assert.equal(response.body, INDEX, `${target}: only the SPA's page`);
    }
  });

  it('survives hostile request lines: a huge path, many at once', async () => {
    const huge = await raw(port(), 'GET', `/${'a'.repeat(100_000)}`);
    assert.ok([414, 431, 400].includes(huge.status), `huge path: ${huge.status}`);
    const many = await Promise.all(
      Array.from({ length: 50 }, (_, i) => fetch(url(i % 2 ? '/' : '/assets/index-3f9a1c.js'))),
    );
    assert.deepEqual(new Set(many.map((r) => r.status)), new Set([200]));
    await Promise.all(many.map((r) => r.arrayBuffer()));
    assert.equal((await fetch(url('/'))).status, 200);
  });
});
