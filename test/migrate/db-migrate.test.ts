/**
 * scripts/db-migrate between two throwaway databases on the PostgreSQL at DATABASE_URL: data seeded through
 * the services' own code (users and the ledger, the call store) and SQL, a snapshot, changes on the source
 * (ledger entries, calls moved by the state machine, an update that does not touch updated_at, a delete, an
 * entry whose transaction commits after a later entry's, a row replaced under the same unique value), catch-up,
 * verify; then a difference planted on the target must make verify fail. PostgreSQL only: the migration reads
 * xmin and snapshots.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, type Database, PostgresDatabase, systemClock } from '@callgate/common';
import { runCatchUp, runSnapshot, runVerify } from '../../scripts/db-migrate/commands.js';
import { migrateTarget, SERVICE_SCHEMAS } from '../../scripts/db-migrate/services.js';
import { CallStore, type NewCall } from '../../services/call/src/call-store.js';
import { Ledger } from '../../services/user-credit/src/ledger.js';
import { Users } from '../../services/user-credit/src/users.js';

const url = process.env.DATABASE_URL;
const root = path.resolve(import.meta.dirname, '../..');
const log = createLogger('test', 'silent');
const suffix = `${process.pid}_${randomUUID().slice(0, 8)}`;
const names = { source: `dbmig_src_${suffix}`, target: `dbmig_dst_${suffix}` };

function urlFor(database: string): string {
  const u = new URL(url as string);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The CLI as an operator runs it, for its exit code and output. */
