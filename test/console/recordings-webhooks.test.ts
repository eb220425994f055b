/**
 * Issue 22 in the web console, in Debian's Chromium against the whole local system: a person registers a
 * webhook to a receiver of this test (WEBHOOK_LOCAL_MODE admits http://127.0.0.1) and sees its secret once;
 * places a recorded call to the sandbox's cooperative persona; the call page plays the recording (the audio
 * element loads it from its pre-signed URL under the console's CSP: duration > 0); deleting the recording
 * removes the player and the object; deleting the transcript empties the conversation; the endpoint's
 * delivery log shows the call's delivery, which the receiver got, signed with that secret. Refusals (a URL
 * that is not https and holds a NUL byte, no event) are shown beside their fields, never as a broken page.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from '../support/chromium.js';
import { eventually } from '../support/eventually.js';
import { COOPERATIVE, type ConsoleSystem, newPage, signUpAndIn, startConsoleSystem, watchProblems } from './walk.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; data: { call: { callId: string } } };
}

/** A webhook receiver: every POST answered 204 and kept; `next` resolves with the first matching one. */
function receiver(): {
  server: Server;
  received: Received[];
  next: (match: (r: Received) => boolean) => Promise<Received>;
} {
  const received: Received[] = [];
  const waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const entry = { headers: req.headers, body, event: JSON.parse(body) as Received['event'] };
      received.push(entry);
      res.writeHead(204).end();
      for (const w of waiters.filter((w) => w.match(entry))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(entry);
      }
    });
  });
  const next = (match: (r: Received) => boolean) => {
    const seen = received.find(match);
    return seen ? Promise.resolve(seen) : new Promise<Received>((resolve) => waiters.push({ match, resolve }));
  };
  return { server, received, next };
}

/** Accepts the next confirm() the page opens, after checking what it asks. */
function confirmNext(page: Page, asks: RegExp): void {
  page.once('dialog', (dialog) => {
    assert.match(dialog.message(), asks);
    void dialog.accept();
  });
}

