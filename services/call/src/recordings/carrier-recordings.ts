import { inSpan, SpanKind } from '@callgate/common';
import twilio from 'twilio';
import { carrierHttpClient } from '../carrier.js';

/** Twilio's pattern for a recording sid. */
export const RECORDING_SID_PATTERN = /^RE[0-9a-fA-F]{32}$/;

/** The audio Twilio serves for a recording: WAV (the original, 16-bit PCM; MP3 is a lossy conversion). */
export const RECORDING_CONTENT_TYPE = 'audio/wav';

export interface CarrierRecordingsOptions {
  accountSid: string;
  authToken: string;
  /** TWILIO_API_BASE_URL: the sandbox or a mock instead of https://api.twilio.com. */
  apiBaseUrl?: string;
  timeoutMs: number;
  /** RECORDING_MAX_BYTES: a larger answer is refused while it downloads, never buffered whole. */
  maxBytes: number;
}

/** The carrier's copy of recordings, through the real `twilio` client: fetch the audio, delete it. */
export interface CarrierRecordings {
  /** The recording's audio (WAV). Throws on any failure: an HTTP error, a timeout, too large, not a WAV. */
  media(recordingSid: string): Promise<{ bytes: Uint8Array; contentType: string }>;
  /** Deletes the carrier's copy; one already gone counts as deleted. */
  remove(recordingSid: string): Promise<void>;
}

/** Twilio's URL of a recording of the account: what RecordingUrl in a recording callback must be. */
export function recordingPath(accountSid: string, recordingSid: string): string {
  return `/2010-04-01/Accounts/${accountSid}/Recordings/${recordingSid}`;
}

/**
 * Whether a callback's RecordingUrl names this account's recording at Twilio (https, *.twilio.com) or at
 * the configured stand-in (TWILIO_API_BASE_URL), and nothing else: a URL elsewhere (an internal address,
 * another account) is never fetched. The media is fetched from the path we build from the sid anyway;
 * this refuses a callback that points elsewhere, so it is reported instead of silently trusted.
 */
export function isOwnRecordingUrl(
  value: string,
  expected: { accountSid: string; recordingSid: string; apiBaseUrl?: string },
): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.username || url.password || url.search || url.hash) return false;
  const path = recordingPath(expected.accountSid, expected.recordingSid);
  const twilioHost =
    url.protocol === 'https:' &&
    (url.hostname === 'api.twilio.com' || /^api\.[a-z0-9.-]+\.twilio\.com$/.test(url.hostname));
  if (twilioHost && url.port === '' && url.pathname === path) return true;
  if (!expected.apiBaseUrl) return false;
  const base = new URL(expected.apiBaseUrl);
  return url.origin === base.origin && url.pathname === `${base.pathname.replace(/\/+$/, '')}${path}`;
}

/** RIFF....WAVE: what every WAV file starts with. */
function isWav(bytes: Uint8Array): boolean {
  const text = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('latin1');
  return bytes.byteLength >= 12 && text(0, 4) === 'RIFF' && text(8, 12) === 'WAVE';
}

export function twilioRecordings(options: CarrierRecordingsOptions): CarrierRecordings {
  // A client of its own whose answers are bytes (the carrier's JSON client would decode audio as text),
  // bounded in size; it follows Twilio's redirect to its media store (axios drops the credentials when
  // a redirect leaves the host). Requests still go only to Twilio or the stand-in (carrier.ts).
  const http = carrierHttpClient({ apiBaseUrl: options.apiBaseUrl, timeoutMs: options.timeoutMs });
  http.axios.defaults.responseType = 'arraybuffer';
  http.axios.defaults.maxContentLength = options.maxBytes;
  http.axios.defaults.maxRedirects = 3;
  const client = twilio(options.accountSid, options.authToken, { httpClient: http, logLevel: 'info' });
  // Deletes read Twilio's JSON errors: the carrier's usual client.
  const jsonClient = twilio(options.accountSid, options.authToken, {
    httpClient: carrierHttpClient({ apiBaseUrl: options.apiBaseUrl, timeoutMs: options.timeoutMs }),
    logLevel: 'info',
  });

  const requireSid = (sid: string) => {
    if (!RECORDING_SID_PATTERN.test(sid)) throw new Error(`${JSON.stringify(sid.slice(0, 40))} is not a recording sid`);
  };

  return {
    media: (recordingSid) =>
      inSpan(
        'twilio recordings.media',
        { kind: SpanKind.CLIENT, attributes: { 'twilio.recording_sid': recordingSid } },
        async () => {
          requireSid(recordingSid);
          const response = await client.request({
            method: 'get',
            uri: `https://api.twilio.com${recordingPath(options.accountSid, recordingSid)}.wav`,
            headers: { Accept: RECORDING_CONTENT_TYPE },
            allowRedirects: true,
          });
          if (response.statusCode < 200 || response.statusCode >= 300) {
            throw new Error(`the carrier answered HTTP ${response.statusCode} for recording ${recordingSid}`);
          }
          const bytes = new Uint8Array(response.body as ArrayBuffer);
          if (!isWav(bytes)) throw new Error(`recording ${recordingSid} is not a WAV file (${bytes.byteLength} bytes)`);
          return { bytes, contentType: RECORDING_CONTENT_TYPE };
        },
      ),
    remove: (recordingSid) =>
      inSpan(
        'twilio recordings.remove',
        { kind: SpanKind.CLIENT, attributes: { 'twilio.recording_sid': recordingSid } },
        async () => {
          requireSid(recordingSid);
          try {
            await jsonClient.recordings(recordingSid).remove();
          } catch (error) {
            if ((error as { status?: number }).status === 404) return;
            throw error;
          }
        },
      ),
  };
}
