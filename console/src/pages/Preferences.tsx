import { type FormEvent, useEffect, useState } from 'react';
import { useConsole, useLoad } from '../context';
import type { ToolError } from '../tool-error';
import type { Model, Preferences, Profile, Voice } from '../types';
import { described, Field, FormProblem, Loading, Page, Problem } from '../ui';

/** The form's text for each field of updateCallPreferences. */
interface Draft {
  defaultVoice: string;
  defaultModel: string;
  language: string;
  callerId: string;
  maxCallDurationSeconds: string;
  timezone: string;
  quiet: boolean;
  quietStart: string;
  quietEnd: string;
  maxConcurrentCalls: string;
}

const draftOf = (p: Preferences): Draft => ({
  defaultVoice: p.defaultVoice,
  defaultModel: p.defaultModel,
  language: p.language,
  callerId: p.callerId,
  maxCallDurationSeconds: String(p.maxCallDurationSeconds),
  timezone: p.timezone,
  quiet: p.quietHours !== null,
  quietStart: p.quietHours?.start ?? '',
  quietEnd: p.quietHours?.end ?? '',
  maxConcurrentCalls: String(p.maxConcurrentCalls),
});

/** Numbers stay as typed when they are not numbers, so the gateway's own message names the problem. */
const numberOrText = (text: string) => (text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text);

/** Only what changed is sent: the tool changes just the fields it is given. */
function patchOf(draft: Draft, saved: Draft): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const key of ['defaultVoice', 'defaultModel', 'language', 'callerId', 'timezone'] as const) {
    if (draft[key] !== saved[key]) patch[key] = draft[key];
  }
  for (const key of ['maxCallDurationSeconds', 'maxConcurrentCalls'] as const) {
    if (draft[key] !== saved[key]) patch[key] = numberOrText(draft[key]);
  }
  if (draft.quiet !== saved.quiet || draft.quietStart !== saved.quietStart || draft.quietEnd !== saved.quietEnd) {
    patch.quietHours = draft.quiet ? { start: draft.quietStart, end: draft.quietEnd } : null;
  }
  return patch;
}

