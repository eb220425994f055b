/**
 * ListStaleCalls' query against the test database (PostgreSQL at DATABASE_URL, else PGlite): urgency order,
 * oldest first within an urgency, keyset paging that neither repeats nor skips, and what is not stale.
 * The rows are dated in a year of their own, so calls of other tests sharing the database never match.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, migrate, readMigrations } from '@callgate/common';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { listStaleCalls } from './stale-calls.js';

let test: TestDatabase;
// A year no other run picks (almost surely), and rows removed afterwards, for a shared PostgreSQL.
const year = 1200 + Math.floor(Math.random() * 700);
const user = `stale-test-${randomUUID()}`;
const at = (month: number, day: number) => new Date(Date.UTC(year, month - 1, day));

before(async () => {
  test = await openTestDatabase();
  await migrate(
    test.db,
    'calls',
    readMigrations(fileURLToPath(new URL('../migrations/', import.meta.url))),
    createLogger('test', 'silent'),
  );
});
after(async () => {
  await test.db.query('DELETE FROM calls.calls WHERE user_id = $1', [user]);
  await test.close();
});

async function insert(status: string, updatedAt: Date, options: { answeredAt?: Date; carrier?: boolean } = {}) {
  const callId = randomUUID();
  await test.db.query(
    `INSERT INTO calls.calls (call_id, user_id, idempotency_key, to_number, from_number, status, dial_state, task,
       first_message, voice, model, language, max_duration_seconds, machine_detection, credits_per_minute,
       reservation_id, reserved_credits, carrier_call_id, created_at, updated_at, answered_at)
     VALUES ($1::uuid, $6, $1::text, '+14155550001', '+15005550006', $2, 'dialed', 't', 'f', 'v', 'm', 'en-US', 300,
       false, 10, $1::uuid, 50, $3, $4, $4, $5)`,
    [
      callId,
      status,
      options.carrier === false ? null : `CA${callId.replaceAll('-', '')}`,
      updatedAt,
      options.answeredAt ?? null,
      user,
    ],
  );
  return callId;
}

describe('ListStaleCalls', () => {
  it('lists in-progress past their max duration, then ringing, initiated, queued, oldest first, page by page', async () => {
    const queuedOld = await insert('queued', at(1, 2));
    const queuedNew = await insert('queued', at(1, 5));
    const ringing = await insert('ringing', at(1, 9));
    const initiated = await insert('initiated', at(1, 3));
    const overdue = await insert('in-progress', at(1, 10), { answeredAt: at(1, 10) });
    // Talking within its 300 s: not stale, however old its updated_at.
    await insert('in-progress', at(1, 20), { answeredAt: new Date(at(1, 20).getTime()) });
    await insert('completed', at(1, 2));
    await insert('queued', at(1, 2), { carrier: false });
    await insert('queued', at(1, 21)); // updated after updated_before
    const updatedBefore = new Date(at(1, 20).getTime() + 200_000).toISOString();

    const seen: string[] = [];
    const remaining: number[] = [];
    let after = '';
    for (let page = 0; page < 10; page++) {
      const result = await listStaleCalls(test.db, { updatedBefore, limit: 2, after });
      seen.push(...result.calls.map((c) => c.call_id));
      remaining.push(result.remaining);
      after = result.nextCursor;
      if (!after) break;
    }
    assert.deepEqual(seen, [overdue, ringing, initiated, queuedOld, queuedNew]);
    assert.deepEqual(remaining, [3, 1, 0]);
  });

  it('refuses a request without updated_before', async () => {
    await assert.rejects(listStaleCalls(test.db, { updatedBefore: '', limit: 0, after: '' }), /updatedBefore/);
  });
});
