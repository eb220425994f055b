import { type Clock, isForbiddenAddressError, WEBHOOK_SIGNATURE_HEADER } from '@callgate/common';
import { type Dispatcher, request } from 'undici';
import { signatureHeader } from './signature.js';
import { deliverableScheme } from './url-policy.js';

export interface AttemptOptions {
  /** The guarded dispatcher (address-guard.ts): resolves, refuses internal addresses, pins the connection. */
  dispatcher: Dispatcher;
  clock: Clock;
  timeoutMs: number;
  maxResponseBytes: number;
  localMode: boolean;
}

export interface AttemptResult {
  ok: boolean;
  /** The receiver's HTTP status; 0 when none came. */
  statusCode: number;
  /** Why it failed, for the delivery log; empty on success. */
  error: string;
}

/**
 * One attempt to deliver an event: POST the body, signed, with a bound on the whole attempt (connect,
 * send, the status and the first bytes of the body), at most maxResponseBytes of the answer read and the
 * rest discarded, no redirect followed (a 3xx is a failure: following one would let a receiver point us
 * anywhere). 2xx is success; anything else, or no answer, is a failure the caller retries.
 */
export async function attemptDelivery(
  target: { url: string; secret: string; eventId: string; eventType: string; body: string },
  options: AttemptOptions,
): Promise<AttemptResult> {
  const url = new URL(target.url);
  if (!deliverableScheme(url, options.localMode)) {
    return { ok: false, statusCode: 0, error: `refused: ${url.protocol} endpoints are not delivered to` };
  }
  const controller = new AbortController();
  const cancel = options.clock.after(options.timeoutMs, () => controller.abort());
  try {
    const timestamp = Math.floor(options.clock.now() / 1000);
    const response = await request(url, {
      method: 'POST',
      dispatcher: options.dispatcher,
      signal: controller.signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'callgate-webhooks/1',
        [WEBHOOK_SIGNATURE_HEADER.toLowerCase()]: signatureHeader(target.secret, timestamp, target.body),
        'callgate-event-id': target.eventId,
        'callgate-event-type': target.eventType,
      },
      body: target.body,
    });
    const head = await readSome(response.body, options.maxResponseBytes);
    const status = response.statusCode;
    if (status >= 200 && status < 300) return { ok: true, statusCode: status, error: '' };
    if (status >= 300 && status < 400) {
      return { ok: false, statusCode: status, error: `redirect (${status}) not followed` };
    }
    return { ok: false, statusCode: status, error: `HTTP ${status}${head ? `: ${oneLine(head)}` : ''}` };
  } catch (error) {
    if (controller.signal.aborted) {
      return { ok: false, statusCode: 0, error: `timed out after ${options.timeoutMs} ms` };
    }
    const cause = (error as { cause?: unknown }).cause;
    const refused = isForbiddenAddressError(error) ? error : isForbiddenAddressError(cause) ? cause : undefined;
    if (refused) return { ok: false, statusCode: 0, error: `refused: ${refused.message}` };
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, statusCode: 0, error: `${code ? `${code}: ` : ''}${(error as Error).message}`.slice(0, 300) };
  } finally {
    cancel();
  }
}

/** Reads at most `limit` bytes of a body, then drops the connection's remaining bytes. */
async function readSome(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    chunks.push(buffer.subarray(0, Math.max(0, limit - size)));
    size += buffer.length;
    if (size >= limit) break;
  }
  // Leaving the loop early ends the iterator, which destroys the stream: the rest is never read.
  body.destroy();
  return Buffer.concat(chunks).toString('utf8');
}

/** A receiver's answer as one short line for the log (its bytes are the receiver's, not ours to trust). */
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 200);
