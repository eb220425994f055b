/**
 * Carries a call's trace to its Twilio status callbacks. Twilio calls back minutes later on its own
 * initiative, with nothing of ours but the URL we gave it; so the trace context rides in that URL's
 * query (`traceparent`, `tracestate`), and the callback's span continues the trace that placed the call.
 * Twilio signs the URL exactly as given, query included, and the webhook validates that same URL, so
 * the extra parameters cost nothing in security; they hold ids only, no data.
 * (Storing the context on the call row would need a migration and a read before the span could start.)
 */
import type { IncomingMessage } from 'node:http';
import { contextFromHeaders, TRACE_FIELDS, traceHeaders } from '@callgate/common';

type Context = ReturnType<typeof contextFromHeaders>;

/** url plus the active trace context's fields (url unchanged when no span is active). */
export function withTraceQuery(url: string): string {
  const fields = Object.entries(traceHeaders());
  if (fields.length === 0) return url;
  const parsed = new URL(url);
  for (const [key, value] of fields) parsed.searchParams.set(key, value);
  return parsed.toString();
}

/** The placing request's context, read from a callback's query (undefined when it has none). */
export function callbackParent(req: IncomingMessage): Context | undefined {
  const query = new URL(req.url ?? '/', 'http://webhook').searchParams;
  const fields: Record<string, string | undefined> = {};
  for (const field of TRACE_FIELDS) fields[field] = query.get(field) ?? undefined;
  if (!fields.traceparent) return undefined;
  return contextFromHeaders(fields);
}

/** The span's route: the webhook path, without any proxy prefix or query (low cardinality). */
export function callbackRoute(req: IncomingMessage): string {
  const path = new URL(req.url ?? '/', 'http://webhook').pathname;
  return path.endsWith('/twilio/status')
    ? '/twilio/status'
    : path.endsWith('/twilio/voice')
      ? '/twilio/voice'
      : path.endsWith('/twilio/recording')
        ? '/twilio/recording'
        : 'other';
}
