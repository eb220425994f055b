/**
 * call_status_transitions_total through the real CallStore against the test database: a recorded call
 * counts as queued, each move the state machine accepts counts once, and what it ignores (a duplicate, a
 * report that would move a call backwards, anything after a terminal status) does not.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CallStatus, createLogger, migrate, readMigrations, systemClock } from '@callgate/common';
import { Registry } from 'prom-client';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { CallStore, type StatusReport } from './call-store.js';
import { newCallFixture } from './new-call.fixture.js';
import { statusTransitions } from './status-metrics.js';

let test: TestDatabase;
const user = `status-metrics-${randomUUID()}`;

before(async () => {
  test = await openTestDatabase();
  await migrate(
    test.db,
    'calls',
    readMigrations(fileURLToPath(new URL('../migrations/', import.meta.url))),
    createLogger('test', 'silent'),
  );
});
after(async () => {
  await test.db.query(
    'DELETE FROM calls.call_events WHERE call_id IN (SELECT call_id FROM calls.calls WHERE user_id = $1)',
    [user],
  );
  await test.db.query('DELETE FROM calls.calls WHERE user_id = $1', [user]);
  await test.close();
});

const newCall = () => newCallFixture(user);

const report = (status: CallStatus): StatusReport => ({ status, occurredAt: new Date(), source: 'callback' });

async function counts(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('call_status_transitions_total')?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.status), v.value]));
}

describe('call_status_transitions_total', () => {
  it('counts the recorded call and each accepted move, never an ignored report', async () => {
    const registry = new Registry();
    const store = new CallStore(test.db, systemClock, statusTransitions(registry));
    const call = await store.insertIntent(newCall(), 100);
    assert.ok(call && typeof call === 'object' && 'call_id' in call, 'the intent is recorded');
    assert.deepEqual(await counts(registry), { queued: 1 });

    assert.equal((await store.apply(call.call_id, report('ringing'))).changed, true);
    assert.equal((await store.apply(call.call_id, report('ringing'))).changed, false, 'a duplicate');
    assert.equal((await store.apply(call.call_id, report('initiated'))).changed, false, 'backwards');
    assert.equal((await store.apply(call.call_id, report('busy'))).changed, true);
    assert.equal((await store.apply(call.call_id, report('completed'))).changed, false, 'after a terminal status');

    assert.deepEqual(await counts(registry), { queued: 1, ringing: 1, busy: 1 });
  });

  it('counts a cancel of an undialled call as canceled', async () => {
    const registry = new Registry();
    const store = new CallStore(test.db, systemClock, statusTransitions(registry));
    const call = await store.insertIntent(newCall(), 100);
    assert.ok(call && typeof call === 'object' && 'call_id' in call);
    assert.ok((await store.cancelUndialed(call.call_id, report('canceled')))?.changed);
    assert.deepEqual(await counts(registry), { queued: 1, canceled: 1 });
  });
});
