/**
 * Services as production runs them, one process each: a bad environment stops a service with a
 * message naming the variable; SIGTERM drains an in-flight gRPC call and then exits 0.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { checkServing, connectService } from '@callgate/common';
import { cleanEnv, runEntry } from '../support/process.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'callgate-lifecycle-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

describe('configuration errors stop the service with a message naming the variable', () => {
  it('gateway with a bad port exits 2', async () => {
    const p = runEntry(
      'services/gateway/src/main.ts',
      cleanEnv({ HTTP_PORT: 'eighty', JWT_SECRET: 'a-test-secret-of-at-least-thirty-two-chars' }),
    );
    assert.equal(await p.exited, 2);
    assert.match(p.stderr(), /gateway: invalid configuration/);
    assert.match(p.stderr(), /HTTP_PORT: /);
    assert.doesNotMatch(p.stderr(), /\n\s+at /, 'no stack trace for a configuration error');
  });

  // Which token key applies depends on two variables, so it is checked once the rest has parsed.
  it('gateway with neither JWT_SECRET nor JWT_JWKS_URL exits 2 naming both', async () => {
    const p = runEntry('services/gateway/src/main.ts', cleanEnv({}));
    assert.equal(await p.exited, 2);
    assert.match(p.stderr(), /gateway: invalid configuration/);
    assert.match(p.stderr(), /JWT_SECRET: is required but not set: set exactly one of JWT_SECRET .* and JWT_JWKS_URL/);
    assert.doesNotMatch(p.stderr(), /\n\s+at /, 'no stack trace for a configuration error');
  });

  it('poller with SQS_MAX_RECEIVE_COUNT=0 exits 2 naming it', async () => {
    const p = runEntry('services/poller/src/main.ts', cleanEnv({ SQS_MAX_RECEIVE_COUNT: '0' }));
    assert.equal(await p.exited, 2);
    assert.match(p.stderr(), /SQS_MAX_RECEIVE_COUNT: /);
  });

  it('gateway bound to all interfaces without PUBLIC_BASE_URL exits 2 naming it', async () => {
    const p = runEntry(
      'services/gateway/src/main.ts',
      cleanEnv({ BIND_HOST: '0.0.0.0', JWT_SECRET: 'a-test-secret-of-at-least-thirty-two-chars' }),
    );
    assert.equal(await p.exited, 2);
    assert.match(p.stderr(), /PUBLIC_BASE_URL: is required when BIND_HOST \(0\.0\.0\.0\) is not a loopback address/);
  });

  it('a secret given in a bad variable is not echoed', async () => {
    const p = runEntry('services/gateway/src/main.ts', cleanEnv({ JWT_SECRET: 'short-secret-value' }));
    assert.equal(await p.exited, 2);
    assert.match(p.stderr(), /JWT_SECRET: must be at least 32 characters/);
    assert.doesNotMatch(p.stderr(), /short-secret-value/);
  });
});

describe('SIGTERM', () => {
  it('drains an in-flight gRPC call, then exits 0', async () => {
    const p = runEntry('test/fixtures/slow-service.ts', cleanEnv({ SLOW_MS: '800' }));
    const started = await p.waitForLog((l) => l.msg === 'slow started');
    const client = connectService('poller', `127.0.0.1:${started.grpcPort}`, { defaultDeadlineMs: 10_000 });
    try {
      const inFlight = client.getStatus({});
      await p.waitForLog((l) => l.msg === 'slow call started');
      p.child.kill('SIGTERM');
      const response = await inFlight;
      assert.equal(response.messagesProcessed, 42, 'the in-flight call completed with its answer');
      assert.equal(await p.exited, 0);
      const stopped = p
        .stdout()
        .split('\n')
        .find((l) => l.includes('gRPC server stopped'));
      assert.ok(stopped, p.stdout());
      assert.equal((JSON.parse(stopped) as { drained: number }).drained, 1);
      assert.equal((JSON.parse(stopped) as { forced: boolean }).forced, false);
    } finally {
      client.close();
    }
  });

  it('a service started as its own process serves health, then stops cleanly', async () => {
    const p = runEntry(
      'services/user-credit/src/main.ts',
      cleanEnv({ GRPC_PORT: '0', METRICS_PORT: '0', DATA_DIR: dataDir }),
    );
    const started = await p.waitForLog((l) => l.msg === 'user-credit started', 60_000);
    await checkServing(`127.0.0.1:${started.grpcPort}`);
    const ready = await fetch(`http://127.0.0.1:${started.opsPort}/readyz`);
    assert.equal(ready.status, 200);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
    assert.match(p.stdout(), /stopped cleanly/);
  });

  it('the gateway stops within its bound even with a client that never finishes its request', async () => {
    const p = runEntry(
      'services/gateway/src/main.ts',
      cleanEnv({
        HTTP_PORT: '0',
        GRPC_PORT: '0',
        METRICS_PORT: '0',
        JWT_SECRET: 'a-test-secret-of-at-least-thirty-two-chars',
        SHUTDOWN_TIMEOUT_MS: '1000',
      }),
    );
    const started = await p.waitForLog((l) => l.msg === 'gateway started');
    const { port } = new URL((started.endpoints as { mcp: string }).mcp);
    const stubborn = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => stubborn.once('connect', resolve));
    stubborn.write('POST /mcp HTTP/1.1\r\nHost: x\r\n'); // headers never finished
    stubborn.on('error', () => {});
    p.child.kill('SIGTERM');
    // Exit 0 means the drain finished inside the bound; the hard limit would exit 1.
    assert.equal(await p.exited, 0, `gateway output:\n${p.stdout()}\n${p.stderr()}`);
    stubborn.destroy();
  });

  it('the built service (dist/main.js, as containers run it) boots and stops cleanly', {
    skip: existsSync(path.join(root, 'services/user-credit/dist/main.js'))
      ? false
      : 'run npm run build first (CI does)',
  }, async () => {
    const p = runEntry(
      'services/user-credit/dist/main.js',
      cleanEnv({ GRPC_PORT: '0', METRICS_PORT: '0', DATA_DIR: dataDir }),
      { compiled: true },
    );
    const started = await p.waitForLog((l) => l.msg === 'user-credit started', 60_000);
    await checkServing(`127.0.0.1:${started.grpcPort}`);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  });
});