export function PreferencesPage() {
  const { gateway } = useConsole();
  const loaded = useLoad(async () => {
    const [account, voices, models] = await Promise.all([
      gateway.call<{ profile: Profile; preferences: Preferences }>('getProfile'),
      gateway.call<{ voices: Voice[] }>('getVoiceOptions'),
      gateway.call<{ models: Model[] }>('getModelOptions'),
    ]);
    return { ...account, voices: voices.voices, models: models.models };
  }, 'preferences');
  const [saved, setSaved] = useState<Draft>();
  const [draft, setDraft] = useState<Draft>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<Error>();
  const [status, setStatus] = useState('');
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (loaded.data) {
      setSaved(draftOf(loaded.data.preferences));
      setDraft(draftOf(loaded.data.preferences));
    }
  }, [loaded.data]);

  const set = (patch: Partial<Draft>) => setDraft((d) => (d ? { ...d, ...patch } : d));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!draft || !saved) return;
    const patch = patchOf(draft, saved);
    setErrors({});
    setFailure(undefined);
    if (Object.keys(patch).length === 0) {
      setStatus('Nothing changed.');
      return;
    }
    setSaving(true);
    setStatus('');
    try {
      const { preferences } = await gateway.call<{ preferences: Preferences }>('updateCallPreferences', patch);
      setSaved(draftOf(preferences));
      setDraft(draftOf(preferences));
      setStatus('Saved.');
    } catch (error) {
      const fields = { ...((error as ToolError).fields ?? {}) };
      // quietHours.start / quietHours.end sit beside their own inputs.
      setErrors(fields);
      setFailure(error as Error);
    } finally {
      setSaving(false);
    }
  };

  const e = errors;
  return (
    <Page title="Preferences">
      {loaded.error && <Problem error={loaded.error} retry={loaded.reload} />}
      {!draft && !loaded.error && <Loading what="your preferences" />}
      {draft && loaded.data && (
        <form onSubmit={submit} noValidate className="stack">
          <p className="muted">
            Defaults for calls you and your agents place. Signed in as{' '}
            {loaded.data.profile.email || loaded.data.profile.userId}.
          </p>
          <div className="row">
            <Field id="defaultVoice" label="Default voice" error={e.defaultVoice}>
              <select
                {...described('defaultVoice', e.defaultVoice)}
                value={draft.defaultVoice}
                onChange={(ev) => set({ defaultVoice: ev.target.value })}
              >
                {!loaded.data.voices.some((v) => v.id === draft.defaultVoice) && (
                  <option value={draft.defaultVoice}>{draft.defaultVoice || '(none)'}</option>
                )}
                {loaded.data.voices.map((v) => (
                  <option key={v.id} value={v.id}>
                    {v.name} · {v.provider}
                  </option>
                ))}
              </select>
            </Field>
            <Field id="defaultModel" label="Default model" error={e.defaultModel}>
              <select
                {...described('defaultModel', e.defaultModel)}
                value={draft.defaultModel}
                onChange={(ev) => set({ defaultModel: ev.target.value })}
              >
                {!loaded.data.models.some((m) => m.id === draft.defaultModel) && (
                  <option value={draft.defaultModel}>{draft.defaultModel || '(none)'}</option>
                )}
                {loaded.data.models.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.name} · {m.creditsPerMinute} credits/min
                  </option>
                ))}
              </select>
            </Field>
          </div>
          <div className="row">
            <Field id="language" label="Language (BCP 47, e.g. en-US)" error={e.language}>
              <input
                {...described('language', e.language)}
                value={draft.language}
                onChange={(ev) => set({ language: ev.target.value })}
              />
            </Field>
            <Field id="timezone" label="Time zone (IANA, e.g. Europe/Berlin)" error={e.timezone}>
              <input
                {...described('timezone', e.timezone)}
                value={draft.timezone}
                onChange={(ev) => set({ timezone: ev.target.value })}
              />
            </Field>
          </div>
          <Field id="callerId" label="Caller id (one of your numbers, E.164)" error={e.callerId}>
            <input
              {...described('callerId', e.callerId)}
              type="tel"
              list="caller-ids"
              value={draft.callerId}
              onChange={(ev) => set({ callerId: ev.target.value })}
            />
          </Field>
          <datalist id="caller-ids">
            {loaded.data.profile.callerIds.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
          <div className="row">
            <Field id="maxCallDurationSeconds" label="Longest call, seconds (30–3600)" error={e.maxCallDurationSeconds}>
              <input
                {...described('maxCallDurationSeconds', e.maxCallDurationSeconds)}
                inputMode="numeric"
                value={draft.maxCallDurationSeconds}
                onChange={(ev) => set({ maxCallDurationSeconds: ev.target.value })}
              />
            </Field>
            <Field id="maxConcurrentCalls" label="Calls at once (1–100)" error={e.maxConcurrentCalls}>
              <input
                {...described('maxConcurrentCalls', e.maxConcurrentCalls)}
                inputMode="numeric"
                value={draft.maxConcurrentCalls}
                onChange={(ev) => set({ maxConcurrentCalls: ev.target.value })}
              />
            </Field>
          </div>
          <fieldset
            aria-describedby={
              e.quietHours && !e['quietHours.start'] && !e['quietHours.end'] ? 'quietHours-error' : undefined
            }
          >
            <legend>Quiet hours (calls are refused between start and end, in your time zone)</legend>
            <label className="check">
              <input type="checkbox" checked={draft.quiet} onChange={(ev) => set({ quiet: ev.target.checked })} />
              Keep quiet hours
            </label>
            {draft.quiet && (
              <div className="row">
                <Field id="quietStart" label="Start (HH:MM)" error={e['quietHours.start']}>
                  <input
                    {...described('quietStart', e['quietHours.start'])}
                    value={draft.quietStart}
                    placeholder="22:00"
                    onChange={(ev) => set({ quietStart: ev.target.value })}
                  />
                </Field>
                <Field id="quietEnd" label="End (HH:MM)" error={e['quietHours.end']}>
                  <input
                    {...described('quietEnd', e['quietHours.end'])}
                    value={draft.quietEnd}
                    placeholder="07:00"
                    onChange={(ev) => set({ quietEnd: ev.target.value })}
                  />
                </Field>
              </div>
            )}
            {e.quietHours && !e['quietHours.start'] && !e['quietHours.end'] && (
              <small id="quietHours-error" className="field-error" role="alert">
                {e.quietHours}
              </small>
            )}
          </fieldset>
          <FormProblem error={failure} fields={errors} />
          <div className="inline">
            <button type="submit" className="primary" disabled={saving}>
              {saving ? 'Saving…' : 'Save preferences'}
            </button>
            <span role="status">{status}</span>
          </div>
        </form>
      )}
    </Page>
  );
}
