import { createHash } from 'node:crypto';
import {
  type Catalog,
  type Clock,
  DomainError,
  failedPrecondition,
  invalidArgument,
  type Logger,
} from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import { OutcomeSchemaError, parseOutcomeSchema } from './agent/outcome.js';
import { type CallSettings, resolveSettings } from './call-settings.js';
import type { CallRow, CallStore } from './call-store.js';
import { carrierErrorToDomain } from './carrier.js';
import { type CreditHold, holdCredits } from './credit-hold.js';
import type { CreditClient } from './credits.js';
import { dailyCapMessage } from './daily-minutes.js';
import type { Dialer } from './dialer.js';
import type { CallLifecycle } from './lifecycle.js';

const E164 = /^\+[1-9]\d{6,14}$/;
const DEFAULT_FIRST_MESSAGE =
  'Hello, this is an AI assistant calling on behalf of a callgate user. This call may be recorded.';

export interface PlaceCallOptions {
  store: CallStore;
  credit: CreditClient;
  dialer: Dialer;
  /** Told of each recorded intent (its queued row goes to the sheet). */
  lifecycle: Pick<CallLifecycle, 'recorded'>;
  catalog: Catalog;
  accountCallerIds: readonly string[];
  /** DENIED_DESTINATION_COUNTRIES: countries and ranges never called, whatever the allow-lists say. */
  deniedDestinations: readonly string[];
  /** ALLOWED_DESTINATION_COUNTRIES: empty allows any country. */
  allowedDestinationCountries: readonly string[];
  log: Logger;
  clock: Clock;
}

type Placed = { call: CallRow; deduplicated: boolean };

