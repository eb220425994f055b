import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BILLING_GRACE_SECONDS,
  billedDuration,
  isOverdue,
  OVERDUE_MARGIN_SECONDS,
  overdueAt,
  RING_TIMEOUT_SECONDS,
} from './call-limits.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);

describe('billedDuration', () => {
  it('bills what the carrier reported up to max duration + the grace, and the cap beyond', () => {
    const call = (duration: number) => ({ duration_seconds: duration, max_duration_seconds: 60 });
    assert.deepEqual(billedDuration(call(0)), { seconds: 0, capped: false });
    assert.deepEqual(billedDuration(call(60 + BILLING_GRACE_SECONDS)), {
      seconds: 60 + BILLING_GRACE_SECONDS,
      capped: false,
    });
    assert.deepEqual(billedDuration(call(61 + BILLING_GRACE_SECONDS)), {
      seconds: 60 + BILLING_GRACE_SECONDS,
      capped: true,
    });
    assert.deepEqual(billedDuration(call(360_000)), { seconds: 60 + BILLING_GRACE_SECONDS, capped: true });
  });
});

describe('overdueAt', () => {
  const base = { created_at: at(0), dial_started_at: at(5), answered_at: null, max_duration_seconds: 60 };

  it('counts from the answer when there was one, without ring time', () => {
    const answered = { ...base, answered_at: at(30) };
    assert.deepEqual(overdueAt(answered), at(30 + 60 + OVERDUE_MARGIN_SECONDS));
    assert.equal(isOverdue(answered, at(30 + 60 + OVERDUE_MARGIN_SECONDS)), false);
    assert.equal(isOverdue(answered, at(30 + 60 + OVERDUE_MARGIN_SECONDS + 1)), true);
  });

  it('else from the dial (or the record), allowing the whole ring time', () => {
    assert.deepEqual(overdueAt(base), at(5 + RING_TIMEOUT_SECONDS + 60 + OVERDUE_MARGIN_SECONDS));
    assert.deepEqual(
      overdueAt({ ...base, dial_started_at: null }),
      at(RING_TIMEOUT_SECONDS + 60 + OVERDUE_MARGIN_SECONDS),
    );
  });
});
