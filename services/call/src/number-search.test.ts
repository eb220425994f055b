/**
 * getCallHistory's search by number (ListCallsRequest.number): the destination contains the digits, as
 * a literal substring. LIKE's own characters (%, _ and the escape \) in the search are matched as
 * themselves, so a search can never widen into a pattern; only the user's own calls are searched.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger, migrate, readMigrations, systemClock } from '@callgate/common';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { CallStore, likeLiteral, type NewCall } from './call-store.js';

let test: TestDatabase;
let store: CallStore;
const user = `number-search-${randomUUID()}`;
const other = `number-search-other-${randomUUID()}`;

before(async () => {
  test = await openTestDatabase();
  await migrate(
    test.db,
    'calls',
    readMigrations(fileURLToPath(new URL('../migrations/', import.meta.url))),
    createLogger('test', 'silent'),
  );
  store = new CallStore(test.db, systemClock);
  // Stored as written: the store does not check numbers, so odd ones show the search stays literal.
  for (const [owner, to] of [
    [user, '+14155550001'],
    [user, '+14155559999'],
    [user, '+4930123456'],
    [user, '+1%5_5\\0'],
    [other, '+14155550001'],
  ] as const) {
    const callId = randomUUID();
    const call: NewCall = {
      call_id: callId,
      user_id: owner,
      idempotency_key: callId,
      to_number: to,
      from_number: to === '+4930123456' ? '+4930999000' : '+10000000000',
      task: 't',
      first_message: 'hello',
      voice: 'v',
      model: 'm',
      language: 'en-US',
      max_duration_seconds: 300,
      machine_detection: false,
      record: false,
      outcome_schema_json: '',
      metadata: {},
      credits_per_minute: 10,
      reservation_id: randomUUID(),
      reserved_credits: 50,
      created_at: new Date(),
      request_hash: 'h',
    };
    assert.ok(await store.insertIntent(call, 100));
  }
});
after(async () => {
  await test.db.query(
    'DELETE FROM calls.call_events WHERE call_id IN (SELECT call_id FROM calls.calls WHERE user_id = ANY($1))',
    [[user, other]],
  );
  await test.db.query('DELETE FROM calls.calls WHERE user_id = ANY($1)', [[user, other]]);
  await test.close();
});

const search = async (number: string, userId = user) =>
  (
    await store.list({
      userId,
      pageSize: 100,
      pageToken: '',
      statuses: [],
      createdAfter: '',
      createdBefore: '',
      number,
    })
  ).calls
    .map((c) => c.to_number)
    .sort();

describe('the search by number', () => {
  it('finds the calls whose destination contains the digits, the user’s own only', async () => {
    assert.deepEqual(await search('555'), ['+14155550001', '+14155559999']);
    assert.deepEqual(await search('+1415555999'), ['+14155559999']);
    assert.deepEqual(await search('49301'), ['+4930123456']);
    assert.deepEqual(await search('777'), []);
    assert.equal((await search('')).length, 4, 'empty: every call of the user');
    assert.deepEqual(await search('0001', other), ['+14155550001']);
  });

  it('finds the calls that showed a caller id containing the digits', async () => {
    assert.deepEqual(await search('+4930999'), ['+4930123456'], 'the caller id, not the destination');
    assert.deepEqual(await search('4930'), ['+4930123456'], 'one call matched by both counts once');
  });

  it('matches %, _ and \\ as themselves, never as wildcards', async () => {
    assert.deepEqual(await search('%'), ['+1%5_5\\0']);
    assert.deepEqual(await search('_'), ['+1%5_5\\0']);
    assert.deepEqual(await search('\\'), ['+1%5_5\\0']);
    assert.deepEqual(await search('5_5'), ['+1%5_5\\0'], 'not "5, any character, 5" (+14155… would match)');
    assert.deepEqual(await search('1%5'), ['+1%5_5\\0'], 'not "1, anything, 5"');
    assert.deepEqual(await search('\\0'), ['+1%5_5\\0']);
  });

  it('escapes each LIKE character once', () => {
    assert.equal(likeLiteral('a%b_c\\d'), 'a\\%b\\_c\\\\d');
    assert.equal(likeLiteral('+14155550001'), '+14155550001');
  });
});
