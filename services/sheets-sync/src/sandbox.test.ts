/**
 * sheets-sync against the sandbox's Google Sheets through the real googleapis client: a 10,000-event
 * burst within a 300/min quota, a full outage in the middle of a burst, and two replicas sharing one
 * Redis bucket. Real time, but bounded: a few requests carry thousands of rows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@callgate/common';
import { openTestDatabase, type TestDatabase, uniqueSchema } from '../../../test/support/database.js';
import { needsRedis, uniqueKeyPrefix } from '../../../test/support/redis.js';
import {
  callEvents,
  pushAll,
  type SheetsSandboxHandle,
  startSheetsSandbox,
  startSheetsSync,
  waitForStatus,
} from '../../../test/support/sheets.js';

let database: TestDatabase;
const log = createLogger('test', 'silent');

before(async () => {
  database = await openTestDatabase();
});
after(async () => {
  await database?.close();
});

/** The sheet's data rows by call id, failing on a duplicate id. */
function byCallId(rows: string[][]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const row of rows.slice(1)) {
    const id = row[0] as string;
    assert.ok(!map.has(id), `call ${id} has two rows`);
    map.set(id, row);
  }
  return map;
}

/** Default columns: id, time, user, to, from, status, duration, cost, ended, outcome. */
const STATUS = 5;

function assertFinal(rows: string[][], calls: number, prefix: string) {
  assert.deepEqual(rows[0]?.slice(0, 6), ['Call id', 'Time', 'User', 'To', 'From', 'Status']);
  const map = byCallId(rows);
  assert.equal(map.size, calls, 'exactly one row per call');
  for (let c = 0; c < calls; c++) {
    const id = `${prefix}-${String(c).padStart(5, '0')}`;
    const row = map.get(id);
    assert.ok(row, `${id} is missing`);
    assert.equal(row[STATUS], 'completed', `${id} has its final status`);
    assert.equal(row[6], String(60 + (c % 240)), `${id} duration`);
  }
}

