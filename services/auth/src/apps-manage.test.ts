/**
 * What the gateway's apps:manage tools stand on (grants.ts, personal-tokens.ts): each account sees and
 * revokes only its own grants and tokens (another's id is "not found" as an unknown one is); revoking a
 * grant removes every token of it, so CheckAccess refuses its access tokens; a token never holds
 * apps:manage; the cap on live tokens holds under a thousand concurrent creates; last use is written at
 * most once a minute.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, ManualClock, migrate, PersonalTokenFormat, readMigrations } from '@callgate/common';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { checkAccess } from './access.js';
import { postgresAdapter } from './adapter.js';
import { GRANT_LAST_USED_WRITE_INTERVAL_MS, Grants } from './grants.js';
import {
  MAX_LIVE_PERSONAL_TOKENS,
  NoSuchAccount,
  PersonalTokenLimit,
  PersonalTokenProblem,
  PersonalTokens,
} from './personal-tokens.js';

let test: TestDatabase;
const clock = new ManualClock(Date.now());
const alice = `alice-${randomUUID()}`;
const bob = `bob-${randomUUID()}`;
const crowd = `crowd-${randomUUID()}`;

before(async () => {
  test = await openTestDatabase();
  await migrate(
    test.db,
    'auth',
    readMigrations(fileURLToPath(new URL('../migrations/', import.meta.url))),
    createLogger('test', 'silent'),
  );
  for (const id of [alice, bob, crowd]) {
    await test.db.query(
      `INSERT INTO auth.accounts (account_id, email, password_hash, created_at, tokens_valid_after)
       VALUES ($1, $2, 'x', $3, $3)`,
      [id, `${id}@example.com`, new Date(clock.now() - 60_000)],
    );
  }
});
after(async () => {
  await test.db.query('DELETE FROM auth.oidc_payloads WHERE account_id = ANY($1)', [[alice, bob, crowd]]);
  await test.db.query('DELETE FROM auth.accounts WHERE account_id = ANY($1)', [[alice, bob, crowd]]);
  await test.close();
});

/** A grant as oidc-provider stores it through the adapter, with a refresh token of it. */
async function grantFor(accountId: string, clientId: string, scope: string): Promise<string> {
  const Adapter = postgresAdapter(test.db, clock);
  const grantId = randomUUID().replaceAll('-', '');
  await new Adapter('Grant').upsert(
    grantId,
    {
      accountId,
      clientId,
      iat: Math.floor(clock.now() / 1000),
      openid: { scope: 'openid offline_access' },
      resources: { 'http://127.0.0.1:1/mcp': scope },
    },
    3600,
  );
  await new Adapter('RefreshToken').upsert(randomUUID(), { accountId, clientId, grantId }, 3600);
  return grantId;
}

const access = (userId: string, grantId: string) =>
  checkAccess(test.db, { userId, grantId, issuedAt: clock.date().toISOString() });

describe('connected apps (grants)', () => {
  it('lists an account’s own grants with their scopes and client names, and no one else’s', async () => {
    const grants = new Grants(test.db, clock, { 'callgate-console': 'callgate console' });
    const console = await grantFor(alice, 'callgate-console', 'calls:read apps:manage');
    const agent = await grantFor(alice, `agent-${randomUUID()}`, 'calls:write');
    await grantFor(bob, 'callgate-console', 'calls:read');
    const listed = await grants.list(alice);
    assert.deepEqual(listed.map((g) => g.grantId).sort(), [console, agent].sort());
    const mine = listed.find((g) => g.grantId === console);
    assert.equal(mine?.clientName, 'callgate console');
    assert.deepEqual(mine?.scopes, ['apps:manage', 'calls:read', 'offline_access', 'openid']);
    assert.equal(mine?.lastUsedAt, null);
    assert.ok(listed.find((g) => g.grantId === agent)?.clientName.startsWith('agent-'), 'unnamed: its id');
  });

  it('revokes only the account’s own grant, with every token of it; another’s is not found and stays', async () => {
    const grants = new Grants(test.db, clock);
    const bobs = await grantFor(bob, 'callgate-console', 'calls:read');
    assert.equal(await grants.revoke(alice, bobs), false, 'not alice’s: same answer as unknown');
    assert.equal(await grants.revoke(alice, 'no-such-grant'), false);
    assert.equal(await grants.revoke(alice, 'nul\u0000byte'), false);
    assert.equal(await grants.revoke(alice, 'x'.repeat(100_000)), false);
    assert.deepEqual(await access(bob, bobs), { active: true }, 'bob’s grant still stands');

    const own = await grantFor(alice, 'callgate-console', 'calls:read');
    assert.deepEqual(await access(alice, own), { active: true });
    assert.equal(await grants.revoke(alice, own), true);
    assert.equal((await access(alice, own)).active, false, 'its access tokens are refused');
    const { rows } = await test.db.query('SELECT kind FROM auth.oidc_payloads WHERE grant_id = $1 OR id = $1', [own]);
    assert.deepEqual(rows, [], 'the grant and its refresh token are gone');
    assert.equal(await grants.revoke(alice, own), false, 'a second revoke: not found');
  });

  it('notes a grant’s use at most once a minute', async () => {
    const grants = new Grants(test.db, clock);
    const grantId = await grantFor(alice, 'callgate-console', 'calls:read');
    const lastUsed = async () => (await grants.list(alice)).find((g) => g.grantId === grantId)?.lastUsedAt?.getTime();
    await grants.touch(grantId);
    const first = clock.now();
    assert.equal(await lastUsed(), first);
    clock.advance(GRANT_LAST_USED_WRITE_INTERVAL_MS - 1);
    await grants.touch(grantId);
    // Another replica (no memory of the first touch) does not write within the minute either.
    await new Grants(test.db, clock).touch(grantId);
    assert.equal(await lastUsed(), first, 'within the minute: unchanged');
    clock.advance(1);
    await grants.touch(grantId);
    assert.equal(await lastUsed(), clock.now());
  });
});

