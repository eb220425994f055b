import type { Logger } from '@callgate/common';
import type { CallStore } from '../call-store.js';
import { isOwnRecordingUrl, RECORDING_SID_PATTERN } from './carrier-recordings.js';
import type { RecordingFetcher } from './fetcher.js';
import type { RecordingMetrics } from './metrics.js';
import type { RecordingStore } from './recording-store.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RecordingCallbackOptions {
  store: CallStore;
  recordings: RecordingStore;
  fetcher: Pick<RecordingFetcher, 'now'>;
  metrics: RecordingMetrics;
  accountSid: string;
  /** TWILIO_API_BASE_URL: RecordingUrl may name the stand-in instead of api.twilio.com. */
  apiBaseUrl?: string;
  log: Logger;
}

type Answer = { status: number; text: string };

/**
 * Twilio's recording status callback (POST /twilio/recording?callId=…, signature checked by the webhook
 * server): records the recording against its call and starts its fetch at once (retried by the sweep if
 * that fails). Refused (400, never fetched): another account's, a RecordingUrl anywhere but this
 * account's recording at Twilio or the configured stand-in (SSRF), malformed numbers. A callback for a
 * call that is not recorded, or not ours, is answered 200 and ignored (as unknown status callbacks are).
 */
export async function handleRecordingCallback(
  options: RecordingCallbackOptions,
  callId: string,
  params: Record<string, string>,
): Promise<Answer> {
  const { metrics, log } = options;
  const invalid = (why: string): Answer => {
    metrics.callbacks.inc({ result: 'invalid' });
    log.warn({ callId, recordingSid: params.RecordingSid?.slice(0, 40), why }, 'recording callback refused');
    return { status: 400, text: why };
  };
  const recordingSid = params.RecordingSid ?? '';
  if (params.AccountSid !== options.accountSid) return invalid('AccountSid is not this account');
  if (!RECORDING_SID_PATTERN.test(recordingSid)) return invalid('RecordingSid must be RE followed by 32 hex digits');
  if (
    !isOwnRecordingUrl(params.RecordingUrl ?? '', {
      accountSid: options.accountSid,
      recordingSid,
      apiBaseUrl: options.apiBaseUrl,
    })
  ) {
    return invalid("RecordingUrl must be this account's recording at the carrier's API");
  }
  const duration = wholeNumber(params.RecordingDuration, 86_400);
  const channels = wholeNumber(params.RecordingChannels ?? '1', 2);
  if (duration === undefined) return invalid('RecordingDuration must be whole seconds');
  if (channels === undefined || channels < 1) return invalid('RecordingChannels must be 1 or 2');

  const call = UUID.test(callId) ? await options.store.byId(callId) : undefined;
  if (!call?.record || (call.carrier_call_id && call.carrier_call_id !== params.CallSid)) {
    metrics.callbacks.inc({ result: 'unknown' });
    log.warn({ callId, callSid: params.CallSid }, 'recording callback for no recorded call of ours; ignored');
    return { status: 200, text: '' };
  }
  const { row, created } = await options.recordings.report({
    callId: call.call_id,
    userId: call.user_id,
    recordingSid,
    status: params.RecordingStatus === 'completed' ? 'completed' : 'absent',
    durationSeconds: duration,
    channels,
  });
  metrics.callbacks.inc({ result: created ? 'accepted' : 'duplicate' });
  if (created && row.status === 'processing') {
    // Answered first (Twilio waits 15 s at most); the fetch follows, and the sweep retries it if it fails.
    setImmediate(() => {
      options.fetcher.now(call.call_id).catch((error: unknown) => {
        log.warn({ err: error, callId: call.call_id }, 'recording fetch not started; the sweep retries it');
      });
    });
  }
  return { status: 200, text: '' };
}

function wholeNumber(raw: string | undefined, max: number): number | undefined {
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= max ? n : undefined;
}
