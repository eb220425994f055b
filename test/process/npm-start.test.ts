/**
 * `npm start` as a person runs it (scripts/start-local.ts in its own process), in ephemeral-port mode:
 * it honours HTTP_PORT and DATA_DIR, keeps its data and signing key there (a minted token works, a
 * grant survives a restart), and the operator scripts find it with no flags through the discovery file.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { DISCOVERY_FILE, type LocalDiscovery, readDiscovery } from '../../scripts/local-discovery.js';
import { eventually } from '../support/eventually.js';
import { type RunningProcess, runEntry } from '../support/process.js';
import { closedPort } from '../support/redis.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'callgate-start-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** This environment without what would point the system elsewhere than its embedded defaults. */
function env(extra: Record<string, string>): Record<string, string> {
  const drop = /^(DATABASE_URL|REDIS_URL|SQS_|JWT_|GRPC_PORT|METRICS_PORT|HTTP_PORT|CREDIT_SERVICE_ADDR|DATA_DIR)/;
  const kept = Object.entries(process.env).filter(([k, v]) => v !== undefined && !drop.test(k));
  return { ...(Object.fromEntries(kept) as Record<string, string>), LOG_LEVEL: 'warn', DATA_DIR: dataDir, ...extra };
}

/** `npm run <script> -- args` as a person runs it, from the repository root. */
function script(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=callgate-source', '--import', 'tsx', `scripts/${file}`, ...args],
      { cwd: root, env: env({}) },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Starts `npm start` with ephemeral ports and waits for its banner (or its exit, which fails). */
async function start(httpPort: number): Promise<{ p: RunningProcess; running: LocalDiscovery | undefined }> {
  const p = runEntry('scripts/start-local.ts', env({ CALLGATE_PORTS: 'ephemeral', HTTP_PORT: String(httpPort) }));
  let exited = false;
  void p.exited.then(() => {
    exited = true;
  });
  await eventually('the npm start banner', async () =>
    exited || p.stdout().includes('Ctrl-C stops everything') ? true : undefined,
  );
  assert.equal(exited, false, `npm start exited:\n${p.stdout()}\n${p.stderr()}`);
  return { p, running: readDiscovery(dataDir) };
}

async function stop(p: RunningProcess): Promise<void> {
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0, p.stderr());
}

async function initialize(mcpUrl: string, token: string): Promise<number> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'npm-start-test', version: '1' } },
    }),
  });
  await response.text();
  return response.status;
}

describe('npm start with CALLGATE_PORTS=ephemeral', () => {
  it('honours HTTP_PORT and DATA_DIR, keeps data and key across a restart; smoke, credits and dlq find it', async () => {
    const httpPort = await closedPort();
    const first = await start(httpPort);
    const user = `start-${randomUUID()}`;
    let token: string;
    let granted: unknown;
    try {
      const banner = /MCP URL: (\S+)/.exec(first.p.stdout())?.[1] ?? '';
      assert.equal(new URL(banner).port, String(httpPort), 'the gateway listens on HTTP_PORT');
      const running = first.running;
      assert.ok(running, `npm start wrote ${DISCOVERY_FILE} in DATA_DIR`);
      assert.equal(running.mcpUrl, banner);
      assert.match(first.p.stdout(), /npm run smoke/, 'the banner names the commands');
      assert.match(first.p.stdout(), new RegExp(`Data: embedded database in ${dataDir}`));
      // The authorization server runs, the gateway names it, and the banner says how to sign in.
      const signIn = /Sign-in: (\S+) +account (\S+), password (\S+)/.exec(first.p.stdout());
      assert.ok(signIn?.[1], `the banner names the sign-in URL and the local account:\n${first.p.stdout()}`);
      const resource = (await (
        await fetch(banner.replace(/\/mcp$/, '/.well-known/oauth-protected-resource/mcp'))
      ).json()) as { authorization_servers?: string[] };
      assert.deepEqual(resource.authorization_servers, [signIn[1]]);
      const metadata = await fetch(`${signIn[1]}/.well-known/oauth-authorization-server`);
      assert.equal(metadata.status, 200);

      const minted = await script('mint-token.ts', ['--sub', user]);
      assert.equal(minted.code, 0, minted.stderr);
      token = minted.stdout.trim();
      assert.equal(await initialize(running.mcpUrl, token), 200, 'a minted token is accepted');

      const dlq = await script('dlq.ts', ['list']);
      assert.equal(dlq.code, 0, dlq.stderr);
      assert.match(
        dlq.stderr,
        new RegExp(`:${new URL(running.sqsEndpoint ?? '').port}/`),
        'the running system’s emulator',
      );
      const smoke = await script('smoke.ts', []);
      assert.match(smoke.stdout, /checking the system npm start runs/);
      assert.match(smoke.stdout, /ok +MCP over Streamable HTTP/, 'its token, minted with the running system’s key');
      for (const service of Object.keys(running.grpc)) {
        assert.match(smoke.stdout, new RegExp(`ok +gRPC health of ${service}`));
      }
      // smoke-test has a credit account now (its first authenticated request made it).
      const grant = await script('credits.ts', ['grant', '--user', 'smoke-test', '--amount', '7', '--reason', 'test']);
      assert.equal(grant.code, 0, grant.stderr);
      const balance = await script('credits.ts', ['balance', '--user', 'smoke-test']);
      assert.equal(balance.code, 0, balance.stderr);
      granted = JSON.parse(balance.stdout) as unknown;
    } finally {
      await stop(first.p);
    }
    assert.equal(existsSync(path.join(dataDir, DISCOVERY_FILE)), false, 'the discovery file goes with the system');
    assert.equal(readDiscovery(dataDir), undefined);

    const second = await start(await closedPort());
    try {
      assert.ok(second.running);
      assert.equal(await initialize(second.running.mcpUrl, token), 200, 'the token survives the restart (same key)');
      const balance = await script('credits.ts', ['balance', '--user', 'smoke-test']);
      assert.equal(balance.code, 0, balance.stderr);
      assert.deepEqual(JSON.parse(balance.stdout), granted, 'the balance (with the grant) survives the restart');
    } finally {
      await stop(second.p);
    }
  });
});
