import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@callgate/common';
import { rfc2822 } from './dates.js';
import * as errors from './errors.js';
import { param } from './form.js';
import type { CallRecord, Progress, StatusCallback } from './lifecycle.js';
import { API_VERSION } from './resource.js';
import { signedRequest } from './status-callbacks.js';
import { toneWav } from './wav.js';

/** Record=true on a create: how, and where the recording's status is reported. */
export interface RecordingRequest {
  channels: 'mono' | 'dual';
  statusCallback?: Omit<StatusCallback, 'events'> & { events: ReadonlySet<string> };
}

const RECORDING_EVENTS: ReadonlySet<string> = new Set(['in-progress', 'completed', 'absent']);
/** Length of the audio the sandbox records: a short tone, whatever the call's length. */
const AUDIO_MS = 500;

interface RecordingRecord {
  sid: string;
  accountSid: string;
  callSid: string;
  channels: 1 | 2;
  durationSeconds: number;
  created: number;
  audio: Buffer;
}

/** Record, RecordingChannels and RecordingStatusCallback* of a create request; undefined when not recording. */
export function parseRecordingRequest(
  form: URLSearchParams,
  checkUrl: (url: string, name: string) => void,
): RecordingRequest | undefined {
  const record = param(form, 'Record');
  if (record === undefined || record === 'false') return undefined;
  if (record !== 'true') throw errors.invalidParameter('Record', 'must be true or false');
  const channels = param(form, 'RecordingChannels') ?? 'mono';
  if (channels !== 'mono' && channels !== 'dual') {
    throw errors.invalidParameter('RecordingChannels', 'must be mono or dual');
  }
  const url = param(form, 'RecordingStatusCallback');
  if (url === undefined) return { channels };
  checkUrl(url, 'RecordingStatusCallback');
  const events = form.getAll('RecordingStatusCallbackEvent').flatMap((v) => v.split(/\s+/).filter(Boolean));
  if (events.some((event) => !RECORDING_EVENTS.has(event))) {
    throw errors.invalidParameter('RecordingStatusCallbackEvent', 'must be in-progress, completed or absent');
  }
  const method = (param(form, 'RecordingStatusCallbackMethod') ?? 'POST').toUpperCase();
  if (method !== 'GET' && method !== 'POST') {
    throw errors.invalidParameter('RecordingStatusCallbackMethod', 'must be GET or POST');
  }
  return { channels, statusCallback: { url, method, events: new Set(events.length ? events : ['completed']) } };
}

export interface SandboxRecordingsOptions {
  authToken: string;
  log: Logger;
  now?: () => number;
}

const RECORDING_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Recordings\/([^/.]+)(\.json|\.wav|\.mp3)?$/;

/**
 * Twilio's recordings, played: an answered call created with Record=true ends with a recording (a real
 * short WAV, one channel per party when dual), whose status is POSTed, signed, to RecordingStatusCallback
 * with Twilio's parameters; the Recordings API serves it (GET …/Recordings/{sid}.json, the audio at
 * …/{sid}.wav or without extension; .mp3 is not produced here) and deletes it (DELETE, 204).
 * POST /sandbox/recordings/media-faults {"count": n} makes the next n audio requests fail with a 500.
 */
export class SandboxRecordings {
  readonly #recordings = new Map<string, RecordingRecord>();
  readonly #stopped = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #mediaFaults = 0;

  constructor(private readonly options: SandboxRecordingsOptions) {}

