/**
 * What others put in front of a person in the console never runs there. In Debian's Chromium, against
 * the whole local system and the console on its production-grade host (the CloudFront CSP): markup and
 * script URLs in a connected app's name (any site can register a client by DCR and get a grant from a
 * person), and in what a person's own agents write (personal token names, a call's task, metadata and
 * outcome field names, which reach the call's page and the transcript) are shown as text on every page
 * that lists them; no script runs, no dialog opens, the CSP reports nothing, and the tokens stay in the
 * tab's sessionStorage only. Attack review of the console (no finding: React renders them as text).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from '../support/chromium.js';
import { csrfOf, interactionOf, pkcePair, ScriptedBrowser } from '../support/oauth-flow.js';
import {
  COOPERATIVE,
  type ConsoleSystem,
  newPage,
  PASSWORD,
  signUpAndIn,
  startConsoleSystem,
  watchProblems,
} from './walk.js';

/** Each sets window.__xss if it ever runs as script or markup. */
const IMG = '<img src=x onerror="window.__xss=1">';
const SCRIPT = '<script>window.__xss=2</script>';
const SVG = '<svg onload="window.__xss=3">';
const JS_URL = 'javascript:window.__xss=4';

describe('hostile text in the console', { skip: chromiumMissing }, () => {
  let env: ConsoleSystem;
  let browser: Browser;
  before(async () => {
    env = await startConsoleSystem();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await env?.stop();
  });

  /** A client registered by DCR under a hostile name, and the person's grant to it (signed in by script). */
  async function grantToHostileApp(email: string): Promise<void> {
    const auth = env.system.authUrl;
    const redirect = 'http://127.0.0.1:9/cb';
    const reg = await fetch(`${auth}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: `${IMG}${SVG} ${JS_URL}`,
        redirect_uris: [redirect],
        token_endpoint_auth_method: 'none',
      }),
    });
    const { client_id } = (await reg.json()) as { client_id: string };
    assert.ok(client_id, 'the hostile name registers (it is only text)');
    const scripted = new ScriptedBrowser(auth);
    const { challenge } = pkcePair();
    const login = await scripted.follow(
      `/auth?${new URLSearchParams({
        response_type: 'code',
        client_id,
        redirect_uri: redirect,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        scope: 'calls:read',
        state: 'st',
      })}`,
    );
    const signedIn = await scripted.request(`/interaction/${interactionOf(login.url)}/login`, {
      form: { csrf: csrfOf(login.body), email, password: PASSWORD },
    });
    const consent = await scripted.follow(new URL(signedIn.location ?? '', auth).pathname);
    assert.ok(consent.body.includes('&#60;img src=x'), 'the consent page escapes the name');
    assert.ok(!consent.body.includes(IMG), 'and never has it raw');
    const allowed = await scripted.request(`/interaction/${interactionOf(consent.url)}/consent`, {
      form: { csrf: csrfOf(consent.body), decision: 'allow' },
    });
    const back = await scripted.follow(new URL(allowed.location ?? '', auth).pathname);
    assert.match(String(back.location), /code=/);
  }

  it('shows app names, token names, tasks, metadata and outcome fields as text, and runs none of them', async () => {
    const { system, host } = env;
    const page = await newPage(browser);
    const problems = watchProblems(page);
    const dialogs: string[] = [];
    page.on('dialog', async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    const email = `hostile-${randomUUID()}@example.com`;
    await signUpAndIn(page, system, host, { email, signUp: true });
    await grantToHostileApp(email);

    // The person's own agent writes hostile text everywhere it can, with the console's own token.
    const tokens = await page.evaluate(() => JSON.parse(sessionStorage.getItem('callgate.console.tokens') ?? 'null'));
    const agent = new Client({ name: 'hostile-agent', version: '1' }, { capabilities: {} });
    await agent.connect(
      new StreamableHTTPClientTransport(new URL(system.mcpUrl), {
        requestInit: { headers: { authorization: `Bearer ${tokens.access_token}` } },
      }),
    );
    const call = async (name: string, args: Record<string, unknown>) => {
      const result = await agent.callTool({ name, arguments: args });
      assert.ok(!result.isError, `${name}: ${JSON.stringify(result.content)}`);
      return result.structuredContent as Record<string, unknown>;
    };
    await call('createPersonalToken', { name: IMG, scopes: ['calls:read'], expiresInDays: 1 });
    await call('createPersonalToken', { name: SCRIPT, scopes: ['calls:read'], expiresInDays: 1 });
    const placed = await call('makePhoneCall', {
      to: COOPERATIVE,
      task: `Ask how many people are coming. ${IMG} ${SCRIPT} ${JS_URL}`,
      metadata: { [IMG]: SCRIPT },
      outcomeSchema: {
        type: 'object',
        properties: { [SVG]: { type: 'string', description: IMG } },
        required: [SVG],
      },
      wait: 'completed',
    });
    await agent.close();
    const callId = String((placed.call as { callId?: string } | undefined)?.callId ?? placed.callId);
    assert.match(callId, /^[0-9a-f-]{36}$/, JSON.stringify(placed).slice(0, 300));

    const ran = () => page.evaluate(() => (window as unknown as { __xss?: number }).__xss);

    await page.goto(`${host.origin}/apps`);
    await page.getByText(`${IMG}${SVG} ${JS_URL}`, { exact: false }).first().waitFor();
    await page.getByText(SCRIPT).first().waitFor();
    await page.getByText(IMG, { exact: true }).first().waitFor();
    assert.equal(await page.locator('main img, main script, main svg[onload]').count(), 0, 'no element from the text');
    // The revoke question shows the name as text too; dismissed, nothing is revoked.
    await page.getByRole('button', { name: /^Revoke <img.*<svg/ }).click();
    assert.equal(await ran(), undefined, 'nothing ran on the apps page');

    await page.goto(`${host.origin}/calls/${callId}`);
    await page.locator('.task', { hasText: SCRIPT }).waitFor();
    await page.locator('table.outcome th', { hasText: SVG }).waitFor();
    assert.equal(await page.locator('main script, main img[src="x"]').count(), 0);
    assert.equal(await ran(), undefined, 'nothing ran on the call page');

    await page.goto(`${host.origin}/`);
    await page.locator('h1', { hasText: 'Calls' }).waitFor();
    await page.goto(`${host.origin}/credits`);
    await page.getByTestId('available').waitFor();
    assert.equal(await ran(), undefined, 'nothing ran on the lists');

    assert.deepEqual(
      dialogs.filter((d) => !d.startsWith('Revoke ')),
      [],
      'the only dialog is the revoke question',
    );
    assert.ok(
      dialogs.some((d) => d.includes(IMG)),
      'the revoke question names the app as text',
    );
    // A /callback link anyone can send: the console says what happened in its own words, never the
    // link's error_description.
    const lure = 'Your account is suspended: call +1 900 555 0100 now';
    await page.goto(`${host.origin}/callback?error=access_denied&error_description=${encodeURIComponent(lure)}`);
    await page.getByText('Sign-in was cancelled, or access was not allowed.').waitFor();
    assert.equal(await page.getByText(lure).count(), 0, 'the link’s text is not shown');

    assert.deepEqual(problems, [], 'no script error and no CSP violation');
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
  });
});
