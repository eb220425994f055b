/**
 * Shared steps of the console's browser tests: build the SPA, start the whole local system with the
 * console's redirect URI registered, serve the build, and sign up / sign in through the real pages.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { mailedLink } from '../support/oauth.js';

export const PASSWORD = 'correct horse battery staple';
export const COOPERATIVE = '+14155550010';
const root = path.resolve(import.meta.dirname, '..', '..');

/** Where the console is served. */
export interface ConsoleHost {
  origin: string;
}

export interface ConsoleSystem {
  system: LocalSystem;
  host: ConsoleHost;
  stop(): Promise<void>;
}

/**
 * `vite build` of console/ into a folder of this process's own (a couple of seconds), so the test checks
 * the code it sits beside, and two test files running at once never serve each other's half-written build.
 */
export function buildConsole(): string {
  const outDir = mkdtempSync(path.join(tmpdir(), 'callgate-console-'));
  execFileSync(
    process.execPath,
    [
      path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--logLevel',
      'warn',
      '--outDir',
      outDir,
      '--emptyOutDir',
      // Vite's lock refuses a second build of the same project while one runs, whatever its outDir; each
      // test file builds into a folder of its own, so two files at once (TEST_JOBS=2) are safe.
      '--bypass-lock',
    ],
    { cwd: path.join(root, 'console'), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return outDir;
}

/**
 * The whole local system as `npm start` runs it, with the console served by its production-grade host
 * (scripts/console-host: the same security headers as CloudFront's, /console-config.json from the
 * running system, the sandbox's personas) on a port of its own, registered as the console's redirect URI.
 */
export async function startConsoleSystem(): Promise<ConsoleSystem> {
  const dist = buildConsole();
  const system = await startLocalSystem({
    ports: 'ephemeral',
    console: { root: dist },
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      // A revoked token or grant shows at the gateway within the test.
      AUTH_CHECK_CACHE_MS: '200',
    },
  }).catch((error) => {
    rmSync(dist, { recursive: true, force: true });
    throw error;
  });
  if (!system.consoleUrl) throw new Error('the local system started without its console host');
  return {
    system,
    host: { origin: system.consoleUrl },
    stop: async () => {
      await system.stop();
      rmSync(dist, { recursive: true, force: true });
    },
  };
}

/** Collects what would make a page broken for a person: script errors, CSP violations, failed requests. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      problems.push(`csp: ${message.text()}`);
    }
  });
  return problems;
}

/**
 * From the console's start page (which sends a signed-out person to the authorization server) to
 * signed in: creates the account when asked, confirming it by the link the sandbox's mail catcher
 * caught, signs in and allows. Returns the scopes the consent page listed.
 */
export async function signUpAndIn(
  page: Page,
  system: LocalSystem,
  host: ConsoleHost,
  account: { email: string; signUp: boolean },
): Promise<string[]> {
  await page.goto(`${host.origin}/`);
  await page.waitForSelector('form[action$="/login"]');
  if (account.signUp) {
    const interaction = page.url();
    await page.click('a[href^="/signup"]');
    await page.fill('#email', account.email);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('text=Check your mail');
    await page.goto(await mailedLink(system, account.email, /Confirm your callgate account/));
    await page.waitForSelector('text=Your address is confirmed');
    await page.goto(interaction);
  }
  await page.fill('#email', account.email);
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('ul.scopes');
  const scopes = await page
    .locator('ul.scopes li')
    .evaluateAll((items) => items.map((li) => li.getAttribute('data-scope') ?? ''));
  await page.click('button[value=allow]');
  await page.waitForURL(`${host.origin}/**`);
  await page.locator('h1', { hasText: 'Calls' }).waitFor();
  return scopes;
}

export async function newPage(browser: Browser, width = 1280, height = 900): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height } });
  return context.newPage();
}

/** The number in "1,234 credits". */
export const creditsIn = (text: string | null): number => Number((text ?? '').replace(/[^\d-]/g, ''));
