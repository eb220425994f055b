/**
 * The googleapis client against the sandbox's Sheets v4: request and response shapes, Google's 429
 * body with Retry-After, fault classification (5xx, reset, timeout), and that gaxios never retries
 * behind the token bucket's back (a GET, which it would retry by default, is sent exactly once).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type SheetsSandboxHandle, startSheetsSandbox } from '../../../test/support/sheets.js';
import { classify, firstRowOf, googleSheetsApi, type SheetsApi, type SheetsRequestError } from './sheets-api.js';

let sandbox: SheetsSandboxHandle;
let api: SheetsApi;
let spreadsheet = 0;

before(async () => {
  sandbox = await startSheetsSandbox(5);
});
after(async () => {
  await sandbox?.stop();
});
beforeEach(async () => {
  await fetch(`${sandbox.url}/sandbox/sheets/reset`, { method: 'POST', body: '{"quotaPerMinute":5}' });
  // A timeout no request of a loaded machine reaches; the timeout case has a short one of its own.
  api = googleSheetsApi({ spreadsheetId: `unit-${++spreadsheet}`, rootUrl: sandbox.url, timeoutMs: 60_000 });
});

async function failure(promise: Promise<unknown>): Promise<SheetsRequestError> {
  try {
    await promise;
  } catch (error) {
    return classify(error, Date.now());
  }
  throw new Error('expected the request to fail');
}

describe('googleapis against the sandbox Sheets', () => {
  it('appends, rewrites and reads rows with the API shapes', async () => {
    await api.batchUpdate([{ range: "'Calls'!A1:C1", values: [['Call id', 'Status', 'Version']] }]);
    const first = await api.append("'Calls'!A1:C1", [
      ['c1', 'queued', '1'],
      ['c2', 'ringing', '2'],
    ]);
    assert.equal(first.updatedRange, 'Calls!A2:C3');
    assert.equal(firstRowOf(first.updatedRange), 2);
    assert.equal((await api.append("'Calls'!A1:C1", [['c3', 'queued', '1']])).updatedRange, 'Calls!A4:C4');
    assert.deepEqual(await api.batchUpdate([{ range: "'Calls'!A2:C2", values: [['c1', 'completed', '5']] }]), {
      updatedRows: 1,
    });
    assert.deepEqual(await api.get("'Calls'!A:A"), [['Call id'], ['c1'], ['c2'], ['c3']]);
    assert.deepEqual(await sandbox.rows(`unit-${spreadsheet}`), [
      ['Call id', 'Status', 'Version'],
      ['c1', 'completed', '5'],
      ['c2', 'ringing', '2'],
      ['c3', 'queued', '1'],
    ]);
  });

  it('past the per-minute quota: 429 with Google’s body and Retry-After', async () => {
    for (let i = 0; i < 5; i++) await api.batchUpdate([{ range: 'Calls!A1', values: [[String(i)]] }]);
    const raw = await fetch(`${sandbox.url}/v4/spreadsheets/unit-${spreadsheet}/values:batchUpdate`, {
      method: 'POST',
      body: JSON.stringify({ valueInputOption: 'RAW', data: [] }),
    });
    assert.equal(raw.status, 429);
    const body = (await raw.json()) as { error: { code: number; status: string; message: string } };
    assert.equal(body.error.code, 429);
    assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
    assert.match(body.error.message, /^Quota exceeded for quota metric 'Write requests'/);
    const error = await failure(api.batchUpdate([{ range: 'Calls!A1', values: [['x']] }]));
    assert.equal(error.result, '429');
    assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 0 && error.retryAfterMs <= 60_000);
    // Reads have a quota of their own.
    assert.deepEqual(await api.get('Calls!A1'), [['4']]);
    const stats = await sandbox.stats();
    assert.equal(stats.writeRequests, 7);
    assert.equal(stats.quota429, 2);
  });

  it('classifies injected faults, and gaxios sends each request once', async () => {
    await api.batchUpdate([{ range: 'Calls!A1', values: [['x']] }]);
    await sandbox.fault({ mode: '5xx', count: 1 });
    const unavailable = await failure(api.get('Calls!A1'));
    assert.equal(unavailable.result, '5xx');
    assert.equal((await sandbox.stats()).readRequests, 1, 'the GET was not retried by gaxios');
    await sandbox.fault({ mode: 'outage' });
    assert.equal((await failure(api.get('Calls!A1'))).result, 'network');
    // The sandbox holds the request 20 times as long as this client waits, so the timeout always comes first.
    const impatient = googleSheetsApi({ spreadsheetId: `unit-${spreadsheet}`, rootUrl: sandbox.url, timeoutMs: 500 });
    await sandbox.fault({ mode: 'latency', latencyMs: 10_000 });
    assert.equal((await failure(impatient.get('Calls!A1'))).result, 'timeout');
    await sandbox.fault({ mode: '429', count: 1, retryAfterSeconds: 7 });
    const limited = await failure(api.get('Calls!A1'));
    assert.equal(limited.result, '429');
    assert.equal(limited.retryAfterMs, 7000);
    await sandbox.fault({ mode: 'none' });
    assert.deepEqual(await api.get('Calls!A1'), [['x']]);
  });
});
