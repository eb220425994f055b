/**
 * Personal access tokens against the whole local system: created on the auth service's page (shown
 * once), used from curl and from the SDK client at the gateway with the scopes chosen, and refused
 * once revoked.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { LocalSystem } from '../../scripts/local-system.js';
import { startLocalSystem } from '../../scripts/local-system.js';
import { eventually } from '../support/eventually.js';
import { mailedLink } from '../support/oauth.js';
import { csrfOf, ScriptedBrowser } from '../support/oauth-flow.js';
import { httpClient } from '../support/system.js';

const run = promisify(execFile);
const PASSWORD = 'personal token password';

/** The HTTP status curl gets for an MCP initialize with this bearer token. */
async function curlStatus(system: LocalSystem, token: string): Promise<number> {
  const { stdout } = await run('curl', [
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-X',
    'POST',
    system.mcpUrl,
    '-H',
    `Authorization: Bearer ${token}`,
    '-H',
    'Content-Type: application/json',
    '-H',
    'Accept: application/json, text/event-stream',
    '-d',
    JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } },
    }),
  ]);
  return Number(stdout);
}

describe('personal access tokens', () => {
  let system: LocalSystem;
  before(async () => {
    system = await startLocalSystem({
      ports: 'ephemeral',
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', AUTH_CHECK_CACHE_MS: '200' },
    });
  });
  after(async () => {
    await system?.stop();
  });

  it('are shown once, work from curl and the SDK with their scopes, and stop working when revoked', async () => {
    const email = `pat-${randomUUID()}@example.com`;
    const browser = new ScriptedBrowser(system.authUrl);
    const signup = await browser.request('/signup');
    await browser.request('/signup', { form: { csrf: csrfOf(signup.body), email, password: PASSWORD } });
    await browser.request(await mailedLink(system, email, /Confirm/));

    const form = await browser.request('/personal-tokens');
    const created = await browser.request('/personal-tokens', {
      form: {
        csrf: csrfOf(form.body),
        email,
        password: PASSWORD,
        name: 'my agent',
        'scope:calls:read': 'on',
        days: '7',
      },
    });
    assert.equal(created.status, 201, created.body.slice(0, 400));
    const token = /cgp_[A-Za-z0-9_-]+/.exec(created.body)?.[0] ?? '';
    const tokenId = /Token id ([A-Za-z0-9_-]+)/.exec(created.body)?.[1] ?? '';
    assert.ok(token && tokenId);

    assert.equal(await curlStatus(system, token), 200);
    const client = await httpClient(system, token);
    const history = await client.callTool({ name: 'getCallHistory', arguments: { pageSize: 5 } });
    assert.notEqual(history.isError, true, JSON.stringify(history));
    // Only the scopes chosen: reading the balance needs credits:read.
    const balance = await client.callTool({ name: 'getCreditBalance', arguments: {} }).catch((error: Error) => error);
    assert.ok(balance instanceof Error || balance.isError, 'a scope not chosen is refused');
    await client.close();

    assert.equal(await curlStatus(system, `${token.slice(0, -1)}x`), 401, 'a token one character off is refused');

    const again = await browser.request('/personal-tokens');
    const revoked = await browser.request('/personal-tokens', {
      form: { csrf: csrfOf(again.body), email, password: PASSWORD, revoke: tokenId },
    });
    assert.equal(revoked.status, 200);
    await eventually('the revoked token refused from curl', async () =>
      (await curlStatus(system, token)) === 401 ? true : undefined,
    );
  });
});
