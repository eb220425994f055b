/**
 * Whether a token still stands (CheckAccess) at the edges of a second: a token's `iat` is in whole
 * seconds, so an account created at 12:00:00.700 must accept a token issued in that same second
 * (iat 12:00:00), while a sign-out everywhere at 12:00:05.300 must refuse a token of 12:00:05.
 * (Found by CI on a quiet machine: sign-up, sign-in and the first token fell in one second, and the
 * new user's first token was refused as "signed out everywhere".)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, ManualClock, migrate, readMigrations } from '@callgate/common';
import { openIsolatedDatabase } from '../../../test/support/database.js';
import { checkAccess } from './access.js';
import { Accounts } from './accounts.js';
import { AttemptLimits } from './attempt-limits.js';

const log = createLogger('test', 'silent');
const clock = new ManualClock(Date.parse('2026-01-01T12:00:00.700Z'));
let database: Awaited<ReturnType<typeof openIsolatedDatabase>>;
let accounts: Accounts;

before(async () => {
  database = await openIsolatedDatabase('auth_access');
  await migrate(database.db, 'auth', readMigrations(fileURLToPath(new URL('../migrations/', import.meta.url))), log);
  const limits = new AttemptLimits({ db: database.db, clock, perAddressPerHour: 100, perAccountPerHour: 100 });
  accounts = new Accounts({
    db: database.db,
    clock,
    limits,
    issuer: () => 'http://127.0.0.1:1',
    maxFailedSignIns: 5,
    lockoutSeconds: 60,
  });
});
after(async () => database?.close());

async function accountIdOf(email: string): Promise<string> {
  const { rows } = await database.db.query<{ account_id: string }>(
    'SELECT account_id FROM auth.accounts WHERE email = $1',
    [email],
  );
  return rows[0]?.account_id ?? '';
}

const at = (iso: string) => ({ issuedAt: new Date(iso).toISOString(), grantId: '' });

describe('CheckAccess at the edges of a second', () => {
  it('a token issued in the second an account was created stands (seeded and signed-up accounts)', async () => {
    await accounts.seed('seeded@example.com', 'a long enough password');
    assert.deepEqual(
      await checkAccess(database.db, {
        userId: await accountIdOf('seeded@example.com'),
        ...at('2026-01-01T12:00:00Z'),
      }),
      {
        active: true,
      },
    );
    assert.deepEqual(await accounts.signUp('new@example.com', 'a long enough password', '127.0.0.1'), { ok: true });
    assert.deepEqual(
      await checkAccess(database.db, { userId: await accountIdOf('new@example.com'), ...at('2026-01-01T12:00:00Z') }),
      {
        active: true,
      },
    );
  });

  it('a token issued in the second of a sign-out everywhere is refused; one of the next second stands', async () => {
    const userId = await accountIdOf('seeded@example.com');
    clock.set(Date.parse('2026-01-01T12:00:05.300Z'));
    await accounts.signOutEverywhere(userId);
    assert.equal((await checkAccess(database.db, { userId, ...at('2026-01-01T12:00:05Z') })).active, false);
    assert.deepEqual(await checkAccess(database.db, { userId, ...at('2026-01-01T12:00:06Z') }), { active: true });
  });
});
