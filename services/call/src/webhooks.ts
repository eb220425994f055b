import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Clock, inHttpServerSpan, isCallStatus, isTerminal, type Logger } from '@callgate/common';
import { Counter, type Registry } from 'prom-client';
import twilio from 'twilio';
import type { CallStore } from './call-store.js';
import { callbackParent, callbackRoute } from './callback-trace.js';
import type { CallLifecycle } from './lifecycle.js';

const MAX_BODY_BYTES = 64 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The largest PostgreSQL integer: the columns that store a callback's durations and sequence numbers. */
const PG_INTEGER_MAX = 2 ** 31 - 1;

export interface WebhookOptions {
  store: CallStore;
  /** Where a status callback is reported (transition, sheet row, settlement, event). */
  lifecycle: Pick<CallLifecycle, 'report'>;
  authToken: string;
  /** The URL Twilio was given (PUBLIC_BASE_URL): the signature covers it, not the address we listen on. */
  publicBaseUrl: string;
  log: Logger;
  registry: Registry;
  clock: Clock;
  /** Ends a carrier call whose record is already over (a dial we gave up on that rang after all). */
  endOrphan: (carrierCallId: string) => Promise<void>;
  /** The TwiML of an answered call (POST /twilio/voice?callId=…); without it that path is 404. */
  voice?: (callId: string, params: Record<string, string>) => Promise<string>;
  /**
   * A status callback we could not apply (the database was down): Twilio does not resend it, so the
   * call's state is fetched from the carrier by a prompt status poll instead.
   */
  pollSoon?: (callId: string) => Promise<void>;
  /**
   * A recording status callback (POST /twilio/recording?callId=…), signature already checked: the
   * HTTP status and text to answer (recordings/recording-callback.ts). Without it that path is 404.
   */
  recording?: (callId: string, params: Record<string, string>) => Promise<{ status: number; text: string }>;
}

/**
 * Twilio's status callbacks (POST /twilio/status, form-encoded). Each must carry a valid
 * X-Twilio-Signature for the public URL it was sent to, else 403 and nothing changes. A good one is
 * reported to the CallLifecycle and answered 200 at once; settling credits happens after.
 */
