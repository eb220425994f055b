/**
 * Signing in through mcp-remote (0.15.1, the stdio <-> HTTP bridge desktop hosts launch), against the
 * whole local system: mcp-remote meets the gateway's 401, discovers the authorization server,
 * registers itself by Dynamic Client Registration and wants a browser. It opens the URL with the
 * `open` package (xdg-open, which honours $BROWSER) and also prints it on stderr ("Please authorize
 * this client by visiting: <url>"); here $BROWSER is `true`, so no browser of the machine opens, and
 * the test drives the printed URL in Chromium: sign up, confirm by mail, sign in, consent. Chromium
 * lands on mcp-remote's own loopback callback, mcp-remote exchanges the code, and a tool call made
 * over stdio by the v1 client succeeds through it. mcp-remote needs Node 22+, fetched with
 * `npx -y node@22` as in clients-real.test.ts; without it the test is skipped loudly.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type Browser, chromium } from 'playwright-core';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { chromiumMissing } from '../support/chromium.js';
import { eventually } from '../support/eventually.js';
import { CHROMIUM, CHROMIUM_ARGS, signInAndConsent } from '../support/oauth.js';
import { closedPort } from '../support/redis.js';

const root = path.resolve(import.meta.dirname, '../..');
const MCP_REMOTE = path.join(root, 'node_modules/mcp-remote/dist/proxy.js');

describe('signing in through mcp-remote (Dynamic Client Registration) in Chromium', { skip: chromiumMissing }, () => {
  let system: LocalSystem;
  let browser: Browser;
  let scratch: string;
  let node22: string | undefined;
  before(async () => {
    try {
      const { stdout } = await promisify(execFile)('npx', ['-y', 'node@22', '-p', 'process.execPath'], {
        cwd: root,
        timeout: 180_000,
      });
      node22 = stdout.trim();
    } catch (error) {
      process.stderr.write(
        `\n!!! oauth-mcp-remote: Node 22 could not be fetched with \`npx -y node@22\`; SKIPPED. (${String(error).split('\n')[0]})\n\n`,
      );
      return;
    }
    scratch = mkdtempSync(path.join(tmpdir(), 'mcp-remote-oauth-'));
    system = await startLocalSystem({
      ports: 'ephemeral',
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await system?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('from a 401: registers, prints the sign-in URL, a person signs in and consents, a tool call succeeds', async (t) => {
    if (!node22) return t.skip('no Node 22');
    const transport = new StdioClientTransport({
      command: node22,
      args: [MCP_REMOTE, system.mcpUrl, String(await closedPort()), '--host', '127.0.0.1', '--transport', 'http-only'],
      env: {
        ...(process.env as Record<string, string>),
        MCP_REMOTE_CONFIG_DIR: path.join(scratch, 'mcp-auth'),
        // xdg-open runs $BROWSER: `true` opens nothing, so the test's Chromium is the only browser.
        BROWSER: 'true',
      },
      stderr: 'pipe',
    });
    let log = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    const client = new Client({ name: 'via-mcp-remote', version: '1' });
    const connected = client.connect(transport, { timeout: 300_000 });
    connected.catch(() => undefined);
    try {
      const printed = await eventually(
        'mcp-remote printing the authorization URL',
        async () => /Please authorize this client by visiting:\s*(\S+)/.exec(log)?.[1],
        10_000,
        { lastSeen: () => log.slice(-2000) },
      );
      const authorizationUrl = new URL(printed);
      assert.equal(authorizationUrl.origin, new URL(system.authUrl).origin, 'sent to the authorization server');
      assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(authorizationUrl.searchParams.get('client_id'), 'registered by DCR first');
      await signInAndConsent(browser, system, authorizationUrl, {
        email: `mcp-remote-${randomUUID()}@example.com`,
        password: 'correct horse battery staple',
        signUp: true,
      });
      await connected;
      const history = await client.callTool({ name: 'getCallHistory', arguments: { pageSize: 5 } });
      assert.notEqual(history.isError, true, JSON.stringify(history));
    } catch (error) {
      throw new Error(`${String(error)}\n--- mcp-remote stderr ---\n${log.slice(-4000)}`);
    } finally {
      await client.close();
    }
  });
});
