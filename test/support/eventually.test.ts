/**
 * The shared wait helpers have no deadline of their own: on a loaded machine a condition that takes
 * longer than any "reasonable" bound must still be waited for. The clock here is node's mock, moved
 * far past the old 5 s bound.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { eventually } from './eventually.js';
import { within } from './within.js';

const realTick = () => new Promise((resolve) => setImmediate(resolve));

/** Moves the mocked clock by ms in 20 ms steps, letting the polling loop run between steps. */
async function advance(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 20) {
    mock.timers.tick(20);
    await realTick();
  }
}

describe('waiting without a deadline', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] }));
  afterEach(() => mock.timers.reset());

  for (const [name, wait] of [
    ['eventually', (probe: () => Promise<string | undefined>) => eventually('the condition', probe)],
  ] as const) {
    it(`${name} keeps polling past a minute and returns what the probe found`, async () => {
      let ready = false;
      let probes = 0;
      const stderr = mock.method(process.stderr, 'write', () => true);
      let settled: string | Error | undefined;
      wait(async () => {
        probes++;
        return ready ? 'found' : undefined;
      }).then(
        (v) => {
          settled = v;
        },
        (e: Error) => {
          settled = e;
        },
      );
      await advance(60_000);
      assert.equal(settled, undefined, 'still waiting, not failed');
      assert.ok(probes > 100, `polled ${probes} times`);
      assert.ok(
        stderr.mock.calls.some((c) => String(c.arguments[0]).includes('still waiting after')),
        'a slow wait says what it waits for',
      );
      stderr.mock.restore();
      ready = true;
      await advance(40);
      assert.equal(settled, 'found');
    });
  }

  it('within waits for the promise however long it takes', async () => {
    const stderr = mock.method(process.stderr, 'write', () => true);
    let resolve: (v: number) => void = () => undefined;
    let settled: number | Error | undefined;
    within(new Promise<number>((r) => (resolve = r)), 'the promise').then(
      (v) => {
        settled = v;
      },
      (e: Error) => {
        settled = e;
      },
    );
    await advance(30_000);
    stderr.mock.restore();
    assert.equal(settled, undefined);
    resolve(7);
    await realTick();
    assert.equal(settled, 7);
  });
});
