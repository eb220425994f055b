import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ManualClock } from './clock.js';
import { createLogger } from './logger.js';
import { periodic } from './periodic.js';

const log = createLogger('test', 'silent');
/** Lets promise callbacks (the end of a run, the scheduling of the next) happen. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('periodic', () => {
  it('runs every interval counted from the end of the previous run, never two at once', async () => {
    const clock = new ManualClock(0);
    const starts: number[] = [];
    let release = deferred();
    const job = periodic({
      name: 'test-job',
      intervalMs: 100,
      log,
      clock,
      run: async () => {
        starts.push(clock.now());
        await release.promise;
      },
    });
    clock.advance(100);
    assert.deepEqual(starts, [100]);
    clock.advance(500); // the run is still going: no second one
    await settle();
    assert.deepEqual(starts, [100]);
    release.resolve();
    release = deferred();
    await settle();
    clock.advance(99);
    assert.deepEqual(starts, [100], 'the pause starts when the run ends (at 600)');
    clock.advance(1);
    assert.deepEqual(starts, [100, 700]);
    release.resolve();
    await job.stop();
  });

  it('runOnce joins the run in progress', async () => {
    const clock = new ManualClock(0);
    let runs = 0;
    const gate = deferred();
    const job = periodic({
      name: 'join',
      intervalMs: 1_000,
      log,
      clock,
      run: async () => {
        runs++;
        await gate.promise;
        return runs;
      },
    });
    const a = job.runOnce();
    const b = job.runOnce();
    gate.resolve();
    assert.deepEqual(await Promise.all([a, b]), [1, 1]);
    await job.stop();
  });

  it('a failed run is logged and counted, and the next interval runs again', async () => {
    const clock = new ManualClock(0);
    const registry = new Registry();
    let runs = 0;
    const job = periodic({
      name: 'flaky',
      intervalMs: 10,
      log,
      registry,
      clock,
      run: async () => {
        runs++;
        if (runs === 1) throw new Error('database away');
        return 'ok';
      },
    });
    assert.equal(await job.runOnce(), undefined);
    const metric = await registry.getSingleMetricAsString('periodic_job_failures_total');
    assert.match(metric, /periodic_job_failures_total\{job="flaky"\} 1/);
    clock.advance(10);
    await settle();
    assert.equal(runs, 2);
    // A second job of the same service shares the counter instead of failing to register it.
    periodic({ name: 'other', intervalMs: 10, log, registry, clock, run: async () => undefined }).stop();
    await job.stop();
  });

  it('stop aborts the current run, waits for it, and leaves no timer', async () => {
    const clock = new ManualClock(0);
    let aborted = false;
    let runs = 0;
    const job = periodic({
      name: 'stoppable',
      intervalMs: 10,
      firstDelayMs: 0,
      log,
      clock,
      run: (signal) => {
        runs++;
        return new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          }),
        );
      },
    });
    clock.advance(0);
    assert.equal(runs, 1);
    await job.stop();
    assert.equal(aborted, true);
    await settle();
    assert.equal(clock.pending, 0);
    clock.advance(1_000);
    assert.equal(runs, 1);
  });

  it('adds jitter as a fraction of the pause', async () => {
    const clock = new ManualClock(0);
    const starts: number[] = [];
    const job = periodic({
      name: 'jittered',
      intervalMs: 100,
      jitter: 0.5,
      random: () => 0.5,
      log,
      clock,
      run: async () => {
        starts.push(clock.now());
      },
    });
    clock.advance(124);
    assert.deepEqual(starts, []);
    clock.advance(1);
    assert.deepEqual(starts, [125]);
    await job.stop();
  });
});
