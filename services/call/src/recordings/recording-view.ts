import type { Clock } from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import type { RecordingObjects } from './object-store.js';
import type { RecordingRow } from './recording-store.js';

const iso = (d: Date | null) => (d ? d.toISOString() : '');

/** A recording as GetCall shows it: a pre-signed URL, valid `ttlSeconds`, only while it is ready. */
export async function recordingView(
  row: RecordingRow,
  objects: RecordingObjects,
  ttlSeconds: number,
  clock: Clock,
): Promise<callV1.CallRecording__Output> {
  const now = clock.date();
  const ready = row.status === 'ready' && row.object_key !== null;
  return {
    status: row.status,
    durationSeconds: row.duration_seconds,
    url: ready ? await objects.presignedUrl(row.object_key as string, ttlSeconds, now) : '',
    urlExpiresAt: ready ? new Date(now.getTime() + ttlSeconds * 1000).toISOString() : '',
    contentType: ready ? (row.content_type ?? '') : '',
    channels: row.channels,
    fetchAttempts: row.attempts,
    lastError: row.status === 'processing' || row.status === 'failed' ? row.last_error : '',
    storedAt: iso(row.stored_at),
    deletedAt: iso(row.deleted_at),
  };
}