describe('recordings and webhooks in the web console', { skip: chromiumMissing }, () => {
  let env: ConsoleSystem;
  let browser: Browser;
  const hooks = receiver();
  let hookUrl = '';
  before(async () => {
    await new Promise<void>((resolve) => hooks.server.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hooks.server.address() as AddressInfo).port}/callgate`;
    env = await startConsoleSystem();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await env?.stop();
    hooks.server.close();
  });

  it('registers a webhook (secret once), plays a recorded call, deletes its recording and transcript, logs the delivery', async () => {
    const page = await newPage(browser);
    // No Playwright deadlines: the test runner's per-test timeout is the one bound (test/support/eventually.ts).
    page.setDefaultTimeout(0);
    const problems = watchProblems(page);
    await signUpAndIn(page, env.system, env.host, { email: `rec-${randomUUID()}@example.com`, signUp: true });

    // Webhooks: empty at first; refusals stand beside their fields.
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No endpoints').waitFor();
    await page.getByLabel('URL (HTTPS, reachable from the internet)').fill('ftp://example.com/\u0000hook');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.locator('#webhook-url-error').waitFor();
    await page.getByRole('checkbox', { name: 'call.completed' }).uncheck();
    await page.getByLabel('URL (HTTPS, reachable from the internet)').fill(hookUrl);
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.locator('#webhook-events-error').waitFor();
    assert.equal(await page.getByTestId('created-webhook').count(), 0, 'nothing was created');

    // Registered: the secret is shown once, with a copy button.
    await page.getByRole('checkbox', { name: 'call.completed' }).check();
    await page.getByRole('checkbox', { name: 'recording.ready' }).check();
    await page.getByLabel('Description (optional)').fill('console test receiver');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    const secret = ((await page.getByTestId('webhook-secret').textContent()) ?? '').trim();
    assert.ok(secret.length >= 32, `a signing secret is shown: "${secret}"`);
    await page.getByRole('button', { name: 'Copy the signing secret' }).waitFor();
    await page.locator(`li[data-webhook-url="${hookUrl}"]`).waitFor();
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.reload();
    await page.locator(`li[data-webhook-url="${hookUrl}"]`).waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');

    // A recorded call to the cooperative persona; the form says the callee is told.
    await page.getByRole('link', { name: 'Place a call' }).first().click();
    await page.getByRole('button', { name: COOPERATIVE }).click();
    await page.getByLabel('Task: what the agent should achieve').fill('Ask for the opening hours on Sunday.');
    const record = page.getByRole('checkbox', { name: 'Record this call' });
    assert.match((await page.locator('#record-hint').textContent()) ?? '', /callee is told/);
    await record.check();
    await page.getByRole('button', { name: 'Place the call' }).click();
    await page.waitForURL(/\/calls\/[0-9a-f-]{36}$/);
    const callId = new URL(page.url()).pathname.split('/').pop() as string;
    await page.waitForFunction(
      () => document.querySelector('[data-testid="call-status"]')?.textContent === 'completed',
    );

    // The player appears once the recording is stored, and the browser loads it (the CSP's media-src).
    const player = page.getByTestId('recording-player');
    await player.waitFor();
    assert.equal(await player.getAttribute('controls'), '');
    assert.match((await player.getAttribute('aria-label')) ?? '', /Recording of the call/);
    const src = (await player.getAttribute('src')) as string;
    assert.match(src, /^http:\/\/127\.0\.0\.1:\d+\//);
    // Loaded, or refused (e.g. by a CSP without the recordings' origin): either ends the wait, so a
    // refusal fails here with its code instead of waiting for the runner's timeout.
    const loaded = await page.waitForFunction(() => {
      const audio = document.querySelector('audio');
      if (audio?.error) return { error: audio.error.code, duration: 0 };
      return audio && audio.readyState >= 1 && Number.isFinite(audio.duration) && audio.duration > 0
        ? { error: 0, duration: audio.duration }
        : undefined;
    });
    const media = (await loaded.jsonValue()) as { error: number; duration: number };
    assert.equal(media.error, 0, `the audio element failed to load the recording (MediaError ${media.error})`);
    assert.ok(media.duration > 0, 'the audio has a duration');
    assert.equal((await fetch(src)).status, 200, 'the pre-signed URL serves the audio');

    // The receiver got the call's end and the recording, signed with the secret shown once.
    const completed = await hooks.next((r) => r.event.type === 'call.completed' && r.event.data.call.callId === callId);
    const signature = String(completed.headers['callgate-signature']);
    const t = /t=(\d+)/.exec(signature)?.[1];
    const v1 = /v1=([0-9a-f]{64})/.exec(signature)?.[1];
    assert.equal(createHmac('sha256', secret).update(`${t}.${completed.body}`).digest('hex'), v1);
    await hooks.next((r) => r.event.type === 'recording.ready' && r.event.data.call.callId === callId);

    // Delete the recording: after the confirmation the player is gone, and so is the object.
    confirmNext(page, /Delete the recording/);
    await page.getByRole('button', { name: 'Delete recording' }).click();
    await page.waitForFunction(() => !document.querySelector('audio'));
    await page.getByTestId('recording-status').filter({ hasText: 'deleted' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Delete recording' }).count(), 0);
    assert.equal((await fetch(src)).status, 404, 'the old URL serves nothing');

    // Delete the transcript: the conversation is replaced by a note; a cancelled confirmation deletes nothing.
    assert.ok((await page.locator('ol.transcript li').count()) > 0, 'the call had a transcript');
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: 'Delete transcript' }).click();
    assert.ok((await page.locator('ol.transcript li').count()) > 0, 'dismissed: the transcript stays');
    confirmNext(page, /Delete the transcript/);
    await page.getByRole('button', { name: 'Delete transcript' }).click();
    await page.getByTestId('transcript-deleted').waitFor();
    await page.getByText('The transcript was deleted.').waitFor();
    assert.equal(await page.locator('ol.transcript li').count(), 0);

    // The delivery log shows both deliveries; "Refresh" until the dispatcher recorded the answer.
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: `Show deliveries of ${hookUrl}` }).click();
    const row = page.locator('tr[data-event-type="call.completed"]');
    await eventually(
      'the call.completed delivery logged as delivered',
      async () => {
        if ((await row.count()) === 1 && (await row.getAttribute('data-state')) === 'delivered') return true;
        await page.getByRole('button', { name: 'Refresh' }).click();
        await page.getByRole('button', { name: 'Refresh' }).waitFor();
        return undefined;
      },
      5000,
      { intervalMs: 500 },
    );
    assert.match((await row.textContent()) ?? '', /delivered/);
    assert.equal(await page.locator('tr[data-event-type="recording.ready"]').count(), 1);

    // Delete the endpoint.
    confirmNext(page, /Delete the endpoint/);
    await page.getByRole('button', { name: `Delete endpoint ${hookUrl}` }).click();
    await page.getByText('No endpoints').waitFor();

    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