export function createWebhookServer(options: WebhookOptions): Server {
  const callbacks = new Counter({
    name: 'call_status_callbacks_total',
    help: 'Twilio status callbacks by result: applied, ignored (duplicate, late), unknown (no such call), rejected (bad signature), invalid (a number out of range).',
    labelNames: ['result'],
    registers: [options.registry],
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://webhook');
    // Behind a proxy that keeps PUBLIC_BASE_URL's path prefix, requests arrive with it; else without.
    const prefix = new URL(options.publicBaseUrl).pathname.replace(/\/$/, '');
    const path = prefix && url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) : url.pathname;
    const voice = path === '/twilio/voice' ? options.voice : undefined;
    const recording = path === '/twilio/recording' ? options.recording : undefined;
    if (path !== '/twilio/status' && !voice && !recording) return reply(res, 404, 'not found');
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return reply(res, 405, 'POST only');
    }
    const body = await readBody(req);
    if (body === undefined) return reply(res, 413, 'body too large');
    const params = Object.fromEntries(new URLSearchParams(body));
    const signature = req.headers['x-twilio-signature'];
    // Twilio signs the URL it was given: the public base (with its path) and our path and query.
    const signedUrl = `${options.publicBaseUrl.replace(/\/$/, '')}${path}${url.search}`;
    if (typeof signature !== 'string' || !twilio.validateRequest(options.authToken, signature, signedUrl, params)) {
      callbacks.inc({ result: 'rejected' });
      options.log.warn({ url: signedUrl }, 'Twilio request with a missing or bad X-Twilio-Signature refused');
      return reply(res, 403, 'invalid X-Twilio-Signature');
    }
    if (recording) {
      const answer = await recording(url.searchParams.get('callId') ?? '', params);
      return reply(res, answer.status, answer.text);
    }
    if (voice) {
      const twiml = await voice(url.searchParams.get('callId') ?? '', params);
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(twiml);
      return;
    }
    const carrierCallId = params.CallSid ?? '';
    const carrierStatus = params.CallStatus ?? '';
    const claimedId = url.searchParams.get('callId') ?? '';
    const call = UUID.test(claimedId)
      ? await options.store.byId(claimedId)
      : carrierCallId
        ? await options.store.byCarrierId(carrierCallId)
        : undefined;
    // Numbers come as the carrier wrote them; one no call can have is refused before it reaches the store
    // (a negative duration would be stored, one beyond PostgreSQL's integer failed the INSERT with a 500).
    const numbers = countsOf(params, ['SequenceNumber', 'CallDuration']);
    if ('refused' in numbers) {
      callbacks.inc({ result: 'invalid' });
      options.log.warn(
        { carrierCallId, claimedId, refused: numbers.refused },
        'status callback with a bad number refused',
      );
      return reply(res, 400, numbers.refused);
    }
    const sequence = numbers.SequenceNumber;
    if (!call || !isCallStatus(carrierStatus) || (call.carrier_call_id && call.carrier_call_id !== carrierCallId)) {
      callbacks.inc({ result: 'unknown' });
      await options.store.recordCallback({
        callId: call?.call_id ?? null,
        carrierCallId,
        carrierStatus,
        carrierSequence: sequence,
        params,
        applied: false,
      });
      options.log.warn(
        { carrierCallId, carrierStatus, claimedId },
        'status callback for no known call; recorded, ignored',
      );
      return reply(res, 200, '');
    }
    const timestamp = params.Timestamp ? new Date(params.Timestamp) : options.clock.date();
    // The carrier is answered first; the settlement of a call this ends follows.
    const applied = await options.lifecycle.report(
      call.call_id,
      {
        status: carrierStatus,
        occurredAt: Number.isNaN(timestamp.getTime()) ? options.clock.date() : timestamp,
        source: 'callback',
        carrierCallId,
        durationSeconds: numbers.CallDuration,
        answeredBy: params.AnsweredBy ?? null,
        errorCode: params.ErrorCode ?? (carrierStatus === 'failed' ? (params.SipResponseCode ?? '') : ''),
        errorMessage: params.ErrorMessage ?? '',
        detail: params.SipResponseCode ? `SIP ${params.SipResponseCode}` : '',
      },
      { awaitSettlement: false },
    );
    if (!call.carrier_call_id && call.dial_state === 'dialing')
      await options.store.markDialed(call.call_id, carrierCallId);
    await options.store.recordCallback({
      callId: call.call_id,
      carrierCallId,
      carrierStatus,
      carrierSequence: sequence,
      params,
      applied: applied.changed,
    });
    callbacks.inc({ result: applied.changed ? 'applied' : 'ignored' });
    reply(res, 200, '');
    if (!applied.changed && call.dial_state === 'refused' && isTerminal(call.status) && !isTerminal(carrierStatus)) {
      void options.endOrphan(carrierCallId);
    }
  }

  return createServer((req, res) => {
    // A span per callback, continuing the trace that placed the call (callback-trace.ts).
    const parent = callbackParent(req);
    inHttpServerSpan(req, res, { service: 'call', route: callbackRoute(req), ...(parent && { parent }) }, () =>
      handle(req, res).catch((error: unknown) => {
        options.log.error({ err: error }, 'status callback failed');
        const callId = new URL(req.url ?? '/', 'http://callback').searchParams.get('callId') ?? '';
        if (req.url?.startsWith('/twilio/status') && UUID.test(callId)) void options.pollSoon?.(callId);
        // 5xx: the carrier may retry, and the poller corrects the state if it does not.
        if (!res.headersSent) reply(res, 500, 'internal error');
      }),
    );
  });
}

/**
 * The named form fields as whole non-negative numbers a PostgreSQL integer holds (null when absent), or
 * why one is refused. Strict digits only: parseInt would read "12.7abc" as 12 and "1e9" as 1.
 */
function countsOf<K extends string>(
  params: Record<string, string>,
  names: K[],
): Record<K, number | null> | { refused: string } {
  const counts = {} as Record<K, number | null>;
  for (const name of names) {
    const raw = params[name];
    if (raw === undefined || raw === '') {
      counts[name] = null;
      continue;
    }
    const value = /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(value <= PG_INTEGER_MAX)) {
      return {
        refused: `${name} must be a whole number from 0 to ${PG_INTEGER_MAX}; got ${JSON.stringify(raw.slice(0, 40))}`,
      };
    }
    counts[name] = value;
  }
  return counts;
}

function reply(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
