import { randomUUID } from 'node:crypto';
import type { NewCall } from './call-store.js';

/**
 * A call as PlaceCall would record it, for tests and benches that write calls straight into the
 * store: one definition, so a new column of NewCall is filled in one place. `overrides` sets what a
 * test cares about (its user, its number, its metadata).
 */
export function newCallFixture(userId: string, overrides: Partial<NewCall> = {}): NewCall {
  const callId = randomUUID();
  return {
    call_id: callId,
    user_id: userId,
    idempotency_key: callId,
    to_number: '+14155550001',
    from_number: '+15005550006',
    task: 'say hello',
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
    ...overrides,
  };
}
