import { randomUUID } from 'node:crypto';
import {
  type Clock,
  DomainError,
  failedPrecondition,
  invalidArgument,
  Lease,
  type Logger,
  notFound,
  type Periodic,
  periodic,
} from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import type { Registry } from 'prom-client';
import type { CallRow, CallStore } from '../call-store.js';
import type { CallConfig } from '../config.js';
import { CallData } from './call-data.js';
import { type CarrierRecordings, twilioRecordings } from './carrier-recordings.js';
import { RecordingFetcher } from './fetcher.js';
import { recordingMetrics } from './metrics.js';
import { RecordingObjects } from './object-store.js';
import { handleRecordingCallback } from './recording-callback.js';
import { RecordingStore } from './recording-store.js';
import { recordingView } from './recording-view.js';
import { RetentionJob } from './retention.js';

export interface RecordingsDeps {
  config: CallConfig;
  store: CallStore;
  /** Hands a call's row to sheets-sync (transcript deletion blanks its summary). */
  mirror: (call: CallRow) => void;
  registry: Registry;
  clock: Clock;
  log: Logger;
  /** The carrier's recordings; default: Twilio (or TWILIO_API_BASE_URL) through the twilio client. */
  carrier?: CarrierRecordings;
}

/**
 * The call service's recordings: the recording callback, the durable fetch into S3 (swept on every
 * replica; claims keep two from fetching one recording), their view on GetCall, the audio, deletion on
 * request, and the retention job (one replica at a time, by a lease). start() after the migrations.
 */
export class Recordings {
  readonly objects: RecordingObjects;
  readonly store: RecordingStore;
  readonly fetcher: RecordingFetcher;
  readonly data: CallData;
  readonly retention: RetentionJob;
  private readonly jobs: Periodic<unknown>[] = [];

  constructor(private readonly deps: RecordingsDeps) {
    const { config, clock, log } = deps;
    const metrics = recordingMetrics(deps.registry);
    this.metrics = metrics;
    this.objects = new RecordingObjects({
      bucket: config.RECORDINGS_BUCKET,
      region: config.AWS_REGION,
      endpoint: config.S3_ENDPOINT,
      kmsKeyId: config.RECORDINGS_KMS_KEY_ID,
    });
    this.store = new RecordingStore(deps.store.db, clock);
    this.fetcher = new RecordingFetcher({
      store: this.store,
      carrier:
        deps.carrier ??
        twilioRecordings({
          accountSid: config.TWILIO_ACCOUNT_SID,
          authToken: config.TWILIO_AUTH_TOKEN,
          apiBaseUrl: config.TWILIO_API_BASE_URL,
          timeoutMs: config.CARRIER_TIMEOUT_MS,
          maxBytes: config.RECORDING_MAX_BYTES,
        }),
      objects: this.objects,
      metrics,
      db: deps.store.db,
      clock,
      log,
      maxAttempts: config.RECORDING_FETCH_MAX_ATTEMPTS,
      backoffMs: config.RECORDING_FETCH_BACKOFF_MS,
      maxBackoffMs: config.RECORDING_FETCH_MAX_BACKOFF_MS,
    });
    this.data = new CallData({
      store: deps.store,
      recordings: this.store,
      objects: this.objects,
      metrics,
      mirror: deps.mirror,
      clock,
      log,
    });
    this.retention = new RetentionJob({
      db: deps.store.db,
      store: deps.store,
      recordings: this.store,
      data: this.data,
      lease: new Lease(deps.store.db, 'retention', randomUUID(), {
        table: 'calls.leases',
        ttlMs: config.RETENTION_LEASE_MS,
        clock,
      }),
      clock,
      log,
      recordingDays: config.RECORDING_RETENTION_DAYS,
      transcriptDays: config.TRANSCRIPT_RETENTION_DAYS,
    });
  }

  private readonly metrics: ReturnType<typeof recordingMetrics>;

  /** The bucket on an emulator, the fetch sweep and the retention job. */
  async start(): Promise<void> {
    const { config, clock, log, registry } = this.deps;
    await this.objects.ensureLocalBucket();
    this.jobs.push(
      periodic({
        name: 'recording-fetch',
        run: (signal) => this.fetcher.sweep(signal),
        intervalMs: config.RECORDING_SWEEP_INTERVAL_MS,
        jitter: 0.2,
        log,
        registry,
        clock,
      }),
      periodic({
        name: 'retention',
        run: (signal) => this.retention.run(signal),
        intervalMs: config.RETENTION_INTERVAL_MS,
        firstDelayMs: Math.min(60_000, config.RETENTION_INTERVAL_MS),
        jitter: 0.1,
        log,
        registry,
        clock,
      }),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.jobs.splice(0).map((job) => job.stop()));
    this.objects.close();
  }

  /** POST /twilio/recording (signature checked by the webhook server). */
  callback(callId: string, params: Record<string, string>): Promise<{ status: number; text: string }> {
    return handleRecordingCallback(
      {
        store: this.deps.store,
        recordings: this.store,
        fetcher: this.fetcher,
        metrics: this.metrics,
        accountSid: this.deps.config.TWILIO_ACCOUNT_SID,
        apiBaseUrl: this.deps.config.TWILIO_API_BASE_URL,
        log: this.deps.log,
      },
      callId,
      params,
    );
  }

  /** The call's recording as GetCall shows it; null for a call not recorded or not reported yet. */
  async view(call: CallRow): Promise<callV1.CallRecording__Output | null> {
    if (!call.record) return null;
    const row = await this.store.byCall(call.call_id);
    return row ? recordingView(row, this.objects, this.deps.config.RECORDING_URL_TTL_SECONDS, this.deps.clock) : null;
  }

  /** The audio of the user's call (the recording resource). */
  async audio(call: CallRow): Promise<callV1.GetCallRecordingResponse> {
    const row = call.record ? await this.store.byCall(call.call_id) : undefined;
    if (!row) throw new DomainError('not_found', `call ${call.call_id} has no recording`);
    if (row.status !== 'ready' || !row.object_key) {
      throw new DomainError('not_found', `call ${call.call_id} has no stored recording (it is ${row.status})`);
    }
    const limit = this.deps.config.RECORDING_INLINE_MAX_BYTES;
    if (Number(row.size_bytes) > limit) {
      throw failedPrecondition(
        `the recording is ${row.size_bytes} bytes, more than the ${limit} returned inline; download it from recording.url of getCallDetails`,
      );
    }
    const bytes = await this.objects.get(row.object_key);
    if (!bytes) throw notFound('recording of call', call.call_id);
    return { audio: Buffer.from(bytes), contentType: row.content_type ?? '', durationSeconds: row.duration_seconds };
  }

  /** DeleteCallData: what was asked for, of the user's call; what was there to delete. */
  async deleteData(
    call: CallRow,
    request: { recording: boolean; transcript: boolean },
  ): Promise<{ recordingDeleted: boolean; transcriptDeleted: boolean }> {
    if (!request.recording && !request.transcript) {
      throw invalidArgument('what', 'say what to delete: the recording, the transcript, or both');
    }
    // The transcript's precondition (an ended call) is checked before anything is deleted.
    const transcriptDeleted = request.transcript ? await this.data.deleteTranscript(call, 'request') : false;
    const recordingDeleted = request.recording ? await this.data.deleteRecording(call.call_id, 'request') : false;
    return { recordingDeleted, transcriptDeleted };
  }
}
