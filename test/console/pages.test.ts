/**
 * Every page of the web console through axe-core in Debian's Chromium, at 375 px and on a desktop:
 * no serious or critical violation. The desktop views are saved to docs/console/*.png (docs/console.md
 * shows them), so the pictures in the docs are of the console as this test last saw it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from '../support/chromium.js';
import { type ConsoleSystem, newPage, signUpAndIn, startConsoleSystem, watchProblems } from './walk.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = path.resolve(import.meta.dirname, '..', '..', 'docs', 'console');
const INTERRUPTS = '+14155550012';

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** Serious and critical axe-core violations on the page as it is now. */
async function axe(page: Page): Promise<string[]> {
  // Through the DevTools protocol, which the page's CSP (script-src 'self') does not govern.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const run = (window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: unknown[] }> } }).axe.run;
    return (await run(document)).violations;
  });
  return (violations as Violation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** Waits until nothing on the page says it is loading. */
async function settled(page: Page): Promise<void> {
  await page.locator('main h1').waitFor();
  await page.waitForFunction(() => !/Loading /.test(document.querySelector('main')?.textContent ?? ''), undefined, {
    timeout: 30_000,
  });
}

describe('every console page with axe-core', { skip: chromiumMissing }, () => {
  let env: ConsoleSystem;
  let browser: Browser;
  // A webhook receiver (the local system's WEBHOOK_LOCAL_MODE admits http://127.0.0.1), so the webhooks page
  // shows an endpoint with deliveries.
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  let hookUrl = '';
  before(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callgate`;
    env = await startConsoleSystem();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  });
  after(async () => {
    await browser?.close();
    await env?.stop();
    receiver.close();
  });

  it('has no serious or critical violation at 375 px or on a desktop, and shows field errors beside the field', async () => {
    const page = await newPage(browser);
    const problems = watchProblems(page);
    await signUpAndIn(page, env.system, env.host, { email: `axe-${randomUUID()}@example.com`, signUp: true });

    // A webhook endpoint; its secret, shown once, is checked by axe and pictured for the docs.
    const found: string[] = [];
    mkdirSync(SHOTS, { recursive: true });
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await settled(page);
    await page.getByLabel('URL (HTTPS, reachable from the internet)').fill(hookUrl);
    await page.getByRole('checkbox', { name: 'recording.ready' }).check();
    await page.getByLabel('Description (optional)').fill('Bookings dashboard');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByTestId('webhook-secret').waitFor();
    await settled(page);
    found.push(...(await axe(page)).map((v) => `webhooks with a new secret: ${v}`));
    await page.screenshot({ path: path.join(SHOTS, 'webhook-created.png'), fullPage: true });

    // A finished, recorded call with an interruption, so the call page shows a whole conversation and a player.
    await page.getByRole('link', { name: 'Place a call' }).first().click();
    await page.getByLabel('Number to call (E.164)').fill(INTERRUPTS);
    await page.getByLabel('Task: what the agent should achieve').fill('Book a table for Friday; ask the party size.');
    await page.getByLabel('Field 1 name').fill('party_size');
    await page.getByLabel('Type', { exact: true }).selectOption('integer');
    await page.getByRole('button', { name: 'Add a field' }).click();
    await page.getByLabel('Field 2 name').fill('dietary_needs');
    await page.getByRole('checkbox', { name: 'Record this call' }).check();
    await page.getByRole('button', { name: 'Place the call' }).click();
    await page.waitForURL(/\/calls\/[0-9a-f-]{36}$/);
    const callPath = new URL(page.url()).pathname;
    await page.waitForFunction(
      () => document.querySelector('[data-testid="call-status"]')?.textContent === 'completed',
      undefined,
      { timeout: 120_000 },
    );
    await page.getByTestId('recording-player').waitFor({ timeout: 120_000 });

    const pages = [
      { name: 'calls', path: '/' },
      { name: 'call', path: callPath },
      { name: 'place-call', path: '/calls/new' },
      { name: 'credits', path: '/credits' },
      { name: 'preferences', path: '/preferences' },
      { name: 'apps', path: '/apps' },
      { name: 'webhooks', path: '/webhooks' },
      { name: 'connect', path: '/connect' },
    ];
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      for (const { name, path: at } of pages) {
        await page.goto(`${env.host.origin}${at}`);
        await settled(page);
        if (name === 'call') {
          // The player with its duration, as a person sees it once the audio's metadata arrived.
          await page.waitForFunction(() => (document.querySelector('audio')?.readyState ?? 0) >= 1, undefined, {
            timeout: 120_000,
          });
        }
        if (name === 'webhooks') {
          // The endpoint's delivery log, open, with the call's deliveries.
          await page.getByRole('button', { name: `Show deliveries of ${hookUrl}` }).click();
          await page.locator('tr[data-event-type="call.completed"]').waitFor({ timeout: 120_000 });
          await settled(page);
        }
        found.push(...(await axe(page)).map((v) => `${name} at ${width}px: ${v}`));
        // At 375 px nothing may need sideways scrolling of the whole page (tables scroll in their own box).
        if (width === 375) {
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          // Names the elements that stick out, so a failure says what to fix.
          const wide = await page.evaluate(() =>
            Array.from(document.querySelectorAll('body *'))
              .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
              .slice(0, 5)
              .map((e) => `<${e.tagName.toLowerCase()} class="${e.className}">`),
          );
          assert.ok(overflow <= 0, `${name} scrolls sideways at 375 px by ${overflow} px: ${wide.join(', ')}`);
        } else {
          await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
        }
      }
    }

    // Preferences: the gateway's validation message stands beside the field it is about.
    await page.goto(`${env.host.origin}/preferences`);
    await settled(page);
    await page.getByLabel('Longest call, seconds (30–3600)').fill('10');
    await page.getByRole('button', { name: 'Save preferences' }).click();
    const message = page.locator('#maxCallDurationSeconds-error');
    await message.waitFor();
    assert.match((await message.textContent()) ?? '', /30|small|greater|>=|too/i);
    assert.equal(
      await page.getByLabel('Longest call, seconds (30–3600)').getAttribute('aria-describedby'),
      'maxCallDurationSeconds-error',
    );
    found.push(...(await axe(page)).map((v) => `preferences with an error: ${v}`));
    await page.screenshot({ path: path.join(SHOTS, 'preferences-error.png'), fullPage: true });

    // Keyboard only: the skip link is the first stop; the navigation is reachable by Tab and Enter
    // follows a link, focusing the new page's heading so a screen reader announces it.
    await page.goto(`${env.host.origin}/`);
    await settled(page);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    for (let stops = 0; stops < 10; stops++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.textContent)) === 'Credits') break;
    }
    await page.keyboard.press('Enter');
    await page.waitForURL(`${env.host.origin}/credits`);
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Credits');

    // The phone view of a call, for the docs.
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${env.host.origin}${callPath}`);
    await settled(page);
    await page.screenshot({ path: path.join(SHOTS, 'call-375.png'), fullPage: true });

    assert.deepEqual(found, []);
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
