/**
 * sheets-sync as its own process, killed with SIGKILL while the Sheets API is down: what it acknowledged
 * is in PostgreSQL, so the restarted process writes every row exactly once. Needs a real PostgreSQL
 * (DATABASE_URL): a fresh database, so nothing else running there takes part.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLogger, PostgresDatabase } from '@callgate/common';
import { cleanEnv, type RunningProcess, runEntry } from '../../../test/support/process.js';
import {
  callEvents,
  pushAll,
  type SheetsSandboxHandle,
  sheetsSyncClient,
  startSheetsSandbox,
  waitForStatus,
} from '../../../test/support/sheets.js';

const skip = process.env.DATABASE_URL ? false : 'DATABASE_URL is not set: the SIGKILL test needs a real PostgreSQL';

describe('sheets-sync killed with SIGKILL during an outage', { skip }, () => {
  const name = `sheets_kill_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = skip
    ? undefined
    : new PostgresDatabase({ url: process.env.DATABASE_URL as string, log: createLogger('test', 'silent') });
  let url: string;
  let sandbox: SheetsSandboxHandle;
  const running: RunningProcess[] = [];

  before(async () => {
    await admin?.query(`CREATE DATABASE ${name}`);
    const u = new URL(process.env.DATABASE_URL as string);
    u.pathname = `/${name}`;
    url = u.toString();
    sandbox = await startSheetsSandbox(300);
  });
  after(async () => {
    for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    await sandbox?.stop();
    await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin?.close();
  });

  const start = async (spreadsheetId: string) => {
    const proc = runEntry(
      'services/sheets-sync/src/main.ts',
      cleanEnv({
        DATABASE_URL: url,
        GRPC_PORT: '0',
        METRICS_PORT: '0',
        GOOGLE_SHEETS_API_URL: sandbox.url,
        GOOGLE_SHEETS_ID: spreadsheetId,
        SHEETS_FLUSH_AGE_MS: '100',
        SHEETS_BATCH_MAX_ROWS: '100',
        SHEETS_BREAKER_FAILURES: '3',
        SHEETS_BREAKER_HALF_OPEN_MS: '1000',
        SHEETS_BACKOFF_MAX_MS: '200',
        SHEETS_REQUEST_TIMEOUT_MS: '2000',
        REDIS_URL: '',
      }),
    );
    running.push(proc);
    const started = await proc.waitForLog((line) => line.msg === 'sheets-sync started', 60_000);
    return { proc, client: sheetsSyncClient(`127.0.0.1:${started.grpcPort as number}`) };
  };

  it('loses and duplicates nothing', async () => {
    const spreadsheetId = `kill-${randomUUID()}`;
    const events = callEvents(500, 'kill', 11);
    const first = await start(spreadsheetId);
    await pushAll(first.client, events.slice(0, 1200));
    await sandbox.fault({ mode: 'outage' });
    await pushAll(first.client, events.slice(1200));
    await waitForStatus(first.client, (s) => s.breakerState === 'open' && s.outboxDepth > 0, 30_000);
    first.proc.child.kill('SIGKILL');
    assert.equal(await first.proc.exited, null, 'killed, not exited');
    first.client.close();

    const second = await start(spreadsheetId);
    try {
      // Still down at first: the new process finds the outbox and waits with it.
      const waiting = await second.client.getSyncStatus({});
      assert.ok(waiting.queueDepth > 0, `queue ${waiting.queueDepth}`);
      await sandbox.fault({ mode: 'none' });
      await waitForStatus(second.client, (s) => s.queueDepth === 0, 60_000);
      const rows = (await sandbox.rows(spreadsheetId)).slice(1);
      const ids = rows.map((r) => r[0]);
      assert.equal(new Set(ids).size, ids.length, 'no call has two rows');
      assert.equal(rows.length, 500, 'one row per call');
      assert.deepEqual(
        rows.filter((r) => r[5] !== 'completed').map((r) => r[0]),
        [],
        'every row has its final status',
      );
    } finally {
      second.client.close();
      second.proc.child.kill('SIGTERM');
      await second.proc.exited;
    }
  });
});
