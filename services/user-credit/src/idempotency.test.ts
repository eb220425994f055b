/**
 * Every mutating RPC has one effect per idempotency key: repeated sequentially or twenty times at once,
 * the ledger gains one entry, the balance moves once, repeats say replayed and return the first result;
 * the same key with different content is refused naming idempotencyKey. GetUser createIfMissing creates
 * a user (and grants the signup credits) once however many first requests race.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Database } from '@callgate/common';
import { checkLedger } from '@callgate/user-credit';
import { status } from '@grpc/grpc-js';
import {
  type CreditClient,
  type CreditService,
  grpcFailure,
  ledgerSums,
  newUserId,
  startCredit,
  userWith,
} from '../../../test/support/credit.js';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { within } from '../../../test/support/within.js';

let database: TestDatabase;
let service: CreditService;
let client: CreditClient;
let db: Database;

before(async () => {
  database = await openTestDatabase();
  db = database.db;
  service = await startCredit(db);
  client = service.client;
});
after(async () => {
  await service?.stop();
  await database?.close();
});

const PARALLEL = 20;

async function entriesWithKey(userId: string, key: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    'SELECT count(*) AS n FROM credits.entries WHERE user_id = $1 AND idempotency_key = $2',
    [userId, key],
  );
  return Number(rows[0]?.n);
}

async function balanceOf(userId: string) {
  const balance = (await client.getBalance({ userId })).balance;
  return { available: balance?.available, held: balance?.held, debt: balance?.debt };
}

/** Fires the same call PARALLEL times at once; resolves all results (any rejection fails the test). */
function parallel<T>(call: () => Promise<T>): Promise<T[]> {
  return within(Promise.all(Array.from({ length: PARALLEL }, call)), `${PARALLEL} identical concurrent calls`, 30_000);
}

describe('Reserve', () => {
  it('sequential repeat: one hold, the same reservation, replayed on the repeat', async () => {
    const userId = await userWith(client, 100);
    const request = { userId, amount: 30, idempotencyKey: `reserve-${randomUUID()}`, callId: 'call-1' };
    const first = await client.reserve(request);
    const second = await client.reserve(request);
    assert.equal(first.replayed, false);
    assert.equal(second.replayed, true);
    assert.deepEqual({ ...second, replayed: false }, first, 'the repeat returns the first result');
    assert.deepEqual(await balanceOf(userId), { available: 70, held: 30, debt: 0 });
    assert.equal(await entriesWithKey(userId, request.idempotencyKey), 1);
    assert.deepEqual(await checkLedger(db, userId), []);
  });

  it(`${PARALLEL} identical concurrent calls: one hold, one reservation id, ${PARALLEL - 1} replays`, async () => {
    const userId = await userWith(client, 100);
    const request = { userId, amount: 30, idempotencyKey: `reserve-${randomUUID()}`, callId: 'call-1' };
    const results = await parallel(() => client.reserve(request));
    assert.equal(results.filter((r) => !r.replayed).length, 1);
    assert.equal(results.filter((r) => r.replayed).length, PARALLEL - 1);
    assert.equal(new Set(results.map((r) => r.reservation?.reservationId)).size, 1);
    assert.deepEqual(await balanceOf(userId), { available: 70, held: 30, debt: 0 });
    assert.equal(await entriesWithKey(userId, request.idempotencyKey), 1);
    const { rows } = await db.query('SELECT 1 FROM credits.reservations WHERE user_id = $1', [userId]);
    assert.equal(rows.length, 1, 'one reservation row');
    assert.deepEqual(await checkLedger(db, userId), []);
  });

  it('the same key with another amount or call is INVALID_ARGUMENT naming idempotencyKey, with no effect', async () => {
    const userId = await userWith(client, 100);
    const key = `reserve-${randomUUID()}`;
    await client.reserve({ userId, amount: 30, idempotencyKey: key, callId: 'call-1' });
    for (const changed of [
      { amount: 31, callId: 'call-1' },
      { amount: 30, callId: 'call-2' },
      { amount: 30, callId: 'call-1', ttlSeconds: 600 },
    ]) {
      const failure = await grpcFailure(client.reserve({ userId, idempotencyKey: key, ...changed }));
      assert.equal(failure.code, status.INVALID_ARGUMENT);
      assert.match(failure.details, /^idempotencyKey: .*already used for a different request/);
      assert.equal(failure.meta.field, 'idempotencyKey');
    }
    assert.deepEqual(await balanceOf(userId), { available: 70, held: 30, debt: 0 });
    assert.equal(await entriesWithKey(userId, key), 1);
  });

  it('keys belong to a user: another user may use the same key for their own hold', async () => {
    const alice = await userWith(client, 100);
    const bob = await userWith(client, 100);
    const key = `reserve-${randomUUID()}`;
    const a = await client.reserve({ userId: alice, amount: 10, idempotencyKey: key, callId: 'c' });
    const b = await client.reserve({ userId: bob, amount: 20, idempotencyKey: key, callId: 'c' });
    assert.equal(b.replayed, false);
    assert.notEqual(a.reservation?.reservationId, b.reservation?.reservationId);
    assert.deepEqual(await balanceOf(bob), { available: 80, held: 20, debt: 0 });
  });
});

