/**
 * W3C trace context (`traceparent`, `tracestate`) in and out of the carriers our services use: gRPC
 * metadata, SQS message attributes, a URL's query. The propagator is used directly rather than the
 * global one, so the wire format does not depend on what else registered a propagator.
 */
import { type Context, context, defaultTextMapGetter, defaultTextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const w3c = new W3CTraceContextPropagator();

/** The trace-context fields of ctx (empty when no span is active, or tracing is off). */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return carrier;
}

/** `base` with the remote parent found in fields; `base` itself when there is none (or it is malformed). */
export function contextFromHeaders(
  fields: Record<string, string | undefined>,
  base: Context = context.active(),
): Context {
  return w3c.extract(base, fields, defaultTextMapGetter);
}

/** The field names, for carriers that must ask for them (SQS receives only the attributes named). */
export const TRACE_FIELDS = w3c.fields();
