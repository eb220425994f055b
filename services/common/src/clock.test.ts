import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, systemClock } from './clock.js';

describe('ManualClock', () => {
  it('moves only when told to, and runs the timers due on the way in order, each at its own time', () => {
    const clock = new ManualClock(1_000);
    const seen: [string, number][] = [];
    clock.after(300, () => seen.push(['b', clock.now()]));
    clock.after(100, () => {
      seen.push(['a', clock.now()]);
      clock.after(50, () => seen.push(['a2', clock.now()]));
    });
    const cancel = clock.after(200, () => seen.push(['cancelled', clock.now()]));
    cancel();
    clock.after(1_000, () => seen.push(['later', clock.now()]));
    assert.equal(clock.now(), 1_000);
    clock.advance(400);
    assert.deepEqual(seen, [
      ['a', 1_100],
      ['a2', 1_150],
      ['b', 1_300],
    ]);
    assert.equal(clock.now(), 1_400);
    assert.equal(clock.date().getTime(), 1_400);
    assert.equal(clock.pending, 1);
  });
});

describe('systemClock', () => {
  it('reads the system time and its timers fire and cancel', async () => {
    const before = Date.now();
    assert.ok(systemClock.now() >= before);
    assert.ok(systemClock.date().getTime() >= before);
    let cancelledRan = false;
    systemClock.after(0, () => {
      cancelledRan = true;
    })();
    await new Promise<void>((resolve) => systemClock.after(1, resolve));
    assert.equal(cancelledRan, false);
  });
});