describe('personal access tokens for the apps:manage tools', () => {
  const format = new PersonalTokenFormat([randomBytes(32).toString('hex')]);
  const tokens = () => new PersonalTokens(test.db, clock, format);

  it('never holds apps:manage or admin, nor a NUL in its name; an unknown account is told apart', async () => {
    for (const scopes of [['apps:manage'], ['calls:read', 'apps:manage'], ['admin'], []]) {
      await assert.rejects(tokens().create(alice, { name: 'n', scopes, days: 1 }), PersonalTokenProblem);
    }
    await assert.rejects(
      tokens().create(alice, { name: 'apps:manage', scopes: ['apps:manage'], days: 1 }),
      /apps:manage cannot be given to a personal access token/,
    );
    await assert.rejects(tokens().create(alice, { name: 'a\u0000b', scopes: ['calls:read'], days: 1 }), /NUL/);
    await assert.rejects(tokens().create(alice, { name: 'x'.repeat(101), scopes: ['calls:read'], days: 1 }), /name/);
    // Counted in characters, not UTF-16 units: 64 emoji (what the gateway lets through) are a name.
    const emoji = await tokens().create(alice, { name: '😀'.repeat(64), scopes: ['calls:read'], days: 1 });
    assert.equal(emoji.info.name, '😀'.repeat(64));
    assert.ok(await tokens().revoke(alice, emoji.info.tokenId));
    await assert.rejects(tokens().create(alice, { name: '😀'.repeat(101), scopes: ['calls:read'], days: 1 }), /name/);
    await assert.rejects(tokens().create(alice, { name: 'n', scopes: ['calls:read'], days: 366 }), /days/);
    await assert.rejects(
      tokens().create(`nobody-${randomUUID()}`, { name: 'n', scopes: ['calls:read'], days: 1 }),
      NoSuchAccount,
    );
  });

  it('lists live tokens only, and revokes only the account’s own', async () => {
    const a = await tokens().create(alice, { name: 'live', scopes: ['calls:read'], days: 1 });
    const gone = await tokens().create(alice, { name: 'revoked', scopes: ['calls:read'], days: 1 });
    const b = await tokens().create(bob, { name: 'bob’s', scopes: ['calls:read'], days: 1 });
    assert.equal(await tokens().revoke(alice, b.info.tokenId), false, 'bob’s token: not alice’s to revoke');
    assert.ok(await tokens().verify(b.token), 'and it still works');
    assert.equal(await tokens().revoke(alice, gone.info.tokenId), true);
    const live = (await tokens().listLive(alice)).map((t) => t.tokenId);
    assert.ok(live.includes(a.info.tokenId));
    assert.ok(!live.includes(gone.info.tokenId), 'a revoked token is not listed');
    assert.ok(!live.includes(b.info.tokenId));
    clock.advance(86_400_001);
    assert.ok(!(await tokens().listLive(alice)).some((t) => t.tokenId === a.info.tokenId), 'an expired one neither');
  });

  it('notes a token’s last use at most once a minute', async () => {
    const { token, info } = await tokens().create(bob, { name: 'used', scopes: ['calls:read'], days: 1 });
    const lastUsed = async () =>
      (await tokens().listLive(bob)).find((t) => t.tokenId === info.tokenId)?.lastUsedAt?.getTime();
    assert.equal(await lastUsed(), undefined);
    await tokens().verify(token);
    const first = clock.now();
    assert.equal(await lastUsed(), first);
    clock.advance(59_000);
    await tokens().verify(token);
    assert.equal(await lastUsed(), first);
    clock.advance(1_000);
    await tokens().verify(token);
    assert.equal(await lastUsed(), clock.now());
  });

  it(`a thousand concurrent creates for one account: exactly ${MAX_LIVE_PERSONAL_TOKENS} live, the rest told the cap`, async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) =>
        tokens().create(crowd, { name: `t${i}`, scopes: ['calls:read'], days: 1 }),
      ),
    );
    const made = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(made.length, MAX_LIVE_PERSONAL_TOKENS, `made ${made.length} (${test.source})`);
    for (const r of refused) assert.ok(r.reason instanceof PersonalTokenLimit, String(r.reason));
    assert.match(String(refused[0]?.reason), /revoke one you no longer use/);
    assert.equal((await tokens().listLive(crowd)).length, MAX_LIVE_PERSONAL_TOKENS);
    // Revoking one makes room for exactly one more.
    const [first] = await tokens().listLive(crowd);
    assert.ok(first && (await tokens().revoke(crowd, first.tokenId)));
    await tokens().create(crowd, { name: 'again', scopes: ['calls:read'], days: 1 });
    await assert.rejects(tokens().create(crowd, { name: 'over', scopes: ['calls:read'], days: 1 }), PersonalTokenLimit);
  });
});
