/**
 * `npm start` runs the stale-call sweep (issue 17, item 9): it is what ends calls left ringing by a crash.
 * The local system turns the sweep off for ephemeral-port systems, which tests start beside each other on
 * one shared database; `npm start` is not one of them, whatever its ports.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cleanEnv, runEntry } from '../support/process.js';
import { within } from '../support/within.js';

describe('npm start', () => {
  it('sweeps for stale calls, with CALLGATE_PORTS=ephemeral too', async () => {
    // Its own embedded database in a directory of its own: a sweep here must never touch the database other
    // tests share, nor a developer's .data.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'callgate-sweep-'));
    const env = cleanEnv({ CALLGATE_PORTS: 'ephemeral', DATA_DIR: dataDir });
    delete env.DATABASE_URL;
    delete env.SWEEP_ENABLED;
    const p = runEntry('scripts/start-local.ts', env);
    try {
      // Both waits from the spawn on, so neither line is missed; generous bounds for a loaded machine.
      const consuming = p.waitForLog((l) => l.service === 'poller' && l.msg === 'poller consuming', 180_000);
      const swept = p.waitForLog((l) => l.service === 'poller' && l.msg === 'stale-call sweep started', 180_000);
      swept.catch(() => undefined);
      assert.equal((await consuming).sweep, true, 'the poller stands for the sweep');
      await swept;
    } finally {
      // Possibly still starting (before its SIGTERM handler): how it stops is not what this test is about.
      p.child.kill('SIGKILL');
      await within(p.exited, 'npm start to exit', 30_000);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
