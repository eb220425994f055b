/**
 * Call preferences through gRPC: whole defaults for a new user, partial updates that touch only what the
 * patch holds, validation against the bundled catalogue and CALLER_IDS with errors naming the field,
 * refused updates that change nothing, and sparse storage (a changed default reaches users who never chose).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { creditV1 } from '@callgate/protos';
import { status } from '@grpc/grpc-js';
import {
  type CreditClient,
  type CreditService,
  grpcFailure,
  newUserId,
  startCredit,
  userWith,
} from '../../../test/support/credit.js';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';

const ACCOUNT_NUMBERS = '+15005550006,+14155550100';

let database: TestDatabase;
let service: CreditService;
let client: CreditClient;

before(async () => {
  database = await openTestDatabase();
  service = await startCredit(database.db, { CALLER_IDS: ACCOUNT_NUMBERS });
  client = service.client;
});
after(async () => {
  await service?.stop();
  await database?.close();
});

const DEFAULTS: creditV1.Preferences__Output = {
  defaultVoice: 'en-US-Journey-O',
  defaultModel: 'callgate-standard',
  language: 'en-US',
  callerId: '+15005550006',
  maxCallDurationSeconds: 300,
  recordingEnabled: false,
  timezone: 'UTC',
  quietHours: { start: '', end: '' },
  maxConcurrentCalls: 3,
};

async function preferencesOf(userId: string, c: CreditClient = client) {
  return (await c.getPreferences({ userId })).preferences;
}

async function refused(userId: string, patch: creditV1.PreferencesPatch, field: string, message?: RegExp) {
  const before = await preferencesOf(userId);
  const failure = await grpcFailure(client.updatePreferences({ userId, patch }));
  assert.equal(failure.code, status.INVALID_ARGUMENT, `${JSON.stringify(patch)}: ${failure.details}`);
  assert.equal(failure.meta.field, field, `${JSON.stringify(patch)}: ${failure.details}`);
  assert.ok(failure.details.startsWith(`${field}: `), failure.details);
  if (message) assert.match(failure.details, message);
  assert.deepEqual(await preferencesOf(userId), before, 'a refused update changes nothing');
}

describe('GetPreferences', () => {
  it('a new user gets every default from configuration and the catalogue', async () => {
    const userId = await userWith(client, 0);
    assert.deepEqual(await preferencesOf(userId), DEFAULTS);
  });

  it('an unknown user is NOT_FOUND on GetPreferences and UpdatePreferences', async () => {
    const userId = newUserId('ghost');
    for (const call of [
      () => client.getPreferences({ userId }),
      () => client.updatePreferences({ userId, patch: { recordingEnabled: true } }),
    ]) {
      const failure = await grpcFailure(call());
      assert.equal(failure.code, status.NOT_FOUND);
    }
  });
});

describe('UpdatePreferences', () => {
  it('changes only the fields present in the patch and returns the whole result', async () => {
    const userId = await userWith(client, 0);
    const first = await client.updatePreferences({ userId, patch: { recordingEnabled: true } });
    assert.deepEqual(first.preferences, { ...DEFAULTS, recordingEnabled: true });
    const second = await client.updatePreferences({
      userId,
      patch: { timezone: 'Europe/Berlin', maxCallDurationSeconds: 600, quietHours: { start: '22:00', end: '07:30' } },
    });
    const expected = {
      ...DEFAULTS,
      recordingEnabled: true,
      timezone: 'Europe/Berlin',
      maxCallDurationSeconds: 600,
      quietHours: { start: '22:00', end: '07:30' },
    };
    assert.deepEqual(second.preferences, expected);
    assert.deepEqual(await preferencesOf(userId), expected);
    // An empty patch (or none) changes nothing.
    assert.deepEqual((await client.updatePreferences({ userId, patch: {} })).preferences, expected);
    assert.deepEqual((await client.updatePreferences({ userId })).preferences, expected);
    // false is a value, not an absence.
    const off = await client.updatePreferences({ userId, patch: { recordingEnabled: false } });
    assert.deepEqual(off.preferences, { ...expected, recordingEnabled: false });
  });

  it('a voice and language changed together; another account number as caller id; the other model', async () => {
    const userId = await userWith(client, 0);
    const response = await client.updatePreferences({
      userId,
      patch: {
        language: 'de-DE',
        defaultVoice: 'de-DE-Journey-F',
        callerId: '+14155550100',
        defaultModel: 'callgate-advanced',
        maxConcurrentCalls: 1,
      },
    });
    assert.deepEqual(response.preferences, {
      ...DEFAULTS,
      language: 'de-DE',
      defaultVoice: 'de-DE-Journey-F',
      callerId: '+14155550100',
      defaultModel: 'callgate-advanced',
      maxConcurrentCalls: 1,
    });
  });

  it('an unknown voice or model is INVALID_ARGUMENT naming defaultVoice or defaultModel', async () => {
    const userId = await userWith(client, 0);
    await refused(userId, { defaultVoice: 'HAL-9000' }, 'defaultVoice', /unknown voice "HAL-9000"/);
    await refused(userId, { defaultVoice: '' }, 'defaultVoice');
    await refused(userId, { defaultModel: 'gpt-imaginary' }, 'defaultModel', /unknown model "gpt-imaginary"/);
  });

  it('a language the voice does not speak names language; a voice that does not speak the language names defaultVoice', async () => {
    const userId = await userWith(client, 0);
    await refused(userId, { language: 'de-DE' }, 'language', /voice en-US-Journey-O speaks en-US, not de-DE/);
    await refused(userId, { defaultVoice: 'Lea-Neural' }, 'defaultVoice', /voice Lea-Neural speaks fr-FR, not en-US/);
    await refused(userId, { language: 'english' }, 'language', /a BCP 47 tag/);
  });

  it('a caller id outside CALLER_IDS (or not E.164) is INVALID_ARGUMENT naming callerId', async () => {
    const userId = await userWith(client, 0);
    await refused(userId, { callerId: '+14155550199' }, 'callerId', /\+14155550199 is not a number you may call from/);
    await refused(userId, { callerId: '4155550100' }, 'callerId');
  });

  it('a bad timezone, quiet hours, duration or concurrency names its field', async () => {
    const userId = await userWith(client, 0);
    await refused(userId, { timezone: 'Mars/Olympus_Mons' }, 'timezone', /unknown time zone "Mars\/Olympus_Mons"/);
    await refused(userId, { timezone: '' }, 'timezone');
    await refused(userId, { quietHours: { start: '24:00', end: '07:00' } }, 'quietHours');
    await refused(userId, { quietHours: { start: '7:00', end: '08:00' } }, 'quietHours');
    await refused(userId, { quietHours: { start: '22:00', end: '' } }, 'quietHours', /both set or both empty/);
    await refused(userId, { quietHours: { start: '22:00', end: '22:00' } }, 'quietHours', /must differ/);
    await refused(userId, { maxCallDurationSeconds: 29 }, 'maxCallDurationSeconds');
    await refused(userId, { maxCallDurationSeconds: 3601 }, 'maxCallDurationSeconds');
    await refused(userId, { maxConcurrentCalls: 0 }, 'maxConcurrentCalls');
    await refused(userId, { maxConcurrentCalls: 4 }, 'maxConcurrentCalls', /between 1 and 3 \(your plan's limit\)/);
  });

  it('a refused field refuses the whole patch: the valid fields next to it are not applied', async () => {
    const userId = await userWith(client, 0);
    await refused(userId, { recordingEnabled: true, timezone: 'Nowhere/Land' }, 'timezone');
    assert.equal((await preferencesOf(userId))?.recordingEnabled, false);
  });

  it('quiet hours are cleared with empty strings', async () => {
    const userId = await userWith(client, 0);
    await client.updatePreferences({ userId, patch: { quietHours: { start: '21:00', end: '08:00' } } });
    assert.deepEqual((await preferencesOf(userId))?.quietHours, { start: '21:00', end: '08:00' });
    const cleared = await client.updatePreferences({ userId, patch: { quietHours: { start: '', end: '' } } });
    assert.deepEqual(cleared.preferences?.quietHours, { start: '', end: '' });
    assert.deepEqual(await preferencesOf(userId), DEFAULTS);
    const { rows } = await database.db.query<{ quiet_start: string | null; quiet_end: string | null }>(
      'SELECT quiet_start, quiet_end FROM credits.preferences WHERE user_id = $1',
      [userId],
    );
    assert.deepEqual(rows, [{ quiet_start: null, quiet_end: null }], 'stored as "not chosen"');
  });
});

describe('preferences are stored sparse', () => {
  let changed: CreditService;
  before(async () => {
    changed = await startCredit(database.db, {
      CALLER_IDS: ACCOUNT_NUMBERS,
      DEFAULT_TIMEZONE: 'America/New_York',
      DEFAULT_MAX_CALL_DURATION_SECONDS: '120',
      DEFAULT_MAX_CONCURRENT_CALLS: '5',
    });
  });
  after(async () => {
    await changed?.stop();
  });

  it('a changed default reaches users who never chose, and not those who did', async () => {
    const userId = await userWith(client, 0);
    await client.updatePreferences({ userId, patch: { maxCallDurationSeconds: 900 } });
    assert.deepEqual(await preferencesOf(userId, changed.client), {
      ...DEFAULTS,
      maxCallDurationSeconds: 900,
      timezone: 'America/New_York',
      maxConcurrentCalls: 5,
    });
  });
});
