import {
  type Catalog,
  DomainError,
  failedPrecondition,
  findModel,
  findVoice,
  invalidArgument,
  type ModelEntry,
  speaks,
  type VoiceEntry,
} from '@callgate/common';
import type { callV1, creditV1 } from '@callgate/protos';
import { notPlaced } from './credit-hold.js';
import type { CreditClient } from './credits.js';
import { type DailyCap, startOfLocalDay } from './daily-minutes.js';
import { destinationRefusal } from './destination-rules.js';
import { inQuietHours } from './quiet-hours.js';

/** What a call is placed with: the request's choices, else the user's preferences, checked against the catalogue. */
export interface CallSettings {
  preferences: creditV1.Preferences__Output;
  from: string;
  voice: VoiceEntry;
  language: string;
  model: ModelEntry;
  maxDurationSeconds: number;
  /** The plan's daily minutes, when it has any. */
  daily: DailyCap | undefined;
}

export interface SettingsOptions {
  credit: CreditClient;
  catalog: Catalog;
  accountCallerIds: readonly string[];
  /** DENIED_DESTINATION_COUNTRIES: countries and ranges never called, whatever the allow-lists say. */
  deniedDestinations: readonly string[];
  /** ALLOWED_DESTINATION_COUNTRIES: empty allows any country. */
  allowedDestinationCountries: readonly string[];
}

/**
 * The settings of a call, from the request and the user's preferences and profile (fetched together:
 * neither depends on the other). The profile holds the user's own caller ids, destination countries
 * and the plan's daily minutes.
 */
export async function resolveSettings(
  options: SettingsOptions,
  request: callV1.PlaceCallRequest__Output,
  now: Date,
  signal: AbortSignal,
): Promise<CallSettings> {
  const { credit, catalog } = options;
  const [{ preferences }, { profile }] = await Promise.all([
    credit.getPreferences({ userId: request.userId }, { signal }).catch(notPlaced),
    credit.getProfile({ userId: request.userId }, { signal }).catch(notPlaced),
  ]);
  if (!preferences) throw new DomainError('internal', 'user-credit returned no preferences');

  const from = request.from || preferences.callerId;
  if (!options.accountCallerIds.includes(from) && !profile?.callerIds.includes(from)) {
    const allowed = [...options.accountCallerIds, ...(profile?.callerIds ?? [])];
    throw invalidArgument('callerId', `${from} is not a number you may call from; use one of ${allowed.join(', ')}`);
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
  const maxDurationSeconds = request.maxDurationSeconds || preferences.maxCallDurationSeconds;
  if (!Number.isInteger(maxDurationSeconds) || maxDurationSeconds < 30 || maxDurationSeconds > 3600) {
    throw invalidArgument('maxDurationSeconds', 'between 30 and 3600 seconds');
  }
  const quiet = preferences.quietHours;
  if (quiet?.start && quiet.end && inQuietHours(now, preferences.timezone, quiet.start, quiet.end)) {
    throw failedPrecondition(
      `it is within your quiet hours (${quiet.start}–${quiet.end} ${preferences.timezone}); call after ${quiet.end} or change quietHours`,
    );
  }
  const daily: DailyCap | undefined = profile?.dailyCallMinutes
    ? {
        minutes: profile.dailyCallMinutes,
        since: startOfLocalDay(now, preferences.timezone),
        addSeconds: maxDurationSeconds,
      }
    : undefined;
  return { preferences, from, voice, language, model, maxDurationSeconds, daily };
}
