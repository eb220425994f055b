import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readiness } from './readiness.js';

const ok = async () => {};
const failing = (message: string) => async () => {
  throw new Error(message);
};
const never = () => new Promise<void>(() => {});

describe('Readiness', () => {
  it('is ready when every check passes', async () => {
    const report = await new Readiness().add('database', ok).add('queue', ok).evaluate();
    assert.deepEqual(report, { ready: true, checks: { database: 'ok', queue: 'ok' } });
  });

  it('is ready with no checks at all', async () => {
    assert.deepEqual(await new Readiness().evaluate(), { ready: true, checks: {} });
  });

  it('a failing critical check makes it unready and reports the reason', async () => {
    const report = await new Readiness().add('database', failing('connection refused')).add('queue', ok).evaluate();
    assert.deepEqual(report, { ready: false, checks: { database: 'connection refused', queue: 'ok' } });
  });

  it('checks are critical unless told otherwise', async () => {
    const report = await new Readiness().add('database', failing('down'), {}).evaluate();
    assert.equal(report.ready, false);
  });

  it('a failing non-critical check is reported but leaves it ready', async () => {
    const report = await new Readiness()
      .add('database', ok)
      .add('call-backend', failing('UNAVAILABLE: backend down'), { critical: false })
      .evaluate();
    assert.deepEqual(report, { ready: true, checks: { database: 'ok', 'call-backend': 'UNAVAILABLE: backend down' } });
  });

  it('reports a rejection that is not an Error by its string form', async () => {
    const report = await new Readiness()
      .add('odd', () => Promise.reject('plain string'), { critical: false })
      .evaluate();
    assert.deepEqual(report, { ready: true, checks: { odd: 'plain string' } });
  });

  it('a check that throws synchronously is a failure, not a crash', async () => {
    const report = await new Readiness()
      .add('sync', () => {
        throw new Error('thrown before any promise');
      })
      .evaluate();
    assert.deepEqual(report, { ready: false, checks: { sync: 'thrown before any promise' } });
  });

  it('a check that never answers is reported as timed out', async () => {
    const report = await new Readiness(20).add('stuck', never).add('database', ok).evaluate();
    assert.equal(report.ready, false);
    assert.equal(report.checks.stuck, 'no answer within 20 ms');
    assert.equal(report.checks.database, 'ok');
  });

  it('a non-critical check that never answers times out without making it unready', async () => {
    const report = await new Readiness(20).add('stuck', never, { critical: false }).evaluate();
    assert.deepEqual(report, { ready: true, checks: { stuck: 'no answer within 20 ms' } });
  });

  it('startDraining makes it unready even when every check passes', async () => {
    const readiness = new Readiness().add('database', ok);
    assert.equal((await readiness.evaluate()).ready, true);
    readiness.startDraining();
    const report = await readiness.evaluate();
    assert.deepEqual(report, { ready: false, checks: { shutdown: 'draining', database: 'ok' } });
  });

  it('evaluates checks again on every call', async () => {
    let healthy = false;
    const readiness = new Readiness().add('flaky', async () => {
      if (!healthy) throw new Error('not yet');
    });
    assert.equal((await readiness.evaluate()).ready, false);
    healthy = true;
    assert.deepEqual(await readiness.evaluate(), { ready: true, checks: { flaky: 'ok' } });
  });
});