  /** Given to the lifecycle beside the status callbacks. */
  readonly onProgress = (call: Readonly<CallRecord>, progress: Progress): void => {
    if (progress.event !== 'completed' || !call.recording || this.#stopped.signal.aborted) return;
    // Only a call that connected has audio; Twilio reports the others as absent (when asked to).
    const answered = progress.callStatus === 'completed' && call.answerTime !== undefined;
    const channels = call.recording.channels === 'dual' ? 2 : 1;
    const sid = `RE${randomBytes(16).toString('hex')}`;
    const record: RecordingRecord | undefined = answered
      ? {
          sid,
          accountSid: call.accountSid,
          callSid: call.sid,
          channels,
          durationSeconds: Math.ceil(AUDIO_MS / 1000),
          created: progress.at,
          audio: toneWav(AUDIO_MS, channels),
        }
      : undefined;
    if (record) this.#recordings.set(record.sid, record);
    const target = call.recording.statusCallback;
    const event = record ? 'completed' : 'absent';
    if (!target?.events.has(event)) return;
    const params: Record<string, string> = {
      AccountSid: call.accountSid,
      CallSid: call.sid,
      RecordingSid: sid,
      RecordingUrl: `https://api.twilio.com/${API_VERSION}/Accounts/${call.accountSid}/Recordings/${sid}`,
      RecordingStatus: event,
      RecordingDuration: String(record?.durationSeconds ?? 0),
      RecordingChannels: String(channels),
      RecordingStartTime: rfc2822(call.answerTime ?? progress.at),
      RecordingSource: 'OutboundAPI',
      RecordingTrack: 'both',
      ErrorCode: '0',
    };
    const delivery = this.#deliver(
      call.sid,
      signedRequest(this.options.authToken, { ...target, events: new Set() }, params),
    );
    this.#inFlight.add(delivery);
    void delivery.finally(() => this.#inFlight.delete(delivery));
  };

  /** Whether a path is the Recordings API's (served by serve). */
  handles(path: string): boolean {
    return RECORDING_PATH.test(path);
  }

  /** GET (resource or audio) and DELETE of one recording of `account` (already authenticated). */
  serve(req: IncomingMessage, res: ServerResponse, path: string): void {
    const [, accountSid, sid, extension] = RECORDING_PATH.exec(path) ?? [];
    const recording = sid ? this.#recordings.get(sid) : undefined;
    if (!recording || recording.accountSid !== accountSid) throw errors.resourceNotFound(path);
    const method = req.method ?? 'GET';
    if (method === 'DELETE') {
      if (extension && extension !== '.json') throw errors.resourceNotFound(path);
      this.#recordings.delete(recording.sid);
      res.writeHead(204).end();
      return;
    }
    if (method !== 'GET') throw errors.methodNotAllowed(method);
    if (extension === '.json') {
      res
        .writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
        .end(JSON.stringify(recordingResource(recording)));
      return;
    }
    if (extension === '.mp3') throw errors.resourceNotFound(path);
    if (this.#mediaFaults > 0) {
      this.#mediaFaults--;
      throw errors.internalError();
    }
    res
      .writeHead(200, { 'content-type': 'audio/x-wav', 'content-length': String(recording.audio.length) })
      .end(recording.audio);
  }

  /** The next `count` audio requests fail (500), as a carrier outage would. */
  failNextMedia(count: number): void {
    this.#mediaFaults = count;
  }

  /** How many recordings the carrier still holds (a test checks the call service deleted its copy). */
  get held(): number {
    return this.#recordings.size;
  }

  async stop(): Promise<void> {
    this.#stopped.abort();
    await Promise.all(this.#inFlight);
  }

  async #deliver(callSid: string, request: ReturnType<typeof signedRequest>): Promise<void> {
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.any([this.#stopped.signal, AbortSignal.timeout(15_000)]),
      });
      await response.body?.cancel();
      if (!response.ok)
        this.options.log.warn({ callSid, status: response.status }, 'recording callback refused; not retried');
    } catch (error) {
      if (!this.#stopped.signal.aborted)
        this.options.log.warn({ callSid, err: error }, 'recording callback failed; not retried');
    }
  }
}

/** The Recording resource as api.twilio.com returns it. */
function recordingResource(r: RecordingRecord) {
  const uri = `/${API_VERSION}/Accounts/${r.accountSid}/Recordings/${r.sid}`;
  return {
    account_sid: r.accountSid,
    api_version: API_VERSION,
    call_sid: r.callSid,
    conference_sid: null,
    date_created: rfc2822(r.created),
    date_updated: rfc2822(r.created),
    start_time: rfc2822(r.created),
    duration: String(r.durationSeconds),
    sid: r.sid,
    price: null,
    price_unit: 'USD',
    status: 'completed',
    channels: r.channels,
    source: 'OutboundAPI',
    error_code: null,
    uri: `${uri}.json`,
    encryption_details: null,
    media_url: `https://api.twilio.com${uri}`,
    subresource_uris: {
      add_on_results: `${uri}/AddOnResults.json`,
      transcriptions: `${uri}/Transcriptions.json`,
    },
  };
}