describe('Settle', () => {
  it('sequential repeat: charged once, replayed on the repeat', async () => {
    const userId = await userWith(client, 100);
    const hold = await client.reserve({ userId, amount: 30, idempotencyKey: randomUUID(), callId: 'c' });
    const request = {
      reservationId: hold.reservation?.reservationId ?? '',
      actualAmount: 12,
      idempotencyKey: `settle-${randomUUID()}`,
    };
    const first = await client.settle(request);
    const second = await client.settle(request);
    assert.deepEqual([first.replayed, second.replayed], [false, true]);
    assert.deepEqual({ ...second, replayed: false }, first);
    assert.deepEqual([first.charged, first.released, first.debt], [12, 18, 0]);
    assert.deepEqual(await balanceOf(userId), { available: 88, held: 0, debt: 0 });
    assert.equal(await entriesWithKey(userId, request.idempotencyKey), 1);
    assert.deepEqual(await checkLedger(db, userId), []);
  });

  it(`${PARALLEL} identical concurrent settles: charged once`, async () => {
    const userId = await userWith(client, 100);
    const hold = await client.reserve({ userId, amount: 30, idempotencyKey: randomUUID(), callId: 'c' });
    const request = {
      reservationId: hold.reservation?.reservationId ?? '',
      actualAmount: 45,
      idempotencyKey: `settle-${randomUUID()}`,
    };
    const results = await parallel(() => client.settle(request));
    assert.equal(results.filter((r) => !r.replayed).length, 1);
    assert.ok(results.every((r) => r.charged === 45 && r.released === 0 && r.debt === 0));
    // 30 from the hold, 15 from available.
    assert.deepEqual(await balanceOf(userId), { available: 55, held: 0, debt: 0 });
    assert.equal(await entriesWithKey(userId, request.idempotencyKey), 1);
    assert.deepEqual(await checkLedger(db, userId), []);
  });

  it('the same key with another amount is INVALID_ARGUMENT naming idempotencyKey', async () => {
    const userId = await userWith(client, 100);
    const hold = await client.reserve({ userId, amount: 30, idempotencyKey: randomUUID(), callId: 'c' });
    const reservationId = hold.reservation?.reservationId ?? '';
    const key = `settle-${randomUUID()}`;
    await client.settle({ reservationId, actualAmount: 12, idempotencyKey: key });
    const failure = await grpcFailure(client.settle({ reservationId, actualAmount: 13, idempotencyKey: key }));
    assert.equal(failure.code, status.INVALID_ARGUMENT);
    assert.match(failure.details, /^idempotencyKey: /);
    assert.deepEqual(await balanceOf(userId), { available: 88, held: 0, debt: 0 });
  });
});

