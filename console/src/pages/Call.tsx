import { useState } from 'react';
import { Link } from 'wouter';
import { CallRecording } from '../components/CallRecording';
import { useConsole, useLoad, useWatch } from '../context';
import { type Call, TERMINAL } from '../types';
import { credits, duration, Loading, Page, Problem, StatusBadge, when } from '../ui';

const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

export function CallPage({ callId }: { callId: string }) {
  const { gateway } = useConsole();
  const details = useLoad(async () => (await gateway.call<{ call: Call }>('getCallDetails', { callId })).call, callId);
  useWatch([`callgate://calls/${callId}`], details.reload);
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<Error>();
  const call = details.data;

  const cancel = async () => {
    setCancelling(true);
    setCancelError(undefined);
    try {
      await gateway.call('cancelCall', { callId, reason: 'cancelled from the console' });
      details.reload();
    } catch (error) {
      setCancelError(error as Error);
    } finally {
      setCancelling(false);
    }
  };

  return (
    <Page title="Call">
      <p>
        <Link href="/">← All calls</Link>
      </p>
      {details.error && <Problem error={details.error} retry={details.reload} />}
      {!call && !details.error && <Loading what="the call" />}
      {call && (
        <>
          <section aria-labelledby="summary">
            <h2 id="summary">Summary</h2>
            <dl className="facts">
              <dt>Status</dt>
              <dd data-testid="call-status" aria-live="polite">
                <StatusBadge status={call.status} />
              </dd>
              <dt>To</dt>
              <dd>{call.to}</dd>
              <dt>From</dt>
              <dd>{call.from || '—'}</dd>
              <dt>Placed</dt>
              <dd>{when(call.createdAt)}</dd>
              <dt>Duration</dt>
              <dd>{duration(call.durationSeconds)}</dd>
              <dt>Model · voice</dt>
              <dd>
                {call.model || 'default'} · {call.voice || 'default'}
              </dd>
              <dt>Cost</dt>
              <dd data-testid="call-cost">{credits(call.costCredits)}</dd>
              <dt>Held while live</dt>
              <dd>{credits(call.reservedCredits)}</dd>
              <dt>Task</dt>
              <dd className="task">{call.task}</dd>
              {call.errorMessage && (
                <>
                  <dt>Error</dt>
                  <dd>{call.errorMessage}</dd>
                </>
              )}
            </dl>
            {!TERMINAL.includes(call.status) && (
              <button type="button" className="danger" onClick={cancel} disabled={cancelling}>
                {cancelling ? 'Cancelling…' : call.status === 'in-progress' ? 'Hang up' : 'Cancel call'}
              </button>
            )}
            {cancelError && <Problem error={cancelError} />}
          </section>

          <CallRecording call={call} onChange={details.reload} />

          <section aria-labelledby="timeline">
            <h2 id="timeline">Timeline</h2>
            {call.timeline.length === 0 ? (
              <p className="state empty">No events yet.</p>
            ) : (
              <ol className="timeline">
                {call.timeline.map((event) => (
                  <li key={event.sequence}>
                    <time dateTime={event.occurredAt}>{when(event.occurredAt)}</time>{' '}
                    <StatusBadge status={event.status} />{' '}
                    <span className="muted">
                      {event.source}
                      {event.detail ? ` · ${event.detail}` : ''}
                    </span>
                  </li>
                ))}
              </ol>
            )}
          </section>

          <section aria-labelledby="transcript">
            <h2 id="transcript">Transcript</h2>
            {call.transcript.length === 0 ? (
              <p className="state empty">
                {call.transcriptDeletedAt
                  ? 'The transcript was deleted.'
                  : TERMINAL.includes(call.status)
                    ? 'Nothing was said.'
                    : 'Nothing said yet; turns appear as they are spoken.'}
              </p>
            ) : (
              <ol className="transcript" aria-live="polite">
                {call.transcript.map((turn, i) => (
                  <li
                    // biome-ignore lint/suspicious/noArrayIndexKey: turns are only ever appended, so a turn keeps its index
                    key={`${turn.startedAt}-${i}`}
                    className={`turn ${turn.speaker === 'agent' ? 'agent' : 'callee'}`}
                  >
                    <span className="speaker">{turn.speaker === 'agent' ? 'Agent' : 'Callee'}</span>
                    <p>{turn.text}</p>
                    {turn.interrupted && <span className="interrupted">Interrupted</span>}
                  </li>
                ))}
              </ol>
            )}
          </section>

          <section aria-labelledby="outcome">
            <h2 id="outcome">Outcome</h2>
            {!call.outcome ? (
              <p className="state empty">
                {TERMINAL.includes(call.status) ? 'No outcome was recorded.' : 'Known once the call ends.'}
              </p>
            ) : (
              <>
                <p>{call.outcome.summary}</p>
                <p className="muted">
                  Objective {call.outcome.objectiveReached ? 'reached' : 'not reached'} · ended by{' '}
                  {call.outcome.endReason || 'unknown'}
                </p>
                {Object.keys(call.outcome.fields).length + call.outcome.missingFields.length === 0 ? (
                  <p className="state empty">The call was asked to learn no fields.</p>
                ) : (
                  <div className="table-wrap">
                    <table className="outcome">
                      <caption className="visually-hidden">Outcome fields</caption>
                      <thead>
                        <tr>
                          <th scope="col">Field</th>
                          <th scope="col">Value</th>
                        </tr>
                      </thead>
                      <tbody>
                        {Object.entries(call.outcome.fields).map(([name, value]) => (
                          <tr key={name}>
                            <th scope="row">{name}</th>
                            <td>{show(value)}</td>
                          </tr>
                        ))}
                        {call.outcome.missingFields
                          .filter((name) => !(name in (call.outcome?.fields ?? {})))
                          .map((name) => (
                            <tr key={name} className="missing">
                              <th scope="row">{name}</th>
                              <td>
                                <em>missing</em>
                              </td>
                            </tr>
                          ))}
                      </tbody>
                    </table>
                  </div>
                )}
              </>
            )}
          </section>
        </>
      )}
    </Page>
  );
}