function cli(...args: string[]) {
  const result = spawnSync(
    process.execPath,
    ['--conditions=callgate-source', '--import', 'tsx', 'scripts/db-migrate.ts', ...args],
    { cwd: root, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent' }, timeout: 60_000 },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('db-migrate (Supabase → RDS)', { skip: url ? false : 'needs DATABASE_URL' }, () => {
  let admin: PostgresDatabase;
  let source: PostgresDatabase;
  let target: PostgresDatabase;
  let ledger: Ledger;
  let users: Users;
  let calls: CallStore;
  const ends = () => ({ source: urlFor(names.source), target: urlFor(names.target), batchSize: 7 });
  const userIds = Array.from({ length: 5 }, (_, i) => `user-${i}-${suffix}`);
  const callIds: string[] = [];
  /** Commits the transaction the catch-up test holds open (also called on the way out when that test failed). */
  let commitHeld: () => void = () => {};

  async function newCall(userId: string): Promise<string> {
    const key = randomUUID();
    const { reservation } = await ledger.reserve({
      userId,
      amount: 20,
      idempotencyKey: `call:${key}`,
      callId: key,
      ttlSeconds: 0,
    });
    const row = await calls.insertIntent(
      {
        call_id: key,
        user_id: userId,
        idempotency_key: key,
        to_number: '+14155550001',
        from_number: '+15005550006',
        task: 'Ask whether the shop is open on Sunday.',
        first_message: 'Hello',
        voice: 'en-US-Journey-O',
        model: 'callgate-standard',
        language: 'en-US',
        max_duration_seconds: 300,
        machine_detection: false,
        record: false,
        outcome_schema_json: '',
        metadata: { note: 'unicode ✓ and "quotes"', n: 12345678901234567890n.toString() },
        credits_per_minute: 10,
        reservation_id: reservation?.reservationId ?? '',
        reserved_credits: 20,
        created_at: new Date(),
        request_hash: '',
      } as NewCall,
      10,
    );
    assert.ok(row && row !== 'limit');
    callIds.push(key);
    return key;
  }

  async function count(db: Database, table: string): Promise<number> {
    return Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);
  }

  async function nextValue(db: Database, sequence: string): Promise<string> {
    const { rows } = await db.query<{ v: string }>(
      `SELECT (CASE WHEN is_called THEN last_value + 1 ELSE last_value END)::text AS v FROM ${sequence}`,
    );
    return rows[0]?.v as string;
  }

  before(async () => {
    admin = new PostgresDatabase({ url: url as string, log, max: 1 });
    await admin.exec(`CREATE DATABASE ${names.source}`);
    await admin.exec(`CREATE DATABASE ${names.target}`);
    source = new PostgresDatabase({ url: urlFor(names.source), log });
    target = new PostgresDatabase({ url: urlFor(names.target), log });
    await migrateTarget(source, Object.keys(SERVICE_SCHEMAS));
    const clock = systemClock;
    ledger = new Ledger({ db: source, clock, lowBalanceCredits: 50, reservationTtlSeconds: 3600 });
    users = new Users({ db: source, ledger, clock, signupCredits: 500 });
    calls = new CallStore(source, systemClock);
    for (const userId of userIds) {
      await users.get({
        userId,
        createIfMissing: true,
        displayName: `Ann "${userId}"`,
        email: `${userId}@example.com`,
      });
    }
    for (const userId of userIds) {
      const callId = await newCall(userId);
      await calls.apply(callId, {
        status: 'ringing',
        occurredAt: new Date(),
        source: 'callback',
        carrierCallId: `CA${callId}`,
      });
      await calls.recordCallback({
        callId,
        carrierCallId: `CA${callId}`,
        carrierStatus: 'ringing',
        carrierSequence: 1,
        params: { CallStatus: 'ringing' },
        applied: true,
      });
    }
    await source.query(
      `INSERT INTO sheets.rows (call_id, version, cells, updated_at, dirty_since) SELECT c, 2, jsonb_build_object('status', 'ringing', 'nothing', 'null'::jsonb), now(), now() FROM unnest($1::text[]) c`,
      [callIds],
    );
    await source.query(
      'INSERT INTO poller.refreshed (call_id, refreshed_at) SELECT c::uuid, now() FROM unnest($1::text[]) c',
      [callIds],
    );
    await source.query(
      "INSERT INTO poller.leases (name, holder, expires_at) VALUES ('stale-sweep', 'replica-a', now() + interval '30 seconds')",
    );
  });

  after(async () => {
    commitHeld();
    // Dropped first, with FORCE: whatever a failed test left connected or open must not keep them alive.
    if (admin) {
      await admin.exec(`DROP DATABASE IF EXISTS ${names.source} WITH (FORCE)`);
      await admin.exec(`DROP DATABASE IF EXISTS ${names.target} WITH (FORCE)`);
      await admin.close();
    }
    await source?.close().catch(() => undefined);
    await target?.close().catch(() => undefined);
  });

  it('refuses bad URLs, unreachable servers and unknown schemas with a message naming the problem', async () => {
    await assert.rejects(runSnapshot({ ...ends(), source: 'not a url' }), /--source is not a URL/);
    await assert.rejects(runSnapshot({ ...ends(), target: 'mysql://h/db' }), /--target must be a postgres:\/\//);
    await assert.rejects(
      runSnapshot({ ...ends(), source: 'postgres://postgres:secret@127.0.0.1:1/x' }),
      (error: Error) =>
        /cannot reach the source database .*connection refused/.test(error.message) &&
        !error.message.includes('secret'),
    );
    await assert.rejects(
      runSnapshot({ ...ends(), source: urlFor(`${names.source}_missing`) }),
      /database does not exist/,
    );
    await assert.rejects(runSnapshot({ ...ends(), schemas: 'calls,billing' }), /unknown schema billing/);
    const usage = cli('snapshot', '--source', 'nope', '--target', 'nope');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--source is not a URL/);
  });

  it('snapshot copies every table of every schema and moves the target sequences past the copied ids', async () => {
    const summary = await runSnapshot(ends());
    const copied = Object.fromEntries(summary.tables.map((t) => [t.table, t.read]));
    assert.equal(copied['credits.users'], 5);
    assert.equal(copied['calls.calls'], 5);
    assert.equal(copied['calls.call_events'], 10);
    assert.equal(copied['credits.entries'], await count(source, 'credits.entries'));
    assert.ok(summary.tables.every((t) => t.action === 'copied'));
    assert.equal(await count(target, 'credits.entries'), await count(source, 'credits.entries'));
    assert.equal(
      await nextValue(target, 'credits.entries_entry_id_seq'),
      await nextValue(source, 'credits.entries_entry_id_seq'),
    );
    assert.equal(
      await nextValue(target, 'calls.carrier_callbacks_id_seq'),
      await nextValue(source, 'calls.carrier_callbacks_id_seq'),
    );
    const verdict = await runVerify(ends());
    assert.deepEqual(verdict.differences, []);
    // The jsonb value null inside cells and the metadata survive the text round trip exactly.
    const cells = await target.query<{ c: string }>(
      "SELECT cells->>'nothing' IS NULL AND cells ? 'nothing' AS c FROM sheets.rows LIMIT 1",
    );
    assert.equal(cells.rows[0]?.c, true);
  });

  it('refuses a snapshot onto a target holding unrecorded rows unless --resume, which reconciles them', async () => {
    await target.query("DELETE FROM db_migrate.progress WHERE schema_name = 'credits' AND table_name = 'users'");
    await assert.rejects(runSnapshot(ends()), /target is not empty: credits\.users \(5 rows\)/);
    const resumed = await runSnapshot({ ...ends(), resume: true });
    const users = resumed.tables.find((t) => t.table === 'credits.users');
    assert.deepEqual(
      { action: users?.action, read: users?.read, written: users?.written },
      { action: 'reconciled', read: 5, written: 0 },
    );
    assert.ok(resumed.tables.filter((t) => t.table !== 'credits.users').every((t) => t.action === 'skipped'));
  });

  it('catch-up copies what changed since, including an entry that commits after a later one', async () => {
    // An entry whose transaction is open across a catch-up: it holds a lower entry_id than entries committed
    // meanwhile, so "entry_id above the highest copied" would skip it for ever.
    let heldId = '';
    const held = new Promise<void>((resolve) => {
      commitHeld = resolve;
    });
    let heldTx: Promise<void> = Promise.resolve();
    const inserted = new Promise<void>((signal) => {
      heldTx = source.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: string }>(
          `INSERT INTO credits.entries (user_id, kind, available_change, held_change, debt_change, reference, idempotency_key, actor, created_at)
           VALUES ($1, 'adjust', 0, 0, 0, 'held', $2, 'test', now()) RETURNING entry_id::text AS id`,
          [userIds[0], randomUUID()],
        );
        heldId = rows[0]?.id as string;
        signal();
        await held;
      });
    });
    await inserted;
    const callId = callIds[1] as string;
    await calls.apply(callId, { status: 'in-progress', occurredAt: new Date(), source: 'callback' });
    await calls.apply(callId, { status: 'completed', occurredAt: new Date(), source: 'callback', durationSeconds: 42 });
    const charged = await ledger.settle({
      reservationId: (await calls.byId(callId))?.reservation_id as string,
      actualAmount: 7,
      idempotencyKey: randomUUID(),
    });
    assert.ok(charged);
    await calls.markSettled(callId, 'settled', 7);
    // An update that leaves updated_at alone: change detection by updated_at would miss it.
    const before = (await calls.byId(callIds[2] as string))?.updated_at;
    await calls.markMirrored(callIds[2] as string, 9);
    assert.deepEqual((await calls.byId(callIds[2] as string))?.updated_at, before);
    const fresh = await newCall(userIds[3] as string);
    await source.query(
      'UPDATE sheets.rows SET version = 4, cells = cells || \'{"status":"completed"}\' WHERE call_id = $1',
      [callId],
    );
    await source.query('DELETE FROM poller.refreshed WHERE call_id = $1', [callIds[4]]);
    await source.query("DELETE FROM poller.leases WHERE name = 'stale-sweep'");
    await source.query(
      "UPDATE credits.preferences SET default_voice = 'en-GB-Neural', updated_at = now() WHERE user_id = $1",
      [userIds[2]],
    );

    const first = await runCatchUp(ends());
    const by = (s: typeof first) => Object.fromEntries(s.tables.map((t) => [t.table, t]));
    assert.equal(by(first)['credits.entries']?.strategy, 'insert-only');
    assert.equal(by(first)['poller.refreshed']?.deleted, 1);
    assert.equal(by(first)['poller.leases']?.deleted, 1);
    assert.equal(by(first)['calls.calls']?.written, 3, 'the completed call, the mirrored one and the new one');
    assert.equal((await target.query('SELECT 1 FROM calls.calls WHERE call_id = $1', [fresh])).rowCount, 1);
    assert.equal(
      (
        await target.query<{ v: string }>('SELECT sheets_version::text AS v FROM calls.calls WHERE call_id = $1', [
          callIds[2],
        ])
      ).rows[0]?.v,
      '9',
    );
    assert.equal(
      (await target.query('SELECT 1 FROM credits.entries WHERE entry_id = $1', [heldId])).rowCount,
      0,
      'not committed yet',
    );
    assert.deepEqual((await runVerify(ends())).differences, []);

    commitHeld();
    await heldTx;
    const second = await runCatchUp(ends());
    assert.equal(by(second)['credits.entries']?.written, 1);
    assert.equal((await target.query('SELECT 1 FROM credits.entries WHERE entry_id = $1', [heldId])).rowCount, 1);
    assert.deepEqual((await runVerify(ends())).differences, []);

    // Nothing changed since: a third round writes and deletes nothing.
    const third = await runCatchUp(ends());
    assert.deepEqual(
      third.tables.filter((t) => t.written > 0 || t.deleted > 0),
      [],
    );
    assert.equal(
      await nextValue(target, 'credits.entries_entry_id_seq'),
      await nextValue(source, 'credits.entries_entry_id_seq'),
    );
  });

  it('a row replaced by another key with the same unique value is caught up (deletions applied first)', async () => {
    // Upserting the new call before deleting the old one would violate UNIQUE (user_id, idempotency_key).
    const old = callIds[4] as string;
    const replacement = randomUUID();
    await source.transaction(async (tx) => {
      const { rows } = await tx.query('SELECT * FROM calls.calls WHERE call_id = $1', [old]);
      await tx.query('DELETE FROM calls.call_events WHERE call_id = $1', [old]);
      await tx.query('DELETE FROM calls.calls WHERE call_id = $1', [old]);
      await tx.query('INSERT INTO calls.calls SELECT (json_populate_record(NULL::calls.calls, $1::json)).*', [
        JSON.stringify({ ...rows[0], call_id: replacement, carrier_call_id: null }),
      ]);
    });
    callIds[4] = replacement;
    const summary = await runCatchUp(ends());
    const calls = summary.tables.find((t) => t.table === 'calls.calls');
    assert.deepEqual({ written: calls?.written, deleted: calls?.deleted }, { written: 1, deleted: 1 });
    assert.equal(summary.tables.find((t) => t.table === 'calls.call_events')?.deleted, 2);
    assert.deepEqual((await runVerify(ends())).differences, []);
  });

  it('verify exits 0 when equal, and 1 naming the table and keys after a difference is planted on the target', () => {
    const equal = cli('verify', '--source', urlFor(names.source), '--target', urlFor(names.target));
    assert.equal(equal.code, 0, equal.stderr);
    assert.equal(JSON.parse(equal.stdout).equal, true);
    return (async () => {
      const tampered = callIds[0] as string;
      await target.query("UPDATE calls.calls SET task = 'tampered' WHERE call_id = $1", [tampered]);
      await target.query('DELETE FROM poller.refreshed WHERE call_id = $1', [callIds[3]]);
      await target.query("SELECT setval('calls.carrier_callbacks_id_seq', 1)");
      const different = cli('verify', '--source', urlFor(names.source), '--target', urlFor(names.target));
      assert.equal(different.code, 1, different.stderr);
      const report = JSON.parse(different.stdout) as Awaited<ReturnType<typeof runVerify>>;
      assert.equal(report.equal, false);
      const calls = report.tables.find((t) => t.table === 'calls.calls');
      assert.equal(calls?.equal, false);
      assert.equal(calls?.sourceRows, calls?.targetRows);
      assert.deepEqual(calls?.keys?.changed, [`(${tampered})`]);
      assert.deepEqual(report.tables.find((t) => t.table === 'poller.refreshed')?.keys?.missingOnTarget, [
        `(${callIds[3]})`,
      ]);
      assert.deepEqual(
        report.tables
          .filter((t) => !t.equal)
          .map((t) => t.table)
          .sort(),
        ['calls.calls', 'poller.refreshed'],
      );
      assert.match(different.stderr, /calls\.calls: same row count \(6\) but the contents differ/);
      assert.match(
        different.stderr,
        /sequence calls\.carrier_callbacks_id_seq is at 2 on the target, behind the source's 6/,
      );
    })();
  });

  it('after the cut-over the services write on the target without colliding with copied ids', async () => {
    const targetLedger = new Ledger({
      db: target,
      clock: systemClock,
      lowBalanceCredits: 50,
      reservationTtlSeconds: 3600,
    });
    const expected = await nextValue(source, 'credits.entries_entry_id_seq');
    await targetLedger.grant({
      userId: userIds[0] as string,
      amount: 5,
      idempotencyKey: randomUUID(),
      reason: 'after cut-over',
      actor: 'test',
    });
    const { rows } = await target.query<{ id: string }>('SELECT max(entry_id)::text AS id FROM credits.entries');
    assert.equal(rows[0]?.id, expected);
  });
});
