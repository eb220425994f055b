/**
 * The console in the whole local system (what `npm start` runs, with ports the OS picks): its
 * /console-config.json names the running gateway and authorization server and the sandbox's personas;
 * the authorization server takes the console's real redirect URI (and no other) for the console client;
 * the gateway admits the console's Origin. And the build check `npm start` uses before serving it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SANDBOX_NUMBERS, SANDBOX_PERSONAS } from '@callgate/sandbox';
import { ensureConsoleBuilt, isBuildCurrent } from '../../scripts/console-host/build.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';

describe('the console served by the local system', () => {
  let dir: string;
  let system: LocalSystem;
  let consoleUrl: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'callgate-console-system-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>console</title>');
    system = await startLocalSystem({
      ports: 'ephemeral',
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' },
      console: { root: dir },
    });
    consoleUrl = system.consoleUrl as string;
  });
  after(async () => {
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a config naming the running gateway, the authorization server and the personas', async () => {
    assert.match(consoleUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(consoleUrl).port, '8083', 'ephemeral ports: the OS picks the console port too');
    const response = await fetch(`${consoleUrl}/console-config.json`);
    assert.equal(response.status, 200);
    const config = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(config, {
      mcpUrl: system.mcpUrl,
      issuer: system.authUrl,
      clientId: 'callgate-console',
      sandboxPersonas: SANDBOX_PERSONAS,
      mediaOrigins: [system.s3Endpoint],
    });
    const personas = config.sandboxPersonas as readonly { number: string; name: string }[];
    assert.ok(personas.some((p) => p.number === SANDBOX_NUMBERS.cooperative && p.name === 'cooperative'));
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, new RegExp(`connect-src 'self' ${new URL(system.mcpUrl).origin} ${system.authUrl}(;|$)`));
    // Recordings play from their pre-signed URLs at the S3 emulator.
    assert.match(csp, new RegExp(`media-src 'self' ${new URL(system.s3Endpoint ?? 'http://missing').origin}(;|$)`));
  });

  /** Where the authorization endpoint sends a browser that starts the console's sign-in with this redirect URI. */
  async function authorize(redirectUri: string): Promise<{ status: number; location: string | null }> {
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      client_id: 'callgate-console',
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid calls:read',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: system.mcpUrl,
      state: 'state-1',
    });
    const response = await fetch(`${system.authUrl}/auth?${query}`, { redirect: 'manual' });
    await response.arrayBuffer();
    return { status: response.status, location: response.headers.get('location') };
  }

  it("registers the console's real redirect URI with the authorization server, and no other", async () => {
    const ours = await authorize(`${consoleUrl}/callback`);
    assert.ok([302, 303].includes(ours.status), `status ${ours.status}`);
    assert.match(ours.location ?? '', /\/interaction\//);
    const port = Number(new URL(consoleUrl).port);
    for (const other of [
      `http://127.0.0.1:${port + 1}/callback`,
      `${consoleUrl}/elsewhere`,
      'https://evil.example/callback',
    ]) {
      const refused = await authorize(other);
      assert.equal(refused.status, 400, other);
      assert.equal(refused.location, null, other);
    }
  });

  it("the gateway admits the console's Origin (and still refuses a foreign one)", async () => {
    const initialize = (origin: string) =>
      fetch(system.mcpUrl, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
      });
    const ours = await initialize(consoleUrl);
    await ours.arrayBuffer();
    assert.equal(ours.status, 401, 'the console origin passes the Origin check and meets the sign-in challenge');
    const foreign = await initialize('https://evil.example');
    await foreign.arrayBuffer();
    assert.equal(foreign.status, 403);
  });
});

describe('the build check of npm start', () => {
  it('a checkout without the console package starts without it and says why', async () => {
    const repo = mkdtempSync(path.join(os.tmpdir(), 'callgate-no-console-'));
    try {
      assert.deepEqual(await ensureConsoleBuilt(repo), {
        state: 'absent',
        reason: 'this checkout has no console/ package',
      });
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('a build is current only when index.html is at least as new as every source (not dist, not node_modules)', () => {
    const pkg = mkdtempSync(path.join(os.tmpdir(), 'callgate-console-pkg-'));
    try {
      mkdirSync(path.join(pkg, 'src', 'pages'), { recursive: true });
      mkdirSync(path.join(pkg, 'node_modules', 'dep'), { recursive: true });
      const at = (file: string, seconds: number) => {
        writeFileSync(path.join(pkg, file), 'x');
        utimesSync(path.join(pkg, file), seconds, seconds);
      };
      at('package.json', 1000);
      at('src/pages/Calls.tsx', 2000);
      assert.equal(isBuildCurrent(pkg), false, 'no build at all');
      mkdirSync(path.join(pkg, 'dist'));
      at('dist/index.html', 3000);
      assert.equal(isBuildCurrent(pkg), true);
      at('node_modules/dep/index.js', 9000);
      assert.equal(isBuildCurrent(pkg), true, 'a dependency file is not a source');
      at('src/pages/Calls.tsx', 4000);
      assert.equal(isBuildCurrent(pkg), false, 'a source edited after the build');
    } finally {
      rmSync(pkg, { recursive: true, force: true });
    }
  });
});