/** What identifies a PlaceCall request, apart from its key: the fields as the caller sent them. */
function fingerprint(request: callV1.PlaceCallRequest__Output): string {
  const { userId: _user, idempotencyKey: _key, metadata, ...fields } = request;
  const sorted = Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => a.localeCompare(b)));
  // Fields a request left unset (an optional such as record) are not part of it: a retry from a client
  // that predates them still matches its first request.
  const canonical = JSON.stringify(
    Object.entries({ ...fields, metadata: sorted })
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/** The call an idempotency key names, if the request is the same one; a different request is refused. */
function sameRequest(call: CallRow, requestHash: string, key: string): CallRow {
  if (call.request_hash && call.request_hash !== requestHash) {
    throw invalidArgument('idempotencyKey', `"${key}" was already used for a different call; use a new key`);
  }
  return call;
}

/** The call id of an idempotency key: retries of one request name the same call, and the same credit hold. */
export function callIdFor(userId: string, idempotencyKey: string): string {
  const hex = createHash('sha256').update(`${userId}\u0000${idempotencyKey}`).digest('hex');
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * PlaceCall: validate → resolve settings (preferences and profile) → hold the worst-case credits →
 * record the intent, then dial. Each step is keyed by the request's idempotency key, so a retry (also
 * after a crash at any point) finds what the first attempt did and never holds or dials twice.
 */
export async function placeCall(
  options: PlaceCallOptions,
  request: callV1.PlaceCallRequest__Output,
  signal: AbortSignal,
): Promise<Placed> {
  if (!request.userId) throw invalidArgument('userId', 'required');
  if (!request.idempotencyKey || request.idempotencyKey.length > 128) {
    throw invalidArgument('idempotencyKey', 'required, at most 128 characters: retries with it never dial twice');
  }
  const requestHash = fingerprint(request);
  const existing = await options.store.byIdempotencyKey(request.userId, request.idempotencyKey);
  if (existing) return { call: sameRequest(existing, requestHash, request.idempotencyKey), deduplicated: true };
  const task = validate(request);
  const now = options.clock.date();
  const settings = await resolveSettings(options, request, now, signal);
  const callId = callIdFor(request.userId, request.idempotencyKey);
  const hold = await holdCredits(
    options.credit,
    options.catalog.pricing,
    { userId: request.userId, callId, idempotencyKey: request.idempotencyKey },
    settings,
  );
  return recordAndDial(options, { request, requestHash, task, callId, now, settings, hold });
}

/** The request's own fields, checked before anything is asked of user-credit; returns the trimmed task. */
function validate(request: callV1.PlaceCallRequest__Output): string {
  if (!E164.test(request.to)) {
    throw invalidArgument(
      'to',
      `an E.164 phone number such as +14155550001 is expected, got ${JSON.stringify(request.to)}`,
    );
  }
  const task = request.task.trim();
  if (!task || task.length > 4000)
    throw invalidArgument('task', 'say what the call should achieve (1 to 4000 characters)');
  if (request.firstMessage.length > 1000) throw invalidArgument('firstMessage', 'at most 1000 characters');
  try {
    // Compiled now (Ajv), so a schema the outcome could never be checked against is refused before dialling.
    parseOutcomeSchema(request.outcomeSchemaJson);
  } catch (error) {
    if (error instanceof OutcomeSchemaError) throw invalidArgument('outcomeSchema', error.message);
    throw error;
  }
  if (Object.keys(request.metadata).length > 20) throw invalidArgument('metadata', 'at most 20 keys');
  return task;
}

/**
 * Records the intent (before the carrier is asked: the idempotency rule), then dials it if this request
 * claims the dial. A hold whose intent cannot be recorded (a limit, an error) is released here.
 */
async function recordAndDial(
  options: PlaceCallOptions,
  placing: {
    request: callV1.PlaceCallRequest__Output;
    requestHash: string;
    task: string;
    callId: string;
    now: Date;
    settings: CallSettings;
    hold: CreditHold;
  },
): Promise<Placed> {
  const { store } = options;
  const { request, requestHash, callId, settings, hold } = placing;
  const { preferences, daily } = settings;
  const release = (reason: string) =>
    options.credit
      .release({ reservationId: hold.reservationId, idempotencyKey: `release:${callId}`, reason })
      .catch((error: unknown) => options.log.warn({ err: error, callId }, 'could not release a hold; it expires'));
  let inserted: Awaited<ReturnType<CallStore['insertIntent']>>;
  try {
    inserted = await store.insertIntent(
      {
        call_id: callId,
        user_id: request.userId,
        idempotency_key: request.idempotencyKey,
        to_number: request.to,
        from_number: settings.from,
        task: placing.task,
        first_message: request.firstMessage || DEFAULT_FIRST_MESSAGE,
        voice: settings.voice.id,
        model: settings.model.id,
        language: settings.language,
        max_duration_seconds: settings.maxDurationSeconds,
        machine_detection: request.machineDetection,
        // The request's own choice, else the user's preference (the greeting then says the call is recorded).
        record: request.record ?? preferences.recordingEnabled,
        outcome_schema_json: request.outcomeSchemaJson,
        metadata: request.metadata,
        credits_per_minute: settings.model.creditsPerMinute,
        reservation_id: hold.reservationId,
        reserved_credits: hold.amount,
        request_hash: requestHash,
        created_at: placing.now,
      },
      preferences.maxConcurrentCalls,
      daily,
    );
  } catch (error) {
    await release('the call could not be recorded');
    throw error;
  }
  if (inserted === undefined) {
    // A concurrent duplicate recorded it first; the hold is shared (same key), so nothing to undo.
    const winner = await store.byIdempotencyKey(request.userId, request.idempotencyKey);
    if (!winner) throw new DomainError('aborted', 'the call was recorded concurrently; retry with the same key');
    return { call: sameRequest(winner, requestHash, request.idempotencyKey), deduplicated: true };
  }
  if (inserted === 'limit') {
    await release('concurrent-call limit');
    // FAILED_PRECONDITION, not RESOURCE_EXHAUSTED: nothing should retry this automatically.
    throw failedPrecondition(
      `you already have ${preferences.maxConcurrentCalls} call(s) in progress, your limit; place this call when one ends, with a new idempotencyKey`,
    );
  }
  if ('dailyUsedSeconds' in inserted) {
    await release('daily minutes of the plan');
    throw failedPrecondition(
      dailyCapMessage(daily as NonNullable<typeof daily>, inserted.dailyUsedSeconds, preferences.timezone),
    );
  }
  options.lifecycle.recorded(inserted);
  if (!(await store.claimDial(callId))) return { call: inserted, deduplicated: false };
  const result = await options.dialer.dial(inserted);
  if (!result.dialed && result.error && result.call.status === 'failed') {
    throw carrierErrorToDomain(result.error);
  }
  return { call: result.call, deduplicated: false };
}
