/**
 * Issue 17, item 9, as it was found: `npm start` killed (SIGKILL) with calls ringing, then started again on
 * the same database. The new sandbox carrier does not know the calls; the restarted system's stale-call sweep
 * ends them (failed, with the reason), releases their holds, and their user, locked out at the
 * concurrent-call limit, can call again.
 *
 * The system sweeps its whole database, so it gets a database of its own on the PostgreSQL server of
 * DATABASE_URL (created and dropped here), never the one other tests share. Without DATABASE_URL there is
 * nothing to restart on: ephemeral-port systems keep their embedded database in memory.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, isGrpcError, PostgresDatabase } from '@callgate/common';
import { type CallClient, type CreditClient, callClient, creditClient, placeRequest } from '../support/calls.js';
import { eventually } from '../support/eventually.js';
import { cleanEnv, type RunningProcess, runEntry } from '../support/process.js';
import { within } from '../support/within.js';

const shared = process.env.DATABASE_URL;
const name = `callgate_crash_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const url = shared ? Object.assign(new URL(shared), { pathname: `/${name}` }).toString() : '';

async function admin<T>(fn: (db: PostgresDatabase) => Promise<T>): Promise<T> {
  const db = new PostgresDatabase({ url: shared as string, log: createLogger('test', 'silent'), max: 1 });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

// The signing key and discovery file of both runs: a directory of the test's own, never the repo's .data.
const dataDir = mkdtempSync(path.join(tmpdir(), 'callgate-crash-'));

before(async () => {
  if (shared) await admin((db) => db.query(`CREATE DATABASE ${name}`));
});
after(async () => {
  if (shared) await admin((db) => db.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
  process: RunningProcess;
  call: CallClient;
  credit: CreditClient;
}

/** `npm start` on ephemeral ports and the test's database; resolves once its banner names the gRPC ports. */
async function start(): Promise<Started> {
  const env = cleanEnv({
    CALLGATE_PORTS: 'ephemeral',
    DATABASE_URL: url,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    // The carrier takes calls and leaves them queued: they are "ringing" when the process dies.
    SANDBOX_CALL_STEP_MS: '600000',
    SWEEP_INTERVAL_MS: '500',
    SWEEP_STALE_AFTER_MS: '1000',
    POLL_WAIT_SECONDS: '1',
  });
  delete env.SWEEP_ENABLED;
  const p = runEntry('scripts/start-local.ts', env);
  const banner = await within(
    new Promise<string>((resolve, reject) => {
      const check = () => /MCP URL: /.test(p.stdout()) && resolve(p.stdout());
      p.child.stdout?.on('data', check);
      void p.exited.then(() => reject(new Error(`npm start exited:\n${p.stdout()}\n${p.stderr()}`)));
      check();
    }),
    'npm start to print its banner',
    240_000,
  );
  const port = (service: string) => {
    const match = new RegExp(`^\\s+${service}\\s+gRPC (127\\.0\\.0\\.1:\\d+)`, 'm').exec(banner);
    if (!match?.[1]) throw new Error(`no gRPC address of ${service} in the banner:\n${banner}`);
    return match[1];
  };
  return { process: p, call: callClient(port('call')), credit: creditClient(port('user-credit')) };
}

async function stop(s: Started, signal: NodeJS.Signals): Promise<void> {
  s.call.close();
  s.credit.close();
  s.process.child.kill(signal);
  await within(s.process.exited, `npm start to exit on ${signal}`, 30_000);
}

describe('npm start killed with calls ringing, restarted on the same database', () => {
  it('ends the calls the new carrier does not know, releases their holds, and lets their user call again', {
    skip: shared ? false : 'needs DATABASE_URL: an ephemeral-port system keeps its embedded database in memory',
  }, async () => {
    const userId = `crash-${randomUUID()}`;
    const first = await start();
    const callIds: string[] = [];
    try {
      await first.credit.getUser({ userId, createIfMissing: true, displayName: 'Crash', email: '' });
      for (let i = 0; i < 3; i++) {
        const { call } = await first.call.placeCall(placeRequest(userId));
        assert.ok(call?.carrierCallId, 'placed at the carrier');
        callIds.push(call.callId);
      }
      await assert.rejects(first.call.placeCall(placeRequest(userId)), /3 call\(s\) in progress/);
    } finally {
      await stop(first, 'SIGKILL');
    }

    const second = await start();
    try {
      for (const callId of callIds) {
        // Waits for the event (the call ended and settled); the runner's per-test timeout bounds a hang.
        const call = await eventually(
          `call ${callId} to end after the restart`,
          async () => {
            const { call } = await second.call.getCall({ userId, callId });
            return call && call.status === 'CALL_STATUS_FAILED' && Number(call.reservedCredits) === 0
              ? call
              : undefined;
          },
          120_000,
          { intervalMs: 200 },
        );
        assert.match(call.errorMessage, /carrier has no record of call/);
      }
      const { balance } = await second.credit.getBalance({ userId });
      assert.equal(Number(balance?.held), 0, 'no credits held for the dead calls');
      const { call } = await second.call.placeCall(placeRequest(userId)).catch((error: unknown) => {
        throw isGrpcError(error) ? new Error(`the user is still refused: ${error.details}`) : error;
      });
      assert.equal(call?.status, 'CALL_STATUS_QUEUED');
    } finally {
      await stop(second, 'SIGKILL');
    }
  });
});
