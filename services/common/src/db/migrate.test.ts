import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openTestDatabase, type TestDatabase, uniqueSchema } from '../../../../test/support/database.js';
import { createLogger } from '../logger.js';
import type { Database } from './database.js';
import { migrate, readMigrations } from './migrate.js';

const log = createLogger('test', 'silent');
const tempDirs: string[] = [];

/** A temporary folder holding the given files. */
async function folderWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'callgate-migrations-'));
  tempDirs.push(dir);
  await addFiles(dir, files);
  return dir;
}

async function addFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
}

after(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('readMigrations', () => {
  it('reads NNNN_name.sql files in version order, ignoring other files', async () => {
    const dir = await folderWith({
      '0010_tenth.sql': 'SELECT 10;',
      '0002_add_index.sql': 'SELECT 2;',
      '0001_create_calls.sql': 'CREATE TABLE calls (id text);',
      'README.md': 'not a migration',
      'notes.txt': 'ignored too',
    });
    assert.deepEqual(readMigrations(dir), [
      { version: 1, name: 'create_calls', sql: 'CREATE TABLE calls (id text);' },
      { version: 2, name: 'add_index', sql: 'SELECT 2;' },
      { version: 10, name: 'tenth', sql: 'SELECT 10;' },
    ]);
  });

  it('orders by version number', async () => {
    const dir = await folderWith({ '0100_c.sql': '', '0020_b.sql': '', '0003_a.sql': '', '1000_d.sql': '' });
    assert.deepEqual(
      readMigrations(dir).map((m) => m.version),
      [3, 20, 100, 1000],
    );
  });

  it('an empty folder has no migrations', async () => {
    assert.deepEqual(readMigrations(await folderWith({})), []);
  });

  for (const bad of [
    '1_create.sql',
    '0001-create.sql',
    '0001_Create.sql',
    '00001_create.sql',
    'create.sql',
    '0001_.sql',
  ]) {
    it(`rejects a badly named file: ${bad}`, async () => {
      const dir = await folderWith({ '0001_fine.sql': 'SELECT 1;', [bad]: 'SELECT 2;' });
      assert.throws(() => readMigrations(dir), {
        message: `migration file ${bad} in ${dir} must be named NNNN_name.sql`,
      });
    });
  }

  it('rejects two files with the same version', async () => {
    const dir = await folderWith({
      '0001_create_calls.sql': 'SELECT 1;',
      '0002_one.sql': 'SELECT 2;',
      '0002_other.sql': 'SELECT 3;',
    });
    assert.throws(() => readMigrations(dir), { message: `two migrations in ${dir} share version 2` });
  });
});

describe('migrate', () => {
  let testDb: TestDatabase | undefined;
  let db: Database;
  const schemas: string[] = [];

  /** A schema name for one test, dropped after the suite. */
  function newSchema(): string {
    const schema = uniqueSchema('migtest');
    schemas.push(schema);
    return schema;
  }

  const recorded = async (schema: string) =>
    (
      await db.query<{ version: number; name: string }>(
        `SELECT version, name FROM ${schema}.schema_migrations ORDER BY version`,
      )
    ).rows;

  const tableExists = async (qualified: string) =>
    (await db.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [qualified])).rows[0]?.found !==
    null;

  const schemaExists = async (schema: string) =>
    (await db.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])).rows.length === 1;

  before(async () => {
    testDb = await openTestDatabase();
    db = testDb.db;
  });

  after(async () => {
    if (!testDb) return;
    try {
      for (const schema of schemas) await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await testDb.close();
    }
  });

  describe('applying, re-running and adding migrations', () => {
    const schema = newSchema();
    let dir: string;

    before(async () => {
      dir = await folderWith({
        '0001_create_log.sql': `
          CREATE TABLE ${schema}.log (n serial PRIMARY KEY, step integer NOT NULL);
          INSERT INTO ${schema}.log (step) VALUES (1);`,
        // Needs 0001's table: applying out of order would fail.
        '0002_add_note.sql': `
          ALTER TABLE ${schema}.log ADD COLUMN note text;
          INSERT INTO ${schema}.log (step, note) VALUES (2, 'second');`,
        '0010_tenth.sql': `INSERT INTO ${schema}.log (step, note) VALUES (10, 'tenth');`,
      });
    });

    const steps = async () =>
      (await db.query<{ step: number }>(`SELECT step FROM ${schema}.log ORDER BY n`)).rows.map((r) => r.step);

    it('applies pending migrations in order and records each', async (t) => {
      t.diagnostic(`database: ${testDb?.source}`);
      assert.equal(await schemaExists(schema), false);
      const result = await migrate(db, schema, readMigrations(dir), log);
      assert.deepEqual(result, { applied: [1, 2, 10] });
      assert.deepEqual(await steps(), [1, 2, 10]);
      assert.deepEqual(await recorded(schema), [
        { version: 1, name: 'create_log' },
        { version: 2, name: 'add_note' },
        { version: 10, name: 'tenth' },
      ]);
      const stamps = await db.query<{ n: string | number }>(
        `SELECT count(*) AS n FROM ${schema}.schema_migrations WHERE applied_at IS NOT NULL AND applied_at <= now()`,
      );
      assert.equal(Number(stamps.rows[0]?.n), 3);
    });

    it('a second run applies nothing', async () => {
      const result = await migrate(db, schema, readMigrations(dir), log);
      assert.deepEqual(result, { applied: [] });
      assert.deepEqual(await steps(), [1, 2, 10]);
      assert.deepEqual(
        (await recorded(schema)).map((r) => r.version),
        [1, 2, 10],
      );
    });

    it('a file added later applies only the new migration', async () => {
      await addFiles(dir, { '0011_eleventh.sql': `INSERT INTO ${schema}.log (step, note) VALUES (11, 'new');` });
      const result = await migrate(db, schema, readMigrations(dir), log);
      assert.deepEqual(result, { applied: [11] });
      assert.deepEqual(await steps(), [1, 2, 10, 11]);
      assert.deepEqual(
        (await recorded(schema)).map((r) => r.version),
        [1, 2, 10, 11],
      );
    });
  });

  it('a failing migration rolls back everything from that run', async () => {
    const schema = newSchema();
    const dir = await folderWith({ '0001_first.sql': `CREATE TABLE ${schema}.first (id integer PRIMARY KEY);` });
    assert.deepEqual(await migrate(db, schema, readMigrations(dir), log), { applied: [1] });

    await addFiles(dir, {
      '0002_second.sql': `
        CREATE TABLE ${schema}.second (id integer PRIMARY KEY);
        INSERT INTO ${schema}.first (id) VALUES (1);`,
      '0003_broken.sql': `INSERT INTO ${schema}.no_such_table (id) VALUES (1);`,
    });
    await assert.rejects(migrate(db, schema, readMigrations(dir), log), /no_such_table/);

    assert.deepEqual(await recorded(schema), [{ version: 1, name: 'first' }]);
    assert.equal(await tableExists(`${schema}.second`), false, '0002 ran in the failed run: its table must be gone');
    assert.deepEqual((await db.query(`SELECT id FROM ${schema}.first`)).rows, []);

    // Once the broken file is fixed, the next run applies both.
    await addFiles(dir, { '0003_broken.sql': `INSERT INTO ${schema}.second (id) VALUES (3);` });
    assert.deepEqual(await migrate(db, schema, readMigrations(dir), log), { applied: [2, 3] });
    assert.equal(await tableExists(`${schema}.second`), true);
  });

  it('a failing first run leaves no schema behind', async () => {
    const schema = newSchema();
    const migrations = [
      { version: 1, name: 'ok', sql: `CREATE TABLE ${schema}.t (id integer);` },
      { version: 2, name: 'broken', sql: 'SELECT 1/0;' },
    ];
    await assert.rejects(migrate(db, schema, migrations, log), /division by zero/);
    assert.equal(await schemaExists(schema), false);
    assert.equal(await tableExists(`${schema}.t`), false);
  });

  it('refuses a schema name that is not a safe identifier', async () => {
    await assert.rejects(
      migrate(db, 'bad;name', [{ version: 1, name: 'x', sql: 'SELECT 1;' }], log),
      /not a safe SQL identifier: bad;name/,
    );
  });

  it('concurrent runs on one schema apply each migration exactly once', async (t) => {
    // On PostgreSQL each run has its own connection and the advisory lock serializes them;
    // PGlite serializes transactions itself, so there it only proves the bookkeeping.
    t.diagnostic(`database: ${testDb?.source} (${db.kind})`);
    const schema = newSchema();
    const migrations = [
      {
        version: 1,
        name: 'create',
        sql: `CREATE TABLE ${schema}.runs (version integer NOT NULL); INSERT INTO ${schema}.runs VALUES (1);`,
      },
      { version: 2, name: 'second', sql: `INSERT INTO ${schema}.runs VALUES (2);` },
      { version: 3, name: 'third', sql: `INSERT INTO ${schema}.runs VALUES (3);` },
    ];
    const results = await Promise.all([1, 2, 3, 4].map(() => migrate(db, schema, migrations, log)));
    assert.deepEqual(
      results.flatMap((r) => r.applied).sort((a, b) => a - b),
      [1, 2, 3],
    );
    const runs = await db.query<{ version: number }>(`SELECT version FROM ${schema}.runs ORDER BY version`);
    assert.deepEqual(
      runs.rows.map((r) => r.version),
      [1, 2, 3],
    );
    assert.deepEqual(
      (await recorded(schema)).map((r) => r.version),
      [1, 2, 3],
    );
  });

  it('waits while another session holds the schema migration lock (PostgreSQL only)', async (t) => {
    if (db.kind !== 'postgres') {
      t.skip('PGlite has one session; there is no other session to hold the lock');
      return;
    }
    const schema = newSchema();
    const lockKey = `callgate.migrate.${schema}`;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held: () => void = () => {};
    const lockHeld = new Promise<void>((resolve) => {
      held = resolve;
    });
    const holder = db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey]);
      held();
      await released;
    });
    try {
      await lockHeld;
      const migrating = migrate(db, schema, [{ version: 1, name: 'create', sql: `CREATE TABLE ${schema}.t ();` }], log);
      let migrateSettled = false;
      void migrating.then(
        () => {
          migrateSettled = true;
        },
        () => {
          migrateSettled = true;
        },
      );

      // Poll (query after query, no sleeping) until migrate's session waits on that advisory lock, or
      // migrate finished without waiting (the failure asserted below). No deadline: a loaded machine may be slow.
      let waiting = 0;
      while (waiting === 0 && !migrateSettled) {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND objid::bigint = (hashtext($1)::bigint & 4294967295)`,
          [lockKey],
        );
        waiting = rows[0]?.n ?? 0;
      }
      assert.equal(migrateSettled, false, 'migrate finished while another session held its lock');
      assert.equal(waiting, 1, 'migrate never waited on the advisory lock');
      assert.equal(await schemaExists(schema), false);

      release();
      await holder;
      assert.deepEqual(await migrating, { applied: [1] });
      assert.equal(await tableExists(`${schema}.t`), true);
    } finally {
      release();
      await holder;
    }
  });
});
