import { useEffect, useRef, useState } from 'react';
import { useConsole } from '../context';
import { type Call, type CallData, TERMINAL } from '../types';
import { duration, Problem, when } from '../ui';

const STATUS_TEXT: Record<string, string> = {
  processing: 'Being fetched from the carrier; it appears here when stored.',
  ready: 'Stored.',
  failed: 'Could not be fetched from the carrier.',
  absent: 'Nothing was recorded.',
  deleted: 'Deleted.',
};

/**
 * A call's recording (an <audio> player on its pre-signed URL, which the CSP's media-src allows) and the
 * buttons that delete the recording or the transcript (deleteCallData). `onChange` reloads the call.
 */
export function CallRecording({ call, onChange }: { call: Call; onChange: () => void }) {
  const { gateway } = useConsole();
  const [deleting, setDeleting] = useState<CallData>();
  const [error, setError] = useState<Error>();
  // A pre-signed URL lives minutes: when the player fails on one, ask for a fresh one, once per URL.
  const refreshedFor = useRef('');
  const recording = call.recording;
  const ended = TERMINAL.includes(call.status);
  const hasRecording = !!recording && recording.status !== 'deleted' && recording.status !== 'absent';
  const transcriptGone = !!call.transcriptDeletedAt;
  // The gateway sends no resource update when a recording becomes ready (only call status changes do), so
  // after the call ends the page asks again, backing off (2 s, 4 s, … at most 30 s), until it is settled.
  const waiting = call.record && ended && (!recording || recording.status === 'processing');
  const polls = useRef(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: each new answer (call) schedules the next ask
  useEffect(() => {
    if (!waiting) {
      polls.current = 0;
      return;
    }
    const delay = Math.min(30_000, 2000 * 2 ** polls.current);
    const timer = setTimeout(() => {
      polls.current += 1;
      onChange();
    }, delay);
    return () => clearTimeout(timer);
  }, [waiting, call, onChange]);

  const remove = async (what: CallData) => {
    const question =
      what === 'recording'
        ? 'Delete the recording of this call? The audio is removed everywhere it is stored; this cannot be undone.'
        : 'Delete the transcript of this call? What was said, the summary and the learned fields are removed; this cannot be undone.';
    if (!window.confirm(question)) return;
    setDeleting(what);
    setError(undefined);
    try {
      await gateway.call('deleteCallData', { callId: call.callId, what: [what] });
      onChange();
    } catch (e) {
      setError(e as Error);
    } finally {
      setDeleting(undefined);
    }
  };

  const [playError, setPlayError] = useState('');
  const failed = () => {
    if (!recording?.url) return;
    // An expired link: ask for a fresh one (once per link). Anything else is said, not retried in a loop.
    const expiredNow = Date.now() >= Date.parse(recording.urlExpiresAt);
    if (expiredNow && refreshedFor.current !== recording.url) {
      refreshedFor.current = recording.url;
      onChange();
      return;
    }
    setPlayError('The recording could not be loaded. Reload the page to try again.');
  };

  return (
    <section aria-labelledby="recording">
      <h2 id="recording">Recording</h2>
      {!call.record && <p className="state empty">This call was not recorded.</p>}
      {call.record && !recording && (
        <p className="state empty" data-testid="recording-status">
          {ended ? 'Waiting for the carrier to report the recording.' : 'The call is being recorded.'}
        </p>
      )}
      {call.record && recording && (
        <>
          <p data-testid="recording-status" aria-live="polite">
            <span className={`badge recording-${recording.status}`}>{recording.status}</span>{' '}
            {STATUS_TEXT[recording.status] ?? ''}
          </p>
          {recording.status === 'ready' && recording.url && (
            <>
              {/* biome-ignore lint/a11y/useMediaCaption: the transcript below is the call's text equivalent */}
              <audio
                controls
                preload="metadata"
                src={recording.url}
                aria-label={`Recording of the call to ${call.to}`}
                onError={failed}
                onLoadedMetadata={() => setPlayError('')}
                data-testid="recording-player"
              />
              <p className="muted">
                {duration(recording.durationSeconds)} ·{' '}
                {recording.channels === 2 ? 'one channel per party' : `${recording.channels} channel(s)`} ·{' '}
                {recording.contentType} · link valid until {when(recording.urlExpiresAt)}
              </p>
            </>
          )}
          {(recording.status === 'processing' || recording.status === 'failed') && recording.fetchAttempts > 0 && (
            <p className="muted" data-testid="recording-fetch">
              Fetch attempts: {recording.fetchAttempts}
              {recording.lastError ? ` · last error: ${recording.lastError}` : ''}
            </p>
          )}
        </>
      )}
      <p className="actions">
        {hasRecording && (
          <button type="button" className="danger" onClick={() => remove('recording')} disabled={!!deleting}>
            {deleting === 'recording' ? 'Deleting the recording…' : 'Delete recording'}
          </button>
        )}
        {ended && !transcriptGone && (
          <button type="button" className="danger" onClick={() => remove('transcript')} disabled={!!deleting}>
            {deleting === 'transcript' ? 'Deleting the transcript…' : 'Delete transcript'}
          </button>
        )}
      </p>
      {transcriptGone && (
        <p className="muted" data-testid="transcript-deleted">
          The transcript was deleted {when(call.transcriptDeletedAt)}.
        </p>
      )}
      {playError && (
        <p className="state error" role="alert">
          {playError}
        </p>
      )}
      {error && <Problem error={error} />}
    </section>
  );
}
