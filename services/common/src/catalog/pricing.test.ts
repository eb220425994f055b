import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callCost, type PriceTable, worstCaseCost } from './pricing.js';

const perMinute: PriceTable = { rounding: 'started-minute', minimumChargeCredits: 0, tiers: {} };
const perSecond: PriceTable = { rounding: 'second', minimumChargeCredits: 3, tiers: {} };

describe('the price table', () => {
  it('charges every started minute in full', () => {
    assert.equal(callCost(perMinute, 10, 1), 10);
    assert.equal(callCost(perMinute, 10, 60), 10);
    assert.equal(callCost(perMinute, 10, 61), 20);
    assert.equal(callCost(perMinute, 25, 300), 125);
  });

  it('a call that never connected costs nothing, whatever the minimum', () => {
    assert.equal(callCost(perMinute, 10, 0), 0);
    assert.equal(callCost(perSecond, 10, 0), 0);
  });

  it('per-second rounding is pro rata, rounded up, and never below the minimum charge', () => {
    assert.equal(callCost(perSecond, 10, 6), 3, 'minimum charge applies: 1 credit pro rata < 3');
    assert.equal(callCost(perSecond, 10, 30), 5);
    assert.equal(callCost(perSecond, 10, 31), 6, '5.17 rounds up to 6');
  });

  it('the worst case is the cost of running to the time limit', () => {
    assert.equal(worstCaseCost(perMinute, 10, 300), 50);
    assert.equal(worstCaseCost(perMinute, 10, 301), 60);
  });

  it('refuses fractional or negative durations', () => {
    assert.throws(() => callCost(perMinute, 10, 1.5), RangeError);
    assert.throws(() => callCost(perMinute, 10, -1), RangeError);
  });
});
