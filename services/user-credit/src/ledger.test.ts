/**
 * The ledger's rules through the gRPC surface: refusals leave no trace, settles charge from the hold and
 * then from available credits and then as debt, grants pay debt first, a closed reservation cannot be
 * closed again another way, expired holds come back and can still be charged, bad input names its field,
 * and credits.entries refuses UPDATE and DELETE.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Database, isDomainError, systemClock } from '@callgate/common';
import { checkLedger } from '@callgate/user-credit';
import { status } from '@grpc/grpc-js';
import {
  allUsage,
  type CreditClient,
  type CreditService,
  entryKinds,
  grpcFailure,
  ledgerSums,
  newUserId,
  startCredit,
  userWith,
} from '../../../test/support/credit.js';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { eventually } from '../../../test/support/eventually.js';
import { Ledger } from './ledger.js';

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

async function balanceOf(userId: string, c: CreditClient = client) {
  const balance = (await c.getBalance({ userId })).balance;
  return { available: balance?.available, held: balance?.held, debt: balance?.debt };
}

async function reserve(userId: string, amount: number, extra: { ttlSeconds?: number; c?: CreditClient } = {}) {
  const response = await (extra.c ?? client).reserve({
    userId,
    amount,
    idempotencyKey: `reserve-${randomUUID()}`,
    callId: `call-${randomUUID()}`,
    ttlSeconds: extra.ttlSeconds ?? 0,
  });
  return response.reservation?.reservationId ?? '';
}

const key = (what: string) => `${what}-${randomUUID()}`;

describe('Reserve', () => {
  it('with too few credits is FAILED_PRECONDITION, writes nothing, and its key works after a grant', async () => {
    const userId = await userWith(client, 25);
    await reserve(userId, 10);
    const request = { userId, amount: 20, idempotencyKey: key('reserve'), callId: 'call-late' };
    const failure = await grpcFailure(client.reserve(request));
    assert.equal(failure.code, status.FAILED_PRECONDITION);
    assert.equal(
      failure.details,
      'not enough credits: this needs 20, 15 are available (10 are held by calls in progress)',
    );
    assert.deepEqual(failure.meta, { needed: '20', available: '15' });
    assert.deepEqual(await entryKinds(db, userId), { grant: 1, reserve: 1 }, 'no entry for the refusal');
    const { rows } = await db.query('SELECT 1 FROM credits.idempotency WHERE scope = $1 AND key = $2', [
      `reserve:${userId}`,
      request.idempotencyKey,
    ]);
    assert.equal(rows.length, 0, 'the refused key was not kept');

    await client.grant({ userId, amount: 5, idempotencyKey: key('grant'), reason: 'top-up', actor: 'admin' });
    const retried = await client.reserve(request);
    assert.equal(retried.replayed, false, 'the retry ran, it did not replay the refusal');
    assert.equal(retried.reservation?.amount, 20);
    assert.deepEqual(await balanceOf(userId), { available: 0, held: 30, debt: 0 });
    assert.deepEqual(await checkLedger(db, userId), []);
  });

  it('without held credits the refusal does not mention holds', async () => {
    const userId = await userWith(client, 0);
    const failure = await grpcFailure(client.reserve({ userId, amount: 1, idempotencyKey: key('r'), callId: '' }));
    assert.equal(failure.code, status.FAILED_PRECONDITION);
    assert.equal(failure.details, 'not enough credits: this needs 1, 0 are available');
  });

  it('for an unknown user is NOT_FOUND and leaves no key behind', async () => {
    const userId = newUserId('ghost');
    const idempotencyKey = key('reserve');
    const failure = await grpcFailure(client.reserve({ userId, amount: 10, idempotencyKey, callId: 'c' }));
    assert.equal(failure.code, status.NOT_FOUND);
    assert.match(failure.details, new RegExp(`^user ${userId} has no credit account yet`));
    const { rows } = await db.query('SELECT 1 FROM credits.idempotency WHERE key = $1', [idempotencyKey]);
    assert.equal(rows.length, 0);
  });

  it('a hold expires after ttlSeconds (default from RESERVATION_TTL_SECONDS)', async () => {
    const userId = await userWith(client, 100);
    const start = service.clock.now();
    const custom = await client.reserve({ userId, amount: 10, idempotencyKey: key('r'), callId: 'c', ttlSeconds: 90 });
    const fallback = await client.reserve({ userId, amount: 10, idempotencyKey: key('r'), callId: 'c' });
    assert.equal(Date.parse(custom.reservation?.expiresAt ?? ''), start + 90_000);
    assert.equal(Date.parse(fallback.reservation?.expiresAt ?? ''), start + 7200_000);
  });

  it('lowBalance is set when available falls below LOW_BALANCE_CREDITS (50)', async () => {
    const userId = await userWith(client, 50);
    assert.equal((await client.getBalance({ userId })).balance?.lowBalance, false);
    const response = await client.reserve({ userId, amount: 1, idempotencyKey: key('r'), callId: 'c' });
    assert.equal(response.balance?.available, 49);
    assert.equal(response.balance?.lowBalance, true);
    assert.equal(response.balance?.unit, 'credits');
  });
});

describe('Settle', () => {
  it('charges less than the hold from the hold and releases the rest', async () => {
    const userId = await userWith(client, 100);
    const reservationId = await reserve(userId, 40);
    const settled = await client.settle({ reservationId, actualAmount: 15, idempotencyKey: key('settle') });
    assert.deepEqual(
      { charged: settled.charged, released: settled.released, debt: settled.debt, status: settled.reservation?.status },
      { charged: 15, released: 25, debt: 0, status: 'RESERVATION_STATUS_SETTLED' },
    );
    assert.deepEqual(await balanceOf(userId), { available: 85, held: 0, debt: 0 });
    assert.deepEqual(await ledgerSums(db, userId), { entries: 3, available: 85, held: 0, debt: 0, charged: 15 });
  });

  it('charges exactly the hold, and 0 releases all of it', async () => {
    const userId = await userWith(client, 100);
    const exact = await client.settle({
      reservationId: await reserve(userId, 40),
      actualAmount: 40,
      idempotencyKey: key('settle'),
    });
    assert.deepEqual([exact.charged, exact.released, exact.debt], [40, 0, 0]);
    const zero = await client.settle({
      reservationId: await reserve(userId, 30),
      actualAmount: 0,
      idempotencyKey: key('settle'),
    });
    assert.deepEqual([zero.charged, zero.released, zero.debt], [0, 30, 0]);
    assert.deepEqual(await balanceOf(userId), { available: 60, held: 0, debt: 0 });
    assert.deepEqual(await checkLedger(db, userId), []);
  });

  it('an overrun is paid from available credits, then recorded as debt', async () => {
    const userId = await userWith(client, 100);
    const first = await reserve(userId, 40);
    const second = await reserve(userId, 40);
    // available 20: the overrun of 30 takes 20 of it and owes 10; the other hold is untouched.
    const over = await client.settle({ reservationId: first, actualAmount: 70, idempotencyKey: key('settle') });
    assert.deepEqual([over.charged, over.released, over.debt], [70, 0, 10]);
    assert.deepEqual(over.balance && { a: over.balance.available, h: over.balance.held, d: over.balance.debt }, {
      a: 0,
      h: 40,
      d: 10,
    });
    const usage = await client.listUsage({ userId, pageSize: 1 });
    assert.deepEqual(
      usage.entries.map((e) => [e.kind, e.amount, e.heldChange, e.debtChange, e.charged]),
      [['ENTRY_KIND_SETTLE', -20, -40, 10, 70]],
    );
    assert.match(usage.entries[0]?.description ?? '', /charged 70, 10 recorded as debt$/);
    // The second call's own overrun finds nothing available: all of it is debt.
    const more = await client.settle({ reservationId: second, actualAmount: 45, idempotencyKey: key('settle') });
    assert.deepEqual([more.charged, more.released, more.debt], [45, 0, 5]);
    assert.deepEqual(await balanceOf(userId), { available: 0, held: 0, debt: 15 });
    assert.deepEqual(await checkLedger(db, userId), []);
  });

  it('a settled reservation cannot be settled again with another key, nor released', async () => {
    const userId = await userWith(client, 100);
    const reservationId = await reserve(userId, 40);
    await client.settle({ reservationId, actualAmount: 15, idempotencyKey: key('settle') });
    const again = await grpcFailure(client.settle({ reservationId, actualAmount: 15, idempotencyKey: key('settle') }));
    assert.equal(again.code, status.FAILED_PRECONDITION);
    assert.match(again.details, new RegExp(`^reservation ${reservationId} was already settled \\(charged 15\\)`));
    const release = await grpcFailure(client.release({ reservationId, idempotencyKey: key('release'), reason: '' }));
    assert.equal(release.code, status.FAILED_PRECONDITION);
    assert.match(release.details, /was already settled \(charged 15\); there is nothing to release/);
    assert.deepEqual(await balanceOf(userId), { available: 85, held: 0, debt: 0 });
    assert.deepEqual(await entryKinds(db, userId), { grant: 1, reserve: 1, settle: 1 });
  });

  it('a released reservation cannot be settled', async () => {
    const userId = await userWith(client, 100);
    const reservationId = await reserve(userId, 40);
    await client.release({ reservationId, idempotencyKey: key('release'), reason: 'busy' });
    const failure = await grpcFailure(client.settle({ reservationId, actualAmount: 5, idempotencyKey: key('settle') }));
    assert.equal(failure.code, status.FAILED_PRECONDITION);
    assert.match(failure.details, /was released: the call was recorded as never connected, so it cannot be charged/);
    assert.deepEqual(await balanceOf(userId), { available: 100, held: 0, debt: 0 });
  });
});

describe('Release', () => {
  it('returns the hold; a second release with another key releases 0 and writes nothing', async () => {
    const userId = await userWith(client, 100);
    const reservationId = await reserve(userId, 40);
    const first = await client.release({ reservationId, idempotencyKey: key('release'), reason: 'busy' });
    assert.equal(first.released, 40);
    const second = await client.release({ reservationId, idempotencyKey: key('release'), reason: 'busy' });
    assert.equal(second.released, 0);
    assert.equal(second.replayed, false);
    assert.equal(second.reservation?.status, 'RESERVATION_STATUS_RELEASED');
    assert.deepEqual(await balanceOf(userId), { available: 100, held: 0, debt: 0 });
    assert.deepEqual(await entryKinds(db, userId), { grant: 1, release: 1, reserve: 1 });
  });
});

describe('Grant', () => {
  it('pays debt first and reports debtRepaid', async () => {
    const userId = await userWith(client, 10);
    const reservationId = await reserve(userId, 10);
    await client.settle({ reservationId, actualAmount: 35, idempotencyKey: key('settle') });
    assert.deepEqual(await balanceOf(userId), { available: 0, held: 0, debt: 25 });
    const partial = await client.grant({ userId, amount: 20, idempotencyKey: key('g'), reason: 'a', actor: 'admin' });
    assert.equal(partial.debtRepaid, 20);
    assert.deepEqual(
      { a: partial.balance?.available, d: partial.balance?.debt },
      { a: 0, d: 5 },
      'all of it went to the debt',
    );
    const rest = await client.grant({ userId, amount: 12, idempotencyKey: key('g'), reason: 'b', actor: 'admin' });
    assert.equal(rest.debtRepaid, 5);
    assert.deepEqual(await balanceOf(userId), { available: 7, held: 0, debt: 0 });
    const none = await client.grant({ userId, amount: 3, idempotencyKey: key('g'), reason: 'c', actor: 'admin' });
    assert.equal(none.debtRepaid, 0);
    assert.deepEqual(await balanceOf(userId), { available: 10, held: 0, debt: 0 });
    const grants = (await allUsage(client, userId)).filter((e) => e.kind === 'ENTRY_KIND_GRANT');
    assert.deepEqual(
      grants.map((e) => [e.amount, e.debtChange, e.actor]),
      [
        [3, 0, 'admin'],
        [7, -5, 'admin'],
        [0, -20, 'admin'],
        [10, 0, 'test'],
      ],
    );
    assert.deepEqual(await checkLedger(db, userId), []);
  });
});

describe('expiry', () => {
  let sweeping: CreditService;
  before(async () => {
    // The sweeper every 50 ms; the holds here live 60 and 120 s on a clock the test moves.
    sweeping = await startCredit(db, { EXPIRY_SWEEP_INTERVAL_MS: '50' });
  });
  after(async () => {
    await sweeping?.stop();
  });

  it('the sweeper returns a hold past its ttl (EXPIRED), and a late settle still charges from available', async () => {
    const c = sweeping.client;
    const userId = await userWith(c, 100);
    const short = await reserve(userId, 40, { ttlSeconds: 60, c });
    const long = await reserve(userId, 30, { ttlSeconds: 120, c });
    assert.deepEqual(await balanceOf(userId, c), { available: 30, held: 70, debt: 0 });

    sweeping.clock.advance(61_000);
    assert.deepEqual(
      await eventually('the 60 s hold to expire', async () => {
        const b = await balanceOf(userId, c);
        return b.held === 30 ? b : undefined;
      }),
      { available: 70, held: 30, debt: 0 },
    );
    // The sweeper has run past 61 s (it expired the first hold); the 120 s hold is not due and stays.
    const expire = (await c.listUsage({ userId, pageSize: 1 })).entries[0];
    assert.deepEqual(
      [expire?.kind, expire?.amount, expire?.heldChange, expire?.actor, expire?.reservationId],
      ['ENTRY_KIND_EXPIRE', 40, -40, 'sweeper', short],
    );
    const released = await c.release({ reservationId: short, idempotencyKey: key('release'), reason: '' });
    assert.equal(released.reservation?.status, 'RESERVATION_STATUS_EXPIRED');
    assert.equal(released.released, 0, 'nothing left to release');
    assert.deepEqual(await checkLedger(db, userId), []);

    // The call did happen: its late settle is charged from available credits.
    const late = await c.settle({ reservationId: short, actualAmount: 25, idempotencyKey: key('settle') });
    assert.deepEqual([late.charged, late.released, late.debt], [25, 0, 0]);
    assert.equal(late.reservation?.status, 'RESERVATION_STATUS_SETTLED');
    assert.deepEqual(await balanceOf(userId, c), { available: 45, held: 30, debt: 0 });

    sweeping.clock.advance(60_000);
    await eventually('the 120 s hold to expire', async () =>
      (await balanceOf(userId, c)).held === 0 ? true : undefined,
    );
    assert.deepEqual(await balanceOf(userId, c), { available: 75, held: 0, debt: 0 });
    // A late settle larger than what is available: the rest is debt.
    const over = await c.settle({ reservationId: long, actualAmount: 100, idempotencyKey: key('settle') });
    assert.deepEqual([over.charged, over.released, over.debt], [100, 0, 25]);
    assert.deepEqual(await balanceOf(userId, c), { available: 0, held: 0, debt: 25 });
    assert.deepEqual(await entryKinds(db, userId), { expire: 2, grant: 1, reserve: 2, settle: 2 });
    assert.deepEqual(await checkLedger(db, userId), []);
  });
});

describe('invalid requests name the field', () => {
  it('reservationId that is not a UUID, on Settle and Release', async () => {
    for (const reservationId of ['', 'res-1', `${randomUUID()}x`]) {
      for (const call of [
        () => client.settle({ reservationId, actualAmount: 1, idempotencyKey: key('s') }),
        () => client.release({ reservationId, idempotencyKey: key('r'), reason: '' }),
      ]) {
        const failure = await grpcFailure(call());
        assert.equal(failure.code, status.INVALID_ARGUMENT);
        assert.match(failure.details, /^reservationId: not a reservation id/);
        assert.equal(failure.meta.field, 'reservationId');
      }
    }
  });

  it('an unknown reservation is NOT_FOUND on Settle and Release', async () => {
    const reservationId = randomUUID();
    for (const call of [
      () => client.settle({ reservationId, actualAmount: 1, idempotencyKey: key('s') }),
      () => client.release({ reservationId, idempotencyKey: key('r'), reason: '' }),
    ]) {
      const failure = await grpcFailure(call());
      assert.equal(failure.code, status.NOT_FOUND);
      assert.equal(failure.details, `reservation ${reservationId} was not found`);
    }
  });

  it('amounts of 0, negative or above 1e9 on Reserve and Grant; negative actualAmount on Settle', async () => {
    const userId = await userWith(client, 100);
    for (const amount of [0, -5, 1_000_000_001]) {
      for (const call of [
        () => client.reserve({ userId, amount, idempotencyKey: key('r'), callId: 'c' }),
        () => client.grant({ userId, amount, idempotencyKey: key('g'), reason: '', actor: 'admin' }),
      ]) {
        const failure = await grpcFailure(call());
        assert.equal(failure.code, status.INVALID_ARGUMENT, `amount ${amount}`);
        assert.equal(failure.details, `amount: must be a whole number of credits from 1 to 1000000000, got ${amount}`);
      }
    }
    const reservationId = await reserve(userId, 10);
    const failure = await grpcFailure(client.settle({ reservationId, actualAmount: -1, idempotencyKey: key('s') }));
    assert.equal(failure.code, status.INVALID_ARGUMENT);
    assert.match(failure.details, /^actualAmount: must be a whole number of credits from 0/);
    assert.deepEqual(await balanceOf(userId), { available: 90, held: 10, debt: 0 });
  });

  it('a fractional amount cannot cross the wire: int64 carries 1.5 as 1', async () => {
    // The proto field is int64, so the client encodes 1.5 as 1 before the server sees it; the server's own
    // guard against fractions is checked on the Ledger directly in the next test.
    const userId = await userWith(client, 100);
    const held = await client.reserve({ userId, amount: 1.5, idempotencyKey: key('r'), callId: 'c' });
    assert.equal(held.reservation?.amount, 1);
  });

  it('the Ledger refuses fractional and unsafe amounts, naming the field', async () => {
    const ledger = new Ledger({ db, clock: systemClock, lowBalanceCredits: 50, reservationTtlSeconds: 7200 });
    const refused = async (fn: () => Promise<unknown>, field: string) => {
      await assert.rejects(fn, (error: unknown) => {
        assert.ok(isDomainError(error));
        assert.equal(error.kind, 'invalid_argument');
        assert.equal(error.detail.field, field);
        return true;
      });
    };
    const userId = newUserId();
    await refused(
      () => ledger.reserve({ userId, amount: 1.5, idempotencyKey: 'k', callId: '', ttlSeconds: 0 }),
      'amount',
    );
    await refused(
      () => ledger.reserve({ userId, amount: Number.NaN, idempotencyKey: 'k', callId: '', ttlSeconds: 0 }),
      'amount',
    );
    await refused(
      () => ledger.settle({ reservationId: randomUUID(), actualAmount: 2.5, idempotencyKey: 'k' }),
      'actualAmount',
    );
    await refused(() => ledger.grant({ userId, amount: 0.1, idempotencyKey: 'k', reason: '', actor: 'a' }), 'amount');
  });

  it('idempotencyKey empty or over 200 characters, ttlSeconds out of range, Grant without actor, userId empty', async () => {
    const userId = await userWith(client, 100);
    const cases: [() => Promise<unknown>, string][] = [
      [() => client.reserve({ userId, amount: 1, idempotencyKey: '', callId: 'c' }), 'idempotencyKey'],
      [() => client.reserve({ userId, amount: 1, idempotencyKey: 'k'.repeat(201), callId: 'c' }), 'idempotencyKey'],
      [
        () => client.reserve({ userId, amount: 1, idempotencyKey: key('r'), callId: 'c', ttlSeconds: 59 }),
        'ttlSeconds',
      ],
      [
        () => client.reserve({ userId, amount: 1, idempotencyKey: key('r'), callId: 'c', ttlSeconds: 604_801 }),
        'ttlSeconds',
      ],
      [() => client.reserve({ userId: '', amount: 1, idempotencyKey: key('r'), callId: 'c' }), 'userId'],
      [() => client.settle({ reservationId: randomUUID(), actualAmount: 1, idempotencyKey: '' }), 'idempotencyKey'],
      [() => client.release({ reservationId: randomUUID(), idempotencyKey: '', reason: '' }), 'idempotencyKey'],
      [() => client.grant({ userId, amount: 1, idempotencyKey: key('g'), reason: '', actor: '  ' }), 'actor'],
    ];
    for (const [call, field] of cases) {
      const failure = await grpcFailure(call());
      assert.equal(failure.code, status.INVALID_ARGUMENT, failure.details);
      assert.equal(failure.meta.field, field, failure.details);
      assert.ok(failure.details.startsWith(`${field}: `), failure.details);
    }
    assert.deepEqual(await balanceOf(userId), { available: 100, held: 0, debt: 0 });
  });
});

describe('userId is validated by every RPC that takes one', () => {
  it('GetProfile, GetPreferences and GetBalance refuse an empty or 256-character userId with INVALID_ARGUMENT', async () => {
    for (const userId of ['', 'u'.repeat(256)]) {
      for (const [rpc, call] of [
        ['GetProfile', () => client.getProfile({ userId })],
        ['GetPreferences', () => client.getPreferences({ userId })],
        ['GetBalance', () => client.getBalance({ userId })],
      ] as const) {
        const failure = await grpcFailure(call());
        assert.deepEqual(
          [rpc, failure.code, failure.meta.field],
          [rpc, status.INVALID_ARGUMENT, 'userId'],
          `${rpc}(${userId.length} characters): ${failure.details}`,
        );
      }
    }
  });
});

describe('credits.entries is append-only', () => {
  it('a direct UPDATE or DELETE raises and changes nothing', async () => {
    const userId = await userWith(client, 100);
    await assert.rejects(
      db.query(`UPDATE credits.entries SET available_change = 1000000 WHERE user_id = $1`, [userId]),
      /credits\.entries is append-only: correct a mistake with an adjust entry/,
    );
    await assert.rejects(
      db.query('DELETE FROM credits.entries WHERE user_id = $1', [userId]),
      /credits\.entries is append-only/,
    );
    assert.deepEqual(await ledgerSums(db, userId), { entries: 1, available: 100, held: 0, debt: 0, charged: 0 });
    assert.deepEqual(await checkLedger(db, userId), []);
  });

  it('checkLedger reports an account that disagrees with its entries', async () => {
    const userId = await userWith(client, 100);
    await reserve(userId, 30);
    await db.query('UPDATE credits.accounts SET available = available + 5 WHERE user_id = $1', [userId]);
    const problems = await checkLedger(db, userId);
    assert.deepEqual(
      problems.map((p) => [p.problem, p.expected, p.actual]),
      [
        [
          'account differs from the sum of its ledger entries',
          { available: 70, held: 30, debt: 0 },
          { available: 75, held: 30, debt: 0 },
        ],
      ],
    );
    await db.query('UPDATE credits.accounts SET available = available - 5 WHERE user_id = $1', [userId]);
    assert.deepEqual(await checkLedger(db, userId), []);
  });
});
