/**
 * user-credit killed mid-burst (SIGKILL, no drain) and restarted on the same port: every operation is
 * re-sent with its idempotency key, and each has exactly one effect. Right after the crash the ledger
 * is consistent and holds every acknowledged operation; after the re-send it holds every operation once,
 * and the balance is what the operation list implies.
 *
 * On PostgreSQL (DATABASE_URL, as CI sets) the child uses it; otherwise it uses PGlite in a temporary
 * DATA_DIR, which the test opens itself while the child is down.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { type Database, isGrpcError, PgliteDatabase } from '@callgate/common';
import { checkLedger } from '@callgate/user-credit';
import { status } from '@grpc/grpc-js';
import { type CreditClient, creditClient, ledgerSums } from '../support/credit.js';
import { openTestDatabase } from '../support/database.js';
import { cleanEnv, type RunningProcess, runEntry } from '../support/process.js';
import { within } from '../support/within.js';

const ENTRY = 'services/user-credit/src/main.ts';
const dataDir = mkdtempSync(path.join(tmpdir(), 'callgate-credit-crash-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** A port free right now, for a service that must come back on the same one. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The ledger the child writes to, opened by the test: PostgreSQL any time, PGlite only while the child is down. */
async function withLedger<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  if (process.env.DATABASE_URL) {
    const test = await openTestDatabase();
    try {
      return await fn(test.db);
    } finally {
      await test.close();
    }
  }
  const db = await PgliteDatabase.open(path.join(dataDir, 'pglite'));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

type Op =
  | { kind: 'grant'; key: string; amount: number }
  | { kind: 'reserve'; key: string; call: number; amount: number }
  | { kind: 'settle'; key: string; call: number; actual: number }
  | { kind: 'release'; key: string; call: number };

const CHAINS = 10;
const CALLS_PER_CHAIN = 13;
const INITIAL = 10_000;
const GRANT = 7;

/** Ten chains of calls, each reserve then settle or release, with grants between: 300 operations. */
function operations(run: string): Op[][] {
  return Array.from({ length: CHAINS }, (_, chain) =>
    Array.from({ length: CALLS_PER_CHAIN }, (_, j): Op[] => {
      const call = chain * CALLS_PER_CHAIN + j;
      const ops: Op[] = [{ kind: 'reserve', key: `${run}-reserve-${call}`, call, amount: 10 }];
      // Some calls cost less than the hold, some more (paid from available), every fifth never connected.
      if (call % 5 === 4) ops.push({ kind: 'release', key: `${run}-release-${call}`, call });
      else ops.push({ kind: 'settle', key: `${run}-settle-${call}`, call, actual: call % 17 });
      if (j % 3 === 2) ops.push({ kind: 'grant', key: `${run}-grant-${call}`, amount: GRANT });
      return ops;
    }).flat(),
  );
}

interface Outcome {
  key: string;
  replayed: boolean;
  reservationId?: string;
}

async function send(client: CreditClient, userId: string, op: Op, reservations: Map<number, string>): Promise<Outcome> {
  switch (op.kind) {
    case 'grant': {
      const r = await client.grant({
        userId,
        amount: op.amount,
        idempotencyKey: op.key,
        reason: 'crash test',
        actor: 'test',
      });
      return { key: op.key, replayed: r.replayed };
    }
    case 'reserve': {
      const r = await client.reserve({ userId, amount: op.amount, idempotencyKey: op.key, callId: `call-${op.call}` });
      const reservationId = r.reservation?.reservationId ?? '';
      reservations.set(op.call, reservationId);
      return { key: op.key, replayed: r.replayed, reservationId };
    }
    case 'settle': {
      const reservationId = reservations.get(op.call) ?? '';
      const r = await client.settle({ reservationId, actualAmount: op.actual, idempotencyKey: op.key });
      return { key: op.key, replayed: r.replayed };
    }
    case 'release': {
      const reservationId = reservations.get(op.call) ?? '';
      const r = await client.release({ reservationId, idempotencyKey: op.key, reason: 'no answer' });
      return { key: op.key, replayed: r.replayed };
    }
  }
}

