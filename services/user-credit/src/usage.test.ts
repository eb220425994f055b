/**
 * ListUsage through gRPC: cursor paging newest first with no duplicates or gaps (also while entries are
 * added between pages), the call filter, inclusive time bounds, per-day totals, refused page sizes and
 * tokens, and no other user's entries ever.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { encodeCursor, ManualClock } from '@callgate/common';
import { status } from '@grpc/grpc-js';
import {
  allUsage,
  type CreditClient,
  type CreditService,
  grpcFailure,
  startCredit,
  userWith,
} from '../../../test/support/credit.js';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';

const DAY = 24 * 3600 * 1000;
/** Holds made on a clock in the past live a week, so no sweeper on the real clock expires them meanwhile. */
const WEEK_SECONDS = 7 * 24 * 3600;

let database: TestDatabase;
let service: CreditService;
let client: CreditClient;

before(async () => {
  database = await openTestDatabase();
  service = await startCredit(database.db);
  client = service.client;
});
after(async () => {
  await service?.stop();
  await database?.close();
});

const key = () => randomUUID();

async function grants(userId: string, amounts: number[], c: CreditClient = client): Promise<void> {
  for (const amount of amounts) {
    await c.grant({ userId, amount, idempotencyKey: key(), reason: `grant ${amount}`, actor: 'admin' });
  }
}

