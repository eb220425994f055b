import { type FormEvent, useState } from 'react';
import { useLocation } from 'wouter';
import { newField, type OutcomeField, OutcomeFieldsBuilder, outcomeSchemaOf } from '../components/OutcomeFields';
import { useConsole, useLoad } from '../context';
import type { ToolError } from '../tool-error';
import type { Call, Estimate, Model, Voice } from '../types';
import { credits, described, Field, FormProblem, Loading, Page, Problem } from '../ui';

export function PlaceCallPage() {
  const { gateway, config } = useConsole();
  const [, navigate] = useLocation();
  const options = useLoad(async () => {
    const [voices, models] = await Promise.all([
      gateway.call<{ voices: Voice[]; defaultVoice: string }>('getVoiceOptions'),
      gateway.call<{ models: Model[]; defaultModel: string }>('getModelOptions'),
    ]);
    return { ...voices, ...models };
  }, 'options');
  const [to, setTo] = useState('');
  const [task, setTask] = useState('');
  const [firstMessage, setFirstMessage] = useState('');
  const [voice, setVoice] = useState('');
  const [model, setModel] = useState('');
  const [maxDuration, setMaxDuration] = useState('');
  const [record, setRecord] = useState(false);
  const [fields, setFields] = useState<OutcomeField[]>(() => [newField()]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<Error>();
  const [placing, setPlacing] = useState(false);
  // One key per filled-in form: a retry after a lost answer reaches the same call, never a second one.
  const [idempotencyKey, setKey] = useState(() => crypto.randomUUID());

  const seconds = maxDuration.trim() === '' ? undefined : Number(maxDuration);
  const estimateArgs = {
    ...(model ? { model } : {}),
    ...(seconds !== undefined && Number.isInteger(seconds) && seconds >= 30 && seconds <= 3600
      ? { maxDurationSeconds: seconds }
      : {}),
  };
  const estimate = useLoad(
    () => gateway.call<Estimate>('estimateCallCost', estimateArgs),
    JSON.stringify(estimateArgs),
  );
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPlacing(true);
    setErrors({});
    setFailure(undefined);
    const outcomeSchema = outcomeSchemaOf(fields);
    try {
      const { call } = await gateway.call<{ call: Call }>('makePhoneCall', {
        to: to.trim(),
        task,
        ...(firstMessage.trim() ? { firstMessage } : {}),
        ...(voice ? { voice } : {}),
        ...(model ? { model } : {}),
        ...(seconds !== undefined ? { maxDurationSeconds: seconds } : {}),
        ...(outcomeSchema ? { outcomeSchema } : {}),
        // Always sent: what the box shows is what happens, whatever the account's default.
        record,
        idempotencyKey,
      });
      navigate(`/calls/${call.callId}`);
    } catch (error) {
      setErrors((error as ToolError).fields ?? {});
      setFailure(error as Error);
      setPlacing(false);
      // A refusal placed nothing, so the next attempt is a new call; a lost answer keeps the key.
      if (!/fetch|network/i.test((error as Error).message)) setKey(crypto.randomUUID());
    }
  };

  const models = options.data?.models ?? [];
  return (
    <Page title="Place a call">
      {config.sandboxPersonas && config.sandboxPersonas.length > 0 && (
        <aside className="hint-box" aria-labelledby="personas">
          <h2 id="personas">Sandbox numbers</h2>
          <p>This is a local system: these numbers are answered by scripted people.</p>
          <ul>
            {config.sandboxPersonas.map((p) => (
              <li key={p.number}>
                <button type="button" className="link" onClick={() => setTo(p.number)}>
                  {p.number}
                </button>{' '}
                <strong>{p.name}</strong> {p.description && <span className="muted">— {p.description}</span>}
              </li>
            ))}
          </ul>
        </aside>
      )}
      {options.error && <Problem error={options.error} retry={options.reload} />}
      <form onSubmit={submit} noValidate className="stack">
        <Field id="to" label="Number to call (E.164)" error={errors.to} hint="For example +14155550010">
          <input
            {...described('to', errors.to, 'For example +14155550010')}
            type="tel"
            autoComplete="off"
            value={to}
            onChange={(e) => setTo(e.target.value)}
            required
          />
        </Field>
        <Field id="task" label="Task: what the agent should achieve" error={errors.task}>
          <textarea
            {...described('task', errors.task)}
            rows={4}
            maxLength={4000}
            value={task}
            onChange={(e) => setTask(e.target.value)}
            required
          />
        </Field>
        <Field id="firstMessage" label="Opening line (optional)" error={errors.firstMessage}>
          <input
            {...described('firstMessage', errors.firstMessage)}
            maxLength={1000}
            value={firstMessage}
            onChange={(e) => setFirstMessage(e.target.value)}
          />
        </Field>
        {!options.data && !options.error && <Loading what="voices and models" />}
        {options.data && (
          <div className="row">
            <Field id="voice" label="Voice" error={errors.voice}>
              <select {...described('voice', errors.voice)} value={voice} onChange={(e) => setVoice(e.target.value)}>
                <option value="">Your default ({options.data.defaultVoice})</option>
                {options.data.voices.map((v) => (
                  <option key={v.id} value={v.id}>
                    {v.name} · {v.provider} · {v.languages.join(', ')}
                  </option>
                ))}
              </select>
            </Field>
            <Field id="model" label="Model (price per started minute)" error={errors.model}>
              <select {...described('model', errors.model)} value={model} onChange={(e) => setModel(e.target.value)}>
                <option value="">Your default ({options.data.defaultModel})</option>
                {models.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.name} · {credits(m.creditsPerMinute)}/min
                  </option>
                ))}
              </select>
            </Field>
          </div>
        )}
        <Field
          id="maxDurationSeconds"
          label="Longest call, seconds (30–3600; empty: your default)"
          error={errors.maxDurationSeconds}
        >
          <input
            {...described('maxDurationSeconds', errors.maxDurationSeconds)}
            type="number"
            inputMode="numeric"
            value={maxDuration}
            onChange={(e) => setMaxDuration(e.target.value)}
          />
        </Field>
        <div className="field">
          <label className="check">
            <input
              type="checkbox"
              checked={record}
              onChange={(e) => setRecord(e.target.checked)}
              aria-describedby="record-hint"
            />
            Record this call
          </label>
          <small id="record-hint" className="hint">
            Both parties are recorded, and the callee is told at the start of the call that it is recorded. You can play
            and delete the recording on the call's page.
          </small>
        </div>
        <OutcomeFieldsBuilder fields={fields} onChange={setFields} error={errors.outcomeSchema} />
        <section className="estimate" aria-labelledby="estimate" aria-live="polite">
          <h2 id="estimate">Estimated worst-case hold</h2>
          {estimate.error && <Problem error={estimate.error} retry={estimate.reload} />}
          {!estimate.data && !estimate.error && <Loading what="the estimate" />}
          {estimate.data && (
            <p data-testid="estimate">
              <strong>{credits(estimate.data.holdCredits)}</strong> held while the call runs (
              {credits(estimate.data.creditsPerMinute)}/min × {Math.ceil(estimate.data.maxDurationSeconds / 60)} min,
              model {estimate.data.model}); you have {credits(estimate.data.availableCredits)}.{' '}
              {estimate.data.enough ? '' : <strong className="field-error">Not enough credits for this call.</strong>}
            </p>
          )}
        </section>
        <FormProblem error={failure} fields={errors} />
        <button type="submit" className="primary" disabled={placing}>
          {placing ? 'Placing…' : 'Place the call'}
        </button>
      </form>
    </Page>
  );
}