describe('Release', () => {
  it('sequential repeat: released once, replayed on the repeat', async () => {
    const userId = await userWith(client, 100);
    const hold = await client.reserve({ userId, amount: 30, idempotencyKey: randomUUID(), callId: 'c' });
    const request = {
      reservationId: hold.reservation?.reservationId ?? '',
      idempotencyKey: `release-${randomUUID()}`,
      reason: 'busy',
    };
    const first = await client.release(request);
    const second = await client.release(request);
    assert.deepEqual([first.replayed, second.replayed], [false, true]);
    assert.deepEqual({ ...second, replayed: false }, first);
    assert.equal(first.released, 30);
    assert.equal(first.reservation?.status, 'RESERVATION_STATUS_RELEASED');
    assert.deepEqual(await balanceOf(userId), { available: 100, held: 0, debt: 0 });
    assert.equal(await entriesWithKey(userId, request.idempotencyKey), 1);
    assert.deepEqual(await checkLedger(db, userId), []);
  });

  it(`${PARALLEL} identical concurrent releases: released once`, async () => {
    const userId = await userWith(client, 100);
    const hold = await client.reserve({ userId, amount: 30, idempotencyKey: randomUUID(), callId: 'c' });
    const request = {
      reservationId: hold.reservation?.reservationId ?? '',
      idempotencyKey: `release-${randomUUID()}`,
      reason: 'busy',
    };
    const results = await parallel(() => client.release(request));
    assert.equal(results.filter((r) => !r.replayed).length, 1);
    assert.ok(
      results.every((r) => r.released === 30),
      'every repeat reports the first result: 30 released',
    );
    assert.deepEqual(await balanceOf(userId), { available: 100, held: 0, debt: 0 });
    assert.equal(await entriesWithKey(userId, request.idempotencyKey), 1);
    assert.deepEqual(await checkLedger(db, userId), []);
  });

  it('the reason is not part of the request identity: the same key with another reason replays', async () => {
    const userId = await userWith(client, 100);
    const hold = await client.reserve({ userId, amount: 30, idempotencyKey: randomUUID(), callId: 'c' });
    const reservationId = hold.reservation?.reservationId ?? '';
    const key = `release-${randomUUID()}`;
    await client.release({ reservationId, idempotencyKey: key, reason: 'busy' });
    const again = await client.release({ reservationId, idempotencyKey: key, reason: 'no answer' });
    assert.equal(again.replayed, true);
    assert.equal(again.released, 30);
    const { rows } = await db.query<{ description: string }>(
      `SELECT description FROM credits.entries WHERE user_id = $1 AND kind = 'release'`,
      [userId],
    );
    assert.deepEqual(
      rows.map((r) => r.description),
      ['busy'],
    );
  });
});

describe('Grant', () => {
  it('sequential repeat: granted once, same entry id, replayed on the repeat', async () => {
    const userId = await userWith(client, 0);
    const request = { userId, amount: 250, idempotencyKey: `grant-${randomUUID()}`, reason: 'top-up', actor: 'admin' };
    const first = await client.grant(request);
    const second = await client.grant(request);
    assert.deepEqual([first.replayed, second.replayed], [false, true]);
    assert.equal(second.entryId, first.entryId);
    assert.deepEqual({ ...second, replayed: false }, first);
    assert.deepEqual(await balanceOf(userId), { available: 250, held: 0, debt: 0 });
    assert.equal(await entriesWithKey(userId, request.idempotencyKey), 1);
  });

  it(`${PARALLEL} identical concurrent grants: granted once`, async () => {
    const userId = await userWith(client, 0);
    const request = { userId, amount: 250, idempotencyKey: `grant-${randomUUID()}`, reason: 'top-up', actor: 'admin' };
    const results = await parallel(() => client.grant(request));
    assert.equal(results.filter((r) => !r.replayed).length, 1);
    assert.equal(new Set(results.map((r) => r.entryId)).size, 1);
    assert.deepEqual(await balanceOf(userId), { available: 250, held: 0, debt: 0 });
    assert.deepEqual(await ledgerSums(db, userId), { entries: 1, available: 250, held: 0, debt: 0, charged: 0 });
  });

  it('the same key with another amount, reason or actor is INVALID_ARGUMENT naming idempotencyKey', async () => {
    const userId = await userWith(client, 0);
    const request = { userId, amount: 250, idempotencyKey: `grant-${randomUUID()}`, reason: 'top-up', actor: 'admin' };
    await client.grant(request);
    for (const changed of [{ amount: 251 }, { reason: 'refund' }, { actor: 'other-admin' }]) {
      const failure = await grpcFailure(client.grant({ ...request, ...changed }));
      assert.equal(failure.code, status.INVALID_ARGUMENT);
      assert.match(failure.details, /^idempotencyKey: /);
    }
    assert.deepEqual(await balanceOf(userId), { available: 250, held: 0, debt: 0 });
  });
});