/**
 * Re-sends op until the service answers; only UNAVAILABLE (the service is down) is retried. No deadline:
 * how soon a restarted service serves on a loaded machine is not what this test is about.
 */
async function sendUntilServed(
  client: CreditClient,
  userId: string,
  op: Op,
  reservations: Map<number, string>,
  onUnavailable: () => void,
): Promise<Outcome & { attempts: number }> {
  for (let attempts = 1; ; attempts++) {
    try {
      return { ...(await send(client, userId, op, reservations)), attempts };
    } catch (error) {
      if (!isGrpcError(error) || error.code !== status.UNAVAILABLE) throw error;
      onUnavailable();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function entriesByKey(db: Database, userId: string): Promise<Map<string, number>> {
  const { rows } = await db.query<{ idempotency_key: string; n: string }>(
    'SELECT idempotency_key, count(*) AS n FROM credits.entries WHERE user_id = $1 GROUP BY idempotency_key',
    [userId],
  );
  return new Map(rows.map((r) => [r.idempotency_key, Number(r.n)]));
}

describe('user-credit killed in the middle of a burst', () => {
  it('re-sent operations have exactly one effect each, and the ledger agrees with the balance', async (t) => {
    const port = await freePort();
    const env = cleanEnv({
      GRPC_PORT: String(port),
      METRICS_PORT: '0',
      SIGNUP_CREDITS: '0',
      LOG_LEVEL: 'info',
      ...(process.env.DATABASE_URL ? {} : { DATA_DIR: dataDir }),
    });
    const start = async () => {
      const p = runEntry(ENTRY, env);
      await p.waitForLog((l) => l.msg === 'user-credit started', 60_000);
      return p;
    };
    const running: RunningProcess[] = [];
    try {
      const first = await start();
      running.push(first);
      const userId = `crash-${randomUUID()}`;
      const run = randomUUID().slice(0, 8);
      const initial: Op = { kind: 'grant', key: `${run}-grant-initial`, amount: INITIAL };
      const chains = operations(run);
      const allOps = [initial, ...chains.flat()];
      assert.equal(allOps.length, 301);

      // The burst: ten chains at once; the service is killed once 120 operations were answered.
      const client = creditClient(`127.0.0.1:${port}`, 10_000);
      const reservations = new Map<number, string>();
      const acknowledged = new Map<string, Outcome>();
      const sent = new Set<string>();
      try {
        await client.getUser({ userId, createIfMissing: true, displayName: 'crash', email: '' });
        acknowledged.set(initial.key, await send(client, userId, initial, reservations));
        sent.add(initial.key);
        let killed = false;
        const burst = chains.map(async (chain) => {
          for (const op of chain) {
            if (killed) return;
            sent.add(op.key);
            try {
              acknowledged.set(op.key, await send(client, userId, op, reservations));
            } catch {
              return; // the service died under this chain
            }
            if (!killed && acknowledged.size >= 120) {
              killed = true;
              first.child.kill('SIGKILL');
            }
          }
        });
        await within(Promise.all(burst), 'the burst and the kill', 60_000);
        assert.equal(await within(first.exited, 'the killed child to exit'), null, 'killed by a signal, not exited');
        assert.ok(killed, 'the service was killed during the burst');
      } finally {
        client.close();
      }
      assert.ok(acknowledged.size >= 120 && acknowledged.size < allOps.length, `${acknowledged.size} answered`);

      // Right after the crash: consistent, every answered operation durable, not everything done.
      const afterCrash = await withLedger(async (db) => {
        assert.deepEqual(await checkLedger(db, userId), [], 'the ledger is consistent right after the crash');
        return entriesByKey(db, userId);
      });
      for (const key of acknowledged.keys()) assert.equal(afterCrash.get(key), 1, `answered ${key} is in the ledger`);
      for (const key of afterCrash.keys()) assert.ok(sent.has(key), `${key} in the ledger was sent`);
      assert.ok(
        afterCrash.size < allOps.length,
        `only ${afterCrash.size} of ${allOps.length} were done before the crash`,
      );

      // Re-send everything, in order per chain, while the service comes back on the same port.
      const again = creditClient(`127.0.0.1:${port}`, 10_000);
      const replayedReservations = new Map<number, string>();
      const outcomes = new Map<string, Outcome & { attempts: number }>();
      let metDown = () => {};
      const down = new Promise<void>((resolve) => {
        metDown = resolve;
      });
      try {
        const resend = (async () => {
          outcomes.set(initial.key, await sendUntilServed(again, userId, initial, replayedReservations, metDown));
          await Promise.all(
            chains.map(async (chain) => {
              for (const op of chain) {
                outcomes.set(op.key, await sendUntilServed(again, userId, op, replayedReservations, metDown));
              }
            }),
          );
        })();
        resend.catch(() => undefined);
        // The first re-send meets the service down (UNAVAILABLE) before it is started again.
        await within(down, 'a re-send to be refused while the service is down', 20_000);
        const second = await start();
        running.push(second);
        await within(resend, 're-sending all 301 operations', 90_000);
        const balance = (await again.getBalance({ userId })).balance;
        const charged = chains.flat().reduce((sum, op) => sum + (op.kind === 'settle' ? op.actual : 0), 0);
        const grants = chains.flat().filter((op) => op.kind === 'grant').length;
        assert.deepEqual(
          { available: balance?.available, held: balance?.held, debt: balance?.debt },
          { available: INITIAL + grants * GRANT - charged, held: 0, debt: 0 },
        );
        second.child.kill('SIGTERM');
        assert.equal(await within(second.exited, 'the restarted service to stop', 20_000), 0);
      } finally {
        again.close();
      }

      const replayed = [...outcomes.values()].filter((o) => o.replayed).length;
      t.diagnostic(
        `${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}: ${acknowledged.size} answered before the kill, ` +
          `${afterCrash.size} in the ledger after it, ${replayed} replayed on re-send, ` +
          `${[...outcomes.values()].filter((o) => o.attempts > 1).length} re-sends retried while the service was down`,
      );
      assert.ok(
        [...outcomes.values()].some((o) => o.attempts > 1),
        'some operation met the service down and was retried',
      );
      for (const [key, outcome] of acknowledged) {
        assert.equal(outcomes.get(key)?.replayed, true, `${key} answered before the crash replays after it`);
        if (outcome.reservationId) assert.equal(outcomes.get(key)?.reservationId, outcome.reservationId, key);
      }
      for (const [key, outcome] of outcomes) {
        if (!outcome.replayed) assert.ok(!acknowledged.has(key), `${key} ran again after it had been answered`);
      }

      await withLedger(async (db) => {
        assert.deepEqual(await checkLedger(db, userId), []);
        const byKey = await entriesByKey(db, userId);
        assert.deepEqual(
          [...byKey.keys()].sort(),
          allOps.map((op) => op.key).sort(),
          'one entry per operation and nothing else',
        );
        assert.ok(
          [...byKey.values()].every((n) => n === 1),
          'no key has two entries',
        );
        const sums = await ledgerSums(db, userId);
        const charged = chains.flat().reduce((sum, op) => sum + (op.kind === 'settle' ? op.actual : 0), 0);
        assert.deepEqual(sums, {
          entries: 301,
          available: INITIAL + 40 * GRANT - charged,
          held: 0,
          debt: 0,
          charged,
        });
        const { rows } = await db.query<{ status: string; n: string }>(
          'SELECT status, count(*) AS n FROM credits.reservations WHERE user_id = $1 GROUP BY status ORDER BY status',
          [userId],
        );
        assert.deepEqual(
          rows.map((r) => [r.status, Number(r.n)]),
          [
            ['released', 26],
            ['settled', 104],
          ],
          'one reservation per call, none left open',
        );
      });
    } finally {
      for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
  });
});
