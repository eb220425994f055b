/** The active span's ids for a log line (pino mixin), named as OpenTelemetry's log data model names them. */
import { isSpanContextValid, trace } from '@opentelemetry/api';

export function traceLogFields(): { trace_id: string; span_id: string; trace_flags: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const ctx = span.spanContext();
  if (!isSpanContextValid(ctx)) return undefined;
  return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: `0${ctx.traceFlags.toString(16)}` };
}
