/**
 * Each `npm test` run has a PostgreSQL database and a Redis logical database of its own
 * (scripts/run-tests.ts), so no test depends on what earlier or concurrent runs left behind.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  createdAt,
  createRunDatabase,
  dropStaleTestDatabases,
  STALE_AFTER_MS,
  testDatabaseName,
  withDatabase,
} from '../../scripts/test-run/database.js';
import { claimRunRedis, withLogicalDb } from '../../scripts/test-run/redis.js';

const databaseUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const databaseExists = async (url: string, name: string) =>
  (await query(withDatabase(url, 'postgres'), 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 1;

describe('test-run isolation: PostgreSQL', { skip: databaseUrl ? false : 'DATABASE_URL is not set' }, () => {
  it('this run’s tests use a database of their own, created for the run (one per job with TEST_JOBS > 1)', async () => {
    const [row] = await query<{ name: string }>(databaseUrl as string, 'SELECT current_database() AS name');
    assert.match(
      row?.name ?? '',
      /^callgate_test_\d{13}_\d+(_\d+)?$/,
      'npm test points DATABASE_URL at a fresh database',
    );
    assert.equal(row?.name, process.env.CALLGATE_TEST_DATABASE);
  });

  it('a database left by a killed run is dropped once stale; a recent one (a concurrent run’s) is kept', async () => {
    const now = new Date();
    const old = await createRunDatabase(databaseUrl as string, new Date(now.getTime() - STALE_AFTER_MS - 60_000), 1);
    const recent = await createRunDatabase(databaseUrl as string, new Date(now.getTime() - 60_000), 2);
    try {
      const dropped = await dropStaleTestDatabases(databaseUrl as string, now);
      assert.ok(!dropped.includes(recent.name), `dropped: ${dropped.join(', ')}`);
      // Gone, whether this call or a concurrent run's clean-up dropped it.
      assert.equal(await databaseExists(databaseUrl as string, old.name), false);
      assert.equal(await databaseExists(databaseUrl as string, recent.name), true);
      assert.equal(await databaseExists(databaseUrl as string, process.env.CALLGATE_TEST_DATABASE ?? ''), true);
    } finally {
      await old.drop();
      await recent.drop();
    }
    assert.equal(await databaseExists(databaseUrl as string, recent.name), false, 'drop removes the database');
  });

  it('names carry their creation time, so age needs no catalogue lookup; a job’s name its job number', () => {
    assert.equal(testDatabaseName(new Date(1_700_000_000_000), 42), 'callgate_test_1700000000000_42');
    assert.equal(testDatabaseName(new Date(1_700_000_000_000), 42, 2), 'callgate_test_1700000000000_42_2');
    assert.equal(createdAt('callgate_test_1700000000000_42_2')?.getTime(), 1_700_000_000_000);
    assert.equal(createdAt('callgate_test_1700000000000_42')?.getTime(), 1_700_000_000_000);
    assert.equal(createdAt('callgate_test_x_42'), undefined);
  });

  it('a stale database of a job of a killed run is dropped too', async () => {
    const now = new Date();
    const old = await createRunDatabase(databaseUrl as string, new Date(now.getTime() - STALE_AFTER_MS - 60_000), 3, 2);
    try {
      await dropStaleTestDatabases(databaseUrl as string, now);
      assert.equal(await databaseExists(databaseUrl as string, old.name), false, `${old.name} is dropped`);
    } finally {
      await old.drop();
    }
  });
});

describe('test-run isolation: Redis', { skip: redisUrl ? false : 'REDIS_URL is not set' }, () => {
  it('this run’s tests use a logical database it claimed, not database 0', async () => {
    const db = Number(new URL(redisUrl as string).pathname.slice(1));
    assert.ok(db >= 1 && db <= 15, `REDIS_URL ${redisUrl} selects database ${db}`);
    const control = new Redis(withLogicalDb(redisUrl as string, 0));
    try {
      assert.equal(await control.get(`callgate:test-run:redis-db:${db}`), process.env.CALLGATE_TEST_RUN_ID);
    } finally {
      control.disconnect();
    }
  });

  it('two runs at once never get the same database; a released one is emptied and unclaimed', async () => {
    const aId = `a-${randomUUID()}`;
    const a = await claimRunRedis(redisUrl as string, aId);
    const b = await claimRunRedis(redisUrl as string, `b-${randomUUID()}`);
    try {
      assert.notEqual(a.db, b.db);
      const client = new Redis(a.url);
      await client.set('left-behind', '1');
      client.disconnect();
      await a.release();
      const control = new Redis(withLogicalDb(redisUrl as string, 0));
      const check = new Redis(a.url);
      try {
        assert.notEqual(await control.get(`callgate:test-run:redis-db:${a.db}`), aId, 'the claim is gone');
        assert.equal(await check.get('left-behind'), null, 'emptied on release');
      } finally {
        control.disconnect();
        check.disconnect();
      }
    } finally {
      await b.release();
    }
  });
});
