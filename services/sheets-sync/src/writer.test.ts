/**
 * The writer with an injected clock (node:test mocks Date, which cockatiel's breaker reads too) and a
 * Sheets stand-in that records every request: coalescing, priority order, batching by rows and bytes,
 * breaker transitions, the 429 drain, and appends that landed although their answer was lost.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it, mock } from 'node:test';
import { createLogger, MemoryTokenBucket, systemClock } from '@callgate/common';
import { openTestDatabase, type TestDatabase, uniqueSchema } from '../../../test/support/database.js';
import type { ColumnName, RowFields } from './columns.js';
import { RowStore } from './row-store.js';
import { migrateSheetsSchema } from './schema.js';
import { type SheetsApi, SheetsRequestError } from './sheets-api.js';
import { type CycleResult, SheetsWriter } from './writer.js';

const log = createLogger('test', 'silent');
const COLUMNS: ColumnName[] = ['status', 'version'];

type Failure = Error | { landThenThrow: Error };

/** Google Sheets as far as the writer can tell: rows, and a queue of failures for the next requests. */
class FakeSheets implements SheetsApi {
  rows: string[][] = [];
  requests: { kind: 'append' | 'update' | 'read'; ids: string[] }[] = [];
  failures: Failure[] = [];

  private fail(): { landThenThrow?: Error } {
    const next = this.failures.shift();
    if (next instanceof Error) throw next;
    return next ?? {};
  }

  async append(_range: string, rows: string[][]) {
    this.requests.push({ kind: 'append', ids: rows.map((r) => r[0] as string) });
    const { landThenThrow } = this.fail();
    const start = this.rows.length + 1;
    this.rows.push(...rows.map((r) => [...r]));
    if (landThenThrow) throw landThenThrow;
    return { updatedRange: `'Calls'!A${start}:C${start + rows.length - 1}` };
  }

  async batchUpdate(data: { range: string; values: string[][] }[]) {
    this.requests.push({ kind: 'update', ids: data.map((d) => d.values[0]?.[0] as string) });
    this.fail();
    for (const { range, values } of data) {
      const row = Number(/!A(\d+)/.exec(range)?.[1]);
      this.rows[row - 1] = [...(values[0] as string[])];
    }
    return { updatedRows: data.length };
  }

  async get(_range: string) {
    this.requests.push({ kind: 'read', ids: [] });
    this.fail();
    return this.rows.map((r) => [r[0] as string]);
  }

  /** Data rows (after the header), as "id status version". */
  table(): string[] {
    return this.rows.slice(1).map((r) => r.join(' '));
  }
}

let database: TestDatabase;
let store: RowStore;
let api: FakeSheets;
let writeBucket: MemoryTokenBucket;
let readBucket: MemoryTokenBucket;

const now = () => Date.now();
const tick = (ms: number) => mock.timers.tick(ms);

function writer(overrides: Partial<ConstructorParameters<typeof SheetsWriter>[0]> = {}) {
  return new SheetsWriter({
    store,
    api,
    writeBucket,
    readBucket,
    tab: 'Calls',
    columns: COLUMNS,
    maxRows: 3,
    maxBytes: 2_000_000,
    flushAgeMs: 1000,
    breakerFailures: 3,
    halfOpenAfterMs: 10_000,
    backoffMaxMs: 2000,
    clock: systemClock,
    log,
    ...overrides,
  });
}

const fields = (status: string, version: number): RowFields =>
  ({ status, version: String(version) }) as unknown as RowFields;

async function upsert(callId: string, version: number, status: string, terminal = false) {
  return store.upsert({ callId, version, fields: fields(status, version), terminal }, new Date(now()));
}

/** Runs cycles, moving the clock over every wait, until the queue is empty or `limit` cycles ran. */
async function drain(w: SheetsWriter, limit = 50): Promise<CycleResult[]> {
  const results: CycleResult[] = [];
  for (let i = 0; i < limit; i++) {
    const result = await w.cycle();
    results.push(result);
    if (result.did === 'idle') return results;
    if (result.waitMs > 0) tick(result.waitMs);
  }
  throw new Error(`not drained after ${limit} cycles: ${JSON.stringify(results.slice(-5))}`);
}

const serverError = () => new SheetsRequestError('503 The service is currently unavailable.', '5xx', undefined, 503);

