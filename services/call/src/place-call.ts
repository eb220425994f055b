import { createHash } from 'node:crypto';
import {
  type Catalog,
  DomainError,
  failedPrecondition,
  findModel,
  findVoice,
  invalidArgument,
  isGrpcError,
  type Logger,
  speaks,
  worstCaseCost,
} from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import { OutcomeSchemaError, parseOutcomeSchema } from './agent/outcome.js';
import type { CallRow, CallStore } from './call-store.js';
import { carrierErrorToDomain } from './carrier.js';
import type { CreditClient } from './credits.js';
import { type DailyCap, dailyCapMessage, startOfLocalDay } from './daily-minutes.js';
import { destinationRefusal } from './destination-rules.js';
import type { Dialer } from './dialer.js';
import { inQuietHours } from './quiet-hours.js';

const E164 = /^\+[1-9]\d{6,14}$/;
const DEFAULT_FIRST_MESSAGE =
  'Hello, this is an AI assistant calling on behalf of a callgate user. This call may be recorded.';

export interface PlaceCallOptions {
  store: CallStore;
  credit: CreditClient;
  dialer: Dialer;
  catalog: Catalog;
  accountCallerIds: readonly string[];
  /** DENIED_DESTINATION_COUNTRIES: countries and ranges never called, whatever the allow-lists say. */
  deniedDestinations: readonly string[];
  /** ALLOWED_DESTINATION_COUNTRIES: empty allows any country. */
  allowedDestinationCountries: readonly string[];
  log: Logger;
  now: () => Date;
}

