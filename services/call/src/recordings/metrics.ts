import { Counter, Gauge, type Registry } from 'prom-client';

/** The recordings' metrics (observability/ alerts on recording_fetch_failures_total and recordings_failed). */
export function recordingMetrics(registry: Registry) {
  return {
    fetches: new Counter({
      name: 'recording_fetches_total',
      help: 'Recordings fetched from the carrier and stored in S3.',
      registers: [registry],
    }),
    fetchFailures: new Counter({
      name: 'recording_fetch_failures_total',
      help: 'Failed attempts to fetch a recording from the carrier or store it in S3, by outcome: retry (another attempt is scheduled) or gave_up (reported failed on the call).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    carrierDeleteFailures: new Counter({
      name: 'recording_carrier_delete_failures_total',
      help: "Failed deletes of a stored recording's copy at the carrier (retried with backoff).",
      registers: [registry],
    }),
    deletions: new Counter({
      name: 'recording_deletions_total',
      help: 'Recordings and transcripts deleted, by what and why (request, retention).',
      labelNames: ['what', 'by'],
      registers: [registry],
    }),
    callbacks: new Counter({
      name: 'recording_callbacks_total',
      help: 'Recording status callbacks by result: accepted, duplicate, unknown (no such recorded call), rejected (bad signature), invalid (bad parameters or a RecordingUrl not at the carrier).',
      labelNames: ['result'],
      registers: [registry],
    }),
    failed: new Gauge({
      name: 'recordings_failed',
      help: 'Recordings whose fetch gave up (status failed): they stay at the carrier until an operator retries them (runbook).',
      registers: [registry],
    }),
  };
}

export type RecordingMetrics = ReturnType<typeof recordingMetrics>;