before(async () => {
  database = await openTestDatabase();
});
after(async () => {
  await database?.close();
});
beforeEach(async () => {
  mock.timers.enable({ apis: ['Date'], now: 1_700_000_000_000 });
  const schema = uniqueSchema('sheets_w');
  await migrateSheetsSchema(database.db, schema, log);
  store = new RowStore(database.db, schema);
  api = new FakeSheets();
  writeBucket = new MemoryTokenBucket({ capacity: 5, perMinute: 60 }, systemClock);
  readBucket = new MemoryTokenBucket({ capacity: 5, perMinute: 60 }, systemClock);
});
afterEach(() => {
  mock.timers.reset();
});

describe('SheetsWriter', () => {
  it('coalesces pending updates of a row into one write with the newest values; older versions are refused', async () => {
    assert.deepEqual(await upsert('c1', 1, 'queued'), { accepted: true, coalesced: false });
    assert.deepEqual(await upsert('c1', 3, 'ringing'), { accepted: true, coalesced: true });
    assert.deepEqual(await upsert('c1', 2, 'initiated'), { accepted: false, coalesced: false });
    assert.deepEqual(await upsert('c1', 3, 'ringing'), { accepted: false, coalesced: false });
    const w = writer();
    // Younger than the flush age and not a full batch: it waits for more rows.
    assert.deepEqual(await w.cycle(), { did: 'waiting', waitMs: 1000 });
    tick(1000);
    await drain(w);
    assert.deepEqual(api.table(), ['c1 ringing 3']);
    assert.deepEqual(api.rows[0], ['Call id', 'Status', 'Version']);
    assert.deepEqual(
      api.requests.map((r) => r.kind),
      ['update', 'append'],
      'the header, then one append',
    );
    // A later version rewrites the same sheet row in place.
    assert.deepEqual(await upsert('c1', 4, 'completed', true), { accepted: true, coalesced: false });
    tick(1000);
    await drain(w);
    assert.deepEqual(api.table(), ['c1 completed 4']);
    assert.deepEqual(api.requests.at(-1), { kind: 'update', ids: ['c1'] });
    assert.equal((await store.get('c1'))?.writtenVersion, 4);
  });

  it('writes new rows before rewrites, terminal before intermediate, then oldest first, maxRows per request', async () => {
    const w = writer();
    await upsert('old', 1, 'queued');
    tick(1000);
    await drain(w);
    api.requests = [];
    await upsert('old', 2, 'ringing');
    tick(10);
    await upsert('a', 1, 'ringing');
    tick(10);
    await upsert('b', 2, 'completed', true);
    tick(10);
    await upsert('c', 1, 'queued');
    tick(10);
    await upsert('d', 1, 'queued');
    tick(1000);
    await drain(w);
    assert.deepEqual(api.requests, [
      { kind: 'append', ids: ['b', 'a', 'c'] },
      { kind: 'append', ids: ['d'] },
      { kind: 'update', ids: ['old'] },
    ]);
    assert.deepEqual(api.table(), ['old ringing 2', 'b completed 2', 'a ringing 1', 'c queued 1', 'd queued 1']);
  });

  it('flushes at once when a full batch waits, and cuts a batch at maxBytes', async () => {
    const w = writer({ maxRows: 3, maxBytes: 280 });
    for (const id of ['r1', 'r2', 'r3']) await upsert(id, 1, 'queued');
    const results = await drain(w);
    assert.equal(results[0]?.did, 'header', 'a full batch does not wait for the flush age');
    // Each row is ~60 bytes with its overhead; 280 bytes (with 200 for the request) hold one row.
    assert.deepEqual(
      api.requests.filter((r) => r.kind === 'append').map((r) => r.ids),
      [['r1'], ['r2'], ['r3']],
    );
  });

  it('opens the breaker after consecutive failures, probes after halfOpenAfter, closes on success', async () => {
    const w = writer();
    for (const id of ['x1', 'x2']) await upsert(id, 1, 'queued');
    tick(1000);
    assert.equal((await w.cycle()).did, 'header');
    api.failures.push(serverError(), serverError(), serverError(), serverError());
    for (let i = 0; i < 3; i++) {
      const r = await w.cycle();
      assert.equal(r.did === 'failed' || r.did === 'reconcile', true, `cycle ${i}: ${r.did}`);
      tick(r.waitMs);
    }
    // Three failed requests: appends (rows kept, marked unsure) and the look-up reads before each retry.
    assert.equal(w.breakerState, 'open');
    const requestsWhenOpened = api.requests.length;
    const open = await w.cycle();
    assert.equal(open.did, 'breaker-open');
    assert.ok(open.waitMs > 0 && open.waitMs <= 10_000, `waitMs ${open.waitMs}`);
    assert.equal(api.requests.length, requestsWhenOpened, 'no request while open');
    assert.equal((await store.stats()).depth, 2, 'the rows wait in the outbox');
    // Half-open: one probe; it fails, so the breaker opens again.
    tick(open.waitMs);
    assert.equal((await w.cycle()).did, 'failed');
    assert.equal(api.requests.length, requestsWhenOpened + 1);
    assert.equal(w.breakerState, 'open');
    // The next probe succeeds: closed, and the outbox drains with nothing duplicated.
    tick(10_000);
    await drain(w);
    assert.equal(w.breakerState, 'closed');
    assert.deepEqual(api.table(), ['x1 queued 1', 'x2 queued 1']);
    assert.equal((await store.stats()).depth, 0);
  });

  it('opens the breaker on a failure rate too: two of every three requests fail, never three in a row', async () => {
    const w = writer();
    for (let i = 0; i < 3; i++) await upsert(`f${i}`, 1, 'queued');
    tick(1000);
    await drain(w);
    // The header and one append succeeded; now rewrites fail twice, succeed once, and so on.
    const outcomes: string[] = [];
    for (let i = 0; i < 30 && w.breakerState === 'closed'; i++) {
      for (let r = 0; r < 3; r++) await upsert(`f${r}`, 2 + i, 'ringing');
      tick(1000);
      if (i % 3 === 2) api.failures.push(undefined as unknown as Error);
      else api.failures.push(serverError());
      for (;;) {
        const r = await w.cycle();
        tick(r.waitMs);
        if (r.did !== 'waiting') {
          outcomes.push(r.did);
          break;
        }
      }
    }
    assert.equal(w.breakerState, 'open', outcomes.join(','));
    assert.ok(!outcomes.join(',').includes('failed,failed,failed'), outcomes.join(','));
    // With the two successes before: at the 10th request, 6 of 10 failed (more than half).
    assert.deepEqual(outcomes, ['failed', 'failed', 'update', 'failed', 'failed', 'update', 'failed', 'failed']);
  });

  it('a 429 drains the bucket and waits for Retry-After; it does not count towards the breaker', async () => {
    const w = writer({ breakerFailures: 1 });
    await upsert('q1', 1, 'queued');
    tick(1000);
    assert.equal((await w.cycle()).did, 'header');
    api.failures.push(new SheetsRequestError('Quota exceeded', '429', 7000, 429));
    const failed = await w.cycle();
    assert.equal(failed.did, 'failed');
    assert.ok(failed.waitMs >= 7000 && failed.waitMs <= 7000 + 2000, `waitMs ${failed.waitMs}`);
    assert.equal(w.breakerState, 'closed');
    assert.equal(await writeBucket.peek(), 0);
    tick(6999);
    const before = api.requests.length;
    assert.equal((await w.cycle()).did, 'waiting');
    assert.equal(api.requests.length, before, 'nothing sent during Retry-After');
    tick(failed.waitMs);
    await drain(w);
    // 429 means nothing was written: no look-up read is needed before the append is retried.
    assert.deepEqual(
      api.requests.map((r) => r.kind),
      ['update', 'append', 'append'],
    );
    assert.deepEqual(api.table(), ['q1 queued 1']);
  });

  it('an append whose answer was lost is looked up before it is retried, so it never lands twice', async () => {
    const w = writer();
    await upsert('t1', 1, 'queued');
    await upsert('t2', 1, 'queued');
    tick(1000);
    api.failures.push(
      undefined as unknown as Error, // the header
      { landThenThrow: new SheetsRequestError('timeout of 30000ms exceeded', 'timeout') },
    );
    await drain(w);
    assert.deepEqual(
      api.requests.map((r) => r.kind),
      ['update', 'append', 'read'],
    );
    assert.deepEqual(api.table(), ['t1 queued 1', 't2 queued 1']);
    assert.equal((await store.get('t2'))?.sheetRowNumber, 3);
  });
});