describe('paging', () => {
  it('25 entries with pageSize 10: three pages, newest first, no duplicates or gaps', async () => {
    const userId = await userWith(client, 0);
    await grants(
      userId,
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    const pages = [];
    let pageToken = '';
    do {
      const page = await client.listUsage({ userId, pageSize: 10, pageToken });
      pages.push(page.entries.map((e) => e.amount));
      pageToken = page.nextPageToken;
    } while (pageToken && pages.length < 10);
    assert.deepEqual(pages, [
      [25, 24, 23, 22, 21, 20, 19, 18, 17, 16],
      [15, 14, 13, 12, 11, 10, 9, 8, 7, 6],
      [5, 4, 3, 2, 1],
    ]);
    const ids = (await allUsage(client, userId)).map((e) => Number(e.entryId));
    assert.equal(ids.length, 25);
    assert.ok(
      ids.every((id, i) => i === 0 || id < (ids[i - 1] ?? 0)),
      'entry ids strictly decrease',
    );
  });

  it('entries added between pages do not shift the pages already being read', async () => {
    const userId = await userWith(client, 0);
    await grants(
      userId,
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    const first = await client.listUsage({ userId, pageSize: 10 });
    await grants(userId, [100, 101, 102]);
    const second = await client.listUsage({ userId, pageSize: 10, pageToken: first.nextPageToken });
    const third = await client.listUsage({ userId, pageSize: 10, pageToken: second.nextPageToken });
    assert.deepEqual(
      [...first.entries, ...second.entries, ...third.entries].map((e) => e.amount),
      Array.from({ length: 25 }, (_, i) => 25 - i),
    );
    assert.equal(third.nextPageToken, '');
  });

  it('pageSize 0 means 20; exactly a page of entries leaves no next token', async () => {
    const userId = await userWith(client, 0);
    await grants(
      userId,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const page = await client.listUsage({ userId, pageSize: 0 });
    assert.equal(page.entries.length, 20);
    assert.equal(page.nextPageToken, '');
    await grants(userId, [21]);
    const more = await client.listUsage({ userId });
    assert.equal(more.entries.length, 20);
    assert.notEqual(more.nextPageToken, '');
  });

  it('pageSize above 100 or negative is INVALID_ARGUMENT naming pageSize', async () => {
    const userId = await userWith(client, 0);
    for (const pageSize of [101, -1]) {
      const failure = await grpcFailure(client.listUsage({ userId, pageSize }));
      assert.equal(failure.code, status.INVALID_ARGUMENT);
      assert.equal(failure.details, `pageSize: must be between 1 and 100 (0 for the default), got ${pageSize}`);
    }
  });

  it('a page token that is not one is INVALID_ARGUMENT naming pageToken', async () => {
    const userId = await userWith(client, 0);
    for (const pageToken of ['garbage', '!!!', Buffer.from('{"after":1}').toString('base64url')]) {
      const failure = await grpcFailure(client.listUsage({ userId, pageToken }));
      assert.equal(failure.code, status.INVALID_ARGUMENT, pageToken);
      assert.equal(failure.meta.field, 'pageToken');
    }
  });

  it('a well-formed token whose position is not an entry id is INVALID_ARGUMENT too, not INTERNAL', async () => {
    const userId = await userWith(client, 0);
    for (const position of ['x', 1.5, '']) {
      const failure = await grpcFailure(client.listUsage({ userId, pageToken: encodeCursor({ before: position }) }));
      assert.deepEqual(
        [failure.code, failure.meta.field],
        [status.INVALID_ARGUMENT, 'pageToken'],
        `before=${JSON.stringify(position)}: ${status[failure.code]} ${failure.details}`,
      );
    }
  });
});

describe('filters and isolation', () => {
  it("callId returns only that call's entries, newest first", async () => {
    const userId = await userWith(client, 100);
    const a = await client.reserve({ userId, amount: 30, idempotencyKey: key(), callId: 'call-A' });
    const b = await client.reserve({ userId, amount: 20, idempotencyKey: key(), callId: 'call-B' });
    await client.settle({ reservationId: a.reservation?.reservationId ?? '', actualAmount: 12, idempotencyKey: key() });
    await client.release({ reservationId: b.reservation?.reservationId ?? '', idempotencyKey: key(), reason: 'busy' });
    const callA = await client.listUsage({ userId, callId: 'call-A' });
    assert.deepEqual(
      callA.entries.map((e) => [e.kind, e.amount, e.heldChange, e.charged, e.callId, e.reservationId]),
      [
        ['ENTRY_KIND_SETTLE', 18, -30, 12, 'call-A', a.reservation?.reservationId],
        ['ENTRY_KIND_RESERVE', -30, 30, 0, 'call-A', a.reservation?.reservationId],
      ],
    );
    assert.deepEqual(callA.daily, [{ day: service.clock.date().toISOString().slice(0, 10), charged: 12, calls: 1 }]);
    const callB = await client.listUsage({ userId, callId: 'call-B' });
    assert.deepEqual(
      callB.entries.map((e) => [e.kind, e.amount, e.description]),
      [
        ['ENTRY_KIND_RELEASE', 20, 'busy'],
        ['ENTRY_KIND_RESERVE', -20, 'hold for call call-B'],
      ],
    );
    const none = await client.listUsage({ userId, callId: 'call-C' });
    assert.deepEqual([none.entries, none.daily, none.nextPageToken], [[], [], '']);
  });

  it("another user's entries never appear, not even with the other user's page token or call id", async () => {
    const alice = await userWith(client, 0);
    const bob = await userWith(client, 0);
    for (let i = 1; i <= 12; i++) {
      await grants(alice, [i]);
      await grants(bob, [1000 + i]);
    }
    await client.reserve({ userId: bob, amount: 5, idempotencyKey: key(), callId: 'bob-call' });
    const { rows } = await database.db.query<{ entry_id: string | number }>(
      'SELECT entry_id FROM credits.entries WHERE user_id = $1 ORDER BY entry_id DESC',
      [alice],
    );
    const aliceIds = rows.map((r) => String(r.entry_id));
    assert.equal(aliceIds.length, 12);
    assert.deepEqual(
      (await allUsage(client, alice)).map((e) => e.entryId),
      aliceIds,
    );
    const bobsFirstPage = await client.listUsage({ userId: bob, pageSize: 5 });
    const withBobsToken = await client.listUsage({
      userId: alice,
      pageSize: 100,
      pageToken: bobsFirstPage.nextPageToken,
    });
    assert.ok(withBobsToken.entries.every((e) => aliceIds.includes(e.entryId) && e.amount <= 12));
    assert.deepEqual((await client.listUsage({ userId: alice, callId: 'bob-call' })).entries, []);
  });
});

describe('time range and daily totals', () => {
  let past: CreditService;
  let day1: number;
  before(async () => {
    // Four days ago at 10:00 UTC: days are fixed strings, and no real-time sweeper is ahead of these holds.
    const today = Math.floor(Date.now() / DAY) * DAY;
    day1 = today - 4 * DAY;
    past = await startCredit(database.db, {}, new ManualClock(day1 + 10 * 3600_000));
  });
  after(async () => {
    await past?.stop();
  });

  const at = (dayOffset: number, hh: number, mm: number) => new Date(day1 + dayOffset * DAY + (hh * 60 + mm) * 60_000);
  const dayString = (dayOffset: number) => new Date(day1 + dayOffset * DAY).toISOString().slice(0, 10);

  it('from/to select entries inclusively; daily totals count charges and settled calls per UTC day', async () => {
    const c = past.client;
    const clock = past.clock;
    const set = (time: Date) => clock.advance(time.getTime() - clock.now());
    const userId = await userWith(c, 100);
    const call = async (callId: string, amount: number, reserveAt: Date, closeAt: Date, actual: number | 'release') => {
      set(reserveAt);
      const held = await c.reserve({ userId, amount, idempotencyKey: key(), callId, ttlSeconds: WEEK_SECONDS });
      set(closeAt);
      const reservationId = held.reservation?.reservationId ?? '';
      if (actual === 'release') await c.release({ reservationId, idempotencyKey: key(), reason: '' });
      else await c.settle({ reservationId, actualAmount: actual, idempotencyKey: key() });
    };
    await call('call-1', 40, at(0, 10, 1), at(0, 10, 5), 30);
    await call('call-2', 20, at(0, 11, 0), at(0, 11, 0), 20);
    await call('call-3', 10, at(1, 9, 0), at(1, 9, 2), 'release');
    await call('call-4', 10, at(1, 23, 59), at(2, 0, 1), 15); // settled after midnight: counts on day 3
    set(at(2, 12, 0));
    await grants(userId, [5], c);

    const all = await c.listUsage({ userId, pageSize: 100 });
    assert.equal(all.entries.length, 10);
    assert.deepEqual(all.daily, [
      { day: dayString(0), charged: 50, calls: 2 },
      { day: dayString(1), charged: 0, calls: 0 },
      { day: dayString(2), charged: 15, calls: 1 },
    ]);
    assert.equal(all.entries[0]?.createdAt, at(2, 12, 0).toISOString());

    const day2 = await c.listUsage({
      userId,
      from: at(1, 0, 0).toISOString(),
      to: new Date(at(2, 0, 0).getTime() - 1).toISOString(),
    });
    assert.deepEqual(
      day2.entries.map((e) => [e.kind, e.callId, e.createdAt]),
      [
        ['ENTRY_KIND_RESERVE', 'call-4', at(1, 23, 59).toISOString()],
        ['ENTRY_KIND_RELEASE', 'call-3', at(1, 9, 2).toISOString()],
        ['ENTRY_KIND_RESERVE', 'call-3', at(1, 9, 0).toISOString()],
      ],
    );
    assert.deepEqual(day2.daily, [{ day: dayString(1), charged: 0, calls: 0 }]);

    // Both bounds inclusive, to the millisecond; an offset other than Z is the same instant.
    const exact = await c.listUsage({
      userId,
      from: at(0, 10, 5).toISOString(),
      to: at(0, 11, 0).toISOString().replace('Z', '+00:00'),
    });
    assert.deepEqual(
      exact.entries.map((e) => [e.kind, e.callId]),
      [
        ['ENTRY_KIND_SETTLE', 'call-2'],
        ['ENTRY_KIND_RESERVE', 'call-2'],
        ['ENTRY_KIND_SETTLE', 'call-1'],
      ],
    );
    assert.deepEqual(exact.daily, [{ day: dayString(0), charged: 50, calls: 2 }]);

    const fromOnly = await c.listUsage({ userId, from: at(2, 0, 0).toISOString() });
    assert.deepEqual(
      fromOnly.entries.map((e) => [e.kind, e.amount]),
      [
        ['ENTRY_KIND_GRANT', 5],
        ['ENTRY_KIND_SETTLE', -5],
      ],
    );
    const backwards = await c.listUsage({ userId, from: at(2, 0, 0).toISOString(), to: at(1, 0, 0).toISOString() });
    assert.deepEqual([backwards.entries, backwards.daily], [[], []]);

    // Range and call together, paged one by one.
    const paged = [];
    let pageToken = '';
    do {
      const page = await c.listUsage({
        userId,
        pageSize: 1,
        pageToken,
        callId: 'call-1',
        to: at(0, 23, 0).toISOString(),
      });
      paged.push(...page.entries.map((e) => e.kind));
      pageToken = page.nextPageToken;
    } while (pageToken && paged.length < 10);
    assert.deepEqual(paged, ['ENTRY_KIND_SETTLE', 'ENTRY_KIND_RESERVE']);
  });

  it('a from or to that is not RFC 3339 is INVALID_ARGUMENT naming it', async () => {
    const userId = await userWith(past.client, 0);
    for (const [field, value] of [
      ['from', '2026-01-31'],
      ['from', 'yesterday'],
      ['to', '2026-13-01T00:00:00Z'],
    ] as const) {
      const failure = await grpcFailure(past.client.listUsage({ userId, [field]: value }));
      assert.equal(failure.code, status.INVALID_ARGUMENT, `${field}=${value}`);
      assert.equal(failure.meta.field, field);
    }
  });
});