describe('sheets-sync against the sandbox', () => {
  let sandbox: SheetsSandboxHandle;
  before(async () => {
    sandbox = await startSheetsSandbox(300);
  });
  after(async () => {
    await sandbox?.stop();
  });

  it('10,000 row events for 2,000 calls in a burst: no 429, exactly 2,000 rows with their final status', async (t) => {
    const sync = await startSheetsSync(database.db, sandbox.url, {
      schema: uniqueSchema('sheets_it'),
      env: { SHEETS_FLUSH_AGE_MS: '250' },
    });
    try {
      const before = await sandbox.stats();
      const started = Date.now();
      const events = callEvents(2000, 'burst');
      const accepted = await pushAll(sync.client, events);
      // Out of order: an older version that arrives after a newer one is refused, never written.
      assert.ok(accepted >= 2000 && accepted < 10_000, `accepted ${accepted}`);
      const status = await waitForStatus(sync.client, (s) => s.queueDepth === 0, 90_000);
      const after = await sandbox.stats();
      const requests = after.writeRequests - before.writeRequests;
      assert.equal(after.rejected429 - before.rejected429, 0, 'the sandbox never answered 429');
      assert.ok(after.maxWritesPerMinute <= 300, `busiest minute: ${after.maxWritesPerMinute} writes`);
      assertFinal(await sandbox.rows(sync.spreadsheetId), 2000, 'burst');
      assert.equal(status.outboxDepth, 0);
      assert.equal(status.breakerState, 'closed');
      // Prometheus shows the same picture, and its request counter agrees with what the sandbox saw.
      const metrics = await (await fetch(`http://127.0.0.1:${sync.handle.opsPort}/metrics`)).text();
      const value = (series: string) => {
        const line = metrics.split('\n').find((l) => l.startsWith(series) && /[{ ]/.test(l.charAt(series.length)));
        assert.ok(line, `${series} is exported`);
        return Number(line.slice(line.lastIndexOf(' ') + 1));
      };
      const okWrites = ['append', 'update', 'header']
        .map((kind) =>
          metrics.match(new RegExp(`^sheets_sync_requests_total\\{kind="${kind}",result="ok"[^}]*\\} (\\d+)$`, 'm')),
        )
        .reduce((n, m) => n + Number(m?.[1] ?? 0), 0);
      assert.equal(okWrites, requests);
      assert.equal(value('sheets_sync_rows_written_total'), Number(status.rowsWritten));
      assert.equal(value('sheets_sync_queue_depth'), 0);
      assert.equal(value('sheets_sync_outbox_depth'), 0);
      assert.equal(value('sheets_sync_breaker_state'), 0);
      assert.ok(value('sheets_sync_coalesced_updates_total') > 0, 'shuffled updates coalesced');
      assert.match(metrics, /^sheets_sync_tokens_available\{bucket="write"/m);
      assert.match(metrics, /^sheets_sync_near_quota\{/m);
      assert.match(metrics, /^sheets_sync_rows_per_request_count\{/m);
      t.diagnostic(
        `10,000 events (${accepted} accepted) → ${requests} write requests, ${after.readRequests - before.readRequests} reads, ` +
          `${(Number(status.rowsWritten) / requests).toFixed(1)} rows per request, ${Date.now() - started} ms`,
      );
    } finally {
      await sync.stop();
    }
  });

  it('a full outage mid-burst: the breaker opens, rows wait in the outbox, nothing lost or duplicated after recovery', async () => {
    const sync = await startSheetsSync(database.db, sandbox.url, {
      schema: uniqueSchema('sheets_out'),
      env: {
        SHEETS_FLUSH_AGE_MS: '100',
        SHEETS_BATCH_MAX_ROWS: '100',
        SHEETS_BREAKER_FAILURES: '3',
        SHEETS_BREAKER_HALF_OPEN_MS: '1000',
        SHEETS_BACKOFF_MAX_MS: '200',
        SHEETS_REQUEST_TIMEOUT_MS: '2000',
      },
    });
    try {
      const events = callEvents(600, 'outage', 7);
      await pushAll(sync.client, events.slice(0, 1500));
      await sandbox.fault({ mode: 'outage' });
      await pushAll(sync.client, events.slice(1500));
      const open = await waitForStatus(sync.client, (s) => s.breakerState === 'open', 30_000);
      assert.ok(open.outboxDepth > 0, `outbox ${open.outboxDepth}`);
      assert.equal(open.outboxDepth, open.queueDepth, 'while open, every pending row is in the outbox');
      await sandbox.fault({ mode: 'none' });
      const done = await waitForStatus(sync.client, (s) => s.queueDepth === 0 && s.breakerState === 'closed', 60_000);
      assert.equal(done.outboxDepth, 0);
      assertFinal(await sandbox.rows(sync.spreadsheetId), 600, 'outage');
    } finally {
      await sandbox.fault({ mode: 'none' });
      await sync.stop();
    }
  });
});

describe('two sheets-sync replicas sharing one Redis bucket', { skip: needsRedis() }, () => {
  it('never exceed the quota together', async (t) => {
    // A small quota so that the test is short: 12 writes a minute. Each replica alone would stay under
    // it (bucket of 6 + 5/min), but two with buckets of their own would send 12 at once and more after.
    const sandbox = await startSheetsSandbox(12);
    const schema = uniqueSchema('sheets_2r');
    const keys = uniqueKeyPrefix('sheets-sync');
    const env = {
      REDIS_URL: process.env.REDIS_URL as string,
      SHEETS_WRITE_BURST: '6',
      SHEETS_WRITES_PER_MINUTE: '5',
      SHEETS_FLUSH_AGE_MS: '50',
      SHEETS_BATCH_MAX_ROWS: '5',
    };
    const spreadsheetId = `two-${keys.slice(-8)}`;
    const a = await startSheetsSync(database.db, sandbox.url, { schema, env, spreadsheetId, redisKeyPrefix: keys });
    const b = await startSheetsSync(database.db, sandbox.url, { schema, env, spreadsheetId, redisKeyPrefix: keys });
    try {
      const events = callEvents(200, 'two', 3).filter((e) => e.version === 5);
      await Promise.all([pushAll(a.client, events.slice(0, 100)), pushAll(b.client, events.slice(100))]);
      // Both replicas work the shared queue until the shared bucket is empty (6 tokens, ~0.08 more a second).
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const stats = await sandbox.stats();
      const [sa, sb] = await Promise.all([a.client.getSyncStatus({}), b.client.getSyncStatus({})]);
      t.diagnostic(
        `writes: replica A ${sa.writeRequestsLastMinute}, replica B ${sb.writeRequestsLastMinute}, sandbox ${stats.writeRequests}`,
      );
      assert.equal(stats.rejected429, 0, 'no 429');
      // 6 at once plus at most one refilled in 3 s (5/min): together, never more than 7.
      assert.ok(stats.writeRequests >= 6 && stats.writeRequests <= 7, `writes ${stats.writeRequests}`);
      assert.ok(sa.writeRequestsLastMinute > 0 && sb.writeRequestsLastMinute > 0, 'both replicas wrote');
      // Rows are leased: nothing was appended twice by the two replicas.
      byCallId(await sandbox.rows(spreadsheetId));
    } finally {
      await a.stop();
      await b.stop();
      await sandbox.stop();
    }
  });
});

void log;
