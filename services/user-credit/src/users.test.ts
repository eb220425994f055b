/**
 * Users through gRPC: created on first sight with the claims as profile, refused claims name the field.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { type CreditService, grpcFailure, newUserId, startCredit } from '../../../test/support/credit.js';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';

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

describe('GetUser and GetProfile', () => {
  it('creates the user with the claims as profile, the free plan and the clock of the service', async () => {
    const userId = newUserId('user');
    const created = await service.client.getUser({
      userId,
      createIfMissing: true,
      displayName: 'Grace Hopper',
      email: 'grace@example.com',
    });
    assert.equal(created.created, true);
    assert.deepEqual(created.user, { userId, plan: 'free', createdAt: service.clock.date().toISOString() });
    assert.deepEqual((await service.client.getProfile({ userId })).profile, {
      userId,
      displayName: 'Grace Hopper',
      email: 'grace@example.com',
      organization: '',
      plan: 'free',
      createdAt: service.clock.date().toISOString(),
      callerIds: [],
      // The free plan's daily call minutes (PLAN_DAILY_MINUTES default free=120).
      dailyCallMinutes: 120,
      // Set by an administrator; empty: any country the account allows.
      allowedDestinationCountries: [],
    });
    const read = await service.client.getUser({ userId, createIfMissing: false });
    assert.deepEqual(read, { user: created.user, created: false });
  });

  it('SIGNUP_CREDITS=0 grants nothing: the account exists with a zero balance and no entry', async () => {
    const userId = newUserId('user');
    await service.client.getUser({ userId, createIfMissing: true });
    const balance = (await service.client.getBalance({ userId })).balance;
    assert.deepEqual([balance?.available, balance?.held, balance?.debt], [0, 0, 0]);
    const { rows } = await database.db.query('SELECT 1 FROM credits.entries WHERE user_id = $1', [userId]);
    assert.equal(rows.length, 0);
  });

  it('GetProfile of an unknown user is NOT_FOUND', async () => {
    const failure = await grpcFailure(service.client.getProfile({ userId: newUserId('ghost') }));
    assert.equal(failure.code, status.NOT_FOUND);
  });

  it('a display name over 200 characters is INVALID_ARGUMENT naming displayName', async () => {
    const userId = newUserId('user');
    const failure = await grpcFailure(
      service.client.getUser({ userId, createIfMissing: true, displayName: 'x'.repeat(201), email: '' }),
    );
    assert.equal(failure.code, status.INVALID_ARGUMENT);
    assert.equal(failure.meta.field, 'displayName');
  });

  it('an email over 320 characters is INVALID_ARGUMENT naming email', async () => {
    const userId = newUserId('user');
    const failure = await grpcFailure(
      service.client.getUser({
        userId,
        createIfMissing: true,
        displayName: 'Ada',
        email: `${'a'.repeat(310)}@example.com`,
      }),
    );
    assert.equal(failure.code, status.INVALID_ARGUMENT);
    assert.equal(failure.meta.field, 'email', failure.details);
    const { rows } = await database.db.query('SELECT 1 FROM credits.users WHERE user_id = $1', [userId]);
    assert.equal(rows.length, 0, 'nothing was created');
  });
});
