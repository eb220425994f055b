import { type Catalog, type Clock, type Database, findVoice, invalidArgument, speaks } from '@callgate/common';
import type { creditV1 } from '@callgate/protos';
import { isTimeZone } from './config.js';
import { requireUser, unknownUser } from './ledger.js';

type Preferences = creditV1.Preferences__Output;

/** What a user gets for every preference they never set; from configuration and the catalogue. */
export interface PreferenceDefaults {
  language: string;
  timezone: string;
  maxCallDurationSeconds: number;
  maxConcurrentCalls: number;
  /** The account's caller ids; the first is the default. */
  accountCallerIds: readonly string[];
}

interface PreferencesRow {
  default_voice: string | null;
  default_model: string | null;
  language: string | null;
  caller_id: string | null;
  max_call_duration_seconds: number | null;
  recording_enabled: boolean | null;
  timezone: string | null;
  quiet_start: string | null;
  quiet_end: string | null;
  max_concurrent_calls: number | null;
  caller_ids: string[];
}

const E164 = /^\+[1-9]\d{6,14}$/;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const BCP47 = /^[a-z]{2,3}(-[A-Z]{2})?$/;

/** Column of each patchable field, in one table so the SQL and the patch cannot drift apart. */
const COLUMNS = {
  defaultVoice: 'default_voice',
  defaultModel: 'default_model',
  language: 'language',
  callerId: 'caller_id',
  maxCallDurationSeconds: 'max_call_duration_seconds',
  recordingEnabled: 'recording_enabled',
  timezone: 'timezone',
  maxConcurrentCalls: 'max_concurrent_calls',
} as const;

/** Call preferences: stored sparse (only what the user chose), served whole (defaults filled in). */
export class PreferencesStore {
  constructor(
    private readonly db: Database,
    private readonly catalog: Catalog,
    private readonly defaults: PreferenceDefaults,
    private readonly clock: Clock,
  ) {}

  async get(userId: string): Promise<Preferences> {
    requireUser(userId);
    return this.effective(await this.row(this.db, userId, false));
  }

  /** Applies the fields present in the patch, validates the result as a whole, returns the full preferences. */
  async update(userId: string, patch: creditV1.PreferencesPatch__Output): Promise<Preferences> {
    requireUser(userId);
    return this.db.transaction(async (tx) => {
      const row = await this.row(tx, userId, true);
      const changes: Partial<Record<string, unknown>> = {};
      for (const [field, column] of Object.entries(COLUMNS)) {
        const value = patch[field as keyof typeof COLUMNS];
        if (value !== undefined) changes[column] = value;
      }
      if (patch.quietHours) {
        changes.quiet_start = patch.quietHours.start || null;
        changes.quiet_end = patch.quietHours.end || null;
      }
      const next = this.effective({ ...row, ...changes } as PreferencesRow);
      this.validate(next, row.caller_ids, new Set(Object.keys(changes)));
      const columns = Object.keys(changes);
      if (columns.length > 0) {
        await tx.query(
          `UPDATE credits.preferences SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(', ')}, updated_at = $${columns.length + 2}
           WHERE user_id = $1`,
          [userId, ...columns.map((c) => changes[c]), this.clock.date()],
        );
      }
      return next;
    });
  }

  private async row(db: Pick<Database, 'query'>, userId: string, lock: boolean): Promise<PreferencesRow> {
    const { rows } = await db.query<PreferencesRow>(
      `SELECT p.default_voice, p.default_model, p.language, p.caller_id, p.max_call_duration_seconds, p.recording_enabled,
              p.timezone, p.quiet_start, p.quiet_end, p.max_concurrent_calls, u.caller_ids
         FROM credits.preferences p JOIN credits.users u USING (user_id)
        WHERE p.user_id = $1 ${lock ? 'FOR UPDATE OF p' : ''}`,
      [userId],
    );
    if (!rows[0]) throw unknownUser(userId);
    return rows[0];
  }

  private effective(row: PreferencesRow): Preferences {
    return {
      defaultVoice: row.default_voice ?? this.catalog.defaultVoice,
      defaultModel: row.default_model ?? this.catalog.defaultModel,
      language: row.language ?? this.defaults.language,
      callerId: row.caller_id ?? this.defaults.accountCallerIds[0] ?? '',
      maxCallDurationSeconds: row.max_call_duration_seconds ?? this.defaults.maxCallDurationSeconds,
      recordingEnabled: row.recording_enabled ?? false,
      timezone: row.timezone ?? this.defaults.timezone,
      quietHours: { start: row.quiet_start ?? '', end: row.quiet_end ?? '' },
      maxConcurrentCalls: row.max_concurrent_calls ?? this.defaults.maxConcurrentCalls,
    };
  }

  /** Checks the preferences a patch would produce; errors name the field the user sent. */
  private validate(next: Preferences, userCallerIds: readonly string[], changed: Set<string>): void {
    const voice = findVoice(this.catalog, next.defaultVoice);
    if (!voice) {
      throw invalidArgument(
        'defaultVoice',
        `unknown voice "${next.defaultVoice}"; getVoiceOptions lists the voices (e.g. ${this.catalog.defaultVoice})`,
      );
    }
    if (!this.catalog.models.some((m) => m.id === next.defaultModel)) {
      throw invalidArgument(
        'defaultModel',
        `unknown model "${next.defaultModel}"; getModelOptions lists them: ${this.catalog.models.map((m) => m.id).join(', ')}`,
      );
    }
    if (!BCP47.test(next.language)) throw invalidArgument('language', 'a BCP 47 tag such as en-US or de-DE');
    if (!speaks(voice, next.language)) {
      const field = changed.has('default_voice') ? 'defaultVoice' : 'language';
      throw invalidArgument(
        field,
        `voice ${voice.id} speaks ${voice.languages.join(', ')}, not ${next.language}; ` +
          'choose a voice for that language (getVoiceOptions with language) in the same update',
      );
    }
    const allowed = [...this.defaults.accountCallerIds, ...userCallerIds];
    if (!E164.test(next.callerId) || !allowed.includes(next.callerId)) {
      throw invalidArgument(
        'callerId',
        `${next.callerId} is not a number you may call from; use one of ${allowed.join(', ')}`,
      );
    }
    if (
      !Number.isInteger(next.maxCallDurationSeconds) ||
      next.maxCallDurationSeconds < 30 ||
      next.maxCallDurationSeconds > 3600
    ) {
      throw invalidArgument('maxCallDurationSeconds', 'between 30 and 3600 seconds');
    }
    if (!isTimeZone(next.timezone)) {
      throw invalidArgument('timezone', `unknown time zone "${next.timezone}"; use an IANA name such as Europe/Berlin`);
    }
    const quiet = next.quietHours ?? { start: '', end: '' };
    if (quiet.start || quiet.end) {
      if (!HHMM.test(quiet.start) || !HHMM.test(quiet.end)) {
        throw invalidArgument('quietHours', 'start and end as HH:MM (24-hour), both set or both empty');
      }
      if (quiet.start === quiet.end) throw invalidArgument('quietHours', 'start and end must differ');
    }
    // The configured default is also the ceiling: users may choose fewer concurrent calls, never more.
    const ceiling = this.defaults.maxConcurrentCalls;
    if (
      !Number.isInteger(next.maxConcurrentCalls) ||
      next.maxConcurrentCalls < 1 ||
      next.maxConcurrentCalls > ceiling
    ) {
      throw invalidArgument('maxConcurrentCalls', `between 1 and ${ceiling} (your plan's limit)`);
    }
  }
}
