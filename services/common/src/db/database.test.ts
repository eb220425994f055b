import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestDatabase, uniqueSchema } from '../../../../test/support/database.js';
import { within } from '../../../../test/support/within.js';
import { assertIdentifier, type Database } from './database.js';
import { PgliteDatabase } from './pglite.js';

/** A NOTIFY handler that records payloads and lets a test await the nth one. */
function collector(name: string) {
  const payloads: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  return {
    payloads,
    handler: (payload: string) => {
      payloads.push(payload);
      for (const waiter of waiters.filter((w) => payloads.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    },
    /** Resolves once `count` payloads have arrived in total. */
    received(count: number): Promise<void> {
      if (payloads.length >= count) return Promise.resolve();
      return within(
        new Promise<void>((resolve) => waiters.push({ count, resolve })),
        `${name} to receive ${count} payload(s)`,
      );
    },
  };
}

interface Target {
  name: string;
  open(): Promise<{ db: Database; source: string; close(): Promise<void> }>;
}

const targets: Target[] = [
  { name: 'openTestDatabase()', open: openTestDatabase },
  {
    name: 'in-memory PgliteDatabase',
    open: async () => {
      const db = await PgliteDatabase.open();
      return { db, source: 'pglite (in-memory)', close: () => db.close() };
    },
  },
];

for (const target of targets) {
  describe(`Database: ${target.name}`, () => {
    let handle: Awaited<ReturnType<Target['open']>> | undefined;
    let db: Database;
    const schema = uniqueSchema('dbtest');
    let tables = 0;

    /** A fresh table in this suite's schema, so tests do not share rows. */
    async function table(): Promise<string> {
      const name = `${schema}.items_${++tables}`;
      await db.query(`CREATE TABLE ${name} (id integer PRIMARY KEY, label text NOT NULL)`);
      return name;
    }

    const count = async (name: string) =>
      Number((await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${name}`)).rows[0]?.n);

    before(async () => {
      handle = await target.open();
      db = handle.db;
      await db.query(`CREATE SCHEMA ${schema}`);
    });

    after(async () => {
      if (!handle) return;
      try {
        await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await handle.close();
      }
    });

    it('reports where it runs', (t) => {
      assert.ok(handle);
      t.diagnostic(`source: ${handle.source}, kind: ${db.kind}`);
      assert.ok(db.kind === 'postgres' || db.kind === 'pglite');
    });

    it('query binds parameters and returns rows and counts', async () => {
      const items = await table();
      const hostile = "two'); DROP TABLE items; --";
      const inserted = await db.query<{ id: number }>(
        `INSERT INTO ${items} (id, label) VALUES ($1, $2), ($3, $4) RETURNING id`,
        [1, 'one', 2, hostile],
      );
      assert.deepEqual(inserted.rows, [{ id: 1 }, { id: 2 }]);
      assert.equal(inserted.rowCount, 2);

      const selected = await db.query<{ id: number; label: string }>(
        `SELECT id, label FROM ${items} WHERE id = $1`,
        [2],
      );
      assert.deepEqual(selected.rows, [{ id: 2, label: hostile }]);

      const updated = await db.query(`UPDATE ${items} SET label = $1 WHERE id >= $2`, ['changed', 1]);
      assert.equal(updated.rowCount, 2);
      assert.deepEqual(updated.rows, []);

      const none = await db.query(`SELECT id FROM ${items} WHERE label = $1`, ['absent']);
      assert.deepEqual(none.rows, []);
      assert.equal(none.rowCount, 0);
    });

    it('query without params works and a typed parameter round-trips', async () => {
      const { rows } = await db.query<{ answer: number; doubled: number }>(
        'SELECT 42 AS answer, $1::int * 2 AS doubled',
        [21],
      );
      assert.deepEqual(rows, [{ answer: 42, doubled: 42 }]);
      assert.deepEqual((await db.query<{ one: number }>('SELECT 1 AS one')).rows, [{ one: 1 }]);
    });

    it('rowCount of a SELECT is the number of rows returned', async () => {
      const items = await table();
      await db.query(`INSERT INTO ${items} (id, label) VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
      const selected = await db.query(`SELECT id FROM ${items}`);
      assert.equal(selected.rows.length, 3);
      assert.equal(selected.rowCount, 3);
    });

    it('a failing statement rejects with the database error', async () => {
      await assert.rejects(db.query(`SELECT * FROM ${schema}.does_not_exist`), /does_not_exist/);
    });

    it('transaction commits when fn resolves and returns its value', async () => {
      const items = await table();
      const result = await db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${items} (id, label) VALUES ($1, $2)`, [10, 'committed']);
        await tx.exec(`INSERT INTO ${items} (id, label) VALUES (11, 'via exec')`);
        const inside = await tx.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${items}`);
        return { seenInside: Number(inside.rows[0]?.n) };
      });
      assert.deepEqual(result, { seenInside: 2 });
      const { rows } = await db.query<{ id: number; label: string }>(`SELECT id, label FROM ${items} ORDER BY id`);
      assert.deepEqual(rows, [
        { id: 10, label: 'committed' },
        { id: 11, label: 'via exec' },
      ]);
    });

    it('transaction rolls back when fn throws, and rethrows the same error', async () => {
      const items = await table();
      const boom = new Error('boom after insert');
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${items} (id, label) VALUES ($1, $2)`, [20, 'must vanish']);
          const inside = await tx.query(`SELECT id FROM ${items} WHERE id = $1`, [20]);
          assert.equal(inside.rows.length, 1, 'the row is visible inside the transaction');
          throw boom;
        }),
        (error) => error === boom,
      );
      assert.equal(await count(items), 0);
      // The database is usable afterwards, and the id is free again.
      await db.query(`INSERT INTO ${items} (id, label) VALUES ($1, $2)`, [20, 'after rollback']);
      assert.equal(await count(items), 1);
    });

    it('transaction rolls back when a statement in it fails', async () => {
      const items = await table();
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${items} (id, label) VALUES (30, 'first')`);
          await tx.query(`INSERT INTO ${items} (id, label) VALUES (30, 'duplicate')`);
        }),
        /duplicate key|unique/i,
      );
      assert.equal(await count(items), 0);
    });

    it('transaction does not resolve as committed when fn swallowed a failed statement', async () => {
      // After a failed statement PostgreSQL aborts the transaction and answers COMMIT with ROLLBACK.
      const items = await table();
      const outcome = await db
        .transaction(async (tx) => {
          await tx.query(`INSERT INTO ${items} (id, label) VALUES (40, 'first')`);
          await tx.query(`INSERT INTO ${items} (id, label) VALUES (40, 'duplicate')`).catch(() => undefined);
          return 'resolved';
        })
        .then(
          (value) => value,
          () => 'rejected',
        );
      const rows = await count(items);
      // Either it committed (the row is there) or it says it did not: never "resolved" with nothing saved.
      assert.ok(
        (outcome === 'resolved' && rows === 1) || (outcome === 'rejected' && rows === 0),
        `transaction ${outcome} but ${rows} row(s) saved`,
      );
    });

    it('transaction applies the requested isolation level', async () => {
      const level = async (options?: { isolation?: 'read committed' | 'repeatable read' | 'serializable' }) =>
        db.transaction(
          async (tx) => (await tx.query<{ transaction_isolation: string }>('SHOW transaction_isolation')).rows[0],
          options,
        );
      assert.deepEqual(await level({ isolation: 'serializable' }), { transaction_isolation: 'serializable' });
      assert.deepEqual(await level({ isolation: 'repeatable read' }), { transaction_isolation: 'repeatable read' });
      assert.deepEqual(await level(), { transaction_isolation: 'read committed' });
    });

    it('exec runs several statements in order', async () => {
      const name = `${schema}.exec_multi`;
      await db.exec(`
        CREATE TABLE ${name} (id integer PRIMARY KEY, label text NOT NULL);
        INSERT INTO ${name} (id, label) VALUES (1, 'one');
        INSERT INTO ${name} (id, label) VALUES (2, 'two');
        UPDATE ${name} SET label = label || '!' WHERE id = 2;
      `);
      const { rows } = await db.query<{ id: number; label: string }>(`SELECT id, label FROM ${name} ORDER BY id`);
      assert.deepEqual(rows, [
        { id: 1, label: 'one' },
        { id: 2, label: 'two!' },
      ]);
    });

    it('exec rejects when a statement fails', async () => {
      await assert.rejects(db.exec(`SELECT 1; SELECT * FROM ${schema}.missing_table;`), /missing_table/);
    });

    it('notify delivers the payload to a listener', async () => {
      const channel = uniqueSchema('chan');
      const listener = collector('listener');
      const unlisten = await db.listen(channel, listener.handler);
      try {
        const payload = JSON.stringify({ callId: 'c-1', status: 'completed', note: 'ünïcødé' });
        await db.notify(channel, payload);
        await listener.received(1);
        assert.deepEqual(listener.payloads, [payload]);
        await db.notify(channel, '');
        await listener.received(2);
        assert.deepEqual(listener.payloads, [payload, '']);
      } finally {
        await unlisten();
      }
    });

    it('unsubscribing one listener stops its delivery while another on the channel still receives', async () => {
      const channel = uniqueSchema('chan');
      const leaving = collector('leaving listener');
      const staying = collector('staying listener');
      const unlistenLeaving = await db.listen(channel, leaving.handler);
      const unlistenStaying = await db.listen(channel, staying.handler);
      try {
        await db.notify(channel, 'first');
        await Promise.all([leaving.received(1), staying.received(1)]);

        await unlistenLeaving();
        await db.notify(channel, 'second');
        // The staying listener hearing "second" proves the notification was delivered.
        await staying.received(2);
        assert.deepEqual(staying.payloads, ['first', 'second']);
        assert.deepEqual(leaving.payloads, ['first']);
      } finally {
        await unlistenStaying();
      }
    });

    it('unsubscribing the last listener stops delivery on the channel', async () => {
      const channel = uniqueSchema('chan');
      const barrierChannel = uniqueSchema('barrier');
      const listener = collector('listener');
      const barrier = collector('barrier listener');
      const unlisten = await db.listen(channel, listener.handler);
      const unlistenBarrier = await db.listen(barrierChannel, barrier.handler);
      try {
        await db.notify(channel, 'before');
        await listener.received(1);

        await unlisten();
        await db.notify(channel, 'after');
        // Sent after "after": once it arrives, "after" would have arrived too had it been delivered.
        await db.notify(barrierChannel, 'barrier');
        await barrier.received(1);
        assert.deepEqual(listener.payloads, ['before']);
      } finally {
        await unlistenBarrier();
      }
    });

    it('listening again after unsubscribing delivers each notification exactly once', async () => {
      const channel = uniqueSchema('chan');
      const barrierChannel = uniqueSchema('barrier');
      const first = collector('first subscription');
      const second = collector('second subscription');
      const barrier = collector('barrier listener');
      const unlistenBarrier = await db.listen(barrierChannel, barrier.handler);
      try {
        const unlistenFirst = await db.listen(channel, first.handler);
        await unlistenFirst();
        const unlistenSecond = await db.listen(channel, second.handler);
        try {
          await db.notify(channel, 'once');
          await db.notify(barrierChannel, 'barrier');
          await barrier.received(1);
          await second.received(1);
          assert.deepEqual(second.payloads, ['once']);
          assert.deepEqual(first.payloads, []);
        } finally {
          await unlistenSecond();
        }
      } finally {
        await unlistenBarrier();
      }
    });

    it('listen and notify refuse a channel that is not a safe identifier', async () => {
      await assert.rejects(
        db.listen('bad;name', () => assert.fail('must not be called')),
        /not a safe SQL identifier: bad;name/,
      );
      await assert.rejects(db.notify('bad;name', 'x'), /not a safe SQL identifier: bad;name/);
    });
  });
}

describe('assertIdentifier', () => {
  it('rejects `bad;name` and other unsafe names', () => {
    assert.throws(() => assertIdentifier('bad;name'), { message: 'not a safe SQL identifier: bad;name' });
    for (const name of [
      '',
      'Upper',
      '1starts_with_digit',
      'has space',
      'quote"d',
      'dash-ed',
      'dot.ted',
      'a'.repeat(64),
    ]) {
      assert.throws(() => assertIdentifier(name), /not a safe SQL identifier/, JSON.stringify(name));
    }
  });

  it('returns a safe name unchanged', () => {
    for (const name of ['calls', '_private', 'call_events_v2', 'a'.repeat(63)]) {
      assert.equal(assertIdentifier(name), name);
    }
  });
});
