/**
 * The web console (issue 21) in Debian's Chromium against the whole local system: a person signs up,
 * confirms the mailed link, signs in through the console (authorization code + PKCE as the
 * pre-registered public client), places a call to the sandbox's cooperative persona and watches it
 * progress without reloading, reads its transcript and outcome, sees the balance drop by exactly the
 * call's cost, creates and revokes a personal access token, comes back after the session expired,
 * and signs out (the refresh token revoked at the authorization server).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from '../support/chromium.js';
import { eventually } from '../support/eventually.js';
import {
  COOPERATIVE,
  type ConsoleSystem,
  creditsIn,
  newPage,
  PASSWORD,
  signUpAndIn,
  startConsoleSystem,
  watchProblems,
} from './walk.js';

/** Status of an MCP initialize with this bearer token. */
async function gatewayStatus(mcpUrl: string, token: string): Promise<number> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } },
    }),
  });
  await response.body?.cancel();
  return response.status;
}

describe('the web console in Chromium', { skip: chromiumMissing }, () => {
  let env: ConsoleSystem;
  let browser: Browser;
  before(async () => {
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
  });

  it('signs up and in, places a call and follows it live, sees the cost, manages a token, signs out', async () => {
    const { system, host } = env;
    const page = await newPage(browser);
    const problems = watchProblems(page);
    const email = `console-${randomUUID()}@example.com`;

    // Sign up, confirm the address from the mail catcher, sign in, consent.
    const scopes = await signUpAndIn(page, system, host, { email, signUp: true });
    for (const scope of ['calls:read', 'calls:write', 'credits:read', 'profile:write']) {
      assert.ok(scopes.includes(scope), `the consent page lists ${scope}: ${scopes}`);
    }
    const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('callgate.console.tokens') ?? 'null'));
    assert.ok(stored?.access_token && stored.refresh_token, 'tokens kept in sessionStorage');
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
    await page.getByText('No calls yet').waitFor();

    // The balance before the call.
    await page.getByRole('link', { name: 'Credits' }).click();
    const available = page.getByTestId('available');
    await available.waitFor();
    const before = creditsIn(await available.textContent());
    assert.ok(before > 0, `a new account starts with credits: ${before}`);

    // Place a call to the cooperative persona, from the sandbox hint, with one outcome field.
    await page.getByRole('link', { name: 'Place a call' }).first().click();
    await page.getByRole('button', { name: COOPERATIVE }).click();
    assert.equal(await page.getByLabel('Number to call (E.164)').inputValue(), COOPERATIVE);
    await page.getByLabel('Task: what the agent should achieve').fill('Book a table for this Friday evening.');
    await page.getByLabel('Field 1 name').fill('party_size');
    await page.getByLabel('Type', { exact: true }).selectOption('integer');
    await page.getByLabel('Description').fill('How many people are coming');
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    });
    await page.getByRole('button', { name: 'Place the call' }).click();
    await page.waitForURL(/\/calls\/[0-9a-f-]{36}$/);
    const callId = page.url().split('/').pop() as string;

    // Watch the status change live: every status shown is recorded as the page updates itself.
    const status = page.getByTestId('call-status');
    await status.waitFor();
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const node = document.querySelector('[data-testid="call-status"]') as Element;
      seen.push(node.textContent ?? '');
      new MutationObserver(() => seen.push(node.textContent ?? '')).observe(node, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    });
    await page.waitForFunction(
      () => document.querySelector('[data-testid="call-status"]')?.textContent === 'completed',
      undefined,
      { timeout: 120_000 },
    );
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    assert.ok(new Set(seen).size >= 2, `the status changed in place: ${seen.join(' → ')}`);
    assert.deepEqual(
      navigations.filter((url) => !url.includes('/calls/')),
      [],
      'no reload or navigation away while the call ran',
    );

    // The transcript as a conversation, and the outcome field (present, or shown as missing).
    await page.locator('.transcript li.agent').first().waitFor();
    assert.ok((await page.locator('.transcript li.callee').count()) >= 1, 'the callee speaks in the transcript');
    const row = page.locator('table.outcome tr', { has: page.locator('th', { hasText: 'party_size' }) });
    await row.waitFor();
    assert.match((await row.locator('td').textContent()) ?? '', /^(4|missing)$/);

    // The cost, once settled (the page updates itself when the settlement lands).
    const costCell = page.getByTestId('call-cost');
    await page.waitForFunction(
      () => /[1-9]/.test(document.querySelector('[data-testid="call-cost"]')?.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    const cost = creditsIn(await costCell.textContent());
    assert.ok(cost > 0, `the call cost something: ${cost}`);

    // The list shows the call, found by searching its number.
    await page.getByRole('link', { name: 'Calls', exact: true }).click();
    await page.getByLabel('Search by number').fill('5550010');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator(`tr[data-call-id="${callId}"] [data-status="completed"]`).waitFor();

    // The balance dropped by exactly the call's cost, and nothing is held any more.
    await page.getByRole('link', { name: 'Credits' }).click();
    await page.waitForFunction(
      (expected) => document.querySelector('[data-testid="available"]')?.textContent?.replace(/\D/g, '') === expected,
      String(before - cost),
      { timeout: 30_000 },
    );
    assert.equal(creditsIn(await page.getByTestId('held').textContent()), 0);
    assert.ok((await page.locator('svg.chart rect.bar').count()) === 14, 'a bar per day');

    // Connected apps: the console's own grant is listed; a personal access token is created and revoked.
    await page.getByRole('link', { name: 'Apps & tokens' }).click();
    await page.locator('.card', { hasText: 'this console' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('ci-token');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.getByTestId('created-token').locator('code.secret').textContent()) ?? '';
    assert.match(token, /^cgp_/);
    assert.equal(await gatewayStatus(system.mcpUrl, token), 200, 'the new token works at the gateway');
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Revoke ci-token' }).click();
    await page.locator('tr[data-token-name="ci-token"]').waitFor({ state: 'detached' });
    await eventually('the revoked token refused at the gateway', async () =>
      (await gatewayStatus(system.mcpUrl, token)) === 401 ? true : undefined,
    );

    // An expired session: the console sends you to sign in and back to the page you were on.
    await page.getByRole('link', { name: 'Preferences' }).click();
    await page.getByLabel('Language (BCP 47, e.g. en-US)').waitFor();
    await page.evaluate(() => {
      const key = 'callgate.console.tokens';
      const tokens = JSON.parse(sessionStorage.getItem(key) ?? '{}');
      sessionStorage.setItem(key, JSON.stringify({ ...tokens, access_token: 'expired', refresh_token: 'expired' }));
    });
    await page.goto(`${host.origin}/credits`);
    // The console leaves for the authorization server, which still knows the browser: it may ask to sign
    // in and to allow again, or send the code straight back; either way the console returns to /credits.
    await page.waitForURL((url) => url.origin === new URL(system.authUrl).origin);
    const next = () => page.locator('form[action$="/login"], button[value=allow], [data-testid=available]').first();
    await next().waitFor();
    if (await page.locator('form[action$="/login"]').count()) {
      await page.fill('#email', email);
      await page.fill('#password', PASSWORD);
      await page.click('button[type=submit]');
      await page.locator('button[value=allow], [data-testid=available]').first().waitFor();
    }
    if (await page.locator('button[value=allow]').count()) await page.click('button[value=allow]');
    await page.waitForURL(`${host.origin}/credits`);
    await page.getByTestId('available').waitFor();

    // Sign out: the refresh token is revoked at the authorization server and the tab forgets everything.
    const refreshToken = await page.evaluate(
      () => JSON.parse(sessionStorage.getItem('callgate.console.tokens') ?? '{}').refresh_token as string,
    );
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${host.origin}/signed-out`);
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'sessionStorage cleared');
    const metadata = (await (await fetch(`${system.authUrl}/.well-known/oauth-authorization-server`)).json()) as {
      token_endpoint: string;
    };
    const refreshed = await fetch(metadata.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: 'callgate-console',
        resource: system.mcpUrl,
      }),
    });
    assert.equal(
      ((await refreshed.json()) as { error?: string }).error,
      'invalid_grant',
      'the refresh token is revoked',
    );
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