describe('UpdatePreferences', () => {
  it('is naturally idempotent: the same patch twice, or twenty at once, gives the same preferences', async () => {
    const userId = await userWith(client, 0);
    const patch = { recordingEnabled: true, maxConcurrentCalls: 2, timezone: 'Europe/Berlin' };
    const first = await client.updatePreferences({ userId, patch });
    const second = await client.updatePreferences({ userId, patch });
    assert.deepEqual(second, first);
    const all = await parallel(() => client.updatePreferences({ userId, patch }));
    assert.ok(all.every((r) => JSON.stringify(r) === JSON.stringify(first)));
    assert.deepEqual((await client.getPreferences({ userId })).preferences, first.preferences);
  });
});

describe('GetUser createIfMissing', () => {
  let signup: CreditService;
  before(async () => {
    signup = await startCredit(db, { SIGNUP_CREDITS: '100' });
  });
  after(async () => {
    await signup?.stop();
  });

  it(`${PARALLEL} concurrent first requests: one created, one signup grant of 100`, async () => {
    const userId = newUserId('signup');
    const results = await parallel(() =>
      signup.client.getUser({ userId, createIfMissing: true, displayName: 'Ada', email: 'ada@example.com' }),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => r.user?.createdAt)).size, 1, 'every answer describes the same user');
    assert.deepEqual(await balanceOf(userId), { available: 100, held: 0, debt: 0 });
    assert.deepEqual(await ledgerSums(db, userId), { entries: 1, available: 100, held: 0, debt: 0, charged: 0 });
    const { rows } = await db.query<{ actor: string; idempotency_key: string }>(
      'SELECT actor, idempotency_key FROM credits.entries WHERE user_id = $1',
      [userId],
    );
    assert.deepEqual(rows, [{ actor: 'signup', idempotency_key: 'signup' }]);
    assert.deepEqual(await checkLedger(db, userId), []);
  });

  it('a repeat is created: false, keeps the first profile and grants nothing more', async () => {
    const userId = newUserId('signup');
    const first = await signup.client.getUser({ userId, createIfMissing: true, displayName: 'Ada', email: 'a@x.io' });
    const again = await signup.client.getUser({ userId, createIfMissing: true, displayName: 'Bob', email: 'b@x.io' });
    assert.deepEqual([first.created, again.created], [true, false]);
    assert.deepEqual(again.user, first.user);
    const profile = (await signup.client.getProfile({ userId })).profile;
    assert.deepEqual([profile?.displayName, profile?.email], ['Ada', 'a@x.io']);
    assert.deepEqual(await balanceOf(userId), { available: 100, held: 0, debt: 0 });
  });

  it('without createIfMissing an unknown user is NOT_FOUND and nothing is created', async () => {
    const userId = newUserId('signup');
    const failure = await grpcFailure(signup.client.getUser({ userId, createIfMissing: false }));
    assert.equal(failure.code, status.NOT_FOUND);
    assert.match(failure.details, new RegExp(`user ${userId} has no credit account yet`));
    const { rows } = await db.query('SELECT 1 FROM credits.users WHERE user_id = $1', [userId]);
    assert.equal(rows.length, 0);
  });
});
