/**
 * PostgresDatabase's connections under failure: a transaction's connection killed between statements
 * rejects (retryable) without crashing the process; the LISTEN connection is shared by concurrent first
 * callers, and when the database kills it, notifications resume on a new connection. PostgreSQL only.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isTransientDatabaseError } from '../errors.js';
import { createLogger } from '../logger.js';
import { PostgresDatabase } from './postgres.js';

const url = process.env.DATABASE_URL;

describe('PostgresDatabase LISTEN connection', { skip: url ? false : 'needs DATABASE_URL' }, () => {
  let db: PostgresDatabase;
  let probe: PostgresDatabase;
  const app = `listen-test-${randomUUID().slice(0, 8)}`;

  before(() => {
    db = new PostgresDatabase({ url: url as string, log: createLogger('test', 'silent'), applicationName: app });
    probe = new PostgresDatabase({ url: url as string, log: createLogger('test', 'silent') });
  });
  after(async () => {
    await db.close();
    await probe.close();
  });

  const listeners = async () =>
    (
      await probe.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
        [app],
      )
    ).rows;

  /** Notifies until the handler has seen a payload, at most `tries` times, 100 ms apart. */
  async function deliveredAfterRetries(channel: string, received: string[], tries = 50): Promise<boolean> {
    for (let i = 0; i < tries; i++) {
      await db.notify(channel, `n${i}`);
      const seen = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(received.length > 0), 100);
        if (received.length > 0) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      if (seen) return true;
    }
    return false;
  }

  it('a transaction whose connection the server ends between statements rejects as retryable; the process survives', async () => {
    const crashes: unknown[] = [];
    const onUncaught = (error: unknown) => crashes.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const failed = await db
        .transaction(async (tx) => {
          await tx.query('SELECT 1');
          // What a PostgreSQL restart does to every connection (57P01), while this one sits between statements.
          await probe.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'",
            [app],
          );
          await new Promise((resolve) => setTimeout(resolve, 200));
          await tx.query('SELECT 2');
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      assert.ok(failed instanceof Error, 'the transaction rejected');
      assert.equal(isTransientDatabaseError(failed), true, String(failed));
      assert.deepEqual(crashes, [], 'no unhandled error event');
      assert.deepEqual((await db.query<{ n: number }>('SELECT 3 AS n')).rows, [{ n: 3 }], 'the pool serves again');
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('concurrent first listeners share one connection', async () => {
    const [a, b] = await Promise.all([db.listen('chan_a', () => {}), db.listen('chan_b', () => {})]);
    assert.equal((await listeners()).length, 1);
    await a();
    await b();
  });

  it('notifications resume after the LISTEN connection is killed', async () => {
    const received: string[] = [];
    const unsubscribe = await db.listen('chan_resume', (payload) => received.push(payload));
    const [victim] = await listeners();
    assert.ok(victim, 'a LISTEN connection exists');
    await probe.query('SELECT pg_terminate_backend($1)', [victim.pid]);
    assert.ok(await deliveredAfterRetries('chan_resume', received), 'a notification arrived after the reconnect');
    const [replacement] = await listeners();
    assert.ok(replacement && replacement.pid !== victim.pid, 'a new connection listens');
    await unsubscribe();
  });
});

describe('PostgresDatabase when the database cannot be reached', () => {
  it('a failed LISTEN is tried again by the next subscriber, never left half-registered', async () => {
    // Port 1 on loopback refuses connections at once; no server is needed for this test.
    const db = new PostgresDatabase({
      url: 'postgres://postgres@127.0.0.1:1/none',
      log: createLogger('test', 'silent'),
    });
    try {
      await assert.rejects(
        db.listen('chan_x', () => {}),
        /ECONNREFUSED/,
      );
      await assert.rejects(
        db.listen('chan_x', () => {}),
        /ECONNREFUSED/,
        'the second subscriber tries LISTEN again',
      );
    } finally {
      await db.close();
    }
  });
});
