/**
 * /docs in a real browser (headless Chromium driven by playwright-core): every tool the gateway
 * serves is shown, with its scopes, and the page loads nothing from anywhere else (there is no
 * network in production racks, and a docs page that needs a CDN shows nothing there). The same
 * holds for the Swagger UI view of /openapi.json at /docs/api, under its 'self'-only CSP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Browser, chromium } from 'playwright-core';
import type { LocalSystem } from '../../scripts/local-system.js';
import { CHROMIUM_ARGS as ARGS, CHROMIUM, chromiumMissing } from '../support/chromium.js';
import { httpClient, startTestSystem, tokenFor } from '../support/system.js';

const missing = chromiumMissing;

describe('/docs in headless Chromium', { skip: missing }, () => {
  let system: LocalSystem;
  let client: Client;
  let browser: Browser;
  before(async () => {
    system = await startTestSystem();
    client = await httpClient(system, tokenFor(system, 'docs-browser'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await client?.close();
    await system?.stop();
  });

  it('shows every registered tool, loading nothing from elsewhere and breaking no rule of its CSP', async () => {
    const docsUrl = system.mcpUrl.replace(/\/mcp$/, '/docs');
    const page = await browser.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const response = await page.goto(docsUrl, { waitUntil: 'load' });
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), 'callgate API');

    const { tools } = await client.listTools();
    assert.ok(tools.length > 0);
    for (const tool of tools) {
      const heading = page.locator(`section[data-tool="${tool.name}"] h3 code`);
      assert.equal(await heading.count(), 1, `${tool.name} has one section`);
      assert.ok(await heading.isVisible(), `${tool.name} is visible`);
      assert.equal(await heading.textContent(), tool.name);
    }
    const shown = await page
      .locator('section[data-tool]')
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-tool')));
    assert.equal(shown.length, tools.length, 'no tool shown that the server does not serve');
    // The link to the OpenAPI document resolves to the real one.
    const href = await page.locator('a[href="openapi.json"]').evaluate((a) => (a as unknown as { href: string }).href);
    assert.equal(href, system.mcpUrl.replace(/\/mcp$/, '/openapi.json'));
    assert.deepEqual(requested, [docsUrl], 'the page fetched nothing else');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('links to Swagger UI, which renders every operation of /openapi.json from files of this server only', async () => {
    const origin = new URL(system.mcpUrl).origin;
    const doc = (await (await fetch(`${origin}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const page = await browser.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    // CSP violations are console errors too, so this also proves 'self' scripts and styles suffice.
    page.on('console', (message) => {
      // Chromium asks for /favicon.ico on its own (no page links one); that 404 is not the page's doing.
      if (new URL(message.location().url || 'about:blank').pathname === '/favicon.ico') return;
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
    });

    await page.goto(`${origin}/docs`, { waitUntil: 'load' });
    await Promise.all([page.waitForURL(`${origin}/docs/api`), page.locator('a[href="docs/api"]').first().click()]);
    // Swagger UI fetches the document and renders one .opblock per operation.
    await page.locator('.opblock').first().waitFor({ timeout: 30_000 });

    const expected = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path}`));
    const rendered = await page
      .locator('.opblock')
      .evaluateAll((nodes) =>
        nodes.map(
          (n) =>
            `${n.querySelector('.opblock-summary-method')?.textContent?.toLowerCase()} ${n.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`,
        ),
      );
    assert.deepEqual(rendered.sort(), expected.sort(), 'one block per operation, no more');
    for (const [method, path] of [
      ['post', '/mcp'],
      ['get', '/healthz'],
    ] as const) {
      const block = page.locator(`.opblock-${method}:has(.opblock-summary-path[data-path="${path}"])`);
      assert.ok(await block.isVisible(), `${method.toUpperCase()} ${path} is shown`);
    }
    // The document's own title and the bearer scheme come through, so it is this document, not a default.
    assert.equal(
      await page
        .locator('.info .title')
        .first()
        .evaluate((n) => n.firstChild?.textContent),
      'callgate gateway',
    );
    assert.ok(await page.locator('.btn.authorize').isVisible(), 'the bearer scheme offers Authorize');

    const elsewhere = requested.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin);
    assert.deepEqual(elsewhere, [], 'nothing requested from anywhere but the gateway');
    for (const name of ['/docs/api', '/openapi.json', '/docs/api/swagger-ui-bundle.js', '/docs/api/init.js']) {
      assert.ok(
        requested.some((url) => new URL(url).pathname === name),
        `${name} was loaded`,
      );
    }
    assert.deepEqual(problems, []);
    await page.close();
  });
});