/** What identifies a PlaceCall request, apart from its key: the fields as the caller sent them. */
function fingerprint(request: callV1.PlaceCallRequest__Output): string {
  const { userId: _user, idempotencyKey: _key, metadata, ...fields } = request;
  const sorted = Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => a.localeCompare(b)));
  const canonical = JSON.stringify(
    Object.entries({ ...fields, metadata: sorted }).sort(([a], [b]) => a.localeCompare(b)),
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

/**
 * user-credit unreachable before the intent is recorded: nothing was dialled and nothing will be (the
 * recovery job dials only recorded intents), so the caller is told to retry, not that the outcome is
 * unknown. A hold a timed-out Reserve may have taken is found again by the retry (same key) or expires.
 * The metadata (x-callgate-not-placed) lets the gateway say so instead of "may or may not".
 */
function notPlaced(error: unknown): never {
  if (isGrpcError(error) && (error.code === 14 || error.code === 4)) {
    throw new DomainError(
      'unavailable',
      `user-credit is unavailable (${error.details}), so no call was placed and none will be; retry with the same idempotencyKey`,
      { 'not-placed': 'true' },
    );
  }
  throw error;
}

/** The call id of an idempotency key: retries of one request name the same call, and the same credit hold. */
export function callIdFor(userId: string, idempotencyKey: string): string {
  const hex = createHash('sha256').update(`${userId}\u0000${idempotencyKey}`).digest('hex');
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * PlaceCall: validate against the user's preferences and the catalogue, hold the worst-case credits,
 * record the intent, then dial. Each step is keyed by the request's idempotency key, so a retry (also
 * after a crash at any point) finds what the first attempt did and never holds or dials twice.
 */
export async function placeCall(
  options: PlaceCallOptions,
  request: callV1.PlaceCallRequest__Output,
  signal: AbortSignal,
): Promise<{ call: CallRow; deduplicated: boolean }> {
  const { store, credit, catalog } = options;
  if (!request.userId) throw invalidArgument('userId', 'required');
  if (!request.idempotencyKey || request.idempotencyKey.length > 128) {
    throw invalidArgument('idempotencyKey', 'required, at most 128 characters: retries with it never dial twice');
  }
  const requestHash = fingerprint(request);
  const existing = await store.byIdempotencyKey(request.userId, request.idempotencyKey);
  if (existing) return { call: sameRequest(existing, requestHash, request.idempotencyKey), deduplicated: true };

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

  const { preferences } = await credit.getPreferences({ userId: request.userId }, { signal }).catch(notPlaced);
  if (!preferences) throw new DomainError('internal', 'user-credit returned no preferences');

  // The profile holds the user's own caller ids and the plan's daily minutes.
  const { profile } = await credit.getProfile({ userId: request.userId }, { signal }).catch(notPlaced);
  const from = request.from || preferences.callerId;
  if (!options.accountCallerIds.includes(from)) {
    if (!profile?.callerIds.includes(from)) {
      const allowed = [...options.accountCallerIds, ...(profile?.callerIds ?? [])];
      throw invalidArgument('callerId', `${from} is not a number you may call from; use one of ${allowed.join(', ')}`);
    }
  }
  const refusal = destinationRefusal(request.to, {
    accountCallerIds: options.accountCallerIds,
    from,
    denied: options.deniedDestinations,
    accountCountries: options.allowedDestinationCountries,
    userCountries: profile?.allowedDestinationCountries ?? [],
  });
  if (refusal) throw invalidArgument('to', refusal);
  const voiceId = request.voice || preferences.defaultVoice;
  const voice = findVoice(catalog, voiceId);
  if (!voice) throw invalidArgument('voice', `unknown voice "${voiceId}"; getVoiceOptions lists them`);
  const language = request.language || preferences.language;
  if (!speaks(voice, language)) {
    throw invalidArgument('voice', `voice ${voice.id} speaks ${voice.languages.join(', ')}, not ${language}`);
  }
  const modelId = request.model || preferences.defaultModel;
  const model = findModel(catalog, modelId);
  if (!model) throw invalidArgument('model', `unknown model "${modelId}"; getModelOptions lists them`);
  const maxDuration = request.maxDurationSeconds || preferences.maxCallDurationSeconds;
  if (!Number.isInteger(maxDuration) || maxDuration < 30 || maxDuration > 3600) {
    throw invalidArgument('maxDurationSeconds', 'between 30 and 3600 seconds');
  }
  const now = options.now();
  const quiet = preferences.quietHours;
  if (quiet?.start && quiet.end && inQuietHours(now, preferences.timezone, quiet.start, quiet.end)) {
    throw failedPrecondition(
      `it is within your quiet hours (${quiet.start}–${quiet.end} ${preferences.timezone}); call after ${quiet.end} or change quietHours`,
    );
  }

  const daily: DailyCap | undefined = profile?.dailyCallMinutes
    ? { minutes: profile.dailyCallMinutes, since: startOfLocalDay(now, preferences.timezone), addSeconds: maxDuration }
    : undefined;
  const callId = callIdFor(request.userId, request.idempotencyKey);
  const amount = worstCaseCost(catalog.pricing, model.creditsPerMinute, maxDuration);
  let reservationId: string;
  try {
    // No abort signal: a hold that user-credit already committed must come back with its id, or it
    // would stay locked until it expires, with no call to release it.
    const held = await credit.reserve({
      userId: request.userId,
      amount,
      idempotencyKey: `call:${callId}`,
      callId,
      ttlSeconds: 0,
    });
    if (held.reservation?.status !== 'RESERVATION_STATUS_HELD') {
      // A replay of an earlier attempt with this key whose hold was already given back.
      throw failedPrecondition(
        `idempotencyKey "${request.idempotencyKey}" belongs to an earlier attempt that did not place a call; use a new key`,
      );
    }
    reservationId = held.reservation.reservationId;
  } catch (error) {
    if (isGrpcError(error) && error.code === 3 && /idempotencyKey/.test(error.details)) {
      throw invalidArgument(
        'idempotencyKey',
        `"${request.idempotencyKey}" was already used for a call with different settings; use a new key`,
      );
    }
    if (isGrpcError(error) && error.code === 9) {
      const available = error.metadata?.get('x-callgate-available')[0];
      throw failedPrecondition(
        `not enough credits: a call of up to ${maxDuration} s on ${model.id} (${model.creditsPerMinute} credits a minute) needs ${amount} credits held, ` +
          `and ${available ?? 'fewer'} are available. Shorten maxDurationSeconds, choose a cheaper model, or add credits.`,
        { needed: String(amount), available: String(available ?? '') },
      );
    }
    notPlaced(error);
  }

  const release = (reason: string) =>
    credit
      .release({ reservationId, idempotencyKey: `release:${callId}`, reason })
      .catch((error: unknown) => options.log.warn({ err: error, callId }, 'could not release a hold; it expires'));
  let inserted: Awaited<ReturnType<CallStore['insertIntent']>>;
  try {
    inserted = await store.insertIntent(
      {
        call_id: callId,
        user_id: request.userId,
        idempotency_key: request.idempotencyKey,
        to_number: request.to,
        from_number: from,
        task,
        first_message: request.firstMessage || DEFAULT_FIRST_MESSAGE,
        voice: voice.id,
        model: model.id,
        language,
        max_duration_seconds: maxDuration,
        machine_detection: request.machineDetection,
        outcome_schema_json: request.outcomeSchemaJson,
        metadata: request.metadata,
        credits_per_minute: model.creditsPerMinute,
        reservation_id: reservationId,
        reserved_credits: amount,
        request_hash: requestHash,
        created_at: now,
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
  if (typeof inserted === 'object' && 'dailyUsedSeconds' in inserted) {
    await release('daily minutes of the plan');
    throw failedPrecondition(dailyCapMessage(daily as DailyCap, inserted.dailyUsedSeconds, preferences.timezone));
  }
  if (!(await store.claimDial(callId))) return { call: inserted, deduplicated: false };
  const result = await options.dialer.dial(inserted);
  if (!result.dialed && result.error && result.call.status === 'failed') {
    throw carrierErrorToDomain(result.error);
  }
  return { call: result.call, deduplicated: false };
}
