/**
 * Concurrent reservations cannot overspend: 200 parallel Reserve calls against 500 credits on real
 * PostgreSQL (row locks, a connection pool, real interleaving), then parallel settles and releases,
 * with the balances, the ledger sums and ListUsage agreeing at every step.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { checkLedger } from '@callgate/user-credit';
import { status } from '@grpc/grpc-js';
import {
  allUsage,
  type CreditService,
  entryKinds,
  grpcFailure,
  ledgerSums,
  startCredit,
  userWith,
} from '../../../test/support/credit.js';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { within } from '../../../test/support/within.js';

let database: TestDatabase;
let service: CreditService;

before(async () => {
  database = await openTestDatabase();
  service = await startCredit(database.db);
});
after(async () => {
  await service?.stop();
  await database?.close();
});

describe('concurrent reservations on real PostgreSQL', () => {
  it('200 parallel reserves of 10 against 500 credits: exactly 50 hold, 150 refused; settles and releases add up', async (t) => {
    if (database.db.kind !== 'postgres') {
      t.skip(
        'needs real PostgreSQL (set DATABASE_URL, as CI does): PGlite serializes every statement, so nothing races',
      );
      return;
    }
    const { client } = service;
    const { db } = database;
    const userId = await userWith(client, 500, 'concurrency');
    const run = randomUUID();

    const outcomes = await within(
      Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          client.reserve({ userId, amount: 10, idempotencyKey: `${run}-reserve-${i}`, callId: `call-${i}` }),
        ),
      ),
      '200 concurrent reserves',
      30_000,
    );
    const held = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    assert.equal(held.length, 50, 'exactly 500 / 10 reservations succeed');
    assert.equal(refused.length, 150);
    for (const reason of refused) {
      const failure = await grpcFailure(Promise.reject(reason));
      assert.equal(failure.code, status.FAILED_PRECONDITION, failure.details);
      assert.match(failure.details, /this needs 10, 0 are available \(500 are held by calls in progress\)/);
      assert.deepEqual(failure.meta, { needed: '10', available: '0' });
    }
    assert.equal(new Set(held.map((r) => r.reservation?.reservationId)).size, 50, 'fifty distinct reservations');
    assert.ok(held.every((r) => !r.replayed && r.reservation?.status === 'RESERVATION_STATUS_HELD'));

    const afterReserves = (await client.getBalance({ userId })).balance;
    assert.deepEqual(
      { available: afterReserves?.available, held: afterReserves?.held, debt: afterReserves?.debt },
      { available: 0, held: 500, debt: 0 },
    );
    assert.deepEqual(await checkLedger(db, userId), []);
    assert.deepEqual(await ledgerSums(db, userId), { entries: 51, available: 0, held: 500, debt: 0, charged: 0 });
    assert.deepEqual(await entryKinds(db, userId), { grant: 1, reserve: 50 }, 'refused reserves left no entry');
    const usage = await allUsage(client, userId);
    assert.equal(usage.length, 51);
    assert.equal(
      usage.reduce((sum, e) => sum + e.amount, 0),
      0,
    );
    assert.equal(
      usage.reduce((sum, e) => sum + e.heldChange, 0),
      500,
    );

    // Phase A, all at once: 10 settles under the hold (4), 10 exactly at it (10), 20 releases.
    const ids = held.map((r) => r.reservation?.reservationId ?? '');
    const under = ids.slice(0, 10);
    const exact = ids.slice(10, 20);
    const released = ids.slice(20, 40);
    const overrun = ids.slice(40, 50);
    const phaseA = await within(
      Promise.all([
        ...under.map((reservationId) =>
          client.settle({ reservationId, actualAmount: 4, idempotencyKey: `${run}-settle-${reservationId}` }),
        ),
        ...exact.map((reservationId) =>
          client.settle({ reservationId, actualAmount: 10, idempotencyKey: `${run}-settle-${reservationId}` }),
        ),
        ...released.map((reservationId) =>
          client.release({ reservationId, idempotencyKey: `${run}-release-${reservationId}`, reason: 'no answer' }),
        ),
      ]),
      'phase A settles and releases',
      30_000,
    );
    assert.deepEqual(
      phaseA.map((r) => r.released),
      [...Array(10).fill(6), ...Array(10).fill(0), ...Array(20).fill(10)],
    );
    const mid = (await client.getBalance({ userId })).balance;
    // 500 - 10·4 - 10·10 charged, 100 still held by the ten overrun reservations.
    assert.deepEqual(
      { available: mid?.available, held: mid?.held, debt: mid?.debt },
      { available: 260, held: 100, debt: 0 },
    );
    assert.deepEqual(await checkLedger(db, userId), []);

    // Phase B, all at once: ten calls that cost 40 each against holds of 10. Each takes its hold and then
    // what is available; 10·30 = 300 needed, 260 available, so 40 becomes debt whatever the order.
    const phaseB = await within(
      Promise.all(
        overrun.map((reservationId) =>
          client.settle({ reservationId, actualAmount: 40, idempotencyKey: `${run}-settle-${reservationId}` }),
        ),
      ),
      'phase B overrun settles',
      30_000,
    );
    assert.ok(phaseB.every((r) => r.charged === 40 && r.released === 0));
    assert.equal(
      phaseB.reduce((sum, r) => sum + r.debt, 0),
      40,
      'the overruns left exactly 40 unpaid',
    );
    const end = (await client.getBalance({ userId })).balance;
    const charged = 10 * 4 + 10 * 10 + 10 * 40;
    assert.deepEqual(
      { available: end?.available, held: end?.held, debt: end?.debt },
      { available: 0, held: 0, debt: 40 },
    );
    assert.equal((end?.available ?? 0) - (end?.debt ?? 0), 500 - charged);
    assert.deepEqual(await checkLedger(db, userId), []);
    assert.deepEqual(await ledgerSums(db, userId), { entries: 101, available: 0, held: 0, debt: 40, charged });
    assert.deepEqual(await entryKinds(db, userId), { grant: 1, release: 20, reserve: 50, settle: 30 });
    const finalUsage = await allUsage(client, userId);
    assert.equal(finalUsage.length, 101);
    assert.deepEqual(
      {
        available: finalUsage.reduce((sum, e) => sum + e.amount, 0),
        held: finalUsage.reduce((sum, e) => sum + e.heldChange, 0),
        debt: finalUsage.reduce((sum, e) => sum + e.debtChange, 0),
        charged: finalUsage.reduce((sum, e) => sum + e.charged, 0),
      },
      { available: 0, held: 0, debt: 40, charged },
    );
    const { rows } = await db.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM credits.reservations WHERE user_id = $1 GROUP BY status ORDER BY status',
      [userId],
    );
    assert.deepEqual(
      rows.map((r) => [r.status, Number(r.n)]),
      [
        ['released', 20],
        ['settled', 30],
      ],
    );
  });
});
